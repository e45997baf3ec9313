/**
 * Bad inputs → exact diagnostics. Every case (table in cases.ts) writes a small spec (and maybe more files)
 * into a fresh temp dir, runs the compiler front door `planSpec`, and checks the one diagnostic the case is
 * about: its code, severity, file, 1-based line (and column where it means something) and, for unknown keys
 * and values, the "did you mean" hint. It also checks that no *other* error code shows up (`also` lists the
 * expected ones) and that every diagnostic carries its catalogue severity.
 *
 * Line convention: a spec line that ends in `#<` is the line the diagnostic must point at; the expected
 * column is then the column of that line's value (`col: 'key'` = its key, or an explicit number).
 */
import { describe, expect, it } from 'vitest';
import { tempDirs } from '../helpers.js';
import { CODES, type Code } from '../../src/compiler/diagnostics/codes.js';
import type { Diagnostic } from '../../src/compiler/diagnostics/diagnostic.js';
import { planSpec, type PlanResult } from '../../src/compiler/pipeline.js';
import { expectedFileOf, expectedLineOf, filesOf, groups, marked, multi, QWEN_MOE, shared, tiny, writeCase, type Case } from './cases.js';

// ---------------------------------------------------------------------------------------------- helpers

const tempDir = tempDirs();

interface Run {
  dir: string;
  result: PlanResult;
}

/** Writes the files into a temp dir and plans the entry (default: the first file). */
function plan(spec: Case['spec'], options: { sets?: string[] | undefined; entry?: string | undefined } = {}): Run {
  const dir = tempDir();
  const entry = writeCase({ spec, entry: options.entry }, dir);
  return { dir, result: planSpec(entry, { cwd: dir, sets: options.sets ?? [] }) };
}

function show(ds: readonly Diagnostic[]): string {
  return ds.map((d) => `${d.code} ${d.severity} ${d.file}:${d.line}:${d.column} ${d.path ?? ''} ${d.message} | ${d.hint ?? ''}`).join('\n');
}

function check(c: Case): Diagnostic {
  const { dir, result } = plan(c.spec, { sets: c.sets, entry: c.entry });
  const ds = result.diagnostics;
  const found = ds.find((d) => d.code === c.code && (c.path === undefined || d.path === c.path));
  expect(found, `expected ${c.code}${c.path ? ` at ${c.path}` : ''}; got:\n${show(ds)}`).toBeDefined();
  const d = found!;
  expect(d.severity, show([d])).toBe(c.severity);
  if (c.severity === 'error') expect(result.ok).toBe(false);
  else expect(result.ok, `a ${c.severity} must not fail the plan:\n${show(ds)}`).toBe(true);

  const file = expectedFileOf(c, dir);
  expect(d.file, show([d])).toBe(file);

  const line = expectedLineOf(c, file);
  const text = filesOf(c)[file];
  const mark = typeof text === 'string' ? marked(text) : undefined;
  if (line === null) {
    expect(d.line, show([d])).toBeUndefined();
    expect(d.column, show([d])).toBeUndefined();
  } else {
    expect(d.line, show([d])).toBe(line);
    const col = c.col !== undefined ? c.col : c.line === undefined ? 'value' : null;
    if (col === 'value') expect(d.column, show([d])).toBe(mark!.value);
    else if (col === 'key') expect(d.column, show([d])).toBe(mark!.key);
    else if (typeof col === 'number') expect(d.column, show([d])).toBe(col);
  }
  if (c.hint !== undefined) {
    if (typeof c.hint === 'string') expect(d.hint ?? '', show([d])).toContain(c.hint);
    else expect(d.hint ?? '', show([d])).toMatch(c.hint);
  }
  if (c.message !== undefined) {
    if (typeof c.message === 'string') expect(d.message).toContain(c.message);
    else expect(d.message).toMatch(c.message);
  }
  // No other errors than the expected ones: each case is about one mistake.
  const allowed = new Set<string>([c.code, ...(c.also ?? [])]);
  const unexpected = ds.filter((x) => x.severity === 'error' && !allowed.has(x.code));
  expect(unexpected, `unexpected errors:\n${show(unexpected)}`).toEqual([]);
  // Every diagnostic has a message without leaked "undefined", and the severity its code has in the catalogue.
  const userWroteNaN = /\bnan\b/.test(typeof c.spec === 'string' ? c.spec : '');
  for (const x of ds) {
    expect(x.message.length).toBeGreaterThan(0);
    expect(x.message).not.toMatch(userWroteNaN ? /\bundefined\b|\[object Object\]/ : /\bundefined\b|\bNaN\b|\[object Object\]/);
    expect(CODES[x.code], x.code).toBeDefined();
    expect(x.severity, x.code).toBe(CODES[x.code].severity);
  }
  return d;
}

// ---------------------------------------------------------------------------------------------- sanity

describe('the base specs are valid', () => {
  it.each([
    ['tiny', tiny()],
    ['shared', shared({ trainer: 'gpus = 4', inference: 'gpus = 4' })],
    ['multi dense', multi({ model: 'Qwen/Qwen3-0.6B' })],
    ['multi moe', multi({ model: QWEN_MOE, trainer: 'ep = 8' })],
  ])('%s plans without errors', (_name, spec) => {
    const { result } = plan(spec);
    expect(result.diagnostics.filter((d) => d.severity === 'error'), show(result.diagnostics)).toEqual([]);
    expect(result.ok).toBe(true);
  });
});

