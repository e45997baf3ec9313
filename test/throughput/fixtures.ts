/** Inputs the throughput tests share: an INTELLECT-3-like run and a small dense one, each side adjustable. */
import { findGpu } from '../../src/compiler/catalog/gpus.js';
import { findModelById } from '../../src/compiler/catalog/models.js';
import { estimateInferenceMemory } from '../../src/compiler/memory/inference.js';
import { intellect3Production } from '../../src/compiler/throughput/anchors.js';
import type { ThroughputInput } from '../../src/compiler/throughput/types.js';

export const h200 = findGpu('h200')!;
export const h100 = findGpu('h100')!;
export const glm = findModelById('glm4_moe-106b-a12b')!;
export const qwen4b = findModelById('qwen3-4b')!;
export const qwen30b = findModelById('qwen3_moe-30b-a3b')!;

export function kvTokens(arch = glm, tp = 8, gpu = h200, maxModelLen = 51200): number {
  return estimateInferenceMemory({
    arch,
    gpu,
    tp,
    dpGroup: 1,
    expertParallel: false,
    weightsDtype: 'bf16',
    gpuMemoryUtilization: 0.9,
    maxModelLen,
    maxNumSeqs: 0,
    replicas: 1,
    enginesPerReplica: 1,
    maxInflight: 1,
    meanRolloutTokens: 1,
  }).kvTokensPerReplica;
}

/** INTELLECT-3's recorded production split: 16 trainer nodes (HSDP 2 × 64), 28 TP-8 inference nodes, 4096 rollouts. */
export function intellect3(over: Partial<{ trainerNodes: number; inferenceNodes: number }> = {}): ThroughputInput {
  return intellect3Production(over.trainerNodes ?? 16, over.inferenceNodes ?? 28);
}

/** A small dense run on one node: 4 trainer GPUs and 4 TP-1 engines of Qwen3-4B. */
export function small(): ThroughputInput {
  return {
    arch: qwen4b,
    trainer: {
      gpu: h100,
      gpus: 4,
      gpusPerNode: 8,
      dpReplicate: 1,
      dpShard: 4,
      ep: 1,
      cp: 1,
      cpStyle: 'ring',
      seqLen: 16384,
      loraRank: 0,
      ac: 'full',
      activationOffload: true,
      optimizer: 'adamw',
      optimizerOffload: false,
    },
    inference: {
      gpu: h100,
      gpusPerNode: 8,
      replicas: 4,
      tp: 1,
      enginesPerReplica: 1,
      expertParallel: false,
      weightsDtype: 'bf16',
      kvCacheDtype: 'auto',
      kvTokensPerReplica: kvTokens(qwen4b, 1, h100, 16384),
      maxNumSeqs: 0,
    },
    rollouts: {
      batchSize: 256,
      groupSize: 8,
      maxInflight: 512,
      meanPromptTokens: 500,
      meanRolloutTokens: 4500,
      maxTokens: 16384,
      envSeconds: 0,
      turns: 1,
      maxOffPolicySteps: 8,
    },
    weights: { transport: 'nccl' },
  };
}
