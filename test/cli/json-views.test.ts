/**
 * Issue 13 part 2: every reporting command's --json is one envelope {ok, diagnostics, …} on success and on
 * failure, with nothing else on stdout; launch and logs write JSON lines ending in the envelope. The fields
 * of each envelope are those src/cli/json-views.ts and docs/json-output.md promise. (status, stop, logs and
 * launch of a live run: test/integration/local.test.ts.)
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { hasJsonType, JSON_VIEWS } from '../../src/cli/json-views.js';
import { rlstack, workspace } from '../helpers.js';

const ROOT = new URL('../..', import.meta.url).pathname;


/** stdout must be exactly one JSON document: the envelope. */
function envelope(args: string[], cwd = ROOT): { code: number | null; json: Record<string, unknown> } {
  const r = rlstack(args, cwd);
  let json: Record<string, unknown>;
  try {
    json = JSON.parse(r.stdout) as Record<string, unknown>;
  } catch {
    throw new Error(`rlstack ${args.join(' ')}: stdout is not one JSON document:\n${r.stdout.slice(0, 500)}\nstderr: ${r.stderr.slice(0, 500)}`);
  }
  expect(typeof json['ok'], args.join(' ')).toBe('boolean');
  expect(Array.isArray(json['diagnostics']), args.join(' ')).toBe(true);
  return { code: r.code, json };
}

function expectFields(view: string, json: Record<string, unknown>): void {
  for (const [field, type] of Object.entries(JSON_VIEWS[view]!.fields)) expect(hasJsonType(json[field], type), `${view}: ${field} should be ${type}, is ${JSON.stringify(json[field])?.slice(0, 80)}`).toBe(true);
}

describe('one envelope per command, on success', () => {
  it('plan, plan --auto, compile, explain, diff, presets and init carry their documented fields', () => {
    const dir = workspace({});
    const plan = envelope(['plan', 'presets/tiny.toml', '--json']);
    expect(plan).toMatchObject({ code: 0, json: { ok: true } });
    expectFields('plan', plan.json);
    const auto = envelope(['plan', '--auto', 'presets/tiny.toml', '--json']);
    expect(auto).toMatchObject({ code: 0, json: { ok: true, auto: { objective: 'samples' } } });
    expectFields('plan --auto', auto.json);
    const compile = envelope(['compile', join(ROOT, 'presets/tiny.toml'), '-o', 'out', '--json'], dir);
    expect(compile).toMatchObject({ code: 0, json: { ok: true, dir: join(dir, 'out') } });
    expectFields('compile', compile.json);
    const explain = envelope(['explain', 'presets/tiny.toml', 'trainer', '--json']);
    expect(explain).toMatchObject({ code: 0, json: { ok: true, key: 'trainer' } });
    expectFields('explain', explain.json);
    const diff = envelope(['diff', 'presets/tiny.toml', 'presets/single-node.toml', '--json']);
    // A diff that finds changes did its job: ok, with exit 4.
    expect(diff).toMatchObject({ code: 4, json: { ok: true, identical: false } });
    expectFields('diff', diff.json);
    const presets = envelope(['presets', '--json']);
    expect((presets.json['presets'] as { name: string }[]).map((p) => p.name)).toContain('intellect3');
    expectFields('presets', presets.json);
    const init = envelope(['init', 'mine.toml', '--preset', 'tiny', '--json'], dir);
    expect(init).toMatchObject({ code: 0, json: { ok: true, file: join(dir, 'mine.toml'), preset: 'tiny' } });
    expectFields('init', init.json);
  });

  it('warnings and infos of a plan that fits are in the envelope, with ok true', () => {
    const plan = envelope(['plan', 'presets/intellect3.toml', '--json']);
    expect(plan.json['ok']).toBe(true);
    expect((plan.json['diagnostics'] as { code: string }[]).map((d) => d.code)).toContain('RS2007');
  });
});

