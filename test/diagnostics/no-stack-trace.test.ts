/**
 * The built CLI on malformed input: every problem a user can cause is a diagnostic, never a stack trace
 * (SPEC §3). Spawns `node bin/rlstack.js plan FILE` on the bad-input cases of cases.ts and on generated
 * garbage (truncated presets, random bytes from a fixed seed, deep nesting, huge integers, a 5 MB file) and
 * checks: exit code 1 (2 for usage errors), an RS code on stderr, and no stack frames, no "TypeError:"-style
 * lines from node, no internal error (RS9001), no crash signal. `--json` on a bad spec prints parseable JSON.
 *
 * Where a generated input's outcome is not obvious (a truncated preset may still be valid TOML), the CLI is
 * compared with the compiler run in-process on the same file: same verdict, same first error code.
 */
import { execSync, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect as globalExpect, it, type ExpectStatic } from 'vitest';
import { tempDirs } from '../helpers.js';
import { planSpec } from '../../src/compiler/pipeline.js';
import { entryOf, expectedFileOf, expectedLineOf, groups, presetFile, tiny, writeCase, type Case } from './cases.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const BIN = path.join(ROOT, 'bin', 'rlstack.js');

beforeAll(() => {
  if (!fs.existsSync(path.join(ROOT, 'dist', 'src', 'cli', 'main.js'))) execSync('npm run build', { cwd: ROOT, stdio: 'ignore' });
}, 120_000);

const tempDir = tempDirs();

interface CliResult {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

const ENV: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1' };
delete ENV['RLSTACK_DEBUG'];
delete ENV['FORCE_COLOR'];

/**
 * Runs the CLI in a child process. Asynchronous (not spawnSync) so that the tests below can run a few
 * CLIs at once (`it.concurrent`): node's start-up dominates, and the suite has a time budget.
 */
function cli(args: string[], cwd: string, timeoutMs = 30_000): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd, env: ENV, stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (status, signal) => {
      clearTimeout(timer);
      resolve({ status, signal, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') });
    });
  });
}

/** Writes one file into a fresh temp dir and runs `plan` on it (from that dir). */
async function planFile(content: string | Uint8Array, extra: string[] = []): Promise<{ dir: string; file: string; r: CliResult }> {
  const dir = tempDir();
  const file = path.join(dir, 'spec.toml');
  fs.writeFileSync(file, content);
  return { dir, file, r: await cli(['plan', 'spec.toml', ...extra], dir) };
}

const STACK_FRAME = /^\s+at\s.+(:\d+:\d+\)?|\(native\)|<anonymous>\)?)$/m;
const NODE_ERROR = /(^|\s)(?:[A-Z][A-Za-z]*)?Error(?: \[[A-Z_]+\])?: /m;

/** Never a stack trace, never an internal error, never killed. */
function expectNoCrash(expect: ExpectStatic, r: CliResult): void {
  const both = `${r.stdout}\n${r.stderr}`;
  const context = `exit ${r.status} signal ${r.signal}\n--- stderr\n${r.stderr.slice(0, 2000)}\n--- stdout\n${r.stdout.slice(0, 500)}`;
  expect(r.signal, context).toBeNull();
  expect(both, context).not.toMatch(/^ {4}at /m);
  expect(both, context).not.toMatch(STACK_FRAME);
  expect(both, context).not.toMatch(NODE_ERROR);
  expect(both, context).not.toMatch(/node:internal|FATAL ERROR|Maximum call stack/);
  expect(both, context).not.toMatch(/RS9001|internal error/);
}

/** A spec error: exit 1, an RS code on stderr (the given one when known), a summary, nothing on stdout. */
function expectSpecError(expect: ExpectStatic, r: CliResult, code?: string): void {
  expectNoCrash(expect, r);
  expect(r.status, r.stderr).toBe(1);
  expect(r.stderr).toMatch(/\bRS\d{4}\b/);
  if (code) expect(r.stderr).toContain(` ${code} `);
  expect(r.stderr).toMatch(/\d+ errors?(, \d+ warnings?)?\s*$/);
  expect(r.stdout).toBe('');
}

