/**
 * Every constant of the throughput model, with where it comes from. "fitted" = calibrated on the measured
 * prime-rl trainer runs (calibration.ts; the test holds the constants to that fit); "reference" = taken
 * from /work/shared/reference/throughput.md (its anchor ids in brackets); "prime-rl" = a value in prime-rl's
 * source at 559b447 (path:line); "assumption" = an order-of-magnitude choice with no measurement behind it,
 * named as such in docs/throughput-model.md.
 */

// ------------------------------------------------------------------------------------------------ trainer

/**
 * Trainer time per token on one GPU (trainer.ts):
 *
 *   t = [X_mm·A_dense / e_mm + X_mm·A_expert / e_expert + X_att·F_att / e_att] / P
 *     + [c_layer·L·h + c_vocab·V (RL loss) + c_lora·L·h (LoRA)] / BW,   ÷ offload with activation offload
 *
 * fitted (Nelder–Mead on Σ|log error| over the 34 successful non-B200 runs of calibration-benchmarks.json).
 */
export interface TrainerConstants {
  /** Share of the bf16 peak the dense GEMMs reach (attention projections, dense/shared MLP, router, LM head). */
  eMatmul: number;
  /** Share of the bf16 peak the routed-expert grouped GEMMs reach. */
  eExpert: number;
  /** Share of the bf16 peak the attention kernel reaches, by kernel and GPU generation. */
  eAttention: { fa3: number; fa2Ampere: number; fa2Other: number };
  /** Bytes moved per token per (layer × hidden) outside GEMMs and attention: norms, activations, RoPE, residuals, casts. */
  cLayer: number;
  /** Bytes per token per vocabulary entry of the RL loss path (fused chunked LM head, log-probs, entropy). */
  cVocabRl: number;
  /** Extra bytes per token per (layer × hidden) with LoRA adapters. */
  cLora: number;
  /** Throughput multiplier of activation offload (copies to host overlap with compute). */
  offload: number;
}

export const TRAINER_CONSTANTS: TrainerConstants = {
  eMatmul: 0.794,
  eExpert: 0.133,
  eAttention: { fa3: 0.6, fa2Ampere: 0.871, fa2Other: 0.326 },
  cLayer: 2192,
  cVocabRl: 440,
  cLora: 749,
  offload: 0.982,
};

/** fitted on the filesystem broadcasts the full-fine-tune runs log (throughput ÷ step time gap, reference D9: 1.5–1.75 GB/s). */
export const FILESYSTEM_BYTES_PER_S = 1.6e9;

// ------------------------------------------------------------------------------------------------ inference

/** reference §6.1: η_eff ≈ 0.5 for GQA MoE on Hopper under vLLM (anchors A1 0.36–0.59, A7 0.25–0.4); share of HBM bandwidth a decode step reaches. */
export const DECODE_BANDWIDTH_EFFICIENCY = 0.5;
/** assumption: scheduler, sampling and CUDA-graph launch per decode step (reference §6.1: t₀ ≈ 5–10 ms at TP 8 with the collectives below). */
export const DECODE_STEP_FIXED_S = 0.002;
/** assumption: one small-message collective inside a node (TP all-reduce, EP dispatch); nccl-tests latency order. Two per layer at TP > 1. */
export const COLLECTIVE_LATENCY_INTRA_S = 40e-6;
/** assumption: one small-message collective across nodes (multi-node expert-parallel replicas). */
export const COLLECTIVE_LATENCY_INTER_S = 100e-6;
/** assumption: share of the bf16 peak the decode GEMMs and attention reach when a decode step turns compute-bound. */
export const DECODE_COMPUTE_EFFICIENCY = 0.5;
/** reference §6.4: μ_pre ≈ 0.3–0.5 for prefill. */
export const PREFILL_COMPUTE_EFFICIENCY = 0.4;
/** prime-rl src/prime_rl/orchestrator/concurrency.py:59 KV_USAGE_TARGET: the concurrency controller trims in-flight work to this KV share. */
export const KV_USAGE_TARGET = 0.7;
/** assumption: an HTTP round trip between the env server and the router per model turn. */
export const TURN_ROUND_TRIP_S = 0.01;

// ------------------------------------------------------------------------------------------------ loop

/** prime-rl src/prime_rl/orchestrator/orchestrator.py:104 TARGET_LAG: batches the orchestrator may run ahead of the trainer. */
export const PRIME_RL_TARGET_LAG = 1;
/** prime-rl packages/prime-rl-configs/src/prime_rl/configs/orchestrator.py:532 max_off_policy_steps default. */
export const PRIME_RL_MAX_OFF_POLICY_STEPS = 8;
/** reference §6.2: exponential completion lengths (c̄ = p̄ + m) — the KV sizing of the memory model uses the same mean rollout. */
export const DEFAULT_OUTPUT_LENGTH_CV = 1;

// ------------------------------------------------------------------------------------------------ weight transfer

/** NCCL's ring step: NCCL_BUFFSIZE 4 MiB over NCCL_STEPS 8 slices (NCCL defaults); a pipelined broadcast fills one per hop. */
export const NCCL_CHUNK_BYTES = 512 * 1024;
/** assumption: per-hop latency of a pipelined NCCL ring step across nodes. */
export const NCCL_HOP_LATENCY_S = 5e-6;
/** prime-rl nccl.py: per layer one metadata size, one pickled metadata and one tensor broadcast per dtype. */
export const NCCL_CALLS_PER_LAYER = 3;
/** assumption: share of HBM bandwidth vLLM's in-place weight load reaches. */
export const WEIGHT_LOAD_EFFICIENCY = 0.5;
/** assumption: orchestrator polling (STABLE / NCCL_READY markers every 0.1 s), engine pause and resume per update. */
export const WEIGHT_UPDATE_CONTROL_S = 0.5;

// ------------------------------------------------------------------------------------------------ optimizer

/** assumption: PCIe host↔device bandwidth per GPU for optimizer offload (Gen5 x16 ≈ 50 GB/s peak, half reached). */
export const PCIE_BYTES_PER_S = 25e9;
/** assumption: host memory bandwidth per trainer rank for the CPU optimizer step (8 ranks sharing a socket pair). */
export const HOST_OPTIMIZER_BYTES_PER_S = 20e9;
/** assumption: Newton–Schulz iterations per Muon step (5, the reference Muon implementation's ns_steps). */
export const MUON_NS_ITERATIONS = 5;
