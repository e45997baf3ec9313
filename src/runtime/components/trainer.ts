/** The FSDP2 trainer: one torchrun per trainer node, rendezvous at the first trainer node. */
import type { Spec } from '../../compiler/spec/schema.js';
import { COMMON_ENV_DEFAULTS, hostOf, mergeEnv, RUNTIME, UV_RUN } from './common.js';

/** Path of the config within the compiled artifacts. */
export const TRAINER_CONFIG = 'configs/trainer.toml';

export interface TrainerRank {
  nodes: number;
  gpusPerNode: number;
  nodeRank: number;
  rendezvousPort: number;
  /** Node of trainer rank 0: the rendezvous endpoint. */
  masterNode: number;
  /** Node of the orchestrator, which binds the ZMQ rollout transport; trainers connect to its host. */
  orchestratorNode: number;
}

export function trainerCommand(rank: TrainerRank): string[] {
  return [
    ...UV_RUN, 'torchrun',
    '--role=trainer',
    `--nnodes=${rank.nodes}`,
    `--nproc-per-node=${rank.gpusPerNode}`,
    `--node-rank=${rank.nodeRank}`,
    `--rdzv-endpoint=${hostOf(rank.masterNode)}:${rank.rendezvousPort}`,
    `--rdzv-id=${RUNTIME.runId}`,
    `--log-dir=${RUNTIME.logDir}/trainer/torchrun`,
    '--tee=3',
    '--redirects=3',
    '--local-ranks-filter=0',
    '-m', 'prime_rl.trainer.rl.train',
    '@', `${RUNTIME.artifacts}/${TRAINER_CONFIG}`,
    // the run dir's absolute path is only known on the node (output_dir may be relative in the spec)
    '--output-dir', RUNTIME.runDir,
    '--rollout_transport.host', hostOf(rank.orchestratorNode),
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
