import { describe, expect, it } from 'vitest';
import { countParameters } from '../../src/compiler/catalog/models.js';
import { FILESYSTEM_BYTES_PER_S, NCCL_CALLS_PER_LAYER, NCCL_CHUNK_BYTES, NCCL_HOP_LATENCY_S } from '../../src/compiler/throughput/constants.js';
import { links } from '../../src/compiler/throughput/hardware.js';
import { ncclBroadcastSeconds, transferBytes, weightTransfer, type TransferInput } from '../../src/compiler/throughput/transfer.js';
import { glm, h200 } from './fixtures.js';

const l = links(h200, h200, undefined);
const base: TransferInput = {
  arch: glm,
  transport: 'nccl',
  fp8Transfer: false,
  loraRank: 0,
  trainerShardGroup: 64,
  trainerGpusPerNode: 8,
  inferenceGpus: 224,
  inferenceGpusPerNode: 8,
  replicas: 28,
  colocated: false,
  inferenceBandwidthTBs: h200.bandwidthTBs,
  links: l,
};

describe('weight transfer per step', () => {
  it('bytes: bf16 of every parameter; FP8 transfer sends linear weights in one byte (≈ half)', () => {
    const total = countParameters(glm).total;
    expect(transferBytes(glm, 0, false).bytesBf16).toBe(2 * total);
    const fp8 = transferBytes(glm, 0, true);
    expect(fp8.bytesSent / fp8.bytesBf16).toBeGreaterThan(0.5);
    expect(fp8.bytesSent / fp8.bytesBf16).toBeLessThan(0.52);
    expect(transferBytes(glm, 16, true).bytesSent).toBe(transferBytes(glm, 16, true).bytesBf16);
  });

  it('NCCL ring broadcast: S over one NIC plus one chunk per hop per call', () => {
    const b = ncclBroadcastSeconds(1e11, 10, 29, l);
    expect(b.bandwidth).toBe(l.inter);
    expect(b.wireS).toBeCloseTo(1e11 / 46e9, 9);
    expect(b.fillS).toBeCloseTo(10 * 29 * (NCCL_HOP_LATENCY_S + NCCL_CHUNK_BYTES / 46e9), 12);
  });

  it('NCCL: the trainer is blocked and the engines paused for gather + broadcast + load; GLM-4.5-Air to 224 GPUs ≈ 5–15 s', () => {
    const x = weightTransfer(base);
    expect(x.transport).toBe('nccl');
    expect(x.ringNodes).toBe(29);
    expect(x.trainerBlockedS).toBe(x.inferencePauseS);
    expect(x.trainerBlockedS).toBeCloseTo(x.gatherS + x.sendS + x.loadS + x.controlS, 9);
    expect(x.trainerBlockedS).toBeGreaterThan(5);
    expect(x.trainerBlockedS).toBeLessThan(15);
  });

  it('the pipeline fill grows with the fan-out: 3072 inference nodes cost seconds more than 28', () => {
    const far = weightTransfer({ ...base, inferenceGpus: 3072 * 8, replicas: 3072 });
    const near = weightTransfer(base);
    expect(far.pipelineFillS - near.pipelineFillS).toBeGreaterThan(1);
    expect(far.pipelineFillS).toBeCloseTo((glm.layers + 1) * NCCL_CALLS_PER_LAYER * 3073 * (NCCL_HOP_LATENCY_S + NCCL_CHUNK_BYTES / 46e9), 9);
  });

  it('FP8 transfer shortens the wire time', () => {
    expect(weightTransfer({ ...base, fp8Transfer: true }).sendS).toBeLessThan(weightTransfer(base).sendS * 0.6);
  });

  it('filesystem: the trainer writes S / B_fs, inference pauses only to read it back; LoRA moves the adapter without a pause', () => {
    const fs = weightTransfer({ ...base, transport: 'filesystem' });
    expect(fs.sendS).toBeCloseTo(fs.bytesBf16 / FILESYSTEM_BYTES_PER_S, 9);
    expect(fs.trainerBlockedS).toBeCloseTo(fs.gatherS + fs.sendS, 9);
    expect(fs.loadS).toBeCloseTo(fs.bytesBf16 / FILESYSTEM_BYTES_PER_S, 9);
    const lora = weightTransfer({ ...base, transport: 'filesystem', loraRank: 16 });
    expect(lora.inferencePauseS).toBe(0);
    expect(lora.trainerBlockedS).toBeLessThan(1);
  });

  it('no inference pool, no transfer', () => {
    expect(weightTransfer({ ...base, inferenceGpus: 0 }).trainerBlockedS).toBe(0);
  });
});
