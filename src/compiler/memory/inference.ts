/**
 * vLLM memory per GPU, as vLLM's start-up profile computes it (docs/memory-model.md §vLLM, reference vllm-kv.md):
 *
 *   KV = total × gpu_memory_utilization − weights − activation peak − non-torch memory
 *
 * term by term — weights for the TP/EP layout; the activation peak of the profile run, the larger of the
 * `max_num_batched_tokens` forward pass and the sampler warm-up over `max_num_seqs × vocab` (β per entry
 * depends on the vLLM version), plus the fused-MoE workspace; non-torch memory by TP and version — then
 * block rounding of the pool into tokens. CUDA graphs, the CUDA context and the sampler's preallocated
 * buffers live outside the budget: `(1 − gpu_memory_utilization) × total` must hold them.
 */
import { countParameters, isMoe, type ModelArchitecture } from '../catalog/models.js';
import type { GpuSpec } from '../catalog/gpus.js';
import { GIB } from './trainer.js';

/** The vLLM prime-rl 559b447 locks (uv.lock: vllm 0.26.0+cu129). */
export const DEFAULT_VLLM_VERSION = '0.26.0';

export type KvCacheDtype = 'auto' | 'fp8';

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
  /** 0 = vLLM's default for the GPU. */
  maxNumBatchedTokens?: number;
  kvCacheDtype?: KvCacheDtype;
  /** e.g. "0.26.0"; default DEFAULT_VLLM_VERSION. */
  vllmVersion?: string;
  replicas: number;
  enginesPerReplica: number;
  maxInflight: number;
  meanRolloutTokens: number;
}

export interface InferenceMemoryEstimate {
  weightsGib: number;
  /** activation peak + non-torch memory: what the profile takes from the budget besides weights. */
  overheadGib: number;
  activation: { samplerGib: number; forwardGib: number; moeWorkspaceGib: number; peakGib: number };
  nonTorchGib: number;
  /** Outside the gpu_memory_utilization budget: CUDA context, captured graphs, the sampler's preallocated buffers. */
  outsideBudget: { cudaContextGib: number; cudaGraphsGib: number; samplerWarmupGib: number; totalGib: number; headroomGib: number };
  kvCacheGib: number;
  kvBytesPerTokenPerGpu: number;
  blockSize: number;
  kvBlocksPerEngine: number;
  kvTokensPerEngine: number;
  kvTokensPerReplica: number;
  fullLengthSeqsPerReplica: number;
  inflightPerReplica: number;
  /** KV the in-flight rollouts need at the mean rollout length, per replica. */
  inflightTokensPerReplica: number;
  maxNumSeqs: number;
  maxNumBatchedTokens: number;
  kvCacheDtype: KvCacheDtype;
  vllmVersion: string;
  budgetGib: number;
}

/** vLLM's API-server defaults: 1024 sequences and 8192 batched tokens on ≥70 GiB GPUs that are not A100s. */
export function vllmDefaults(gpu: GpuSpec): { maxNumSeqs: number; maxBatchedTokens: number } {
  const big = gpu.memoryGib >= 70 && !gpu.id.startsWith('a100');
  return big ? { maxNumSeqs: 1024, maxBatchedTokens: 8192 } : { maxNumSeqs: 256, maxBatchedTokens: 2048 };
}

/** "0.26.0", "v0.11", "0.10.1.1" → [major, minor, patch]; undefined when it is not a version. */
export function parseVllmVersion(v: string): [number, number, number] | undefined {
  const m = /^v?(\d+)\.(\d+)(?:\.(\d+))?(?:[.+-].*)?$/.exec(v.trim());
  return m ? [Number(m[1]), Number(m[2]), Number(m[3] ?? 0)] : undefined;
}

function minorOf(v: string): number {
  const p = parseVllmVersion(v) ?? parseVllmVersion(DEFAULT_VLLM_VERSION)!;
  return p[0] * 1000 + p[1];
}

/**
 * Bytes per (sequence × vocab entry) of the profile's sampler pass: ≈37 B in vLLM 0.11–0.16 (and V0), ≈14 B in
 * 0.10 and from 0.17 (fits in reference/vllm-kv.md §3; the Qwen3-14B sweep shows the step at 0.17).
 */
