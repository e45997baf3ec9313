/**
 * Issue 11: every file the launcher reads is bounded and validated — a damaged or hostile file is a
 * diagnostic naming it, never an internal error or an endless read.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { rememberedSlurmTarget } from '../../src/launcher/slurm.js';
import { RunDirError } from '../../src/launcher/run-dir.js';
import { workspace } from '../helpers.js';

const ROOT = new URL('../..', import.meta.url).pathname;
const BIN = join(ROOT, 'bin', 'rlstack.js');

describe('bounded, validated reads', () => {
  it('state/slurm-target.json: damaged, not a login, or /dev/zero behind a link is a RunDirError naming the file', () => {
    for (const [what, write] of [
      ['not JSON', (f: string) => writeFileSync(f, '{ nope')],
      ['no login', (f: string) => writeFileSync(f, '{"login": 7}')],
      ['a link to /dev/zero', (f: string) => symlinkSync('/dev/zero', f)],
    ] as const) {
      const run = workspace({});
      mkdirSync(join(run, 'state'));
      write(join(run, 'state', 'slurm-target.json'));
      let error: unknown;
      try {
        rememberedSlurmTarget(run);
      } catch (e) {
        error = e;
      }
      expect(error, what).toBeInstanceOf(RunDirError);
      expect((error as RunDirError).file, what).toBe(join(run, 'state', 'slurm-target.json'));
    }
  });

  it('diff of a compiled folder whose file became a link to /dev/zero names it, without reading it', () => {
    const dir = workspace({});
    expect(spawnSync(process.execPath, [BIN, 'compile', join(ROOT, 'presets/tiny.toml'), '-o', 'out'], { cwd: dir }).status).toBe(0);
    rmSync(join(dir, 'out', 'configs', 'trainer.toml'));
    symlinkSync('/dev/zero', join(dir, 'out', 'configs', 'trainer.toml'));
    const r = spawnSync(process.execPath, [BIN, 'diff', 'out', join(ROOT, 'presets/tiny.toml')], { cwd: dir, encoding: 'utf8', timeout: 20_000, env: { ...process.env, NO_COLOR: '1' } });
    expect(r.status).toBe(4);
    expect(r.stderr).toMatch(/note: out: configs\/trainer\.toml no longer matches manifest\.json/);
    expect(r.stderr).not.toMatch(/RS9001|\n\s+at /);
  });
});
