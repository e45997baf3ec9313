/**
 * Issue 13 part 4: `launch --dry-run` shows what a launch would do — the job script, the commands the back
 * end would run, each node's processes — names every missing secret at its line, leaves no temp files
 * (keeps them only with --keep DIR), and says and signals whether the scheduler was asked.
 * (Slurm answering sbatch --test-only: test/integration/slurm.test.ts.)
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { workspace } from '../helpers.js';

const ROOT = new URL('../..', import.meta.url).pathname;
const BIN = join(ROOT, 'bin', 'rlstack.js');

function dryRun(spec: string, extra: string[] = [], env: Record<string, string> = {}) {
  const tmp = mkdtempSync(join(tmpdir(), 'rlstack-dry-tmp-'));
  const base: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1', TMPDIR: tmp };
  delete base['WANDB_API_KEY'];
  const r = spawnSync(process.execPath, [BIN, 'launch', spec, '--dry-run', ...extra], { cwd: ROOT, encoding: 'utf8', env: { ...base, ...env }, maxBuffer: 64 << 20 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr, tmpLeft: readdirSync(tmp) };
}

const resultOf = (stdout: string) => JSON.parse(stdout.trim().split('\n').at(-1)!) as Record<string, unknown>;

describe('launch --dry-run', () => {
  const dir = workspace({
    'local.toml': `extends = "tiny"\n[run]\noutput_dir = "runs"\n`,
    'secret.toml': `extends = "tiny"\n[run]\noutput_dir = "runs"\n[secrets]\nWANDB_API_KEY = ["trainer", "orchestrator"]\n`,
    'ssh.toml': `extends = "tiny"\n[run]\noutput_dir = "/shared/runs"\nprime_rl_dir = "/opt/prime-rl"\n[cluster]\nbackend = "ssh"\n[cluster.ssh]\nhosts = ["gpu1"]\n[secrets]\nWANDB_API_KEY = ["trainer"]\n`,
    'slurm.toml': `extends = "tiny"\n[run]\noutput_dir = "/shared/runs"\n[cluster]\nbackend = "slurm"\n[cluster.slurm]\npartition = "gpu"\nlogin = "nobody@login.invalid"\n`,
  });

  it('local: the command that starts node.sh and every process of the node, in start order; no temp files left', () => {
    const r = dryRun(join(dir, 'local.toml'));
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('dry run (backend local): nothing is started');
    expect(r.stdout).toMatch(/the launcher would run:\n {2}RLSTACK_NODE_INDEX=0 .*bash \S*runs\/tiny\/launcher\/node\.sh/);
    const processes = r.stdout.split("each node's processes, in start order:\n")[1]!;
    expect(processes).toMatch(/^ {2}node 0:\n {4}inference-0 \[GPU 0\]: uv run --no-sync inference @ "\$\{RLSTACK_ARTIFACTS\}"\/configs\/inference\.toml/);
    expect(processes.indexOf('orchestrator:')).toBeLessThan(processes.indexOf('trainer-0 [GPU 1]:') + 1e9);
    expect(r.tmpLeft).toEqual([]);
    expect(existsSync(join(dir, 'runs'))).toBe(false);
  });

  it('--keep DIR keeps the compiled files there and says so', () => {
    const keep = join(dir, 'kept');
    const r = dryRun(join(dir, 'local.toml'), ['--keep', keep, '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(resultOf(r.stdout)).toMatchObject({ kept: keep, would_start: true });
    expect(readdirSync(keep)).toEqual(expect.arrayContaining(['manifest.json', 'node.sh', 'plan.json', 'nodes', 'configs']));
    expect(r.tmpLeft).toEqual([]);
  });

  it('names each missing secret at its line and exits 1 (a launch would stop there); a set secret is never shown', () => {
    const missing = dryRun(join(dir, 'secret.toml'), []);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/secret\.toml:5:17 error RS4001 secret WANDB_API_KEY is not set/);
    expect(missing.stdout).toContain('a launch would stop here: missing secret WANDB_API_KEY');
    const json = dryRun(join(dir, 'secret.toml'), ['--json']);
    expect(resultOf(json.stdout)).toMatchObject({ ok: false, would_start: false, missing_secrets: ['WANDB_API_KEY'] });
    const set = dryRun(join(dir, 'secret.toml'), ['--json'], { WANDB_API_KEY: 'hunter2-do-not-print' });
    expect(set.code).toBe(0);
    expect(set.stdout + set.stderr).not.toContain('hunter2');
    expect(resultOf(set.stdout)).toMatchObject({ ok: true, missing_secrets: [] });
  });

  it('ssh: the start script each host gets, secrets by name only; no scheduler to ask', () => {
    const r = dryRun(join(dir, 'ssh.toml'), ['--json'], { WANDB_API_KEY: 'hunter2-do-not-print' });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).not.toContain('hunter2');
    const result = resultOf(r.stdout);
    expect(result).toMatchObject({ backend: 'ssh', scheduler_asked: null, job_script: null });
    expect(result['commands']).toEqual([expect.stringMatching(/^ssh gpu1 bash -s/)]);
    expect(r.stdout).toContain("export WANDB_API_KEY='<WANDB_API_KEY from the launcher environment>'");
    expect(r.stdout).toContain('setsid nohup bash /shared/runs/tiny/launcher/node.sh');
  });

  it('slurm: prints the job script and the sbatch command; Slurm not reachable → "not asked", exit 3, never a success', () => {
    const r = dryRun(join(dir, 'slurm.toml'), []);
    expect(r.code).toBe(3);
    expect(r.stdout).toMatch(/job script \(slurm\/job\.sbatch\):\n {2}#!\/bin\/bash/);
    expect(r.stdout).toContain('  #SBATCH --partition=gpu');
    expect(r.stdout).toContain('ssh nobody@login.invalid sbatch --parsable --output=/shared/runs/tiny/logs/slurm-%j.out /shared/runs/tiny/launcher/slurm/job.sbatch');
    expect(r.stdout).toContain('the scheduler was NOT asked');
    expect(r.stderr).toMatch(/warning RS4004 the dry run could not ask Slurm \(sbatch --test-only\): sbatch is not reachable on nobody@login\.invalid/);
    const json = dryRun(join(dir, 'slurm.toml'), ['--json']);
    expect(json.code).toBe(3);
    expect(resultOf(json.stdout)).toMatchObject({ ok: false, exit_code: 3, scheduler_asked: false, would_start: false, job_script: expect.stringContaining('#SBATCH') });
    expect(json.tmpLeft).toEqual([]);
  });

  it('--keep without --dry-run is a usage error', () => {
    const r = spawnSync(process.execPath, [BIN, 'launch', join(dir, 'local.toml'), '--keep', 'x'], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('RS0007 --keep only goes with --dry-run');
  });
});
