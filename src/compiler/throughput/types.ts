/**
 * The throughput model's input and output: a plain object built from what the plan already knows (model
 * shape, GPUs, parallelism, batch, lengths, in-flight cap, KV capacity), and one RL step's time, each side's
 * busy share and the bottleneck, with every intermediate term and its unit. docs/throughput-model.md.
 */
import type { GpuSpec } from '../catalog/gpus.js';
import type { ModelArchitecture } from '../catalog/models.js';

/** prime-rl's trainer attention kernels (`model.attn`); 'auto' = FA4 on B200/B300, FA3 on Hopper, FA2 otherwise. */
export type AttentionImpl = 'auto' | 'flash_attention_2' | 'flash_attention_3' | 'flash_attention_4';

export interface TrainerThroughputInput {
  gpu: GpuSpec;
  /** Trainer GPUs (the world size). */
  gpus: number;
  gpusPerNode: number;
  dpReplicate: number;
  /** FSDP shard degree (world / dp_replicate / cp). */
  dpShard: number;
  ep: number;
  cp: number;
  cpStyle: 'ring' | 'ulysses';
  /** Packed micro-batch length (model.seq_len): samples longer than this are truncated. */
  seqLen: number;
  /** 0 = full fine-tune. */
  loraRank: number;
  ac: 'full' | 'selective' | 'none';
  activationOffload: boolean;
  optimizer: 'adamw' | 'muon' | 'sign_sgd';
  optimizerOffload: boolean;
  /** Default 'auto' (prime-rl 559b447's default). */
  attention?: AttentionImpl;
  /** The loss path: RL (fused LM head + importance-ratio loss, default) or SFT (calibration rows only). */
  loss?: 'rl' | 'sft';
}

export interface InferenceThroughputInput {
  gpu: GpuSpec;
  gpusPerNode: number;
  /** Independent vLLM servers behind the router. */
  replicas: number;
  /** GPUs per engine (tensor parallel). */
  tp: number;
  /** Engines of one replica: the expert-parallel DP group, else 1. */
  enginesPerReplica: number;
  expertParallel: boolean;
  weightsDtype: 'bf16' | 'fp8' | 'fp4';
  kvCacheDtype: 'auto' | 'fp8';
  /** KV-cache tokens a replica holds (the memory model's `kv_tokens_per_replica`). */
  kvTokensPerReplica: number;
  /** Sequences an engine schedules at once; 0 = vLLM's default for the GPU. */
  maxNumSeqs: number;
}

export interface RolloutThroughputInput {
  /** Rollouts (samples) per step. */
  batchSize: number;
  /** Rollouts per prompt; the group shares the prompt's prefill through vLLM's prefix cache. */
  groupSize: number;
  /** Episodes the orchestrator keeps in flight (`max_inflight`). */
  maxInflight: number;
  meanPromptTokens: number;
  /** Prompt + completion of a mean rollout (what the trainer trains on). */
  meanRolloutTokens: number;
  /** Prompt + completion of the longest rollout (`max_tokens`): the tail. */
  maxTokens: number;
  /** Coefficient of variation of the completion length; default 1 (exponential lengths). */
  outputLengthCv?: number;
  /** Environment time per episode outside the GPUs: tool calls, sandbox execution, judges (s). */
  envSeconds: number;
  /** Model turns per episode (each rejoins the engine's batch). */
  turns: number;
  /** prime-rl `max_off_policy_steps` (default 8); 0 = on-policy, i.e. synchronous. */
  maxOffPolicySteps: number;
  /** Batches the orchestrator may run ahead of the trainer (prime-rl's TARGET_LAG = 1); 0 = synchronous. */
  asyncLevel?: number;
}

export interface WeightsThroughputInput {
  transport: 'nccl' | 'filesystem';
  /** prime-rl `quantize_in_weight_transfer`: FP8 kernel-format NCCL transfer. */
  fp8Transfer?: boolean;
  /** Override the filesystem write/read bandwidth (GB/s, 10^9 B/s). */
  filesystemGBps?: number;
  /** Trainer and inference split one node (the broadcast stays on NVLink); default: when all their GPUs fit one node. */
  sameNode?: boolean;
}

/** Per-GPU collective bandwidths (GB/s = 10^9 B/s); defaults by GPU (hardware.ts). */
export interface NetworkThroughputInput {
  trainerIntraNodeGBps?: number;
  inferenceIntraNodeGBps?: number;
  /** One NIC per GPU (400 Gb/s NDR ≈ 46 GB/s achievable). */
  interNodeGBps?: number;
}

export interface ThroughputInput {
  arch: ModelArchitecture;
  trainer: TrainerThroughputInput;
  /** null: a trainer-only run (no inference pool). */
  inference: InferenceThroughputInput | null;
  rollouts: RolloutThroughputInput;
  weights: WeightsThroughputInput;
  network?: NetworkThroughputInput;
}

export type Bottleneck = 'inference' | 'trainer' | 'weight_transfer' | 'environment';

/** One intermediate quantity: its value, unit and what it is. */
export interface Term {
  value: number;
  unit: string;
  what: string;
}

export type Terms = Record<string, Term>;

export interface Throughput {
  /** Wall time of one RL step at steady state. */
  step_time_s: number;
  /** Time the inference pool needs to produce one step's rollouts at the in-flight cap (Little's law), without pauses. */
  generation_s: number;
  /** Trainer compute time of one step (forward, backward, exposed communication, optimizer). */
  trainer_s: number;
  /** Weight transfer per step: what it blocks the trainer for. */
  weight_transfer_s: number;
  /** Share of the step the pool's saturated capacity is needed for: (step's rollouts at the KV/max_num_seqs-limited batch) / step. */
  inference_busy: number;
  /** trainer_s / step_time_s. */
  trainer_busy: number;
  bottleneck: Bottleneck;
  samples_per_s: number;
  /** Trained tokens (prompt + completion) per second. */
  tokens_per_s: number;
  terms: { inference: Terms; trainer: Terms; weight_transfer: Terms; loop: Terms };
}

export function term(value: number, unit: string, what: string): Term {
  return { value, unit, what };
}
