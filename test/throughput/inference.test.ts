import { describe, expect, it } from 'vitest';
import { countParameters } from '../../src/compiler/catalog/models.js';
import { kvBytesPerTokenPerRank } from '../../src/compiler/memory/inference.js';
import {
  batchCap,
  decodeFixedS,
  decodeStep,
  INFERENCE_CONSTANTS,
  prefillSecondsPerToken,
  replicaOf,
  replicaRate,
} from '../../src/compiler/throughput/inference.js';
import { causalAttentionFlopsPerToken, matmulParams } from '../../src/compiler/throughput/shapes.js';
import { glm, h100, h200, qwen4b, small, intellect3 } from './fixtures.js';

const c = INFERENCE_CONSTANTS;

describe('decode step of a replica: bandwidth roofline', () => {
  it('dense model, empty context: t_dec = t₀ + weight bytes / (η·BW) (+ the vanishing compute of a tiny batch)', () => {
    const rep = replicaOf(qwen4b, small().inference!);
    const s = decodeStep(rep, 1e-9, 0);
    const weights = 2 * countParameters(qwen4b).total;
    expect(s.fixedS).toBe(c.stepFixedS); // tp 1: no collectives
    expect(s.totalS).toBeCloseTo(c.stepFixedS + weights / (c.bandwidthEfficiency * h100.bandwidthTBs * 1e12), 12);
  });

  it('tensor parallel splits the weights and adds two collectives per layer to t₀', () => {
    const one = replicaOf(qwen4b, { ...small().inference!, tp: 1 });
    const two = replicaOf(qwen4b, { ...small().inference!, tp: 2 });
    expect(decodeStep(two, 1, 0).weightBytesPerGpu).toBeCloseTo(decodeStep(one, 1, 0).weightBytesPerGpu / 2, 6);
    expect(decodeFixedS(two)).toBeCloseTo(c.stepFixedS + 2 * qwen4b.layers * c.collectiveIntraS, 12);
  });

  it('MoE: a single sequence reads its k experts per layer, a large batch all of them', () => {
    const rep = replicaOf(glm, intellect3().inference!);
    const routed = 2 * countParameters(glm).routedExpert;
    expect(decodeStep(rep, 1, 0).expertBytesPerGpu).toBeCloseTo(((8 / 128) * routed) / 8, 0);
    expect(decodeStep(rep, 1e5, 0).expertBytesPerGpu).toBeCloseTo(routed / 8, 0);
  });

  it('KV read grows linearly with batch and context (κ per rank from the memory model)', () => {
    const rep = replicaOf(glm, intellect3().inference!);
    const kappa = kvBytesPerTokenPerRank(glm, 8);
    expect(decodeStep(rep, 100, 16000).kvBytesPerGpu).toBeCloseTo(100 * 16000 * kappa, 0);
    expect(decodeStep(rep, 200, 16000).kvBytesPerGpu).toBeCloseTo(2 * decodeStep(rep, 100, 16000).kvBytesPerGpu, 0);
  });

  it('at long context the KV term dominates (reference §6.1: B = 146, 16k → ≈ 56 GB of KV vs ≈ 27 GB of weights per GPU)', () => {
    const rep = replicaOf(glm, intellect3().inference!);
    const s = decodeStep(rep, 146, 16384);
    expect(s.kvBytesPerGpu / 1e9).toBeGreaterThan(50);
    expect(s.kvBytesPerGpu / 1e9).toBeLessThan(60);
    expect((s.weightBytesPerGpu + s.expertBytesPerGpu) / 1e9).toBeGreaterThan(25);
    expect((s.weightBytesPerGpu + s.expertBytesPerGpu) / 1e9).toBeLessThan(29);
  });

  it('prefill is compute-bound: (2A + F_att) per prompt token over the replica at μ_pre', () => {
    const rep = replicaOf(glm, intellect3().inference!);
    const expected = (2 * matmulParams(glm).total + causalAttentionFlopsPerToken(glm, 2000)) / (8 * h200.bf16Tflops * 1e12 * c.prefillComputeEfficiency);
    expect(prefillSecondsPerToken(rep, 2000)).toBeCloseTo(expected, 15);
  });
});

describe('batch per replica and its rate', () => {
  it('the batch is capped by the KV pool at the concurrency target, or by max_num_seqs', () => {
    const inf = intellect3().inference!;
    const rep = replicaOf(glm, inf);
    const cap = batchCap(rep, 11000);
    expect(cap.bound).toBe('kv');
    expect(cap.cap).toBeCloseTo((0.7 * inf.kvTokensPerReplica) / 11000, 6);
    const short = batchCap(rep, 100);
    expect(short.bound).toBe('max_num_seqs');
    expect(short.cap).toBe(1024);
  });

  it('X_r = B / (o·t_dec(B) + B·prefill per episode); tokens/s per GPU = X_r·o / GPUs', () => {
    const rep = replicaOf(glm, intellect3().inference!);
    const work = { outputTokens: 10000, prefillTokens: 1000 / 16, promptTokens: 1000, context: 11000 };
    const r = replicaRate(rep, 100, work);
    const tdec = decodeStep(rep, 100, 11000).totalS;
    const pre = work.prefillTokens * prefillSecondsPerToken(rep, 1000);
    expect(r.episodesPerS).toBeCloseTo(100 / (10000 * tdec + 100 * pre), 12);
    expect(r.outputTokensPerSPerGpu).toBeCloseTo((r.episodesPerS * 10000) / 8, 9);
  });

  it('per-GPU decode throughput of GLM TP8 at B = 146, 16k lands in the reference band (420–630 tok/s/GPU at η 0.4–0.6, §6.8)', () => {
    const rep = replicaOf(glm, intellect3().inference!);
    const r = replicaRate(rep, 146, { outputTokens: 10000, prefillTokens: 0, promptTokens: 1000, context: 16384 });
    expect(r.outputTokensPerSPerGpu).toBeGreaterThan(420);
    expect(r.outputTokensPerSPerGpu).toBeLessThan(630);
  });
});