/** Fixed-seed PRNG (mulberry32): the same "random" inputs on every run. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// ---------------------------------------------------------------------------------------------- the case table

/** The CLI is slower than the library: the first error case of each group of cases.ts, plus a few more. */
const EXTRA = [
  'binary garbage (invalid UTF-8)',
  'a directory instead of a file',
  'RS1203 ep does not divide the experts',
  'RS1010 Slurm partition injection',
  'RS1006 bad hostlist',
  'rule error located in a preset',
  '--set with a wrong-typed value',
];
const sample: Case[] = groups.flatMap(([, cases]) => cases.filter((c) => c.severity === 'error' && (c === cases[0] || EXTRA.includes(c.name))));

describe('plan on the bad-input cases', () => {
  it('samples one case per group and the extras', () => {
    globalExpect(sample.length).toBe(groups.length + EXTRA.length);
  });

  it.concurrent.for(sample.map((c) => [c.name, c] as const))('%s', async ([, c], { expect }) => {
    const dir = tempDir();
    writeCase(c, dir);
    const r = await cli(['plan', entryOf(c), ...(c.sets ?? []).flatMap((s) => ['--set', s])], dir);
    expectSpecError(expect, r, c.code);
    // The human form starts with file:line:column (or just the file for file-level problems).
    const file = expectedFileOf(c, dir);
    const line = expectedLineOf(c, file);
    const header = r.stderr.split('\n').find((l) => l.includes(` error ${c.code} `)) ?? '';
    expect(header.startsWith(line === null ? `${file} ` : `${file}:${line}:`), r.stderr).toBe(true);
    if (typeof c.hint === 'string') expect(r.stderr).toContain(c.hint);
  });
});

// ---------------------------------------------------------------------------------------------- generated garbage

describe('plan on generated garbage', () => {
  // the preset plus a comment with a two-byte UTF-8 character, so one cut can split it after its first byte
  const preset = Buffer.concat([fs.readFileSync(presetFile('intellect3')), Buffer.from('# § the end\n')]);
  const section = preset.lastIndexOf(Buffer.from('§'));
  const offsets = [1, 10, 60, 777, 1900, 2600, 3700, 5000, preset.length - 2, section + 1];

  /** In-process verdict on the same bytes (first error code, or undefined when the spec is valid). */
  const verdict = (bytes: Uint8Array) => {
    const dir = tempDir();
    fs.writeFileSync(path.join(dir, 'spec.toml'), bytes);
    const result = planSpec(path.join(dir, 'spec.toml'), { cwd: dir });
    return result.ok ? undefined : result.diagnostics.find((d) => d.severity === 'error')!.code;
  };

  it.concurrent.for(offsets)('intellect3.toml truncated to %i bytes', async (offset, { expect }) => {
    const bytes = preset.subarray(0, offset);
    const code = verdict(bytes);
    const { r } = await planFile(bytes);
    if (code === undefined) {
      expectNoCrash(expect, r);
      expect(r.status, r.stderr).toBe(0);
    } else expectSpecError(expect, r, code);
  });

  it('the truncations exercise different failures', () => {
    const codes = new Set(offsets.map((offset) => verdict(preset.subarray(0, offset)) ?? 'ok'));
    for (const code of ['RS0002', 'RS0003', 'RS0004']) globalExpect(codes, [...codes].join(' ')).toContain(code);
  });

  const random = prng(20240607);
  const randomBytes = [1, 64, 500, 4096].map((n) => Uint8Array.from({ length: n }, () => Math.floor(random() * 256)));
  const alphabet = 'ab_=[]{}",.# \n\'1-\\tx';
  const randomText = [20, 300, 2000].map((n) => Array.from({ length: n }, () => alphabet[Math.floor(random() * alphabet.length)]).join(''));
  const randomInputs: [string, Uint8Array | string][] = [
    ...randomBytes.map((b, i): [string, Uint8Array] => [`random bytes #${i} (${b.length} bytes)`, b]),
    ...randomText.map((t, i): [string, string] => [`random TOML-ish text #${i} (${t.length} chars)`, t]),
  ];

  it.concurrent.for(randomInputs)('%s', async ([, input], { expect }) => {
    const code = verdict(typeof input === 'string' ? Buffer.from(input) : input);
    expect(code).toBeDefined();
    expectSpecError(expect, (await planFile(input)).r, code);
  });

  it.concurrent.for([
    ['deeply nested arrays', `a = ${'['.repeat(5000)}1${']'.repeat(5000)}\n`, 'RS0003'],
    ['deeply nested inline tables', `a = ${'{ b = '.repeat(3000)}1${' }'.repeat(3000)}\n`, 'RS0003'],
    ['a 1000-part dotted table header', `[${Array(1000).fill('a').join('.')}]\n`, 'RS0003'],
    ['an unterminated multi-line string', '[run]\nname = """\nabc\n', 'RS0003'],
    ['a 200k-character line', `[run]\nname = "${'x'.repeat(200_000)}`, 'RS0003'],
    ['CRLF line endings with an error', '[run]\r\nname = "My Run"\r\n', 'RS0205'],
    ['a BOM before an unknown key', '\ufeffbogus = 1\n', 'RS0201'],
    ['a lone NUL byte', '\0', 'RS0002'],
  ] as const)('%s', async ([, text, code], { expect }) => {
    expectSpecError(expect, (await planFile(text)).r, code);
  });

  it.concurrent.for([
    ['a negative integer beyond 64 bits', '[cluster]\nnodes = -99999999999999999999\n', 'RS0203'],
    ['a hex integer beyond 64 bits for a string', '[run]\nname = 0xffffffffffffffffffffffff\n', 'RS0203'],
    ['an integer beyond 64 bits for tp', tiny({ inference: 'tp = 99999999999999999999' }), 'RS0203'],
    ['a float that overflows to inf', '[inference]\ngpu_memory_utilization = 1e999\n', 'RS0203'],
  ] as const)('huge numbers: %s', async ([, text, code], { expect }) => {
    expectSpecError(expect, (await planFile(text)).r, code);
  });

  it.concurrent('a 5 MB file', async ({ expect }) => {
    const line = 'x = "0123456789012345678901234567890123456789012345678901234567890123456789"\n';
    const { r } = await planFile(line.repeat(Math.ceil((5 * 1024 * 1024) / line.length)));
    expectSpecError(expect, r, 'RS0001');
    expect(r.stderr).toContain('at most 4 MiB');
  });

  it.concurrent('a missing file', async ({ expect }) => {
    expectSpecError(expect, await cli(['plan', 'nope.toml'], tempDir()), 'RS0001');
  });
});

