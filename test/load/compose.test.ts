import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadSpec, parseSetValue } from '../../src/compiler/load/compose.js';
import { describeOrigin } from '../../src/compiler/load/provenance.js';
import { resolveSpec } from '../../src/compiler/resolve.js';
import { checkKnownPath } from '../../src/compiler/spec/schema-walk.js';
import { workspace } from '../helpers.js';

describe('extends', () => {
  it('merges a preset, then a relative file, then the spec itself; tables key by key, arrays whole', () => {
    const dir = workspace({
      'site.toml': '[cluster]\nbackend = "slurm"\ncpus_per_node = 64\n\n[[environments]]\nname = "a"\ntaskset = "x"\n',
      'spec.toml': 'extends = ["tiny", "./site.toml"]\n\n[run]\nname = "mine"\n',
    });
    const loaded = loadSpec(join(dir, 'spec.toml'), { cwd: dir });
    expect(loaded.diagnostics).toEqual([]);
    const raw = loaded.raw as { run: { name: string; max_steps: number }; cluster: Record<string, unknown>; environments: { name: string }[] };
    expect(raw.run.name).toBe('mine');
    expect(raw.run.max_steps).toBe(20); // from tiny
    expect(raw.cluster['gpu']).toBe('a6000'); // from tiny, table merged key by key
    expect(raw.cluster['backend']).toBe('slurm'); // site.toml wins over tiny
    expect(raw.environments.map((e) => e.name)).toEqual(['a']); // array replaced whole
    expect(raw).not.toHaveProperty('extends');
    const origin = loaded.provenance.get('cluster.backend');
    expect(origin).toMatchObject({ source: 'file', file: 'site.toml', value: { line: 2, column: 11 } });
    expect(loaded.provenance.get('run.max_steps')).toMatchObject({ source: 'file', preset: 'tiny' });
    expect(loaded.provenance.get('environments[0].name')).toMatchObject({ file: 'site.toml', value: { line: 6 } });
    // tiny's environment was replaced, so nothing of it may linger in provenance
    expect(describeOrigin(loaded.provenance.get('environments[0].taskset'))).toBe('site.toml:7:11');
  });

  it('resolves chains depth-first: a file extending a file extending a preset', () => {
    const dir = workspace({
      'base.toml': 'extends = "single-node"\n[orchestrator]\nbatch_size = 64\n',
      'mid/mid.toml': 'extends = "../base.toml"\n[orchestrator]\ngroup_size = 4\n',
      'spec.toml': 'extends = "mid/mid.toml"\n',
    });
    const loaded = loadSpec(join(dir, 'spec.toml'), { cwd: dir });
    expect(loaded.diagnostics).toEqual([]);
    const o = (loaded.raw as { orchestrator: Record<string, number> }).orchestrator;
    expect(o).toMatchObject({ batch_size: 64, group_size: 4, max_inflight: 384 });
    expect(describeOrigin(loaded.provenance.get('orchestrator.group_size'))).toBe('mid/mid.toml:3:14');
  });
});

describe('--set', () => {
  it('applies last, with TOML value syntax or bare strings, and records the argument as origin', () => {
    const dir = workspace({ 'spec.toml': 'extends = "tiny"\n' });
    const loaded = loadSpec(join(dir, 'spec.toml'), {
      cwd: dir,
      sets: ['trainer.gpus=1', 'run.name=from-set', 'orchestrator.temperature=0.7', 'environments[0].weight=2', 'env.FOO="a b"'],
      isKnownPath: checkKnownPath,
    });
    expect(loaded.diagnostics).toEqual([]);
    const raw = loaded.raw as Record<string, Record<string, unknown>>;
    expect(raw['run']!['name']).toBe('from-set');
    expect(raw['orchestrator']!['temperature']).toBe(0.7);
    expect((raw['environments'] as unknown as { weight: number }[])[0]!.weight).toBe(2);
    expect(raw['env']!['FOO']).toBe('a b');
    expect(describeOrigin(loaded.provenance.get('run.name'))).toBe('--set run.name=from-set');
    expect(loaded.sources.get('--set')!.split('\n')[1]).toBe('run.name=from-set');
  });

  it('parses values as TOML', () => {
    expect(parseSetValue('4')).toBe(4);
    expect(parseSetValue('true')).toBe(true);
    expect(parseSetValue('"auto"')).toBe('auto');
    expect(parseSetValue('auto')).toBe('auto');
    expect(parseSetValue('[1, 2]')).toEqual([1, 2]);
    expect(parseSetValue('{ a = 1 }')).toEqual({ a: 1 });
    expect(parseSetValue('1e-6')).toBe(1e-6);
  });
});

describe('resolveSpec', () => {
  it('fills defaults and marks them as defaults', () => {
    const dir = workspace({ 'spec.toml': '[model]\nname = "Qwen/Qwen3-0.6B"\n' });
    const result = resolveSpec(join(dir, 'spec.toml'), { cwd: dir });
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.resolved.spec.trainer.ep).toBe('auto');
    expect(result.resolved.spec.cluster.slurm.signal).toBe(''); // derived from the time limit (plan/slurm-time.ts)
    expect(result.resolved.spec.cluster.disk_gib).toBeUndefined(); // unknown, not invented
    expect(result.resolved.provenance.get('trainer.ep')).toEqual({ source: 'default' });
    expect(result.resolved.provenance.get('model.name')).toMatchObject({ source: 'file', value: { line: 2, column: 8 } });
    expect(result.resolved.spec.trainer.nodes).toBeUndefined();
  });
});
