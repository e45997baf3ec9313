/**
 * Trainer GPU memory: the peak `torch.cuda.max_memory_reserved()` of the busiest rank, built from what
 * prime-rl's FSDP2 trainer keeps and allocates (docs/memory-model.md derives every term):
 *
 *   persistent  fp32 master shards, fp32 gradient shards, optimizer state shards (unless offloaded)
 *   gathered    bf16 all-gathered layer (+ the prefetched next one), its bf16 and fp32 gradients
 *   activations checkpointed layer inputs kept on the GPU (all layers, or the in-flight ones when offloaded)
 *   working     one layer's recomputed activations and their gradients during backward
 *   logits      the fused LM head's fp32 chunk (or the whole [tokens, vocab] logits when unchunked)
 *   buffers     MoE dispatch / all-to-all buffers and NCCL staging
 *   reserve     what the caching allocator holds beyond live tensors (fragmentation)
 *
 * Physics first: every term is a shape times a dtype size. Two constants are calibrated against measured
 * prime-rl runs (calibration.ts) and apply to every model alike.
 */
import { countParameters, isMoe, layerParameters, type ModelArchitecture } from '../catalog/models.js';

export const GIB = 1024 ** 3;

export type AcMode = 'full' | 'selective' | 'none';
export type OptimizerType = 'adamw' | 'muon' | 'sign_sgd';

export interface TrainerMemoryInput {
  arch: ModelArchitecture;
  /** FSDP shard group: dp_shard × cp GPUs hold one copy of the sharded state. */
  dpShard: number;
  cp: number;
  ep: number;
  seqLen: number;
  loraRank: number;
  ac: AcMode;
  /** Activations kept on the GPU with activation offload; 0 = no offload. */
  offloadInflight: number;
  optimizer: OptimizerType;
  optimizerOffload: boolean;
  /** Fused LM-head token chunk; 0 = unchunked logits. */
  lmHeadChunk: number;
  /** FSDP all-gather prefetch depth (FSDP2 prefetches one layer). */
  prefetch?: number;
  /** LoRA adapters trained side by side (prime-rl multi-run LoRA; its benchmarks ran 4). */
  loraAdapters?: number;
  /** The calibrated constants; default WORKING_FACTOR / ALLOCATOR_RESERVE (leave-one-group-out refits them). */
  constants?: TrainerConstants;
}

export interface TrainerConstants {
  workingFactor: number;
  allocatorReserve: number;
}

export interface TrainerMemoryBreakdown {
  params: number;
  grads: number;
  optimizer: number;
  gathered: number;
  activations: number;
  working: number;
  logits: number;
  buffers: number;
  reserve: number;
}

export interface TrainerMemoryEstimate {
  peakGib: number;
  breakdownGib: TrainerMemoryBreakdown;
  /** Which phase sets the peak: a layer's backward, or the LM head. */
  peakPhase: 'layer backward' | 'lm head';
  /** Optimizer state (and master weights with offload) that lives in host memory, per GPU. */
  hostOptimizerGib: number;
  /** Pinned host buffers of offloaded activations, per GPU. */
  hostActivationsGib: number;
}

/**
 * Calibrated constants (see calibration.ts and docs/memory-model.md): `WORKING_FACTOR` scales the one-layer
 * backward working set for what the shapes alone miss (autograd temporaries, compile buffers, attention
 * kernels' scratch); `ALLOCATOR_RESERVE` is the caching allocator's overhead on everything that is
 * allocated and freed during a step.
 */
export const WORKING_FACTOR = 0.75;
export const ALLOCATOR_RESERVE = 0.24;
/** Bytes per (token × vocab) entry of unchunked logits in the loss' backward (see `logits` below). */
export const UNCHUNKED_LOGITS_BYTES = 16;

const BF16 = 2;
const FP32 = 4;

