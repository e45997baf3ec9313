import { parse } from 'smol-toml';
import { describe, expect, it } from 'vitest';
import { primeRlFiles } from '../../src/compiler/emit/prime-rl/configs.js';
import { presetPath } from '../../src/compiler/load/compose.js';
import { findGpu } from '../../src/compiler/catalog/gpus.js';
import { findModelByName, type ModelArchitecture } from '../../src/compiler/catalog/models.js';
import { DEFAULT_VLLM_VERSION, estimateInferenceMemory, fullLengthTokens, kvBytesPerTokenPerRank, type InferenceMemoryInput } from '../../src/compiler/memory/inference.js';
import { architectureFromSpec } from '../../src/compiler/plan/derive.js';
import { planSpec } from '../../src/compiler/pipeline.js';

const plan = (preset: string, sets: string[] = []) => planSpec(presetPath(preset), { sets });

function vllmTable(sets: string[]): Record<string, unknown> {
  const r = plan('tiny', sets);
  if (!r.ok) throw new Error(r.diagnostics.map((d) => `${d.code} ${d.message}`).join('\n'));
  const file = primeRlFiles(r.resolved.spec, r.derived, r.plan).find((f) => f.path === 'configs/inference.toml')!;
  return (parse(file.content) as { vllm: Record<string, unknown> }).vllm;
}

describe('inference engine keys: max_num_seqs, max_num_batched_tokens, kv_cache_dtype, vllm_version', () => {
  it('engine settings reach vLLM through prime-rl [inference.vllm] (extra keys pass through); vllm_version does not', () => {
    const v = vllmTable(['inference.max_num_seqs=128', 'inference.max_num_batched_tokens=32768', 'inference.kv_cache_dtype="fp8"', 'inference.vllm_version="0.17.1"']);
    expect(v).toMatchObject({ max_num_seqs: 128, max_num_batched_tokens: 32768, kv_cache_dtype: 'fp8' });
    expect(v).not.toHaveProperty('vllm_version');
    const d = vllmTable([]);
    expect(d).not.toHaveProperty('max_num_batched_tokens');
    expect(d).not.toHaveProperty('kv_cache_dtype');
  });

  it('plan --json memory.inference keeps kv_tokens_per_replica and adds the terms; the default version is what prime-rl 559b447 locks', () => {
    expect(DEFAULT_VLLM_VERSION).toBe('0.26.0');
    const r = plan('intellect3');
    const i = r.plan!.memory!.inference!;
    expect(i.vllm_version).toBe('0.26.0');
    expect(i.kv_tokens_per_replica).toBeGreaterThan(0);
    expect(i.activation_gib.peak).toBeCloseTo(Math.max(i.activation_gib.sampler, i.activation_gib.forward) + i.activation_gib.moe_workspace, 1);
    expect(i.overhead_gib).toBeCloseTo(i.activation_gib.peak + i.non_torch_gib, 1);
    expect(i.non_torch_gib).toBe(2.1); // TP > 1 on vLLM ≥ 0.18
    expect(i.kv_blocks_per_engine * i.block_size).toBeLessThanOrEqual(i.kv_tokens_per_replica);
    expect(i.weights_gib + i.overhead_gib + i.kv_cache_gib).toBeLessThanOrEqual(i.budget_gib + 0.05);
  });

  it('fp8 KV doubles the tokens of a replica; fewer sequences buy KV', () => {
    const base = plan('intellect3').plan!.memory!.inference!;
    const fp8 = plan('intellect3', ['inference.kv_cache_dtype="fp8"']).plan!.memory!.inference!;
    expect(fp8.kv_tokens_per_replica / base.kv_tokens_per_replica).toBeCloseTo(2, 2);
    const fewer = plan('intellect3', ['inference.max_num_seqs=256']).plan!.memory!.inference!;
    expect(fewer.kv_cache_gib).toBeGreaterThan(base.kv_cache_gib);
    const older = plan('intellect3', ['inference.vllm_version="0.15.0"']).plan!.memory!.inference!;
    expect(older.activation_gib.sampler).toBeGreaterThan(base.activation_gib.sampler * 2);
  });

  it('an unreadable vllm_version is an error with code, location and hint', () => {
    const r = plan('tiny', ['inference.vllm_version="latest"']);
    const d = r.diagnostics.find((x) => x.code === 'RS2012')!;
    expect(d.severity).toBe('error');
    expect(d.path).toBe('inference.vllm_version');
    expect(d.hint).toContain('0.26.0');
  });

  it('start-up memory outside the budget: a warning naming gpu_memory_utilization when (1 − gmu) × total cannot hold it', () => {
    const r = plan('intellect3', ['inference.gpu_memory_utilization=0.99']);
    const d = r.diagnostics.find((x) => x.code === 'RS2011')!;
    expect(d.severity).toBe('warning');
    expect(d.message).toMatch(/outside its budget/);
    expect(d.hint).toMatch(/gpu_memory_utilization ≤ 0\.\d+/);
    expect(plan('intellect3').diagnostics.some((x) => x.code === 'RS2011')).toBe(false);
  });
});

