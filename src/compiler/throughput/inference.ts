/**
 * One vLLM replica (tp GPUs per engine × the engines of an expert-parallel DP group) decoding a batch of B
 * sequences at mean context c̄. A decode step is bound by HBM bandwidth (reference §6.1):
 *
 *   t_dec(B, c̄) = t₀ + [W_head/tp + W_other/tp + φ(B)·W_experts/S_exp + (B/engines)·κ_rank·c̄] / (η·BW)
 *                     + (B/engines)·(2·A + F_att(c̄)) / (tp·P·μ_dec)
 *
 * W = served weight bytes (LM head bf16, the rest at the served dtype), φ(B) the expert coverage
 * (coverage.ts), S_exp the GPUs the experts are split over (tp, or tp × engines with expert parallel), κ_rank
 * the KV bytes per token on one rank (the memory model's accounting), t₀ the fixed cost of a step (scheduler
 * and sampling, plus two small collectives per layer at tp > 1 and an EP dispatch/combine per MoE layer).
 * Prefill is compute-bound: (2·A + F_att,causal(p)) per prompt token at μ_pre of the replica's peak. The batch
 * is capped by vLLM's max_num_seqs and by the KV pool at prime-rl's concurrency target.
 */
import type { GpuSpec } from '../catalog/gpus.js';
import type { ModelArchitecture } from '../catalog/models.js';
import { kvBytesPerTokenPerRank, vllmDefaults } from '../memory/inference.js';
import {
  COLLECTIVE_LATENCY_INTER_S,
  COLLECTIVE_LATENCY_INTRA_S,
  DECODE_BANDWIDTH_EFFICIENCY,
  DECODE_COMPUTE_EFFICIENCY,
  DECODE_STEP_FIXED_S,
  KV_USAGE_TARGET,
  PREFILL_COMPUTE_EFFICIENCY,
} from './constants.js';
import { expertCoverage } from './coverage.js';
import { attentionFlopsAtContext, causalAttentionFlopsPerToken, kvReadBytes, matmulParams, servedWeightBytes, type MatmulParams, type WeightBytes } from './shapes.js';
import type { InferenceThroughputInput } from './types.js';

export interface InferenceConstants {
  bandwidthEfficiency: number;
  stepFixedS: number;
  collectiveIntraS: number;
  collectiveInterS: number;
  decodeComputeEfficiency: number;
  prefillComputeEfficiency: number;
  kvUsage: number;
}

export const INFERENCE_CONSTANTS: InferenceConstants = {
  bandwidthEfficiency: DECODE_BANDWIDTH_EFFICIENCY,
  stepFixedS: DECODE_STEP_FIXED_S,
  collectiveIntraS: COLLECTIVE_LATENCY_INTRA_S,
  collectiveInterS: COLLECTIVE_LATENCY_INTER_S,
  decodeComputeEfficiency: DECODE_COMPUTE_EFFICIENCY,
  prefillComputeEfficiency: PREFILL_COMPUTE_EFFICIENCY,
  kvUsage: KV_USAGE_TARGET,
};

/** A replica as the model sees it. */
export interface Replica {
  arch: ModelArchitecture;
  gpu: GpuSpec;
  tp: number;
  engines: number;
  /** GPUs of the replica: tp × engines. */
  gpus: number;
  /** GPUs the routed experts are split over. */
  expertShards: number;
  /** Whether one engine (tp) or the replica (tp × engines) spans nodes. */
  tpAcrossNodes: boolean;
  replicaAcrossNodes: boolean;
  weights: WeightBytes;
  matmul: MatmulParams;
  kvBytesPerTokenPerRank: number;
  kvTokens: number;
  /** Sequences the replica schedules at once (max_num_seqs × engines). */
  maxSeqs: number;
  moeLayers: number;
}

export function replicaOf(arch: ModelArchitecture, inf: InferenceThroughputInput): Replica {
  const engines = Math.max(1, inf.enginesPerReplica);
  const tp = Math.max(1, inf.tp);
  const perEngine = inf.maxNumSeqs > 0 ? inf.maxNumSeqs : vllmDefaults(inf.gpu).maxNumSeqs;
  const moe = arch.experts > 0;
  return {
    arch,
    gpu: inf.gpu,
    tp,
    engines,
    gpus: tp * engines,
    expertShards: inf.expertParallel ? tp * engines : tp,
    tpAcrossNodes: tp > Math.max(1, inf.gpusPerNode),
    replicaAcrossNodes: tp * engines > Math.max(1, inf.gpusPerNode),
    weights: servedWeightBytes(arch, inf.weightsDtype),
    matmul: matmulParams(arch),
    kvBytesPerTokenPerRank: kvBytesPerTokenPerRank(arch, tp, inf.kvCacheDtype),
    kvTokens: inf.kvTokensPerReplica,
    maxSeqs: perEngine * engines,
    moeLayers: moe ? arch.layers - Math.min(arch.firstKDense, arch.layers) : 0,
  };
}

export interface DecodeStep {
  /** Sequences decoding in the replica. */
  batch: number;
  context: number;
  /** φ(B). */
  coverage: number;
  /** Bytes read per GPU per step: non-expert weights, routed experts hit, KV. */
  weightBytesPerGpu: number;
  expertBytesPerGpu: number;
  kvBytesPerGpu: number;
  bytesPerGpu: number;
  flopsPerGpu: number;
  fixedS: number;
  memoryS: number;
  computeS: number;
  /** t_dec. */
  totalS: number;
}

