import { describe, expect, it } from 'vitest';
import { TRAINER_CONSTANTS as C } from '../../src/compiler/throughput/constants.js';
import { links } from '../../src/compiler/throughput/hardware.js';
import { causalAttentionFlopsPerToken, matmulParams } from '../../src/compiler/throughput/shapes.js';
import { muonFlops, rankImbalance, tokenTime, trainerStep } from '../../src/compiler/throughput/trainer.js';
import type { TrainerThroughputInput } from '../../src/compiler/throughput/types.js';
import { glm, h200, intellect3, qwen30b, qwen4b, small } from './fixtures.js';

const base: TrainerThroughputInput = { ...small().trainer, gpu: h200, activationOffload: false };
const P = h200.bf16Tflops * 1e12;
const BW = h200.bandwidthTBs * 1e12;

describe('trainer time per token', () => {
  it('full fine-tune with full AC: 8·A_dense/(e_mm·P) + 4·F_att/(e_att·P) + memory-bound bytes/BW', () => {
    const t = tokenTime(qwen4b, base, 16384);
    const A = matmulParams(qwen4b).dense;
    expect(t.attention).toBe('flash_attention_3');
    expect(t.matmulS).toBeCloseTo((8 * A) / (C.eMatmul * P), 15);
    expect(t.expertS).toBe(0);
    expect(t.attentionS).toBeCloseTo((4 * causalAttentionFlopsPerToken(qwen4b, 16384)) / (C.eAttention.fa3 * P), 15);
    expect(t.memoryS).toBeCloseTo((C.cLayer * 36 * 2560 + C.cVocabRl * qwen4b.vocab) / BW, 15);
    expect(t.totalS).toBeCloseTo(t.matmulS + t.attentionS + t.memoryS, 15);
  });

  it('no checkpointing saves the recomputed forward: matmuls 6/8, attention 3/4 (prime-rl docs/scaling.md: AC costs ~25 %)', () => {
    const full = tokenTime(qwen4b, base, 16384);
    const none = tokenTime(qwen4b, { ...base, ac: 'none' }, 16384);
    expect(none.matmulS / full.matmulS).toBeCloseTo(6 / 8, 12);
    expect(none.attentionS / full.attentionS).toBeCloseTo(3 / 4, 12);
  });

  it('LoRA skips the frozen weights gradient: 6 passes instead of 8, and 4·A useful FLOPs', () => {
    const full = tokenTime(qwen4b, base, 16384);
    const lora = tokenTime(qwen4b, { ...base, loraRank: 16 }, 16384);
    expect(lora.matmulS / full.matmulS).toBeCloseTo(6 / 8, 12);
    expect(lora.usefulFlops).toBeCloseTo(4 * matmulParams(qwen4b).total + 3 * causalAttentionFlopsPerToken(qwen4b, 16384), 0);
  });

  it('activation offload divides by the fitted multiplier; MoE experts run at their own efficiency', () => {
    expect(tokenTime(qwen4b, { ...base, activationOffload: true }, 16384).totalS).toBeCloseTo(tokenTime(qwen4b, base, 16384).totalS / C.offload, 15);
    expect(tokenTime(qwen30b, base, 16384).expertS).toBeCloseTo((8 * matmulParams(qwen30b).expert) / (C.eExpert * P), 15);
  });

  it('MFU rises with sequence length (attention GEMMs are efficient, the per-token overhead is amortised) and stays below 1', () => {
    const l = links(h200, h200, undefined);
    const at = (len: number) => trainerStep(qwen4b, { ...base, gpus: 8, dpShard: 8, seqLen: len }, { tokens: 16 * len, samples: 16, effectiveLength: len, attentionCostCv: 0 }, l).mfu;
    expect(at(4096)).toBeLessThan(at(16384));
    expect(at(16384)).toBeLessThan(at(65536));
    expect(at(65536)).toBeLessThan(1);
  });
});

describe('trainer step at scale', () => {
  const l = links(h200, h200, undefined);
  const work = { tokens: 4096 * 11000, samples: 4096, effectiveLength: 20000, attentionCostCv: 1 };

  it('expert parallel adds an all-to-all; none without EP', () => {
    const t = intellect3().trainer;
    expect(trainerStep(glm, t, work, l).epCommS).toBe(0);
    expect(trainerStep(glm, { ...t, ep: 8 }, work, l).epCommS).toBeGreaterThan(0);
  });

  it('ulysses CP exchanges are exposed; ring CP hides behind attention', () => {
    const t = { ...intellect3().trainer, cp: 2, dpShard: 32 };
    const u = trainerStep(glm, { ...t, cpStyle: 'ulysses' }, work, l);
    const r = trainerStep(glm, { ...t, cpStyle: 'ring' }, work, l);
    expect(u.cpExposedS).toBe(u.cpCommS);
    expect(r.cpExposedS).toBeLessThanOrEqual(r.cpCommS);
  });

  it('FSDP traffic overlaps with compute: exposed only beyond it', () => {
    const s = trainerStep(glm, intellect3().trainer, work, l);
    expect(s.fsdpCommS).toBeGreaterThan(0);
    expect(s.fsdpExposedS).toBe(Math.max(0, s.fsdpCommS - s.computeS));
    expect(s.totalS).toBeCloseTo(s.computeS + s.fsdpExposedS + s.epCommS + s.cpExposedS + s.optimizerS, 9);
  });

  it('DP ranks wait for the slowest: 1 + cv·√(2 ln R)/√n, 1 for equal samples or one rank', () => {
    expect(rankImbalance(0, 4, 64)).toBe(1);
    expect(rankImbalance(2, 4, 1)).toBe(1);
    expect(rankImbalance(2, 4, 64)).toBeCloseTo(1 + (2 * Math.sqrt(2 * Math.log(64))) / 2, 12);
  });

  it('Muon: Newton–Schulz on GLM-4.5-Air is ≈ 3e15 FLOPs per step, small against a step over 64 ranks', () => {
    expect(muonFlops(glm) / 1e15).toBeGreaterThan(2);
    expect(muonFlops(glm) / 1e15).toBeLessThan(5);
    expect(trainerStep(glm, intellect3().trainer, work, l).optimizerS).toBeLessThan(5);
  });
});
