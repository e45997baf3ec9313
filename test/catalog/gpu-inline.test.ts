/**
 * Issue 13 part 6: any GPU. Six more catalogue entries; a GPU described inline ([cluster.gpu_spec], per
 * pool too) plans like a catalogue entry; bad figures are diagnostics at their line; an unknown id's hint
 * names the inline form; the worked examples of docs/catalogues.md plan as the doc says.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { findGpu, GPUS } from '../../src/compiler/catalog/gpus.js';
import { planSpec } from '../../src/compiler/pipeline.js';
import { derive } from '../../src/compiler/plan/derive.js';
import { workspace } from '../helpers.js';

const ROOT = new URL('../..', import.meta.url).pathname;

function plan(toml: string) {
  const dir = workspace({ 'spec.toml': toml });
  return planSpec(join(dir, 'spec.toml'));
}

describe('the GPU catalogue', () => {
  it('has the six new parts, each with figures in range, fp8 said, and a source', () => {
    for (const id of ['a100-40g', 'l40s', 'h100-nvl', 'h20', 'gh200', 'b300']) {
      const g = findGpu(id);
      expect(g, id).toBeDefined();
      expect(g!.memoryGib).toBeGreaterThan(30);
      expect(g!.bf16Tflops).toBeGreaterThan(100);
      expect(g!.source).toMatch(/datasheet|product brief/);
    }
    expect(GPUS.filter((g) => !g.fp8).map((g) => g.id).sort()).toEqual(['a100-40g', 'a100-80g', 'a6000']);
  });

  it('every entry plans the tiny preset (8 GPUs a node)', () => {
    for (const g of GPUS) {
      const r = plan(`extends = "tiny"\n[cluster]\ngpu = "${g.id}"\n`);
      expect(r.ok, `${g.id}: ${r.diagnostics.map((d) => d.message).join('; ')}`).toBe(true);
      if (r.ok) expect(r.plan.cluster.gpu).toMatchObject({ id: g.id, memory_gib: g.memoryGib });
    }
  });

  it('fp8 weights on a part without fp8 tensor cores are refused with the parts that have them', () => {
    const r = plan('extends = "tiny"\n[cluster]\ngpu = "a100-40g"\n[inference]\nweights_dtype = "fp8"\n');
    const d = r.diagnostics.find((x) => x.code === 'RS1504');
    expect(d?.hint).toContain('l40s');
    expect(plan('extends = "tiny"\n[cluster]\ngpu = "l40s"\n[inference]\nweights_dtype = "fp8"\n').diagnostics.some((x) => x.code === 'RS1504')).toBe(false);
  });
});

describe('a GPU described inline', () => {
  const inline = (memory: number, extra = '') => `extends = "tiny"\n[cluster]\ngpu = "my-gpu"\n[cluster.gpu_spec]\nmemory_gib = ${memory}\nbf16_tflops = 300\nbandwidth_tbs = 1.0\n${extra}`;

  it('plans like a catalogue entry, and its memory decides the verdict', () => {
    const roomy = plan(inline(80));
    expect(roomy.ok, roomy.diagnostics.map((d) => d.message).join('; ')).toBe(true);
    if (roomy.ok) expect(roomy.plan.cluster.gpu).toEqual({ id: 'my-gpu', name: 'my-gpu', memory_gib: 80 });
    // The same run on a GPU with 4 GiB: the trainer does not fit.
    const small = plan(inline(4));
    expect(small.ok).toBe(false);
    expect(small.diagnostics.map((d) => d.code)).toContain('RS2001');
  });

  it('a pool describes its own GPU; a pool keeping [cluster]\'s GPU keeps its description', () => {
    const r = plan(`${inline(80)}\n[cluster.pools.judge]\nnodes = 1\ngpu = "judge-gpu"\n[cluster.pools.judge.gpu_spec]\nmemory_gib = 24\nbf16_tflops = 80\nbandwidth_tbs = 0.3\n[cluster.pools.more]\nnodes = 1\n`);
    if (!r.resolved) throw new Error(r.diagnostics.map((d) => d.message).join('; '));
    const pools = derive(r.resolved.spec).pools;
    expect(pools.get('judge')!.gpu).toMatchObject({ id: 'judge-gpu', memoryGib: 24, source: 'described in the spec (cluster.pools.judge.gpu_spec)' });
    expect(pools.get('more')!.gpu).toMatchObject({ id: 'my-gpu', memoryGib: 80, source: 'described in the spec (cluster.gpu_spec)' });
    // the spec's figures are not an error: only the unused pools are
    expect(r.diagnostics.filter((d) => d.severity === 'error').map((d) => d.code).every((c) => c === 'RS1004' || c === 'RS1008')).toBe(true);
  });

  it('bad figures are diagnostics at their line; a missing one names the key', () => {
    const r = plan('extends = "tiny"\n[cluster]\ngpu = "x"\n[cluster.gpu_spec]\nmemory_gib = "47"\nbf16_tflops = -1\n');
    const by = (code: string) => r.diagnostics.find((d) => d.code === code);
    expect(by('RS0202')).toMatchObject({ path: 'cluster.gpu_spec.memory_gib', line: 5 });
    expect(by('RS0203')).toMatchObject({ path: 'cluster.gpu_spec.bf16_tflops', line: 6 });
    expect(by('RS0206')).toMatchObject({ path: 'cluster.gpu_spec.bandwidth_tbs', line: 4 });
    expect(by('RS0206')?.message).toContain('cluster.gpu_spec.bandwidth_tbs is required');
    for (const d of r.diagnostics) {
      expect(d.file, d.code).toMatch(/spec\.toml$/);
      expect(d.hint, d.code).toBeTruthy();
    }
  });

  it('a pool\'s bad figures are diagnostics at their line too', () => {
    const r = plan(`${inline(80)}\n[cluster.pools.judge]\nnodes = 1\ngpu = "judge-gpu"\n[cluster.pools.judge.gpu_spec]\nmemory_gib = 0\nbf16_tflops = 80\nbandwidth_tbs = true\n`);
    expect(r.diagnostics.find((d) => d.code === 'RS0203')).toMatchObject({ path: 'cluster.pools.judge.gpu_spec.memory_gib', line: 13 });
    expect(r.diagnostics.find((d) => d.code === 'RS0202')).toMatchObject({ path: 'cluster.pools.judge.gpu_spec.bandwidth_tbs', line: 15 });
  });

  it('replaces the catalogue even for a catalogued id (a variant that differs: GH200 with 144 GB)', () => {
    const r = plan('extends = "tiny"\n[cluster]\ngpu = "gh200"\n[cluster.gpu_spec]\nmemory_gib = 140.5\nbf16_tflops = 989\nbandwidth_tbs = 4.9\nfp8 = true\n');
    expect(r.ok, r.diagnostics.map((d) => d.message).join('; ')).toBe(true);
    if (r.ok) expect(r.plan.cluster.gpu).toMatchObject({ id: 'gh200', memory_gib: 140.5 });
  });

  it('an unknown GPU without a description: RS1007 whose hint names the inline form', () => {
    const r = plan('extends = "tiny"\n[cluster]\ngpu = "rtx-6000-ada"\n');
    expect(r.diagnostics[0]).toMatchObject({ code: 'RS1007', line: 3 });
    expect(r.diagnostics[0]!.hint).toContain('[cluster.gpu_spec] memory_gib, bf16_tflops, bandwidth_tbs');
    // a pool's unknown GPU names the pool's own table
    const p = plan('extends = "tiny"\n[cluster.pools.judge]\nnodes = 1\ngpu = "rtx-pro-6000"\n');
    expect(p.diagnostics.find((d) => d.code === 'RS1007')).toMatchObject({ line: 4, hint: expect.stringContaining('[cluster.pools.judge.gpu_spec]') });
  });
});

describe('docs/catalogues.md', () => {
  it('its worked examples plan without an error, with what the doc says', () => {
    const doc = readFileSync(join(ROOT, 'docs', 'catalogues.md'), 'utf8');
    const blocks = [...doc.matchAll(/```toml\n([\s\S]*?)```/g)].map((m) => m[1]!);
    expect(blocks).toHaveLength(2);
    const dir = workspace({});
    const results = blocks.map((toml, i) => {
      writeFileSync(join(dir, `example-${i}.toml`), toml);
      return planSpec(join(dir, `example-${i}.toml`));
    });
    for (const r of results) expect(r.ok, r.diagnostics.map((d) => `${d.code} ${d.message}`).join('; ')).toBe(true);
    const [gpu, model] = results;
    if (gpu?.ok) expect(gpu.plan.cluster).toMatchObject({ gpus_per_node: 8, gpu: { id: 'rtx-6000-ada', memory_gib: 44.4 } });
    if (model?.ok) expect((model.plan.model.parameters ?? 0) / 1e9).toBeCloseTo(7.6, 1);
    expect(doc).toContain('7.6 B');
  });

  it('a contradictory inline shape is RS1103 at its line, as the doc says', () => {
    const r = plan('extends = "tiny"\n[model]\nname = "x/y"\n[model.architecture]\nnum_hidden_layers = 2\nhidden_size = 64\nintermediate_size = 128\nnum_attention_heads = 4\nvocab_size = 1000\nnum_experts = 4\nnum_experts_per_tok = 8\nmoe_intermediate_size = 32\n');
    expect(r.diagnostics.find((d) => d.code === 'RS1103')).toMatchObject({ path: 'model.architecture.num_experts_per_tok', line: 11 });
  });
});
