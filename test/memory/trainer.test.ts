import { describe, expect, it } from 'vitest';
import { findModelByName } from '../../src/compiler/catalog/models.js';
import { estimateTrainerMemory, type TrainerMemoryInput } from '../../src/compiler/memory/trainer.js';

const glm = findModelByName('PrimeIntellect/INTELLECT-3')!;
const qwen4b = findModelByName('Qwen/Qwen3-4B')!;

/** INTELLECT-3 on 16 nodes at 72k, as the preset plans it. */
const base: TrainerMemoryInput = {
  arch: glm,
  dpShard: 32,
  cp: 2,
  ep: 8,
  seqLen: 73728,
  loraRank: 0,
  ac: 'full',
  offloadInflight: 5,
  optimizer: 'muon',
  optimizerOffload: true,
  lmHeadChunk: 8192,
};
const estimate = (change: Partial<TrainerMemoryInput>) => estimateTrainerMemory({ ...base, ...change });
const b = estimateTrainerMemory(base);

describe('every knob moves the estimate the right way', () => {
  it('activation offload lowers GPU memory and raises host memory', () => {
    const off = estimate({ offloadInflight: 0 });
    expect(b.breakdownGib.activations).toBeLessThan(off.breakdownGib.activations);
    expect(b.peakGib).toBeLessThan(off.peakGib);
    expect(b.hostActivationsGib).toBeGreaterThan(off.hostActivationsGib);
    expect(estimate({ offloadInflight: 2 }).peakGib).toBeLessThan(b.peakGib);
  });

  it('optimizer offload moves the optimizer state from the GPU to the host', () => {
    const onGpu = estimate({ optimizerOffload: false });
    expect(b.breakdownGib.optimizer).toBe(0);
    expect(onGpu.breakdownGib.optimizer).toBeGreaterThan(5);
    expect(onGpu.peakGib - b.peakGib).toBeCloseTo(onGpu.breakdownGib.optimizer, 5);
    expect(b.hostOptimizerGib).toBeCloseTo(onGpu.breakdownGib.optimizer, 5);
  });

  it('context parallel lowers activations; so does a shorter sequence', () => {
    const cp4 = estimate({ cp: 4, dpShard: 16 });
    expect(cp4.breakdownGib.activations).toBeLessThan(b.breakdownGib.activations);
    expect(cp4.breakdownGib.working).toBeLessThan(b.breakdownGib.working);
    expect(estimate({ seqLen: 32768 }).peakGib).toBeLessThan(b.peakGib);
  });

  it('expert parallel lowers the expert weights a GPU gathers', () => {
    const ep1 = estimate({ ep: 1 });
    expect(b.breakdownGib.gathered).toBeLessThan(ep1.breakdownGib.gathered);
    expect(b.peakGib).toBeLessThan(ep1.peakGib);
  });

  it('more sharding lowers the persistent state per GPU', () => {
    const wider = estimate({ dpShard: 64 });
    expect(wider.breakdownGib.params).toBeCloseTo(b.breakdownGib.params / 2, 5);
    expect(wider.breakdownGib.grads).toBeCloseTo(b.breakdownGib.grads / 2, 5);
  });

  it('AdamW keeps more state than Muon, SignSGD none', () => {
    const adam = estimate({ optimizer: 'adamw', optimizerOffload: false });
    const muon = estimate({ optimizerOffload: false });
    const sign = estimate({ optimizer: 'sign_sgd', optimizerOffload: false });
    expect(adam.breakdownGib.optimizer).toBeGreaterThan(muon.breakdownGib.optimizer);
    expect(sign.breakdownGib.optimizer).toBe(0);
  });

  it('LoRA drops the full gradients and optimizer state', () => {
    const lora = estimate({ loraRank: 16, optimizerOffload: false });
    expect(lora.breakdownGib.grads).toBeLessThan(b.breakdownGib.grads / 10);
    expect(lora.peakGib).toBeLessThan(estimate({ optimizerOffload: false }).peakGib);
  });

  it('activation checkpointing: none > selective > full', () => {
    const full = estimate({ offloadInflight: 0 });
    const selective = estimate({ offloadInflight: 0, ac: 'selective' });
    const none = estimate({ offloadInflight: 0, ac: 'none' });
    expect(selective.peakGib).toBeGreaterThan(full.peakGib);
    expect(none.peakGib).toBeGreaterThan(selective.peakGib);
  });

  it('unchunked logits cost [tokens, vocab] in fp32; chunks cost only the chunk', () => {
    const dense = { arch: qwen4b, dpShard: 8, cp: 1, ep: 1, seqLen: 65536, offloadInflight: 5, optimizer: 'adamw' as const, optimizerOffload: true };
    const chunked = estimateTrainerMemory({ ...base, ...dense, lmHeadChunk: 1024 });
    const unchunked = estimateTrainerMemory({ ...base, ...dense, lmHeadChunk: 0 });
    expect(unchunked.peakPhase).toBe('lm head');
    // 65536 tokens × 151936 vocab × 4 B = 37.1 GiB for one fp32 copy (the allocation the SFT OOM reports)
    expect(unchunked.breakdownGib.logits).toBeGreaterThan(37.09 * 2);
    expect(chunked.peakGib).toBeLessThan(unchunked.peakGib - 60);
  });
});

describe('the INTELLECT-3 layout', () => {
  it('keeps fp32 master and gradient shards of 106.85B params over 64 GPUs: 6.2 GiB each', () => {
    expect(b.breakdownGib.params).toBeCloseTo(6.22, 1);
    expect(b.breakdownGib.grads).toBeCloseTo(6.22, 1);
  });

  it('fits an H200 at 72k with EP 8, CP 2 and activation offload', () => {
    expect(b.peakGib).toBeGreaterThan(20);
    expect(b.peakGib).toBeLessThan(139.8);
  });
});
