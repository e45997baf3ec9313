/**
 * vLLM memory per GPU (reference/run-and-models.md §4): weights for the TP/EP layout, the engine's own
 * overhead, and the KV cache that is left in the `gpu_memory_utilization` budget — then what that cache
 * holds: tokens per replica, full-length sequences, and the rollouts the orchestrator keeps in flight.
 */
import { countParameters, isMoe, type ModelArchitecture } from '../catalog/models.js';
import type { GpuSpec } from '../catalog/gpus.js';
import { GIB } from './trainer.js';

export interface InferenceMemoryInput {
  arch: ModelArchitecture;
  gpu: GpuSpec;
  tp: number;
  /** Engines of one expert-parallel DP group (1 without expert parallel). */
  dpGroup: number;
  expertParallel: boolean;
  weightsDtype: 'bf16' | 'fp8';
  gpuMemoryUtilization: number;
  maxModelLen: number;
  /** 0 = vLLM's default for the GPU. */
  maxNumSeqs: number;
  replicas: number;
  enginesPerReplica: number;
  maxInflight: number;
  meanRolloutTokens: number;
}

export interface InferenceMemoryEstimate {
  weightsGib: number;
  overheadGib: number;
  kvCacheGib: number;
  kvBytesPerTokenPerGpu: number;
  kvTokensPerEngine: number;
  kvTokensPerReplica: number;
  fullLengthSeqsPerReplica: number;
  inflightPerReplica: number;
  /** KV the in-flight rollouts need at the mean rollout length, per replica. */
  inflightTokensPerReplica: number;
  maxNumSeqs: number;
  budgetGib: number;
}

/** vLLM's API-server defaults: 1024 sequences and 8192 batched tokens on ≥70 GiB GPUs that are not A100s. */
export function vllmDefaults(gpu: GpuSpec): { maxNumSeqs: number; maxBatchedTokens: number } {
  const big = gpu.memoryGib >= 70 && !gpu.id.startsWith('a100');
  return big ? { maxNumSeqs: 1024, maxBatchedTokens: 8192 } : { maxNumSeqs: 256, maxBatchedTokens: 2048 };
}

export function kvHeadsPerGpu(arch: ModelArchitecture, tp: number): number {
  // KV heads are split over TP ranks; past the KV-head count each head is replicated.
  return Math.max(1, Math.ceil(arch.kvHeads / tp));
}

export function estimateInferenceMemory(input: InferenceMemoryInput): InferenceMemoryEstimate {
  const { arch, gpu, tp } = input;
  const counts = countParameters(arch);
  const linearBytes = input.weightsDtype === 'fp8' ? 1 : 2;
  // Embedding and LM head stay bf16 under fp8 quantization; they are vocab-sharded over TP.
  const embeddingParams = counts.embedding + counts.lmHead;
  const expertParams = counts.routedExpert;
  const otherParams = counts.total - embeddingParams - expertParams;
  const expertShards = input.expertParallel ? tp * input.dpGroup : tp;
  const weights = (embeddingParams * 2 + otherParams * linearBytes) / tp + (expertParams * linearBytes) / expertShards;

  const defaults = vllmDefaults(gpu);
  const maxNumSeqs = input.maxNumSeqs > 0 ? input.maxNumSeqs : defaults.maxNumSeqs;
  const mlpWidth = isMoe(arch) ? arch.expertsPerToken * arch.moeIntermediate + arch.sharedExperts * arch.moeIntermediate : arch.intermediate;
  // One forward of a full token budget, fp32 logits of every running sequence (prime-rl's fp32 LM head) for
  // the sampler, CUDA graphs and what lives outside PyTorch (NCCL, cuBLAS workspaces).
  const activations = defaults.maxBatchedTokens * 2 * (4 * arch.hidden + (3 * mlpWidth + 2 * arch.heads * arch.headDim) / tp);
  const sampler = maxNumSeqs * arch.vocab * 4 * 2;
  const overhead = activations + sampler + 1.4 * GIB;

  const budget = input.gpuMemoryUtilization * gpu.memoryGib * GIB;
  const kvCache = Math.max(0, budget - weights - overhead);
  const kvPerToken = 2 * arch.layers * kvHeadsPerGpu(arch, tp) * arch.headDim * 2;
  const kvTokensPerEngine = Math.floor(kvCache / kvPerToken);
  const kvTokensPerReplica = kvTokensPerEngine * input.enginesPerReplica;
  const inflightPerReplica = input.replicas > 0 ? input.maxInflight / input.replicas : 0;
  return {
    weightsGib: weights / GIB,
    overheadGib: overhead / GIB,
    kvCacheGib: kvCache / GIB,
    kvBytesPerTokenPerGpu: kvPerToken,
    kvTokensPerEngine,
    kvTokensPerReplica,
    fullLengthSeqsPerReplica: Math.floor(kvTokensPerReplica / input.maxModelLen),
    inflightPerReplica,
    inflightTokensPerReplica: inflightPerReplica * input.meanRolloutTokens,
    maxNumSeqs,
    budgetGib: budget / GIB,
  };
}
