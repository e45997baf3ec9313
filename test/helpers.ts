import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { afterAll } from 'vitest';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

/** Strings that break naive shell interpolation: every value that reaches a shell script is tested with them. */
export const HOSTILE = ["it's", 'a "b"', '$(touch /tmp/pwned)', '`id`', 'two\nlines', 'with space', '*.txt', '--x=1', '', '$HOME', 'back\\slash', "'; rm -rf / #", '!bang', 'semi;colon', 'ünïcødé'];

/** A fresh temp folder with the given files (name → text); returns its path. */
export function workspace(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'rlstack-test-'));
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, name)), { recursive: true });
    writeFileSync(join(dir, name), text);
  }
  return dir;
}

/** A multi-node spec on Slurm, big enough for most rules; extra TOML is appended. */
export const BASE_MULTINODE = `
[cluster]
nodes = 4
gpus_per_node = 8
gpu = "h100"
backend = "slurm"

[model]
name = "Qwen/Qwen3-30B-A3B"
seq_len = 8192

[trainer]
nodes = 2

[inference]
nodes = 2
tp = 4

[[environments]]
name = "math"
taskset = "i3_math"
`;

/** Temp folders removed after the file's tests (call in a test file's top level). */
export function tempDirs(label = 'rlstack-'): () => string {
  const dirs: string[] = [];
  afterAll(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });
  return () => {
    const dir = mkdtempSync(join(tmpdir(), label));
    dirs.push(dir);
    return dir;
  };
}

/** Top-level functions of a bash script (`name() {` … `}` at column 0), to run them on their own. */
export function bashFunctions(script: string, names: string[]): string {
  return names
    .map((name) => {
      const start = script.indexOf(`\n${name}() {`);
      if (start < 0) throw new Error(`node.sh has no function ${name}`);
      const end = script.indexOf('\n}\n', start);
      return script.slice(start + 1, end + 3);
    })
    .join('\n');
}

const CHECKOUT = new URL('..', import.meta.url).pathname;

/** The built CLI of this checkout as a user runs it (no colour), in `cwd`: exit code and both streams. */
export function rlstack(args: string[], cwd = CHECKOUT, env: NodeJS.ProcessEnv = {}): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [join(CHECKOUT, 'bin', 'rlstack.js'), ...args], { cwd, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1', ...env }, maxBuffer: 64 << 20 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}