export function estimateTrainerMemory(input: TrainerMemoryInput): TrainerMemoryEstimate {
  const { arch, cp, ep } = input;
  const shardGroup = input.dpShard * cp;
  const counts = countParameters(arch);
  const layers = layerParameters(arch);
  const moe = isMoe(arch);
  const lora = input.loraRank > 0;
  const tokens = input.seqLen / cp;

  // --- persistent state, sharded over the FSDP group -------------------------------------------------
  const total = counts.total;
  const adapters = lora ? loraParameters(arch, input.loraRank) * (input.loraAdapters ?? 1) : 0;
  const trainable = lora ? adapters : total;
  const params = (total * FP32 + adapters * FP32) / shardGroup;
  const grads = (trainable * FP32) / shardGroup;
  const optimizerBytes = optimizerStateBytes(arch, input.optimizer, lora, adapters) / shardGroup;
  const optimizer = input.optimizerOffload ? 0 : optimizerBytes;

  // --- the gathered layer: bf16 params of the current + prefetched unit; in backward its bf16 gradient
  // and the fp32 copy reduce-scattered (reduce_dtype = fp32). Experts are split over EP ranks first.
  const prefetch = input.prefetch ?? 1;
  const moeUnit = layers.attention + layers.norms + layers.router + layers.sharedExperts + layers.routedExperts / ep;
  const denseUnit = layers.attention + layers.norms + layers.denseMlp;
  const unit = moe && layers.moeLayers > 0 ? Math.max(moeUnit, layers.denseLayers ? denseUnit : 0) : denseUnit;
  const gradBytesPerParam = lora ? 0 : BF16 + FP32;
  const gatheredLayer = unit * ((1 + prefetch) * BF16 + gradBytesPerParam);
  const headParams = arch.vocab * arch.hidden;
  const gatheredHead = headParams * ((1 + prefetch) * BF16 + gradBytesPerParam);

  // --- activations: full AC keeps each layer's input; selective keeps most of a layer; none keeps all.
  const layerInput = tokens * arch.hidden * BF16;
  const perLayerFull = layerActivationBytes(arch, tokens, ep);
  const perLayerStored = input.ac === 'full' ? layerInput : input.ac === 'selective' ? perLayerFull * 0.85 : perLayerFull;
  const layersOnGpu = input.offloadInflight > 0 ? Math.min(arch.layers, input.offloadInflight) : arch.layers;
  const activations = perLayerStored * layersOnGpu;
  const offloadedLayers = arch.layers - layersOnGpu;

  // --- one layer in backward: its recomputed activations and their gradients.
  const constants = input.constants ?? { workingFactor: WORKING_FACTOR, allocatorReserve: ALLOCATOR_RESERVE };
  const working = (input.ac === 'none' ? perLayerFull : 2 * perLayerFull) * constants.workingFactor;

  // --- logits: the fused LM head computes one fp32 chunk and turns it into its own gradient in place;
  // unchunked, the bf16 projection, its fp32 copy and the fp32 gradient all exist at once.
  // Unchunked (the SFT loss): bf16 logits (2), their fp32 copy (4), the fp32 log-probabilities autograd keeps
  // (4), and in backward the fp32 gradient (4) and its bf16 cast (2) — 16 bytes per (token × vocab) entry; the
  // OOM row of the calibration file fails allocating exactly one fp32 [tokens, vocab] tensor (37.09 GiB).
  const logits = input.lmHeadChunk > 0 ? Math.min(input.lmHeadChunk, tokens) * arch.vocab * FP32 : tokens * arch.vocab * UNCHUNKED_LOGITS_BYTES;

  // --- buffers: MoE token dispatch (send + receive of k copies of every token) and NCCL staging.
  const dispatch = moe ? 2 * tokens * arch.expertsPerToken * arch.hidden * BF16 : 0;
  const nccl = shardGroup > 1 ? 0.25 * GIB : 0;
  // FSDP2 does not reshard the root module (embedding, and the LM head when it is not a unit of its own)
  // after forward when it is sharded: its bf16 copy stays gathered through every layer's backward.
  const rootGathered = shardGroup > 1 ? headParams * BF16 * (arch.tiedEmbeddings ? 1 : 2) : 0;
  const buffers = dispatch + nccl + rootGathered;

  const persistent = params + grads + optimizer;
  const layerPhase = activations + gatheredLayer + working + buffers;
  const headPhase = activations + gatheredHead + logits + layerInput + nccl;
  const transient = Math.max(layerPhase, headPhase);
  // The allocator's overhead is on the many mid-size blocks of a step; one huge [tokens, vocab] block is
  // rounded to 2 MiB and adds nothing (the LM-head phase's logits are left out of the reserve).
  const reserve = (headPhase > layerPhase ? transient - logits : transient) * constants.allocatorReserve;
  const peak = persistent + transient + reserve;

  const phaseIsHead = headPhase > layerPhase;
  const breakdown: TrainerMemoryBreakdown = {
    params,
    grads,
    optimizer,
    gathered: phaseIsHead ? gatheredHead : gatheredLayer,
    activations,
    working: phaseIsHead ? layerInput : working,
    logits: phaseIsHead ? logits : 0,
    buffers: phaseIsHead ? nccl : buffers,
    reserve,
  };
  return {
    peakGib: peak / GIB,
    breakdownGib: toGib(breakdown),
    peakPhase: phaseIsHead ? 'lm head' : 'layer backward',
    hostOptimizerGib: input.optimizerOffload ? optimizerBytes / GIB : 0,
    hostActivationsGib: input.offloadInflight > 0 ? (offloadedLayers * perLayerStored) / GIB : 0,
  };
}

