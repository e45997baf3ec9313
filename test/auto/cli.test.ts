/**
 * `rlstack plan --auto`: the human table, the JSON envelope, --write's layer (plans clean with the same
 * throughput; never over the spec or a file it did not write), usage errors and the nothing-feasible case.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LAYER_MARKER } from '../../src/compiler/auto/layer.js';
import { rlstack, workspace } from '../helpers.js';
import { toySpec } from './toy.js';

const ROOT = new URL('../..', import.meta.url).pathname;


function json(args: string[], cwd = ROOT): { code: number | null; env: Record<string, any> } {
  const r = rlstack([...args, '--json'], cwd);
  return { code: r.code, env: JSON.parse(r.stdout) as Record<string, any> };
}

describe('plan --auto: views', () => {
  it('human: the spec as written first, then the candidates with their overrides, step, bottleneck, headroom, ratio and why', () => {
    const r = rlstack(['plan', '--auto', 'presets/single-node.toml']);
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.split('\n');
    expect(lines[0]).toBe('rlstack plan --auto — presets/single-node.toml (objective samples/s)');
    expect(lines[1]).toMatch(/^ {2}searched {2}split: trainer gpus 1-7 of 8 \(as written 4\); \d+ candidates evaluated, \d+ planned in full, \d+\.\d s$/);
    const header = lines.find((l) => l.includes('bottleneck'))!;
    for (const column of ['step', 'free memory (tightest GPU)', 'samples/s', '× spec', 'why']) expect(header).toContain(column);
    expect(lines.find((l) => l.startsWith('  as written'))).toMatch(/as written +71\.8 s +inference +trainer [\d.]+ GiB \(\d+ %\) +3\.563 +1\.00× +the spec as written/);
    const first = lines.findIndex((l) => /^ {2}1 /.test(l));
    expect(lines[first]).toMatch(/× samples\/s$/);
    expect(lines[first + 1]).toMatch(/^ +trainer\.gpus = \d, inference\.gpus = \d/);
    expect(r.stdout).toContain('rlstack plan --auto presets/single-node.toml --write FILE');
  });

  it('--json: one envelope with auto { objective, baseline, best, candidates, searched }', () => {
    const { code, env } = json(['plan', '--auto', 'presets/single-node.toml', '--objective', 'tokens']);
    expect(code).toBe(0);
    expect(env['ok']).toBe(true);
    const auto = env['auto'];
    expect(auto.objective).toBe('tokens');
    expect(auto.baseline).toMatchObject({ ok: true, problems: [], throughput: { samples_per_s: 3.563 } });
    expect(auto.best).toEqual(auto.candidates[0]);
    expect(Object.keys(auto.best.overrides).length).toBeGreaterThan(0);
    expect(auto.best.throughput).toHaveProperty('tokens_per_s');
    expect(auto.best.memory_headroom).toMatchObject({ trainer_gib: expect.any(Number), trainer_share: expect.any(Number), tightest: expect.stringMatching(/trainer|inference/) });
    expect(auto.best.vs_spec).toBeGreaterThan(1);
    expect(auto.best.reason).toMatch(/tokens\/s$/);
    expect(auto.searched).toMatchObject({ evaluated: expect.any(Number), planned: expect.any(Number), seconds: expect.any(Number) });
    expect(auto.written).toBeNull();
  });
});

describe('plan --auto --write', () => {
  it('writes a layer that extends the spec with only the changed keys; plan of the layer is clean with the same throughput', () => {
    const dir = workspace({ 'runs/spec.toml': toySpec(12) });
    const { code, env } = json(['plan', '--auto', 'runs/spec.toml', '--write', 'layers/auto.toml', '--set', 'orchestrator.batch_size=512'], dir);
    expect(code).toBe(0);
    expect(env['auto'].written).toBe('layers/auto.toml');
    const text = readFileSync(join(dir, 'layers/auto.toml'), 'utf8');
    expect(text.split('\n')[0]).toBe(LAYER_MARKER);
    expect(text).toContain('extends = "../runs/spec.toml"');
    expect(text).toContain('orchestrator.batch_size=512'.replace('=', ' = '));
    for (const [key, value] of Object.entries(env['auto'].best.overrides as Record<string, unknown>)) expect(text).toContain(`${key} = ${typeof value === 'string' ? `"${value}"` : String(value)}`);
    // nothing else: marker and notes, extends, the --set, the overrides
    const keys = text.split('\n').filter((l) => /^[a-z_.]+ = /.test(l)).map((l) => l.split(' = ')[0]);
    expect(keys.sort()).toEqual(['extends', 'orchestrator.batch_size', ...Object.keys(env['auto'].best.overrides)].sort());
    const planned = json(['plan', 'layers/auto.toml'], dir);
    expect(planned.code).toBe(0);
    expect(planned.env['ok']).toBe(true);
    expect(planned.env['throughput']).toEqual(env['auto'].best.throughput);
    // a layer plan --auto wrote is replaced on the next --write
    expect(rlstack(['plan', '--auto', 'runs/spec.toml', '--write', 'layers/auto.toml'], dir).code).toBe(0);
  });

  it('carries --unset into the layer (unset = [...]) and still plans the same throughput', () => {
    const dir = workspace({ 'spec.toml': toySpec(12) });
    const { code, env } = json(['plan', '--auto', 'spec.toml', '--write', 'auto.toml', '--unset', 'orchestrator.max_off_policy_steps'], dir);
    expect(code).toBe(0);
    const text = readFileSync(join(dir, 'auto.toml'), 'utf8');
    expect(text).toContain('extends = "./spec.toml"\nunset = ["orchestrator.max_off_policy_steps"]\n');
    expect(json(['plan', 'auto.toml'], dir).env['throughput']).toEqual(env['auto'].best.throughput);
  });

  it('never overwrites the spec itself or a file it did not write (RS0005, before searching)', () => {
    const dir = workspace({ 'spec.toml': toySpec(12), 'mine.toml': '# my notes\n' });
    const self = rlstack(['plan', '--auto', 'spec.toml', '--write', './spec.toml'], dir);
    expect(self.code).toBe(1);
    expect(self.stdout).toBe('');
    expect(self.stderr).toContain('RS0005 --write ./spec.toml is the spec being searched');
    const foreign = rlstack(['plan', '--auto', 'spec.toml', '--write', 'mine.toml'], dir);
    expect(foreign.code).toBe(1);
    expect(foreign.stderr).toContain('RS0005 mine.toml already exists and plan --auto did not write it');
    expect(readFileSync(join(dir, 'mine.toml'), 'utf8')).toBe('# my notes\n');
    expect(readFileSync(join(dir, 'spec.toml'), 'utf8')).toBe(toySpec(12));
  });
});

describe('plan --auto: errors', () => {
  const cases: [string, string[], string][] = [
    ['--objective without --auto', ['plan', 'presets/tiny.toml', '--objective', 'tokens'], 'RS0007 --objective only goes with --auto'],
    ['--write without --auto', ['plan', 'presets/tiny.toml', '--write', 'x.toml'], 'RS0007 --write only goes with --auto'],
    ['an unknown objective', ['plan', '--auto', 'presets/tiny.toml', '--objective', 'speed'], 'RS0007 --objective speed: not an objective'],
    ['--html with --auto', ['plan', '--auto', 'presets/tiny.toml', '--html', 'x.html'], 'RS0007 --html does not go with --auto'],
  ];
  for (const [what, args, message] of cases) {
    it(`${what}: usage error, exit 2`, () => {
      const r = rlstack(args);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(message);
      expect(r.stderr).not.toMatch(/\n {4}at /);
      const j = json(args);
      expect(j.code).toBe(2);
      expect(j.env).toMatchObject({ ok: false, diagnostics: [{ code: 'RS0007', hint: expect.any(String) }] });
    });
  }

  it('a spec with load errors: the usual diagnostics, exit 1 like plan', () => {
    const dir = workspace({ 'bad.toml': 'extends = "tiny"\n[trainer]\nnodez = 2\n' });
    const r = rlstack(['plan', '--auto', 'bad.toml'], dir);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/bad\.toml:3:1 error RS0201/);
    expect(json(['plan', '--auto', 'missing.toml'], dir)).toMatchObject({ code: 1, env: { ok: false, diagnostics: [{ code: 'RS0001' }] } });
  });

  it('nothing feasible: RS2014 with a hint, the spec as written in the table, exit 1', () => {
    // a 235B model on one H100 node per role: no trainer layout fits its GPUs
    const dir = workspace({ 'big.toml': toySpec(2).replace('Qwen/Qwen3-4B', 'Qwen/Qwen3-235B-A22B').replace('tp = 1', 'tp = 8') });
    const r = rlstack(['plan', '--auto', 'big.toml'], dir);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('does not plan: RS2001');
    expect(r.stdout).toContain('(no candidate plans clean)');
    expect(r.stderr).toMatch(/big\.toml:3:9 error RS2014 plan --auto found no candidate that plans clean/);
    expect(r.stderr).toContain('hint: ');
    const j = json(['plan', '--auto', 'big.toml'], dir);
    expect(j.env).toMatchObject({ ok: false, auto: { best: null, candidates: [], baseline: { ok: false } } });
  });
});
