/** The FSDP2 trainer: one torchrun per trainer node, rendezvous at the first trainer node. */
import type { Spec } from '../../compiler/spec/schema.js';
import { COMMON_ENV_DEFAULTS, mergeEnv, RUNTIME, UV_RUN } from './common.js';

export const TRAINER_CONFIG = 'configs/trainer.toml';

export interface TrainerRank {
  nodes: number;
  gpusPerNode: number;
  nodeRank: number;
  rendezvousPort: number;
  /** The orchestrator binds the ZMQ rollout transport; trainers connect to its host. */
  zmqRollouts: boolean;
}

export function trainerCommand(rank: TrainerRank): string[] {
  return [
    ...UV_RUN, 'torchrun',
    '--role=trainer',
    `--nnodes=${rank.nodes}`,
    `--nproc-per-node=${rank.gpusPerNode}`,
    `--node-rank=${rank.nodeRank}`,
    `--rdzv-endpoint=${RUNTIME.masterAddr}:${rank.rendezvousPort}`,
    `--rdzv-id=${RUNTIME.runId}`,
    `--log-dir=${RUNTIME.logDir}/trainer/torchrun`,
    '--tee=3',
    '--redirects=3',
    '--local-ranks-filter=0',
    '-m', 'prime_rl.trainer.rl.train',
    '@', TRAINER_CONFIG,
    ...(rank.zmqRollouts ? ['--rollout_transport.host', RUNTIME.orchestratorAddr] : []),
  ];
}

export function trainerEnv(spec: Spec, gpus: readonly number[]): Record<string, string> {
  return mergeEnv(
    COMMON_ENV_DEFAULTS,
    { PYTORCH_CUDA_ALLOC_CONF: 'expandable_segments:True' },
    spec.env,
    spec.trainer.env,
    { CUDA_VISIBLE_DEVICES: gpus.join(','), WANDB_SHARED_LABEL: 'trainer' },
  );
}
