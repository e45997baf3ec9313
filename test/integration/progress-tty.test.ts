/**
 * Launch progress on a real terminal (a pty from script(1)): listr2 draws one task per role. The local back
 * end on this machine with the stand-ins; it needs no test cluster (and must not use harness.ts, which reads it).
 */
import { execFileSync, spawn, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { killLeftovers } from './leftovers.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const base = mkdtempSync(join(tmpdir(), 'rlstack-progress-tty-'));
afterAll(() => {
  killLeftovers();
  rmSync(base, { recursive: true, force: true });
});

/** The CLI in a pty sized 100×30, without NO_COLOR or CI; output as the terminal got it, ANSI codes removed. */
function inTerminal(command: string, env: NodeJS.ProcessEnv): Promise<{ code: number | null; text: string }> {
  const clean: NodeJS.ProcessEnv = { ...env, TERM: 'xterm-256color' };
  for (const key of ['NO_COLOR', 'CI', 'FORCE_COLOR']) delete clean[key];
  return new Promise((resolve) => {
    const child = spawn('script', ['-qfec', `stty cols 100 rows 30; ${command}`, '/dev/null'], { cwd: ROOT, env: clean, stdio: ['ignore', 'pipe', 'pipe'] });
    let raw = '';
    child.stdout.on('data', (d: Buffer) => (raw += d.toString()));
    child.stderr.on('data', (d: Buffer) => (raw += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 180_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      // eslint-disable-next-line no-control-regex
      resolve({ code, text: raw.replace(/\u001b\[[0-9;?]*[A-Za-z]/g, '').replace(/\r/g, '') });
    });
  });
}

describe('launch progress on a terminal', () => {
  it('draws one listr2 task per role until all are ready', async () => {
    const primeRl = join(base, 'prime-rl');
    const revision = execFileSync(process.execPath, [join(ROOT, 'test', 'standins', 'make-prime-rl.mjs'), primeRl], { encoding: 'utf8' }).trim();
    const runs = join(base, 'runs');
    mkdirSync(runs);
    const spec = join(base, 'progress.toml');
    writeFileSync(
      spec,
      `extends = "tiny"
[run]
name = "progress"
output_dir = "${runs}"
prime_rl_dir = "${primeRl}"
prime_rl_revision = "${revision}"
prime_rl_map = "559b447"
ready_timeout_s = 60
[ports]
base = 21000
`,
    );
    const env = { ...process.env, PATH: `${join(primeRl, 'bin')}:${process.env['PATH']}` };
    let stop: SpawnSyncReturns<string>;
    try {
      const launch = await inTerminal(`node bin/rlstack.js launch ${spec}`, env);
      expect(launch.code, launch.text).toBe(0);
      // The last drawing: every role ticked, then the launcher's own report.
      for (const role of ['inference', 'router', 'env_server', 'orchestrator', 'trainer']) expect(launch.text).toMatch(new RegExp(`✔ ${role} +1/1 ready\\n`));
      expect(launch.text).toMatch(/[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏] [a-z_]+ +0\/1 ready/);
      expect(launch.text).toContain('all 5 processes are ready');
      expect(launch.text).not.toMatch(/^ {2}ready {4}/m);
    } finally {
      stop = spawnSync(process.execPath, [join(ROOT, 'bin', 'rlstack.js'), 'stop', join(runs, 'progress')], { cwd: ROOT, env, encoding: 'utf8', timeout: 120_000 });
    }
    expect(stop.status, stop.stdout + stop.stderr).toBe(0);
    expect(stop.stdout).toContain('nothing of the run is left running');
  });
});
