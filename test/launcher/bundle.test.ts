/**
 * Issue 11 part 4: `rlstack launch DIR` starts a compiled folder exactly as compiled — the plan carries
 * what the back ends need (plan.launch), the folder must match its manifest and be where it was compiled
 * to run. (A launch of a folder for real: test/integration/local.test.ts.)
 */
import { spawnSync } from 'node:child_process';
import { appendFileSync, cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openBundle } from '../../src/launcher/bundle.js';
import { workspace } from '../helpers.js';

const ROOT = new URL('../..', import.meta.url).pathname;
const BIN = join(ROOT, 'bin', 'rlstack.js');
const rlstack = (args: string[], cwd: string, env: Record<string, string> = {}) => spawnSync(process.execPath, [BIN, ...args], { cwd, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1', ...env } });

function compiled(toml: string) {
  const dir = workspace({ 'spec.toml': toml });
  const r = rlstack(['compile', 'spec.toml', '-o', 'out'], dir);
  expect(r.status, r.stderr).toBe(0);
  return { dir, out: join(dir, 'out') };
}

describe('a compiled folder as a launch source', () => {
  it('the plan carries the launch settings, with nothing secret', () => {
    const { out, dir } = compiled('extends = "tiny"\n[run]\nready_timeout_s = 77\n[cluster]\nskip_checks = ["memory"]\n[secrets]\nWANDB_API_KEY = ["trainer", "orchestrator"]\n');
    const opened = openBundle(out);
    expect(opened.diagnostics).toEqual([]);
    expect(opened.bundle!.runDir).toBe(join(dir, 'runs', 'tiny'));
    expect(opened.bundle!.plan.launch).toEqual({
      backend: 'local',
      ready_timeout_s: 77,
      resume: false,
      prime_rl: { dir: 'prime-rl', revision: expect.any(String) },
      secrets: { WANDB_API_KEY: ['trainer', 'orchestrator'] },
      skip_checks: [{ check: 'memory', key: 'cluster.skip_checks' }],
      ssh: null,
      slurm: null,
    });
  });

  it('an edited file, a file rlstack did not write, or a moved folder is refused (RS4013), naming what and how to fix it', () => {
    const { out, dir } = compiled('extends = "tiny"\n');
    appendFileSync(join(out, 'configs', 'trainer.toml'), '\n# tuned by hand\n');
    expect(openBundle(out).diagnostics[0]).toMatchObject({ code: 'RS4013', message: expect.stringContaining('configs/trainer.toml was edited after compile'), hint: expect.stringContaining('compile again') });
    const second = compiled('extends = "tiny"\n');
    writeFileSync(join(second.out, 'notes.txt'), 'mine');
    expect(openBundle(second.out).diagnostics[0]!.message).toContain('notes.txt is not listed in manifest.json');
    const third = compiled('extends = "tiny"\n');
    cpSync(third.out, join(dir, 'moved'), { recursive: true });
    expect(openBundle(join(dir, 'moved')).diagnostics[0]!.message).toContain(`was compiled to run from ${third.out}`);
    const r = rlstack(['launch', join(dir, 'moved')], dir);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/error RS4013 .*moved was compiled to run from/);
  });

  it('launch DIR --dry-run shows the folder as it is; --set on a folder is a usage error', () => {
    const { out, dir } = compiled('extends = "tiny"\n');
    const r = rlstack(['launch', out, '--dry-run', '--json'], dir);
    expect(r.status, r.stderr).toBe(0);
    const result = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as { commands: string[]; kept: string | null };
    expect(result.commands[0]).toContain(`${out}/node.sh`);
    expect(readFileSync(join(out, 'manifest.json'), 'utf8')).toContain('"artifacts_dir"');
    const set = rlstack(['launch', out, '--set', 'run.max_steps=3'], dir);
    expect(set.status).toBe(2);
    expect(set.stderr).toContain('RS0007 a compiled folder launches as it was compiled');
  });
});
