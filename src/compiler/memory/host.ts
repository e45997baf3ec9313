/**
 * Host RAM per trainer node and disk of the run dir. Host RAM: every rank's process, the optimizer state and
 * pinned activation buffers it offloads, and — on the node that hosts them — the orchestrator and the env
 * servers. Disk: checkpoints kept, filesystem weight broadcasts, and the model cache.
 */
import { countParameters } from '../catalog/models.js';
import type { ModelArchitecture } from '../catalog/models.js';
import type { OptimizerType } from './trainer.js';
import { GIB } from './trainer.js';

/** Resident memory of one trainer rank without offloads: Python, torch, CUDA and NCCL host buffers. */
export const RANK_BASE_GIB = 6;
/** The orchestrator process (tokenizer, rollout buffers, ZMQ queues). */
export const ORCHESTRATOR_GIB = 8;
/** One env server with its worker pool. */
export const ENV_SERVER_GIB = 4;

export interface HostMemoryInput {
  ranksPerNode: number;
  hostOptimizerGibPerRank: number;
  hostActivationsGibPerRank: number;
  orchestratorHere: boolean;
  envServersHere: number;
}

export interface HostMemoryEstimate {
  totalGib: number;
  ranksGib: number;
  optimizerGib: number;
  activationsGib: number;
  orchestratorGib: number;
}

export function estimateHostMemory(input: HostMemoryInput): HostMemoryEstimate {
  const ranks = input.ranksPerNode * RANK_BASE_GIB;
  const optimizer = input.ranksPerNode * input.hostOptimizerGibPerRank;
  const activations = input.ranksPerNode * input.hostActivationsGibPerRank;
  const orchestrator = (input.orchestratorHere ? ORCHESTRATOR_GIB : 0) + input.envServersHere * ENV_SERVER_GIB;
  return { totalGib: ranks + optimizer + activations + orchestrator, ranksGib: ranks, optimizerGib: optimizer, activationsGib: activations, orchestratorGib: orchestrator };
}

export interface DiskInput {
  arch: ModelArchitecture;
  servedArchSameAsTrained: boolean;
  loraRank: number;
  optimizer: OptimizerType;
  checkpointInterval: number;
  keep: number;
  keepInterval: number;
  maxSteps: number;
  filesystemBroadcast: boolean;
  maxOffPolicySteps: number;
  servedWeightsDtype: 'bf16' | 'fp8';
}

export interface DiskEstimate {
  runDirGib: number;
  checkpointGib: number;
  checkpointsKept: number;
  broadcastsGib: number;
  modelCacheGib: number;
}

export function estimateDisk(input: DiskInput): DiskEstimate {
  const params = countParameters(input.arch).total;
  const stateBytesPerParam = input.optimizer === 'adamw' ? 8 : input.optimizer === 'muon' ? 4 : 0;
  // A trainer checkpoint is the fp32 master weights plus the optimizer state (LoRA: the adapter only).
  const adapterFraction = input.loraRank > 0 ? 0.01 : 1;
  const checkpoint = params * adapterFraction * (4 + stateBytesPerParam);
  const kept =
    input.checkpointInterval > 0
      ? Math.min(input.keep, Math.floor(input.maxSteps / input.checkpointInterval)) + (input.keepInterval > 0 ? Math.floor(input.maxSteps / input.keepInterval) : 0)
      : 0;
  // Filesystem broadcasts: one bf16 copy per policy version the engines may still be loading.
  const broadcasts = input.filesystemBroadcast ? params * adapterFraction * 2 * Math.min(input.maxOffPolicySteps + 1, 3) : 0;
  const modelCache = params * 2 + (input.servedArchSameAsTrained && input.servedWeightsDtype === 'bf16' ? 0 : params * 1);
  const runDir = checkpoint * kept + broadcasts + modelCache;
  return { runDirGib: runDir / GIB, checkpointGib: checkpoint / GIB, checkpointsKept: kept, broadcastsGib: broadcasts / GIB, modelCacheGib: modelCache / GIB };
}
