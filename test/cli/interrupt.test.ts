/**
 * Issue 13 part 3: Ctrl-C (or TERM) during `compile` leaves the output folder whole or absent — never a
 * half-written folder or a staging folder beside it. RLSTACK_TEST_WRITE_PAUSE_MS slows each file write so
 * the signal lands in the middle of writing.
 */
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { workspace } from '../helpers.js';

const ROOT = new URL('../..', import.meta.url).pathname;
const BIN = join(ROOT, 'bin', 'rlstack.js');

function compileInterrupted(dir: string, signal: NodeJS.Signals, afterMs: number): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, 'compile', join(ROOT, 'presets/i3-mini.toml'), '-o', 'out'], { cwd: dir, env: { ...process.env, NO_COLOR: '1', RLSTACK_TEST_WRITE_PAUSE_MS: '20' } });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    // The signal is sent once the first staged file exists: the write is under way.
    const poll = setInterval(() => {
      if (readdirSync(dir).some((f) => f.includes('rlstack-new'))) {
        clearInterval(poll);
        setTimeout(() => child.kill(signal), afterMs);
      }
    }, 5);
    child.on('exit', (code) => {
      clearInterval(poll);
      resolve({ code, stderr });
    });
  });
}

describe('an interrupted compile', () => {
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    it(`${signal} in the middle of the writes: the folder is whole, nothing staged is left, exit 130`, async () => {
      const dir = workspace({});
      const r = await compileInterrupted(dir, signal, 40);
      expect(r.code).toBe(130);
      expect(r.stderr).toContain(`interrupted (${signal})`);
      expect(readdirSync(dir)).toEqual(['out']);
      const manifest = JSON.parse(readFileSync(join(dir, 'out', 'manifest.json'), 'utf8')) as { files: { path: string }[] };
      for (const f of manifest.files) expect(existsSync(join(dir, 'out', f.path)), f.path).toBe(true);
    }, 60_000);
  }
});