for (const [group, cases] of groups) {
  describe(group, () => {
    it.each(cases.map((c) => [c.name, c] as const))('%s', (_name, c) => {
      check(c);
    });
  });
}

describe('case table', () => {
  it('covers at least 50 cases and every user-facing code family', () => {
    const all = groups.flatMap(([, cs]) => cs);
    expect(all.length).toBeGreaterThanOrEqual(50);
    const codes = new Set(all.map((c) => c.code));
    for (const code of ['RS0001', 'RS0002', 'RS0003', 'RS0004', 'RS0101', 'RS0102', 'RS0103', 'RS0104', 'RS0105', 'RS0106', 'RS0201', 'RS0202', 'RS0203', 'RS0204', 'RS0205', 'RS1001', 'RS1002', 'RS1004', 'RS1005', 'RS1006', 'RS1007', 'RS1009', 'RS1010', 'RS1101', 'RS1102', 'RS1201', 'RS1202', 'RS1203', 'RS1204', 'RS1205', 'RS1206', 'RS1207', 'RS1301', 'RS1302', 'RS1303', 'RS1304', 'RS1305', 'RS1306', 'RS1401', 'RS1402', 'RS1403', 'RS1501', 'RS1502', 'RS1504', 'RS1601', 'RS1602', 'RS1603', 'RS1604', 'RS1701', 'RS1801', 'RS1802', 'RS1803', 'RS1804', 'RS1901', 'RS1902', 'RS0006', 'RS1013', 'RS1014', 'RS1806', 'RS1903']) {
      expect(codes.has(code as Code), code).toBe(true);
    }
  });
});

// ---------------------------------------------------------------------------------------------- regressions
//
// Bugs found by these tests and fixed in src/. (`--set __proto__.x=1`, which once polluted Object.prototype,
// is only exercised in a child process: see no-stack-trace.test.ts.)

describe('regressions', () => {
  it('pool names are checked against ^[a-z][a-z0-9_-]*$ (RS0205)', () => {
    check({ name: 'pool Big', spec: tiny({ tail: '[cluster.pools.Big] #<\nnodes = 1' }), code: 'RS0205', severity: 'error', col: 2, path: 'cluster.pools.Big', also: ['RS1004'] }); // the name inside [ ]
  });

  it('a badly named pool without nodes is an error at the pool, not "NaN nodes"', () => {
    const { result } = plan(tiny({ tail: '[cluster.pools.Big]\nnodez = "x"' }));
    expect(result.diagnostics.some((d) => d.severity === 'error' && d.path?.startsWith('cluster.pools.Big'))).toBe(true);
    for (const d of result.diagnostics) expect(d.message).not.toMatch(/NaN/);
  });

  it('a trainer given whole nodes of a CPU pool is RS1009', () => {
    check({
      name: 'trainer nodes on cpu pool',
      spec: multi({ model: 'Qwen/Qwen3-0.6B', nodes: 1, trainer: 'pool = "cpu" #<', tail: '[cluster.pools.cpu]\nnodes = 1\ngpus_per_node = 0' }),
      code: 'RS1009',
      severity: 'error',
      path: 'trainer.pool',
    });
  });

  it('an integer beyond 2^53 is refused, not rounded to a float', () => {
    const { result } = plan(tiny().replace('[orchestrator]', '[run]\nmax_steps = 99999999999999999999999\n[orchestrator]'));
    expect(result.ok).toBe(false);
    expect(result.diagnostics.map((d) => d.path)).toContain('run.max_steps');
  });

  it('an unquoted TOML date is not accepted as a string', () => {
    check({ name: 'date', spec: tiny({ tail: '[run]\nname = 1979-05-27 #<' }), code: 'RS0202', severity: 'error', path: 'run.name' });
  });

  it('inf is not accepted as a number', () => {
    check({ name: 'inf', spec: tiny({ orchestrator: 'temperature = inf #<' }), code: 'RS0203', severity: 'error', path: 'orchestrator.temperature' });
  });

  it('inf is not accepted as an integer (ajv counts Infinity as an integer)', () => {
    check({ name: 'inf int', spec: tiny({ tail: '[run]\nmax_steps = inf #<' }), code: 'RS0203', severity: 'error', path: 'run.max_steps' });
  });

  it('a [__proto__] table is an unknown key, not silently dropped', () => {
    check({ name: '__proto__', spec: tiny({ tail: '[__proto__] #<\nx = 1' }), code: 'RS0201', severity: 'error', col: 2 });
  });

  it('RS1801 points at the bad name (the key), not at its value', () => {
    check({ name: 'env key', spec: tiny({ tail: '[env]\n"1BAD" = "x" #<' }), code: 'RS1801', severity: 'error', col: 'key' });
  });

  it('RS1011 caused by inference.port (ports.base unset) is located and has a sensible hint', () => {
    const d = check({ name: 'port', spec: tiny({ inference: 'port = 50000 #<' }), code: 'RS1011', severity: 'error' });
    expect(d.hint).not.toMatch(/≤ -\d/);
  });
});
