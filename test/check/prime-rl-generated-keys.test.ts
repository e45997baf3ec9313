/**
 * RS2509: the keys rlstack itself writes into the prime-rl configs are checked against the map that
 * run.prime_rl_revision (or run.prime_rl_map) selects — a newer prime-rl that renamed or dropped a key rlstack writes fails at
 * compile time, located at the spec key the value comes from, not at start on the cluster.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { addMap, configKeys, type ConfigKeys, type FieldInfo } from '../../src/compiler/emit/prime-rl/keys.js';
import { listPresets, presetPath } from '../../src/compiler/load/compose.js';
import { planSpec } from '../../src/compiler/pipeline.js';
import { workspace } from '../helpers.js';

/** The 559b447 map with some fields removed (class → field names), registered in memory as `revision`. */
function mapWithout(revision: string, drop: Record<string, string[]>, retype: Record<string, Record<string, string>> = {}): void {
  const base = configKeys('559b447');
  const keys: Record<string, FieldInfo[]> = {};
  for (const [cls, fields] of Object.entries(base)) {
    keys[cls] = fields
      .filter((f) => !(drop[cls] ?? []).includes(f.name))
      .map((f) => (retype[cls]?.[f.name] ? { ...f, type: retype[cls]![f.name]! } : f));
  }
  addMap(revision, keys as ConfigKeys);
}

function plan(revision: string, tail = '') {
  const path = join(workspace({ 'spec.toml': `extends = "tiny"\n\n[run]\nname = "keys"\nprime_rl_revision = "${revision}"\n\n[model]\nseq_len = 2048\n${tail}` }), 'spec.toml');
  return { path, result: planSpec(path) };
}

describe('RS2509: a key rlstack writes that the selected map lacks', () => {
  it('no preset writes a key the default map lacks', () => {
    for (const name of listPresets()) {
      const r = planSpec(presetPath(name));
      expect(r.diagnostics.filter((d) => d.code === 'RS2509'), name).toEqual([]);
    }
  });

  it('is located at the spec key the value comes from, names the config file and the map', () => {
    mapWithout('1111111', { 'trainer.ModelConfig': ['seq_len'] });
    const { path, result } = plan('1111111');
    expect(result.ok).toBe(false);
    const ds = result.diagnostics.filter((d) => d.code === 'RS2509');
    expect(ds).toHaveLength(1);
    expect(ds[0]).toMatchObject({ severity: 'error', file: path, line: 8, path: 'model.seq_len' });
    expect(ds[0]!.message).toBe('configs/trainer.toml: prime-rl 1111111 has no key model.seq_len (ModelConfig has no key "seq_len"); rlstack sets model.seq_len from model.seq_len');
    expect(ds[0]!.hint).toContain('"1111111", "559b447"');
    // the same spec against the shipped map is fine
    expect(plan('559b447').result.diagnostics.filter((d) => d.code === 'RS2509')).toEqual([]);
  });

  it('points at a whole spec table when the value comes from one, else at run.prime_rl_revision', () => {
    mapWithout('3333333', { 'orchestrator.TrainConfig': ['source'], 'orchestrator.OrchestratorConfig': ['env_server_base_port'] });
    const { path, result } = plan('3333333');
    const ds = result.diagnostics.filter((d) => d.code === 'RS2509');
    expect(ds.map((d) => [d.path, d.file === path ? 'spec' : d.file?.endsWith('tiny.toml') ? 'preset' : d.file, d.message.split(';')[0]]).sort()).toEqual([
      ['environments', 'preset', 'configs/orchestrator.toml: prime-rl 3333333 has no key train.source (TrainConfig has no key "source")'],
      ['run.prime_rl_revision', 'spec', 'configs/orchestrator.toml: prime-rl 3333333 has no key env_server_base_port (OrchestratorConfig has no key "env_server_base_port")'],
    ]);
  });

  it('points at run.prime_rl_map when that key selected the map', () => {
    mapWithout('4444444', { 'orchestrator.OrchestratorConfig': ['env_server_base_port'] });
    const path = join(workspace({ 'spec.toml': 'extends = "tiny"\n\n[run]\nname = "keys"\nprime_rl_revision = "abcdef0"\nprime_rl_map = "4444444"\n' }), 'spec.toml');
    const ds = planSpec(path).diagnostics.filter((d) => d.code === 'RS2509');
    expect(ds.map((d) => [d.path, d.file === path ? 'spec' : d.file, d.line])).toEqual([['run.prime_rl_map', 'spec', 6]]);
    expect(ds[0]!.message).toContain('prime-rl 4444444 has no key env_server_base_port');
  });

  it('reports a value whose type the selected map declares differently', () => {
    mapWithout('2222222', {}, { 'orchestrator.OrchestratorConfig': { max_steps: 'str | None' } });
    const ds = plan('2222222').result.diagnostics.filter((d) => d.code === 'RS2509');
    expect(ds).toHaveLength(1);
    expect(ds[0]!.message).toMatch(/^configs\/orchestrator\.toml: prime-rl 2222222: OrchestratorConfig\.max_steps takes string \| "None", not integer \d+; rlstack sets max_steps from run\.max_steps/);
  });
});
