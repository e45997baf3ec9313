/**
 * Issue 13 part 5: what `compile -o DIR` writes runs by hand. The job script and ssh/start.sh name their
 * folder and the absolute run dir (fixed at compile time); ssh/start.sh passes shellcheck and carries
 * hostile values exactly. (Run for real: test/integration/slurm.test.ts and ssh.test.ts, "bundle".)
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { renderArtifacts } from '../../src/compiler/emit/artifacts.js';
import { planSpec } from '../../src/compiler/pipeline.js';
import { writeArtifacts } from '../../src/launcher/artifacts-dir.js';
import { HOSTILE, workspace } from '../helpers.js';

const weird = "/tmp/rls bundle/it's $(touch /tmp/pwned) `y`";

function compiled(toml: string, location = { runDir: '/shared/runs/b', artifactsDir: weird }) {
  const dir = workspace({ 'spec.toml': toml });
  const planned = planSpec(join(dir, 'spec.toml'));
  if (!planned.ok) throw new Error(JSON.stringify(planned.diagnostics));
  const { artifacts } = renderArtifacts(planned.resolved, planned.derived, planned.plan, location);
  return Object.fromEntries(artifacts.map((a) => [a.path, a.content]));
}

const bash = (script: string) => spawnSync('bash', ['-c', script], { encoding: 'utf8' });

describe('a compiled bundle', () => {
  it('slurm: the job script names the folder it was compiled into and the absolute run dir; no --output into a missing folder', () => {
    const files = compiled('extends = "i3-mini"\n');
    const sbatch = files['slurm/job.sbatch']!;
    const line = (name: string) => sbatch.split('\n').find((l) => l.startsWith(`${name}=`))!;
    expect(bash(`${line('RUN_DIR')}; ${line('ARTIFACTS')}; printf '%s|%s' "$RUN_DIR" "$ARTIFACTS"`).stdout).toBe(`/shared/runs/b|${weird}`);
    expect(sbatch).not.toMatch(/#SBATCH --output/);
    expect(sbatch).toContain('export RLSTACK_JOB_RUN_DIR=$RUN_DIR');
    expect(files['node.sh']).toContain('RLSTACK_RUN_DIR=${RLSTACK_JOB_RUN_DIR:-$(dirname "$RLSTACK_ARTIFACTS")}');
  });

  it('ssh: start.sh carries hosts, folder, run dir, ssh options and secret names exactly, and passes shellcheck', () => {
    const files = compiled(
      `extends = "tiny"\n[run]\noutput_dir = "/shared/runs"\nprime_rl_dir = "/opt/prime-rl"\n[cluster]\nbackend = "ssh"\n[cluster.ssh]\nhosts = ["gpu1"]\nuser = ${JSON.stringify(HOSTILE[0])}\nport = 2222\nidentity_file = "~/keys/id x"\njump = "bastion"\npath = [${JSON.stringify(weird)}]\n[secrets]\nWANDB_API_KEY = ["trainer"]\n`,
    );
    const start = files['ssh/start.sh']!;
    const dir = mkdtempSync(join(tmpdir(), 'rlstack-bundle-'));
    writeArtifacts(join(dir, 'b'), Object.entries(files).map(([path, content]) => ({ path, content, mode: 0o755 })));
    const sc = spawnSync('shellcheck', ['--version']);
    if (!sc.error) {
      // SC2016 is shellcheck noticing `$(…)` inside single quotes: here that is the hostile value, kept literal.
      const r = spawnSync('shellcheck', ['--exclude=SC2016', join(dir, 'b', 'ssh', 'start.sh')], { encoding: 'utf8' });
      expect(r.stdout + r.stderr).toBe('');
    } else expect(process.env['CI'], 'shellcheck must be installed in CI').toBeUndefined();
    // The settings block, evaluated by bash, is exactly what the spec says.
    const head = start.split('missing=()')[0]!.split('\n').filter((l) => /^(RUN_DIR|ARTIFACTS|HOSTS|SECRETS|SSH|REMOTE_PATH)=/.test(l)).join('\n');
    const out = bash(`HOME=/home/u; ${head}; printf '%s\\n' "$RUN_DIR" "$ARTIFACTS" "\${HOSTS[@]}" "\${SECRETS[@]}" "\${REMOTE_PATH[@]}" "--" "\${SSH[@]}"`).stdout.split('\n');
    expect(out.slice(0, 6)).toEqual(['/shared/runs/b', weird, 'gpu1', 'WANDB_API_KEY', weird, '--']);
    expect(out.slice(6).join(' ')).toContain(`-p 2222 -l ${HOSTILE[0]} -i /home/u/keys/id x -J bastion`);
    // ssh.json, the handle status and stop read, is valid JSON with the hosts.
    const json = /<<'RLSTACK_SSH_JSON'\n([\s\S]*?)\nRLSTACK_SSH_JSON/.exec(start)![1]!;
    expect(JSON.parse(json)).toMatchObject({ hosts: ['gpu1'], settings: { port: 2222, jump: 'bastion' } });
  });

  it('ssh: start.sh refuses to start without the secrets, before touching the run dir', () => {
    const files = compiled(`extends = "tiny"\n[run]\noutput_dir = "/shared/runs"\nprime_rl_dir = "/opt/prime-rl"\n[cluster]\nbackend = "ssh"\n[cluster.ssh]\nhosts = ["gpu1"]\n[secrets]\nWANDB_API_KEY = ["trainer"]\n`, { runDir: '/nonexistent/run', artifactsDir: '/nonexistent/b' });
    const r = spawnSync('bash', ['-c', files['ssh/start.sh']!], { encoding: 'utf8', env: { PATH: process.env['PATH'] } });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('secrets not set in this environment: WANDB_API_KEY');
  });
});