describe('one envelope per command, on failure (nothing but JSON on stdout)', () => {
  const dir = workspace({ 'bad.toml': 'extends = "tiny"\n[trainer]\nep = 3\n', 'foreign/data.txt': 'mine' });
  const cases: [string, string[], number][] = [
    ['plan of a bad spec', ['plan', 'bad.toml', '--json'], 1],
    ['plan of a missing file', ['plan', 'missing.toml', '--json'], 1],
    ['plan --auto of a bad spec', ['plan', '--auto', 'bad.toml', '--json'], 1],
    ['plan --objective without --auto', ['plan', 'bad.toml', '--objective', 'tokens', '--json'], 2],
    ['compile over a folder rlstack did not write', ['compile', join(ROOT, 'presets/tiny.toml'), '-o', 'foreign', '--json'], 1],
    ['explain of an unknown key', ['explain', join(ROOT, 'presets/tiny.toml'), 'trainer.epp', '--json'], 1],
    ['diff of a missing file', ['diff', 'missing.toml', join(ROOT, 'presets/tiny.toml'), '--json'], 1],
    ['status of a folder without a run', ['status', '.', '--json'], 1],
    ['stop of a spec never launched', ['stop', join(ROOT, 'presets/tiny.toml'), '--set', `run.output_dir="${dir}/runs"`, '--json'], 1],
    ['preflight of a spec that is not ssh', ['preflight', join(ROOT, 'presets/tiny.toml'), '--json'], 1],
    ['init of an unknown preset', ['init', 'x.toml', '--preset', 'tinyy', '--json'], 1],
    ['an unknown option', ['plan', 'bad.toml', '--jsn', '--json'], 2],
  ];
  for (const [what, args, code] of cases) {
    it(what, () => {
      const r = envelope(args, dir);
      expect(r.code).toBe(code);
      expect(r.json['ok']).toBe(false);
      const diagnostics = r.json['diagnostics'] as { code: string; severity: string; message: string }[];
      expect(diagnostics.some((d) => d.severity === 'error' && /^RS\d{4}$/.test(d.code) && d.message.length > 0), JSON.stringify(diagnostics)).toBe(true);
    });
  }

  it('a bad spec keeps file, line and hint in the envelope', () => {
    const r = envelope(['plan', 'bad.toml', '--json'], dir);
    expect((r.json['diagnostics'] as object[])[0]).toMatchObject({ code: expect.stringMatching(/^RS12/), path: expect.stringMatching(/^trainer/), file: 'bad.toml', line: 3, hint: expect.any(String) });
  });
});

describe('JSON lines: launch and logs', () => {
  it('launch --dry-run --json: every line is JSON, the last is the result with the dry-run fields', () => {
    const dir = workspace({});
    const r = rlstack(['launch', join(ROOT, 'presets/tiny.toml'), '--dry-run', '--json', '--set', `run.output_dir="${dir}/runs"`], dir);
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.slice(0, -1).every((l) => ['line', 'diagnostic'].includes(l['type'] as string))).toBe(true);
    const result = lines.at(-1)!;
    expect(result).toMatchObject({ type: 'result', ok: true, exit_code: 0, dry_run: true, backend: 'local', scheduler_asked: null, would_start: true });
    expectFields('launch --dry-run', result);
  });

  it('logs --json of a folder without a run ends in a failed result', () => {
    const dir = workspace({});
    mkdirSync(join(dir, 'state'));
    const r = rlstack(['logs', dir, '--json']);
    expect(r.code).toBe(1);
    const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.at(-1)).toMatchObject({ type: 'result', ok: false, diagnostics: [{ code: 'RS4007' }] });
    expect(lines.some((l) => l['type'] === 'diagnostic' && l['code'] === 'RS4007')).toBe(true);
  });
});

describe('docs/json-output.md', () => {
  it('describes every command and field of src/cli/json-views.ts', () => {
    const doc = readFileSync(join(ROOT, 'docs', 'json-output.md'), 'utf8');
    for (const [command, view] of Object.entries(JSON_VIEWS)) {
      expect(doc, command).toContain(`### ${command}`);
      const section = doc.split(`### ${command}`)[1]!.split('\n### ')[0]!;
      for (const field of Object.keys(view.fields)) expect(section, `${command}: ${field}`).toContain(`\`${field}\``);
      for (const event of view.events ?? []) expect(section, `${command}: event ${event}`).toContain(`\`${event}\``);
    }
  });
});

