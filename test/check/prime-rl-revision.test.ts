/**
 * run.prime_rl_revision selects the stored map of prime-rl's config keys (src/compiler/emit/prime-rl/maps):
 * a 7–40 hex prefix matched against the maps' revisions; run.prime_rl_map, when set, names the map instead.
 * No map → RS2508 at the line of the key that selected it, with the known revisions and how to add one. The
 * selected map is what the extra tables are checked against and what the generated configs name; the nodes
 * still check their checkout against run.prime_rl_revision. Nothing in the environment changes the choice.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CODES } from '../../src/compiler/diagnostics/codes.js';
import { renderArtifacts } from '../../src/compiler/emit/artifacts.js';
import { knownRevisions, mapRevision, PRIME_RL_REVISION, selectMap } from '../../src/compiler/emit/prime-rl/keys.js';
import { planSpec } from '../../src/compiler/pipeline.js';
import { SpecSchema } from '../../src/compiler/spec/schema.js';
import { PACKAGE_ROOT } from '../../src/paths.js';
import { workspace } from '../helpers.js';

const FULL = '559b44772' + '0'.repeat(31);

function spec(run: string, tail = ''): string {
  return join(workspace({ 'spec.toml': `extends = "tiny"\n\n[run]\nname = "rev"\n${run}\n${tail}` }), 'spec.toml');
}

describe('selectMap', () => {
  it('matches a 7 to 40 hex prefix against the stored maps', () => {
    expect(selectMap('559b447')).toEqual({ ok: true, revision: '559b447', key: 'run.prime_rl_revision' });
    expect(selectMap('559B447')).toEqual({ ok: true, revision: '559b447', key: 'run.prime_rl_revision' });
    expect(selectMap(FULL)).toEqual({ ok: true, revision: '559b447', key: 'run.prime_rl_revision' });
    expect(selectMap(' 559b4477 ')).toEqual({ ok: true, revision: '559b447', key: 'run.prime_rl_revision' });
  });

  it('reports an unknown revision or one that is not a commit hash, with the known revisions', () => {
    expect(selectMap('abc1234')).toEqual({ ok: false, reason: 'unknown', revision: 'abc1234', key: 'run.prime_rl_revision', known: knownRevisions() });
    expect(selectMap('559b44')).toMatchObject({ ok: false, reason: 'format' });
    expect(selectMap('main')).toMatchObject({ ok: false, reason: 'format' });
    expect(selectMap('559b447-dirty')).toMatchObject({ ok: false, reason: 'format' });
  });

  it('takes the map from run.prime_rl_map when it is set', () => {
    expect(selectMap('abc1234', '559b447')).toEqual({ ok: true, revision: '559b447', key: 'run.prime_rl_map' });
    expect(selectMap('abc1234', ' 559B4477 ')).toEqual({ ok: true, revision: '559b447', key: 'run.prime_rl_map' });
    expect(selectMap('559b447', 'abc1234')).toMatchObject({ ok: false, reason: 'unknown', revision: 'abc1234', key: 'run.prime_rl_map' });
    expect(selectMap('559b447', 'main')).toMatchObject({ ok: false, reason: 'format', revision: 'main', key: 'run.prime_rl_map' });
    expect(selectMap('559b447', '')).toEqual({ ok: true, revision: '559b447', key: 'run.prime_rl_revision' });
    expect(selectMap('559b447', '  ')).toEqual({ ok: true, revision: '559b447', key: 'run.prime_rl_revision' });
  });

  it('is a function of the spec values only: the old RLSTACK_PRIME_RL_MAP environment variable is ignored', () => {
    const saved = process.env.RLSTACK_PRIME_RL_MAP;
    process.env.RLSTACK_PRIME_RL_MAP = '559b447';
    try {
      expect(selectMap('abc1234')).toMatchObject({ ok: false, reason: 'unknown', key: 'run.prime_rl_revision' });
      expect(planSpec(spec('prime_rl_revision = "abc1234"')).diagnostics.map((d) => d.code)).toContain('RS2508');
    } finally {
      if (saved === undefined) delete process.env.RLSTACK_PRIME_RL_MAP;
      else process.env.RLSTACK_PRIME_RL_MAP = saved;
    }
  });

  it('the default of run.prime_rl_revision has a map; run.prime_rl_map defaults to "" (that map)', () => {
    const run = SpecSchema.properties.run as unknown as { properties: { prime_rl_revision: { default: string }; prime_rl_map: { default: string; type: string; description: string } } };
    expect(run.properties.prime_rl_revision.default).toBe(PRIME_RL_REVISION);
    expect(knownRevisions()).toContain(PRIME_RL_REVISION);
    expect(run.properties.prime_rl_map).toMatchObject({ type: 'string', default: '' });
    expect(run.properties.prime_rl_map.description).toContain('prime_rl_revision');
  });
});

describe('RS2508: no map for the revision', () => {
  it('is in the catalogue as an error', () => {
    expect(CODES.RS2508.severity).toBe('error');
  });

  it('points at run.prime_rl_revision, lists the known revisions and says how to add one', () => {
    const path = spec('prime_rl_revision = "abc1234"');
    const r = planSpec(path);
    expect(r.ok).toBe(false);
    const d = r.diagnostics.find((x) => x.code === 'RS2508');
    expect(d).toMatchObject({ severity: 'error', path: 'run.prime_rl_revision', file: path, line: 5, column: 21 });
    expect(d!.message).toBe(`run.prime_rl_revision = "abc1234": rlstack has no map of prime-rl's config keys for this revision (known revisions: ${knownRevisions().map((k) => `"${k}"`).join(', ')})`);
    expect(d!.hint).toContain('npm run prime-rl:map -- /path/to/prime-rl');
    expect(d!.hint).toContain('"559b447"');
    expect(r.diagnostics.filter((x) => x.severity === 'error').map((x) => x.code)).toEqual(['RS2508']);
  });

  it('says what a revision looks like when the value is not a commit hash', () => {
    const r = planSpec(spec('prime_rl_revision = "main"'));
    const d = r.diagnostics.find((x) => x.code === 'RS2508');
    expect(d?.message).toBe('run.prime_rl_revision = "main" is not a prime-rl revision (7 to 40 hex digits of a commit, e.g. "559b447")');
    expect(d?.hint).toContain('git -C <prime_rl_dir> rev-parse --short=7 HEAD');
    expect(d?.line).toBe(5);
  });

  it('does not check the extra tables against a map it does not have', () => {
    const r = planSpec(spec('prime_rl_revision = "abc1234"', '[trainer.extra]\nno_such_key = 1\n'));
    expect(r.diagnostics.map((x) => x.code)).toEqual(['RS2508']);
    // with a map, the same key is unknown
    const known = planSpec(spec('prime_rl_revision = "559b447"', '[trainer.extra]\nno_such_key = 1\n'));
    expect(known.diagnostics.find((x) => x.code === 'RS2501')?.message).toContain('the trainer config of prime-rl 559b447 has no key no_such_key');
  });

  it('points at run.prime_rl_map when that key names no stored map', () => {
    const path = spec('prime_rl_map = "abc1234"');
    const r = planSpec(path);
    expect(r.ok).toBe(false);
    const d = r.diagnostics.find((x) => x.code === 'RS2508');
    expect(d).toMatchObject({ severity: 'error', path: 'run.prime_rl_map', file: path, line: 5 });
    expect(d!.message).toBe(`run.prime_rl_map = "abc1234" names no stored map of prime-rl's config keys (known revisions: ${knownRevisions().map((k) => `"${k}"`).join(', ')})`);
    expect(d!.hint).toContain('npm run prime-rl:map -- /path/to/prime-rl');
    expect(d!.hint).toContain('"559b447"');
    expect(d!.hint).toContain('run.prime_rl_revision');
    expect(r.diagnostics.filter((x) => x.severity === 'error').map((x) => x.code)).toEqual(['RS2508']);
  });

  it('points at run.prime_rl_map, not at a mapped run.prime_rl_revision, and says what a revision looks like', () => {
    const path = spec('prime_rl_revision = "559b447"\nprime_rl_map = "fork"');
    const d = planSpec(path).diagnostics.find((x) => x.code === 'RS2508');
    expect(d).toMatchObject({ path: 'run.prime_rl_map', file: path, line: 6 });
    expect(d?.message).toContain('run.prime_rl_map = "fork" is not a prime-rl revision');
  });

  it('a run.prime_rl_map that names a map covers a run.prime_rl_revision without one', () => {
    const r = planSpec(spec('prime_rl_revision = "abc1234"\nprime_rl_map = "559b447"', '[trainer.extra]\nno_such_key = 1\n'));
    expect(r.diagnostics.map((x) => x.code)).not.toContain('RS2508');
    expect(r.diagnostics.find((x) => x.code === 'RS2501')?.message).toContain('the trainer config of prime-rl 559b447 has no key no_such_key');
  });

  it('the CLI prints it located, with its hint, and no stack trace', () => {
    const path = spec('prime_rl_revision = "abc1234"');
    const r = spawnSync(process.execPath, [join(PACKAGE_ROOT, 'bin', 'rlstack.js'), 'plan', path], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
    expect(r.status).toBe(1);
    expect(r.stderr + r.stdout).toContain(`${path}:5:21 error RS2508`);
    expect(r.stderr + r.stdout).toContain('npm run prime-rl:map -- /path/to/prime-rl');
    expect(r.stderr + r.stdout).not.toMatch(/\n\s+at /);
  });
});

describe('the artifacts target the selected map', () => {
  function artifacts(run: string) {
    const r = planSpec(spec(run));
    if (!r.ok) throw new Error(r.diagnostics.map((d) => `${d.code} ${d.message}`).join('\n'));
    return renderArtifacts(r.resolved, r.derived, r.plan).artifacts;
  }

  it('a full commit hash selects the 559b447 map: the configs name the map, node.sh checks the full hash', () => {
    const files = artifacts(`prime_rl_revision = "${FULL}"`);
    const configs = files.filter((f) => f.path.startsWith('configs/') && f.path.endsWith('.toml'));
    expect(configs.length).toBeGreaterThan(0);
    for (const f of configs) expect(f.content, f.path).toContain('generated by rlstack for prime-rl 559b447.');
    const nodeSh = files.find((f) => f.path.endsWith('node.sh'));
    expect(nodeSh?.content).toContain(`PRIME_RL_REVISION=${FULL}`);
    expect(FULL.startsWith(mapRevision({ prime_rl_revision: FULL, prime_rl_map: '' }))).toBe(true);
  });

  it('run.prime_rl_map: keys checked against the named map, node.sh still checks run.prime_rl_revision', () => {
    const files = artifacts('prime_rl_revision = "abc1234def"\nprime_rl_map = "559b447"');
    expect(files.find((f) => f.path === 'configs/trainer.toml')?.content).toContain('generated by rlstack for prime-rl 559b447.');
    expect(files.find((f) => f.path.endsWith('node.sh'))?.content).toContain('PRIME_RL_REVISION=abc1234def');
    expect(mapRevision({ prime_rl_revision: 'abc1234def', prime_rl_map: '559b447' })).toBe('559b447');
    expect(mapRevision({ prime_rl_revision: FULL, prime_rl_map: '' })).toBe('559b447');
  });
});
