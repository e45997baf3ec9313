import { describe, expect, it } from 'vitest';
import { findGpu } from '../../src/compiler/catalog/gpus.js';
import { findModelByName, kvBytesPerToken } from '../../src/compiler/catalog/models.js';
import { estimateInferenceMemory, type InferenceMemoryInput } from '../../src/compiler/memory/inference.js';

const glm = findModelByName('zai-org/GLM-4.5-Air')!;
const qwen30 = findModelByName('Qwen/Qwen3-30B-A3B')!;
const h200 = findGpu('h200')!;

const base: InferenceMemoryInput = {
  arch: glm,
  gpu: h200,
  tp: 8,
  dpGroup: 1,
  expertParallel: false,
  weightsDtype: 'bf16',
  gpuMemoryUtilization: 0.9,
  maxModelLen: 51200,
  maxNumSeqs: 0,
  replicas: 28,
  enginesPerReplica: 1,
  maxInflight: 4096,
  meanRolloutTokens: 25600,
};

describe('vLLM sizing (reference/run-and-models.md §4)', () => {
  it('GLM-4.5-Air at TP 8: 24.9 GiB of weights and 23 KiB of KV per token per GPU', () => {
    const e = estimateInferenceMemory(base);
    expect(e.weightsGib).toBeCloseTo(24.9, 1);
    expect(e.kvBytesPerTokenPerGpu).toBe(23 * 1024);
    expect(e.kvBytesPerTokenPerGpu * 8).toBe(kvBytesPerToken(glm)); // 184 KiB split over 8 GPUs
    // ~95-100 GiB left for KV → 4.3-4.5 M tokens per TP-8 replica
    expect(e.kvCacheGib).toBeGreaterThan(95);
    expect(e.kvCacheGib).toBeLessThan(100);
    expect(e.kvTokensPerReplica).toBeGreaterThan(4.3e6);
    expect(e.kvTokensPerReplica).toBeLessThan(4.6e6);
    expect(e.inflightPerReplica).toBeCloseTo(146.3, 1);
  });

  it('GLM-4.5-Air at TP 2 as on the INTELLECT-3.1 card: 99.5 GiB of weights per GPU', () => {
    expect(estimateInferenceMemory({ ...base, tp: 2 }).weightsGib).toBeCloseTo(99.5, 0);
  });

  it('Qwen3-30B-A3B at TP 8 keeps 1/4 of the KV per GPU: its 4 KV heads are replicated', () => {
    const e = estimateInferenceMemory({ ...base, arch: qwen30, tp: 8 });
    expect(e.kvBytesPerTokenPerGpu).toBe(kvBytesPerToken(qwen30) / 4);
    const tp4 = estimateInferenceMemory({ ...base, arch: qwen30, tp: 4 });
    expect(tp4.kvBytesPerTokenPerGpu).toBe(e.kvBytesPerTokenPerGpu);
  });

  it('fp8 weights halve the linear layers; expert parallel spreads the experts over the DP group', () => {
    const fp8 = estimateInferenceMemory({ ...base, weightsDtype: 'fp8' });
    expect(fp8.weightsGib).toBeLessThan(base.arch ? estimateInferenceMemory(base).weightsGib * 0.55 : 0);
    const ep = estimateInferenceMemory({ ...base, tp: 2, dpGroup: 4, expertParallel: true, enginesPerReplica: 4 });
    expect(ep.weightsGib).toBeLessThan(estimateInferenceMemory({ ...base, tp: 2 }).weightsGib / 2);
    expect(ep.kvTokensPerReplica).toBe(ep.kvTokensPerEngine * 4);
  });

  it('the KV cache shrinks with gpu_memory_utilization and vanishes when the weights do not fit', () => {
    expect(estimateInferenceMemory({ ...base, gpuMemoryUtilization: 0.8 }).kvCacheGib).toBeLessThan(estimateInferenceMemory(base).kvCacheGib);
    expect(estimateInferenceMemory({ ...base, tp: 1 }).kvCacheGib).toBe(0);
  });
});