// ---------------------------------------------------------------------------------------------- usage errors

describe('usage errors exit 2', () => {
  it.concurrent.for([
    ['plan without a spec', ['plan']],
    ['an unknown command', ['plna', 'x.toml']],
    ['an unknown option', ['plan', 'x.toml', '--bogus']],
    ['--set without a value', ['plan', 'x.toml', '--set']],
  ] as const)('%s', async ([, args], { expect }) => {
    const r = await cli([...args], tempDir());
    expectNoCrash(expect, r);
    expect(r.status, r.stderr).toBe(2);
    expect(r.stderr.length).toBeGreaterThan(0);
    expect(r.stdout).toBe('');
  });
});

// ---------------------------------------------------------------------------------------------- --json

interface JsonFailure {
  ok: boolean;
  diagnostics: { code: string; severity: string; message: string; file?: string; line?: number; column?: number }[];
}

describe('plan --json on a bad spec', () => {
  it.concurrent.for([
    ['a rule error', tiny({ trainer: 'cp = 3' }), 'RS1201', 12],
    ['a syntax error', '[run]\nname = \n', 'RS0003', 2],
    ['an unknown key', 'trainr = 1\n', 'RS0201', 1],
  ] as const)('%s: JSON with ok false and located diagnostics', async ([, text, code, line], { expect }) => {
    const { r } = await planFile(text, ['--json']);
    expectNoCrash(expect, r);
    expect(r.status).toBe(1);
    const out = JSON.parse(r.stdout) as JsonFailure;
    expect(out.ok).toBe(false);
    const d = out.diagnostics.find((x) => x.code === code);
    expect(d, r.stdout).toBeDefined();
    expect(d).toMatchObject({ severity: 'error', file: 'spec.toml', line });
    expect(typeof d!.column).toBe('number');
    expect(d!.message.length).toBeGreaterThan(0);
    for (const x of out.diagnostics) expect(x.code).toMatch(/^RS\d{4}$/);
  });

  it.concurrent('a missing file: JSON with RS0001 and no line', async ({ expect }) => {
    const r = await cli(['plan', 'missing.toml', '--json'], tempDir());
    expectNoCrash(expect, r);
    expect(r.status).toBe(1);
    const out = JSON.parse(r.stdout) as JsonFailure;
    expect(out.ok).toBe(false);
    expect(out.diagnostics).toHaveLength(1);
    expect(out.diagnostics[0]).toMatchObject({ code: 'RS0001', file: 'missing.toml' });
    expect(out.diagnostics[0]!.line).toBeUndefined();
  });
});