describe('attention shapes from [model.architecture]', () => {
  const gpu = findGpu('h200')!;
  const dense = findModelByName('Qwen/Qwen3-4B')!;
  const input = (arch: ModelArchitecture, tp: number): InferenceMemoryInput => ({
    arch, gpu, tp, dpGroup: 1, expertParallel: false, weightsDtype: 'bf16', gpuMemoryUtilization: 0.9,
    maxModelLen: 32768, maxNumSeqs: 0, replicas: 1, enginesPerReplica: 1, maxInflight: 64, meanRolloutTokens: 8192,
  });

  it('MLA caches one latent per layer, replicated on every TP rank; fp8 halves it', () => {
    const mla: ModelArchitecture = { ...dense, mla: { kvLoraRank: 512, qkRopeHeadDim: 64 } };
    expect(kvBytesPerTokenPerRank(mla, 1)).toBe(dense.layers * 576 * 2);
    expect(kvBytesPerTokenPerRank(mla, 8)).toBe(dense.layers * 576 * 2);
    expect(kvBytesPerTokenPerRank(mla, 8, 'fp8')).toBe(dense.layers * 576);
    expect(kvBytesPerTokenPerRank(mla, 8, 'auto', '0.7.3')).toBe(dense.layers * 1280); // V0 padded to 256 B
    expect(estimateInferenceMemory(input(mla, 2)).kvBytesPerTokenPerGpu).toBe(dense.layers * 576 * 2);
  });

  it('sliding-window layers keep only the window: more full-length sequences from the same token pool', () => {
    const hybrid: ModelArchitecture = { ...dense, slidingWindow: { window: 4096, layers: dense.layers / 2 } };
    expect(fullLengthTokens(hybrid, 32768)).toBe((32768 + 4096) / 2);
    const a = estimateInferenceMemory(input(dense, 1));
    const b = estimateInferenceMemory(input(hybrid, 1));
    expect(b.kvTokensPerReplica).toBe(a.kvTokensPerReplica);
    expect(b.fullLengthSeqsPerReplica).toBeGreaterThan(a.fullLengthSeqsPerReplica * 1.7);
  });

  it('an inline architecture carries kv_lora_rank, sliding_window and layer_types into the plan', () => {
    const arch = architectureFromSpec(
      { num_hidden_layers: 4, hidden_size: 1024, intermediate_size: 4096, num_attention_heads: 8, vocab_size: 32000, kv_lora_rank: 256, qk_rope_head_dim: 32, sliding_window: 1024, layer_types: ['sliding_attention', 'full_attention', 'sliding_attention', 'full_attention'] },
      'x',
    );
    expect(arch.mla).toEqual({ kvLoraRank: 256, qkRopeHeadDim: 32 });
    expect(arch.slidingWindow).toEqual({ window: 1024, layers: 2 });
  });

  it('max_num_batched_tokens below max_num_seqs is an error (vLLM refuses to start)', () => {
    const r = plan('tiny', ['inference.max_num_batched_tokens=128', 'inference.max_num_seqs=256']);
    const d = r.diagnostics.find((x) => x.code === 'RS2013')!;
    expect(d.severity).toBe('error');
    expect(d.path).toBe('inference.max_num_batched_tokens');
    expect(d.hint).toContain('≥ 256');
    expect(plan('tiny', ['inference.max_num_batched_tokens=256', 'inference.max_num_seqs=256']).diagnostics.some((x) => x.code === 'RS2013')).toBe(false);
  });
});