/** t₀: scheduler and sampling, two small collectives per layer at tp > 1, dispatch and combine per MoE layer across an EP group. */
export function decodeFixedS(rep: Replica, c: InferenceConstants = INFERENCE_CONSTANTS): number {
  const tpColl = rep.tp > 1 ? 2 * rep.arch.layers * (rep.tpAcrossNodes ? c.collectiveInterS : c.collectiveIntraS) : 0;
  const epColl = rep.engines > 1 && rep.expertShards > rep.tp ? 2 * rep.moeLayers * (rep.replicaAcrossNodes ? c.collectiveInterS : c.collectiveIntraS) : 0;
  return c.stepFixedS + tpColl + epColl;
}

export function decodeStep(rep: Replica, batch: number, context: number, c: InferenceConstants = INFERENCE_CONSTANTS): DecodeStep {
  const coverage = expertCoverage(batch, rep.arch.expertsPerToken, rep.arch.experts);
  const weightBytesPerGpu = (rep.weights.lmHead + rep.weights.otherNonExpert) / rep.tp;
  const expertBytesPerGpu = (coverage * rep.weights.routedExperts) / rep.expertShards;
  const perEngine = batch / rep.engines;
  const kvBytesPerGpu = perEngine * kvReadBytes(rep.arch, rep.kvBytesPerTokenPerRank, context);
  const bytesPerGpu = weightBytesPerGpu + expertBytesPerGpu + kvBytesPerGpu;
  const flopsPerGpu = (perEngine * (2 * rep.matmul.total + attentionFlopsAtContext(rep.arch, context))) / rep.tp;
  const fixedS = decodeFixedS(rep, c);
  const memoryS = bytesPerGpu / (c.bandwidthEfficiency * rep.gpu.bandwidthTBs * 1e12);
  const computeS = flopsPerGpu / (c.decodeComputeEfficiency * rep.gpu.bf16Tflops * 1e12);
  return { batch, context, coverage, weightBytesPerGpu, expertBytesPerGpu, kvBytesPerGpu, bytesPerGpu, flopsPerGpu, fixedS, memoryS, computeS, totalS: fixedS + memoryS + computeS };
}

/** Replica seconds to prefill one token of a prompt of `promptLen` tokens (compute-bound, all GPUs of the replica). */
export function prefillSecondsPerToken(rep: Replica, promptLen: number, c: InferenceConstants = INFERENCE_CONSTANTS): number {
  const flops = 2 * rep.matmul.total + causalAttentionFlopsPerToken(rep.arch, promptLen);
  return flops / (rep.gpus * rep.gpu.bf16Tflops * 1e12 * c.prefillComputeEfficiency);
}

export interface BatchCap {
  cap: number;
  byKv: number;
  bySeqs: number;
  bound: 'kv' | 'max_num_seqs';
}

/** Sequences a replica can decode at once: max_num_seqs × engines, and the KV pool at the concurrency target over the mean context. */
export function batchCap(rep: Replica, context: number, c: InferenceConstants = INFERENCE_CONSTANTS): BatchCap {
  const byKv = context > 0 ? (c.kvUsage * rep.kvTokens) / context : Infinity;
  const bySeqs = rep.maxSeqs;
  return byKv < bySeqs ? { cap: byKv, byKv, bySeqs, bound: 'kv' } : { cap: bySeqs, byKv, bySeqs, bound: 'max_num_seqs' };
}

/** What one episode asks of the GPUs. */
export interface EpisodeWork {
  /** Completion tokens decoded. */
  outputTokens: number;
  /** Prompt tokens prefilled (shared across a group through the prefix cache). */
  prefillTokens: number;
  /** Prompt length (the context a prefill token attends to). */
  promptTokens: number;
  /** Mean decode context c̄. */
  context: number;
}

export interface ReplicaRate {
  batch: number;
  decode: DecodeStep;
  /** Replica seconds of prefill per episode. */
  prefillS: number;
  /** Time an episode occupies the replica's batch: o·t_dec + B·prefill (Little's law inside the replica). */
  gpuLatencyS: number;
  episodesPerS: number;
  outputTokensPerS: number;
  outputTokensPerSPerGpu: number;
}

/**
 * The replica's rate at a mean batch B: in the time the batch emits o tokens per sequence (o·t_dec) the replica
 * also prefills B episodes' prompts (B·p_e·t_pf), so X_r = B / (o·t_dec(B) + B·p_e·t_pf).
 */
export function replicaRate(rep: Replica, batch: number, work: EpisodeWork, c: InferenceConstants = INFERENCE_CONSTANTS): ReplicaRate {
  const decode = decodeStep(rep, batch, work.context, c);
  const prefillS = work.prefillTokens * prefillSecondsPerToken(rep, work.promptTokens, c);
  const gpuLatencyS = work.outputTokens * decode.totalS + batch * prefillS;
  const episodesPerS = gpuLatencyS > 0 ? batch / gpuLatencyS : 0;
  const outputTokensPerS = episodesPerS * work.outputTokens;
  return { batch, decode, prefillS, gpuLatencyS, episodesPerS, outputTokensPerS, outputTokensPerSPerGpu: outputTokensPerS / rep.gpus };
}