export function samplerBeta(version: string): number {
  const m = minorOf(version);
  if (m < 10) return 37; // V0
  return m >= 11 && m <= 16 ? 37 : 14;
}

/** Non-torch memory (NCCL, custom all-reduce workspaces, cuBLAS) per GPU after the profile, by version and TP. */
export function nonTorchGib(version: string, tp: number): number {
  const m = minorOf(version);
  if (m >= 18) return tp > 1 ? 2.1 : 0.25;
  if (m >= 11) return tp > 1 ? 0.55 : 0.13;
  return 0.13;
}

/** Hidden-state bytes per (batched token × hidden) alive during the sampler pass (fit: 0.2 GiB at 8192 × 4096). */
export const HIDDEN_RESIDUAL_BYTES = 6.4;
/** Fused-MoE workspace (intermediate caches) at 8192 batched tokens, GiB; 0 for mxfp4 (gpt-oss) kernels. */
export const MOE_WORKSPACE_GIB = 0.4;

export interface ActivationInput {
  vocab: number;
  hidden: number;
  /** MLP width a token passes through (dense intermediate, or k routed + shared expert widths). */
  mlpWidth: number;
  tp: number;
  moe: boolean;
  /** mxfp4 MoE kernels need no fused-MoE workspace. */
  mxfp4?: boolean;
  maxNumSeqs: number;
  maxNumBatchedTokens: number;
  version: string;
}

/** The activation peak of vLLM's profile run, bytes. */
export function activationPeak(a: ActivationInput): { sampler: number; forward: number; moeWorkspace: number; peak: number } {
  // sampler: full-vocab logits for max_num_seqs rows (the LM head output is all-gathered: TP does not shrink it),
  // with the batch's hidden states still alive.
  const sampler = a.maxNumSeqs * a.vocab * samplerBeta(a.version) + a.maxNumBatchedTokens * a.hidden * HIDDEN_RESIDUAL_BYTES;
  // forward over max_num_batched_tokens: residual stream and the TP-sharded MLP in bf16.
  const forward = a.maxNumBatchedTokens * (3 * a.hidden + (3 * a.mlpWidth) / a.tp) * 2;
  const moeWorkspace = a.moe && !a.mxfp4 ? MOE_WORKSPACE_GIB * GIB : 0;
  return { sampler, forward, moeWorkspace, peak: Math.max(sampler, forward) + moeWorkspace };
}

/** Outside the budget: CUDA context (+NCCL at TP > 1), captured CUDA graphs, the sampler's preallocated fp32 logits and probabilities. */
export function outsideBudgetBytes(tp: number, maxNumSeqs: number, vocab: number): { cudaContext: number; cudaGraphs: number; samplerWarmup: number } {
  return { cudaContext: (tp > 1 ? 2.0 : 0.5) * GIB, cudaGraphs: 0.5 * GIB, samplerWarmup: maxNumSeqs * vocab * 8 };
}

/** vLLM's block size: 16 tokens (the measurements at 128 set it explicitly). */
export const VLLM_BLOCK_SIZE = 16;

/** Bytes of KV per token on one TP rank: MLA keeps one latent (replicated on every rank), others K and V per head. */
export function kvBytesPerTokenPerRank(arch: ModelArchitecture, tp: number, kvCacheDtype: KvCacheDtype = 'auto', version = DEFAULT_VLLM_VERSION): number {
  const bytes = kvCacheDtype === 'fp8' ? 1 : 2;
  if (arch.mla) {
    let perLayer = (arch.mla.kvLoraRank + arch.mla.qkRopeHeadDim) * bytes;
    if (minorOf(version) < 8) perLayer = Math.ceil(perLayer / 256) * 256; // V0 padded each layer's entry to 256 B
    return arch.layers * perLayer;
  }
  return 2 * arch.layers * kvHeadsPerGpu(arch, tp) * arch.headDim * bytes;
}

/** KV pool bytes → tokens, whole blocks only. */
export function kvTokens(kvBytes: number, bytesPerToken: number, blockSize = VLLM_BLOCK_SIZE): { blocks: number; tokens: number } {
  const blocks = Math.max(0, Math.floor(kvBytes / (blockSize * bytesPerToken)));
  return { blocks, tokens: blocks * blockSize };
}

