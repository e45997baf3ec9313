/**
 * The run-dir protocol against broken and hostile run dirs (issue 11): every file the launcher reads is
 * bounded and validated, attempts are claimed atomically, rlstack writes only over what it made.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { foreignContent, writeArtifacts } from '../../src/launcher/artifacts-dir.js';
import { readHandle } from '../../src/launcher/backend.js';
import { attempts, claimLaunch, createAttempt, isOwnRunDir, lastLogLine, readAttempt, readBounded, resolveRunDir, RunDirError, runId, tookSteps } from '../../src/launcher/run-dir.js';
import { planSpec } from '../../src/compiler/pipeline.js';
import { filesOf, prepareRunDir } from '../../src/launcher/prepare.js';
import { PACKAGE_ROOT } from '../../src/paths.js';
import { tempDirs } from '../helpers.js';

const tempDir = tempDirs('rlstack-rundir-');

function runDirWithAttempt(): string {
  const dir = tempDir();
  runId(dir);
  createAttempt(dir);
  return dir;
}

describe('reading the run dir', () => {
  it('a damaged state file is a RunDirError naming it, never a crash', () => {
    const cases: [string, (p: string) => void][] = [
      ['processes/x.json', (p) => writeFileSync(p, 'null')],
      ['processes/y.json', (p) => writeFileSync(p, '{')],
      ['processes/z.json', (p) => mkdirSync(p)],
      ['run.json', (p) => writeFileSync(p, '{"state": "exploded"}')],
    ];
    for (const [file, damage] of cases) {
      const dir = runDirWithAttempt();
      mkdirSync(join(dir, 'state', 'attempt_1', 'processes'), { recursive: true });
      damage(join(dir, 'state', 'attempt_1', file));
      expect(() => readAttempt(dir), file).toThrow(RunDirError);
      expect(() => readAttempt(dir), file).toThrow(file.split('/').at(-1)!);
    }
  });

  it('reads are bounded whatever the file claims: /dev/zero, a FIFO and a huge file are refused at once', () => {
    expect(() => readBounded('/dev/zero')).toThrow(/not a regular file/);
    const dir = tempDir();
    const fifo = join(dir, 'fifo');
    spawnSync('mkfifo', [fifo]);
    const t0 = Date.now();
    expect(() => readBounded(fifo)).toThrow(/not a regular file/);
    expect(Date.now() - t0).toBeLessThan(1000);
    writeFileSync(join(dir, 'big'), Buffer.alloc(2 << 20, 97));
    expect(() => readBounded(join(dir, 'big'))).toThrow(/larger than/);
  });

  it('a handle file is validated: a Slurm job id like "--me" is refused, never passed to scancel', () => {
    const dir = runDirWithAttempt();
    writeFileSync(join(dir, 'state', 'attempt_1', 'slurm_job_id'), '--me\n');
    expect(() => readHandle(dir, 1)).toThrow(/not a Slurm job id/);
    writeFileSync(join(dir, 'state', 'attempt_1', 'slurm_job_id'), '1234\n');
    expect(readHandle(dir, 1)).toMatchObject({ kind: 'slurm', jobId: '1234', target: { login: '' } });
    const other = runDirWithAttempt();
    writeFileSync(join(other, 'state', 'attempt_1', 'ssh.json'), '{');
    expect(() => readHandle(other, 1)).toThrow(/ssh.json/);
    expect(readHandle(runDirWithAttempt(), 1)).toBeUndefined();
  });

  it('the last log line is read from the end of a big log', () => {
    const dir = runDirWithAttempt();
    const log = join(dir, 'logs', 'attempt_1', 'p.log');
    writeFileSync(log, `${'x'.repeat(8 << 20)}\nthe last line\n`);
    expect(lastLogLine(dir, 1, 'p')).toBe('the last line');
  });
});

describe('claiming', () => {
  it('attempts are claimed by mkdir: a file-system refusal is an error, not an endless retry', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'state'), 'not a folder');
    const t0 = Date.now();
    expect(() => createAttempt(dir)).toThrow(RunDirError);
    expect(Date.now() - t0).toBeLessThan(1000);
  });

  it('two launches of one run: one claim wins, the other is told who holds it; a dead holder is taken over', () => {
    const dir = tempDir();
    const first = claimLaunch(dir);
    expect('release' in first).toBe(true);
    const second = claimLaunch(dir);
    expect(second).toEqual({ heldBy: process.pid });
    if ('release' in first) first.release();
    const third = claimLaunch(dir);
    expect('release' in third).toBe(true);
    // a claim whose launcher is gone
    writeFileSync(join(dir, 'state', 'launch.lock', 'pid'), '999999999');
    expect('release' in claimLaunch(dir)).toBe(true);
  });

  it('a run dir is rlstack\'s when it is missing, empty, or marked; a run that took steps is one with prime-rl steps', () => {
    const dir = tempDir();
    expect(isOwnRunDir(join(dir, 'missing'))).toBe(true);
    expect(isOwnRunDir(dir)).toBe(true);
    writeFileSync(join(dir, 'notes.txt'), 'mine');
    expect(isOwnRunDir(dir)).toBe(false);
    const ours = runDirWithAttempt();
    expect(isOwnRunDir(ours)).toBe(true);
    expect(tookSteps(ours)).toBe(false); // a failed start: the next launch takes a new attempt
    mkdirSync(join(ours, 'rollouts', 'step_3'), { recursive: true });
    expect(tookSteps(ours)).toBe(true);
    expect(attempts(ours)).toEqual([1]);
  });
});

describe('writing artifacts', () => {
  const artifacts = [{ path: 'manifest.json', content: '{"rlstack_version": "0", "files": [{"path": "a.txt", "sha256": "x"}]}\n', mode: 0o644 }, { path: 'a.txt', content: 'a\n', mode: 0o644 }];

  it('only over an earlier compile whose manifest lists every file; never through a symbolic link', () => {
    const out = join(tempDir(), 'out');
    expect(writeArtifacts(out, artifacts)).toBeUndefined();
    expect(writeArtifacts(out, artifacts)).toBeUndefined(); // over itself
    writeFileSync(join(out, 'user-notes.txt'), 'keep me');
    expect(writeArtifacts(out, artifacts)).toMatch(/user-notes.txt, which its manifest does not list/);
    expect(readFileSync(join(out, 'user-notes.txt'), 'utf8')).toBe('keep me');

    // a foreign manifest listing a file behind a symbolic link: nothing is deleted through it
    const elsewhere = tempDir();
    writeFileSync(join(elsewhere, 'data.txt'), 'precious');
    const trap = join(tempDir(), 'trap');
    mkdirSync(trap);
    symlinkSync(elsewhere, join(trap, 'link'));
    writeFileSync(join(trap, 'manifest.json'), JSON.stringify({ rlstack_version: '0', files: [{ path: 'link/data.txt', sha256: 'x' }] }));
    expect(foreignContent(trap)).toMatch(/symbolic link/);
    expect(writeArtifacts(trap, artifacts)).toMatch(/symbolic link/);
    expect(readFileSync(join(elsewhere, 'data.txt'), 'utf8')).toBe('precious');
  });

  it('onto a file is refused; nothing half-written is left beside the target', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'file'), 'x');
    expect(writeArtifacts(join(dir, 'file'), artifacts)).toMatch(/not a folder/);
    writeArtifacts(join(dir, 'out'), artifacts);
    expect(readdirSync(dir).sort()).toEqual(['file', 'out']);
  });
});

describe('the CLI on a damaged run dir', () => {
  it('status, logs and stop name the damaged file (RS4011), never an internal error', () => {
    const dir = runDirWithAttempt();
    mkdirSync(join(dir, 'state', 'attempt_1', 'processes'), { recursive: true });
    writeFileSync(join(dir, 'state', 'attempt_1', 'processes', 'trainer-0.json'), 'null');
    for (const args of [['status', dir], ['logs', dir], ['stop', dir], ['status', dir, '--json'], ['stop', dir, '--json']]) {
      const r = spawnSync(process.execPath, [join(PACKAGE_ROOT, 'bin', 'rlstack.js'), ...args], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
      // The JSON view carries the diagnostic in its envelope on stdout.
      const report = args.includes('--json') ? r.stdout : r.stderr;
      expect(report, args.join(' ')).toContain('RS4011');
      expect(report).toContain('trainer-0.json');
      expect(r.stderr + r.stdout).not.toMatch(/RS9001|\n\s+at /);
      expect(r.status).toBe(3);
      if (args.includes('--json')) expect(JSON.parse(r.stdout)).toMatchObject({ ok: false, diagnostics: [{ code: 'RS4011' }] });
    }
  });
});

describe('preparing a run dir', () => {
  it('a damaged launcher/ of rlstack\'s own run dir is kept aside and never blocks the launch (resume --force)', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'spec.toml'), `extends = "tiny"\n[run]\nname = "r"\noutput_dir = "${dir}/runs"\nresume = true\n`);
    const planned = planSpec(join(dir, 'spec.toml'));
    if (!planned.ok) throw new Error(planned.diagnostics.map((d) => d.message).join('\n'));
    const runDir = join(dir, 'runs', 'r');
    runId(runDir);
    createAttempt(runDir);
    mkdirSync(join(runDir, 'launcher'));
    writeFileSync(join(runDir, 'launcher', 'manifest.json'), '{ not json');
    writeFileSync(join(runDir, 'launcher', 'plan.json'), 'garbage');
    const r = prepareRunDir(planned, filesOf(planned), resolveRunDir(planned.plan.run.dir, dir));
    expect(r.diagnostics).toEqual([]);
    expect(r.prepared?.note).toMatch(/kept as .*launcher\.damaged-/);
    expect(JSON.parse(readFileSync(join(runDir, 'launcher', 'manifest.json'), 'utf8')).files.length).toBeGreaterThan(3);
    const aside = readdirSync(join(runDir, 'state')).find((f) => f.startsWith('launcher.damaged-'))!;
    expect(readFileSync(join(runDir, 'state', aside, 'plan.json'), 'utf8')).toBe('garbage');
  });

  it('refuses a run dir with files rlstack did not make (RS4010) and a run that took steps without resume (RS4002)', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'spec.toml'), `extends = "tiny"\n[run]\nname = "r"\noutput_dir = "${dir}/runs"\n`);
    const planned = planSpec(join(dir, 'spec.toml'));
    if (!planned.ok) throw new Error('plan');
    mkdirSync(join(dir, 'runs', 'r', 'rollouts', 'step_300'), { recursive: true });
    expect(prepareRunDir(planned, filesOf(planned), resolveRunDir(planned.plan.run.dir, dir)).diagnostics.map((d) => d.code)).toEqual(['RS4010']);
    expect(readdirSync(join(dir, 'runs', 'r', 'rollouts'))).toEqual(['step_300']);
    runId(join(dir, 'runs', 'r'));
    expect(prepareRunDir(planned, filesOf(planned), resolveRunDir(planned.plan.run.dir, dir)).diagnostics.map((d) => d.code)).toEqual(['RS4002']);
  });
});
