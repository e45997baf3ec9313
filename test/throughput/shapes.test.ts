import { describe, expect, it } from 'vitest';
import { countParameters, findModelById } from '../../src/compiler/catalog/models.js';
import { attentionFlopsAtContext, causalAttentionFlopsPerToken, kvReadBytes, matmulParams, servedWeightBytes, transferParams } from '../../src/compiler/throughput/shapes.js';
import { effectiveTrainLength, meanDecodeContext, outputMoment, attentionCostCv } from '../../src/compiler/throughput/lengths.js';

const arch = (id: string) => findModelById(id)!;

describe('shapes: FLOPs and bytes per token', () => {
  it("active matmul parameters match prime-rl's count for Qwen3-0.6B (tests/unit/train/test_perf.py: 595,984,384)", () => {
    expect(Math.abs(matmulParams(arch('qwen3-0.6b')).total / 595_984_384 - 1)).toBeLessThan(1e-4);
  });

  it('splits dense and routed-expert matmuls; GLM-4.5-Air ≈ 12.8 B active excluding the input embedding (reference §6)', () => {
    const m = matmulParams(arch('glm4_moe-106b-a12b'));
    expect(m.total / 1e9).toBeCloseTo(12.8, 1);
    expect(m.expert).toBe(45 * 8 * 3 * 4096 * 1408);
    expect(matmulParams(arch('qwen3-4b')).expert).toBe(0);
  });

  it('attention: 4·heads·head_dim FLOPs per key per layer; a causal sample attends to l/2 keys on average', () => {
    const a = arch('qwen3-4b');
    expect(attentionFlopsAtContext(a, 1000)).toBe(4 * 32 * 128 * 1000 * 36);
    expect(causalAttentionFlopsPerToken(a, 2000)).toBeCloseTo(attentionFlopsAtContext(a, 1000), 6);
  });

  it('sliding-window layers stop at their window', () => {
    const a = { ...arch('qwen3-4b'), slidingWindow: { window: 1024, layers: 18 } };
    expect(attentionFlopsAtContext(a, 8192)).toBe(4 * 32 * 128 * (18 * 8192 + 18 * 1024));
    expect(kvReadBytes(a, 36 * 100, 8192)).toBe(100 * (18 * 8192 + 18 * 1024));
  });

  it('served weights: bf16 = 2 B per parameter (LM head read even when tied); fp8 keeps the head in bf16', () => {
    const q = arch('qwen3-4b');
    expect(servedWeightBytes(q, 'bf16').total).toBe(2 * countParameters(q).total);
    const g = arch('glm4_moe-106b-a12b');
    const c = countParameters(g);
    const fp8 = servedWeightBytes(g, 'fp8');
    expect(fp8.lmHead).toBe(2 * g.vocab * g.hidden);
    expect(fp8.total).toBe(2 * c.lmHead + (c.total - c.embedding - c.lmHead));
  });

  it('transfer: every parameter, or only the LoRA adapters', () => {
    const g = arch('glm4_moe-106b-a12b');
    expect(transferParams(g, 0).params).toBe(countParameters(g).total);
    expect(transferParams(g, 16).params).toBeLessThan(countParameters(g).total / 100);
  });
});

describe('lengths', () => {
  it('Gamma moments: cv 0 is deterministic, cv 1 exponential (E[o²] = 2ō²)', () => {
    expect(outputMoment({ prompt: 0, output: 100, cv: 0 }, 2)).toBe(10000);
    expect(outputMoment({ prompt: 0, output: 100, cv: 1 }, 2)).toBeCloseTo(20000, 6);
    expect(outputMoment({ prompt: 0, output: 100, cv: 1 }, 4)).toBeCloseTo(24 * 1e8, 0);
  });

  it('decode context c̄ = p̄ + ō(1 + cv²)/2: exponential lengths give p̄ + ō (reference §6.2)', () => {
    expect(meanDecodeContext({ prompt: 1000, output: 10000, cv: 1 })).toBeCloseTo(11000, 6);
    expect(meanDecodeContext({ prompt: 1000, output: 10000, cv: 0 })).toBeCloseTo(6000, 6);
  });

  it('trained length l_eff = E[l²]/E[l], capped at seq_len; equal samples have no attention spread', () => {
    expect(effectiveTrainLength({ prompt: 0, output: 4096, cv: 0 }, 8192)).toBeCloseTo(4096, 6);
    expect(effectiveTrainLength({ prompt: 0, output: 4096, cv: 1 }, 65536)).toBeCloseTo(8192, 6);
    expect(effectiveTrainLength({ prompt: 0, output: 4096, cv: 1 }, 6000)).toBe(6000);
    expect(attentionCostCv({ prompt: 100, output: 4096, cv: 0 })).toBe(0);
    expect(attentionCostCv({ prompt: 0, output: 4096, cv: 1 })).toBeCloseTo(Math.sqrt(5), 6);
  });
});