// ---------------------------------------------------------------------------------------------- regressions

describe('regressions', () => {
  it('--set __proto__.x=1 is an unknown key (RS0105), not a prototype pollution ending in RS9001', async () => {
    const { r } = await planFile(tiny(), ['--set', '__proto__.x=1']);
    expectSpecError(globalExpect, r, 'RS0105');
  });

  it('a 3000-part dotted table header is a diagnostic, not "Maximum call stack size exceeded" (RS9001)', async () => {
    const { r } = await planFile(`[${Array(3000).fill('a').join('.')}]\n`);
    expectSpecError(globalExpect, r);
  });
});

// ---------------------------------------------------------------------------------------------- hostile files (issue 11)

describe('hostile files are refused without reading them whole', () => {
  it.concurrent('plan /dev/zero: RS0001 (not a regular file), at once, no memory growth', async ({ expect }) => {
    const r = await cli(['plan', '/dev/zero'], tempDir(), 10_000);
    expectSpecError(expect, r, 'RS0001');
    expect(r.stderr).toMatch(/^\/dev\/zero error RS0001 .*character device/m);
  }, 15_000);

  it.concurrent('extends = "/dev/zero": RS0103 at the extends line', async ({ expect }) => {
    const { r } = await planFile(`extends = "/dev/zero"\n${tiny()}`);
    expectSpecError(expect, r, 'RS0103');
    expect(r.stderr).toMatch(/^spec\.toml:1:11 error RS0103 .*not a regular file/m);
  });

  it.concurrent('a FIFO as the spec does not hang: RS0001', async ({ expect }) => {
    const dir = tempDir();
    execSync('mkfifo spec.toml', { cwd: dir });
    const r = await cli(['plan', 'spec.toml'], dir, 10_000);
    expectSpecError(expect, r, 'RS0001');
    expect(r.stderr).toMatch(/^spec\.toml error RS0001 .*FIFO/m);
  }, 15_000);

  it.concurrent('a FIFO named by extends does not hang: RS0103', async ({ expect }) => {
    const dir = tempDir();
    execSync('mkfifo base.toml', { cwd: dir });
    fs.writeFileSync(path.join(dir, 'spec.toml'), 'extends = "./base.toml"\n');
    const r = await cli(['plan', 'spec.toml'], dir, 10_000);
    expectSpecError(expect, r, 'RS0103');
  }, 15_000);

  it.concurrent.for([
    ['a 125k-character string', `[run]\nname = "${'x'.repeat(125_000)}"\n`, 2, 8],
    ['a 125k-character [env] value', `${tiny()}\n[env]\nFOO = "${'x'.repeat(125_000)}"\n`, 25, 7],
    ['a 125k-character literal string', `[run]\nname = '${'x'.repeat(125_000)}'\n`, 2, 8],
    ['a multi-line string of 125k characters', `[run]\nname = """\n${'x'.repeat(100).concat('\n').repeat(1250)}"""\n`, 2, 8],
    ['a 200k-digit integer', `[run]\nmax_steps = ${'1'.repeat(200_000)}\n`, 2, 13],
  ] as const)('%s is RS0006 at its line, not "Maximum call stack size exceeded"', async ([, text, line, column], { expect }) => {
    const { r } = await planFile(text);
    expectSpecError(expect, r, 'RS0006');
    expect(r.stderr).toMatch(new RegExp(`^spec\\.toml:${line}:${column} error RS0006 `, 'm'));
  });
});