/** Bytes of optimizer state for the whole model (before sharding). */
function optimizerStateBytes(arch: ModelArchitecture, type: OptimizerType, lora: boolean, adapters: number): number {
  if (lora) return type === 'sign_sgd' ? 0 : adapters * 2 * FP32;
  const counts = countParameters(arch);
  if (type === 'sign_sgd') return 0;
  if (type === 'adamw') return counts.total * 2 * FP32;
  // Muon: one momentum buffer per matrix; embeddings, LM head and 1-D params keep AdamW's two.
  const adamParams = counts.embedding + counts.lmHead + oneDimensionalParams(arch);
  return (counts.total - adamParams) * FP32 + adamParams * 2 * FP32;
}

function oneDimensionalParams(arch: ModelArchitecture): number {
  return arch.layers * 2 * arch.hidden + arch.hidden;
}

/** LoRA adapters on every attention and MLP projection: rank × (in + out) each. */
function loraParameters(arch: ModelArchitecture, rank: number): number {
  const l = layerParameters(arch);
  const attention = rank * (arch.hidden + arch.heads * arch.headDim) * 2 + rank * (arch.hidden + arch.kvHeads * arch.headDim) * 2;
  const mlp = (intermediate: number, count: number) => count * 3 * rank * (arch.hidden + intermediate);
  const experts = isMoe(arch) ? mlp(arch.moeIntermediate, arch.experts + arch.sharedExperts) : 0;
  return arch.layers * attention + l.denseLayers * mlp(arch.intermediate, 1) + l.moeLayers * experts;
}

/**
 * Everything one layer's forward keeps for backward, for `tokens` tokens on this rank (bf16): the normed
 * inputs, q/k/v and the attention output (flash attention keeps no score matrix), the MLP's gate, up and
 * activated product — for MoE each token's k routed copies plus the shared experts — and the outputs.
 */
export function layerActivationBytes(arch: ModelArchitecture, tokens: number, ep: number): number {
  const attention = 2 * arch.heads * arch.headDim + 2 * arch.kvHeads * arch.headDim;
  const moe = isMoe(arch);
  const mlpWidth = moe ? arch.expertsPerToken * arch.moeIntermediate + arch.sharedExperts * arch.moeIntermediate : arch.intermediate;
  const routed = moe ? 2 * arch.expertsPerToken * arch.hidden : 0;
  void ep; // tokens are exchanged, not dropped: EP does not change the per-rank activation volume.
  return tokens * BF16 * (4 * arch.hidden + attention + 3 * mlpWidth + routed);
}

function toGib(b: TrainerMemoryBreakdown): TrainerMemoryBreakdown {
  return Object.fromEntries(Object.entries(b).map(([k, v]) => [k, v / GIB])) as unknown as TrainerMemoryBreakdown;
}