export function kvHeadsPerGpu(arch: ModelArchitecture, tp: number): number {
  // KV heads are split over TP ranks; past the KV-head count each head is replicated.
  return Math.max(1, Math.ceil(arch.kvHeads / tp));
}

export function estimateInferenceMemory(input: InferenceMemoryInput): InferenceMemoryEstimate {
  const { arch, gpu, tp } = input;
  const version = input.vllmVersion && parseVllmVersion(input.vllmVersion) ? input.vllmVersion : DEFAULT_VLLM_VERSION;
  const kvCacheDtype = input.kvCacheDtype ?? 'auto';
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
  const maxNumBatchedTokens = input.maxNumBatchedTokens && input.maxNumBatchedTokens > 0 ? input.maxNumBatchedTokens : defaults.maxBatchedTokens;
  const moe = isMoe(arch);
  const mlpWidth = moe ? arch.expertsPerToken * arch.moeIntermediate + arch.sharedExperts * arch.moeIntermediate : arch.intermediate;
  const act = activationPeak({ vocab: arch.vocab, hidden: arch.hidden, mlpWidth, tp, moe, maxNumSeqs, maxNumBatchedTokens, version });
  const nonTorch = nonTorchGib(version, tp) * GIB;

  const total = gpu.memoryGib * GIB;
  const budget = input.gpuMemoryUtilization * total;
  const kvCache = Math.max(0, budget - weights - act.peak - nonTorch);
  const kvPerToken = kvBytesPerTokenPerRank(arch, tp, kvCacheDtype, version);
  const { blocks, tokens: kvTokensPerEngine } = kvTokens(kvCache, kvPerToken);
  const kvTokensPerReplica = kvTokensPerEngine * input.enginesPerReplica;
  const inflightPerReplica = input.replicas > 0 ? input.maxInflight / input.replicas : 0;
  const outside = outsideBudgetBytes(tp, maxNumSeqs, arch.vocab);
  const outsideTotal = outside.cudaContext + outside.cudaGraphs + outside.samplerWarmup;
  return {
    weightsGib: weights / GIB,
    overheadGib: (act.peak + nonTorch) / GIB,
    activation: { samplerGib: act.sampler / GIB, forwardGib: act.forward / GIB, moeWorkspaceGib: act.moeWorkspace / GIB, peakGib: act.peak / GIB },
    nonTorchGib: nonTorch / GIB,
    outsideBudget: {
      cudaContextGib: outside.cudaContext / GIB,
      cudaGraphsGib: outside.cudaGraphs / GIB,
      samplerWarmupGib: outside.samplerWarmup / GIB,
      totalGib: outsideTotal / GIB,
      headroomGib: (total - budget) / GIB,
    },
    kvCacheGib: kvCache / GIB,
    kvBytesPerTokenPerGpu: kvPerToken,
    blockSize: VLLM_BLOCK_SIZE,
    kvBlocksPerEngine: blocks,
    kvTokensPerEngine,
    kvTokensPerReplica,
    fullLengthSeqsPerReplica: Math.floor(kvTokensPerReplica / fullLengthTokens(arch, input.maxModelLen)),
    inflightPerReplica,
    inflightTokensPerReplica: inflightPerReplica * input.meanRolloutTokens,
    maxNumSeqs,
    maxNumBatchedTokens,
    kvCacheDtype,
    vllmVersion: version,
    budgetGib: budget / GIB,
  };
}

/**
 * KV-token equivalents one full-length sequence occupies. vLLM reports the pool in full-attention tokens; with
 * sliding-window layers (hybrid allocator) those layers keep only the window, so a sequence costs less.
 */
export function fullLengthTokens(arch: ModelArchitecture, maxModelLen: number): number {
  const sw = arch.slidingWindow;
  if (!sw || sw.layers <= 0 || sw.window >= maxModelLen) return maxModelLen;
  const full = arch.layers - sw.layers;
  return Math.ceil((full * maxModelLen + sw.layers * sw.window) / arch.layers);
}
