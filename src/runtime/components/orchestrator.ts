/** The orchestrator: a CPU process on the first trainer node (or the last inference node). */
import type { Spec } from '../../compiler/spec/schema.js';
import { COMMON_ENV_DEFAULTS, hostOf, mergeEnv, RUNTIME, UV_RUN } from './common.js';

/** Path of the config within the compiled artifacts. */
export const ORCHESTRATOR_CONFIG = 'configs/orchestrator.toml';

export interface OrchestratorWiring {
  /** Router node and port; absent in a trainer-only run. */
  router?: { node: number; port: number };
  /** Every engine (node, port): admin calls bypass the router. */
  engines: readonly { node: number; port: number }[];
  /** Trainer rank 0's node when weights travel over NCCL. */
  ncclMasterNode?: number;
  /** Env servers, in source order per split, that run on another node than the orchestrator. */
  remoteEnvServers: readonly EnvServerAddress[];
}

export interface EnvServerAddress {
  split: 'train' | 'eval';
  /** Position of the source within its split's list (`train.source.<j>`). */
  sourceIndex: number;
  node: number;
  port: number;
}

/** `--<split>.source.<j>.serve.address tcp://<host>:<port>` for an env server on another node (the sandbox fleet). */
export function envServerAddressOverride(e: EnvServerAddress): [string, string] {
  return [`--${e.split}.source.${e.sourceIndex}.serve.address`, `tcp://${hostOf(e.node)}:${e.port}`];
}

export function orchestratorCommand(wiring: OrchestratorWiring): string[] {
  const cmd = [...UV_RUN, 'orchestrator', '@', `${RUNTIME.artifacts}/${ORCHESTRATOR_CONFIG}`, '--output-dir', RUNTIME.runDir];
  if (wiring.router) {
    cmd.push('--model.client.base-url', `http://${hostOf(wiring.router.node)}:${wiring.router.port}/v1`);
    cmd.push('--model.client.admin-base-url', ...wiring.engines.map((e) => `http://${hostOf(e.node)}:${e.port}/v1`));
  }
  // prime-rl's localhost defaults hang multi-node runs: pass the real hosts (PR #3149). The orchestrator
  // binds the rollout transport, so it gets the wildcard; trainers get its host.
  if (wiring.ncclMasterNode !== undefined) cmd.push('--weight_broadcast.host', hostOf(wiring.ncclMasterNode));
  cmd.push('--rollout_transport.host', '0.0.0.0');
  for (const e of wiring.remoteEnvServers) cmd.push(...envServerAddressOverride(e));
  return cmd;
}

export function orchestratorEnv(spec: Spec): Record<string, string> {
  return mergeEnv(COMMON_ENV_DEFAULTS, spec.env, spec.orchestrator.env, { WANDB_SHARED_LABEL: 'orchestrator' });
}
