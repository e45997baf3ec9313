/** The orchestrator: a CPU process on the first trainer node (or the last inference node). */
import type { Spec } from '../../compiler/spec/schema.js';
import { COMMON_ENV_DEFAULTS, hostOf, mergeEnv, RUNTIME, UV_RUN } from './common.js';

/** Path of the config within the compiled artifacts. */
export const ORCHESTRATOR_CONFIG = 'configs/orchestrator.toml';
/**
 * The env-server sources with the addresses of env servers on other nodes, as a second root `@` file:
 * pydantic-config deep-merges root files in order and replaces lists whole, while an indexed flag
 * (`--train.source.1.serve.address`) is no list syntax and replaces the TOML list with a dict. The file
 * holds `${RLSTACK_HOST:N}` words that node.sh resolves into the attempt's state dir.
 */
export const ORCHESTRATOR_SOURCES = 'configs/orchestrator-sources.json';

export interface OrchestratorWiring {
  /** Router node and port; absent in a trainer-only run. */
  router?: { node: number; port: number };
  /** Every engine (node, port): admin calls bypass the router. */
  engines: readonly { node: number; port: number }[];
  /** Trainer rank 0's node when weights travel over NCCL. */
  ncclMasterNode?: number;
  /** Env servers run on other nodes: the sources file carries their addresses. */
  remoteEnvServers: boolean;
}

export function orchestratorCommand(wiring: OrchestratorWiring): string[] {
  const cmd = [...UV_RUN, 'orchestrator', '@', `${RUNTIME.artifacts}/${ORCHESTRATOR_CONFIG}`];
  if (wiring.remoteEnvServers) cmd.push('@', `${RUNTIME.rendered}/${ORCHESTRATOR_SOURCES}`);
  cmd.push('--output-dir', RUNTIME.runDir);
  if (wiring.router) {
    cmd.push('--model.client.base-url', `http://${hostOf(wiring.router.node)}:${wiring.router.port}/v1`);
    cmd.push('--model.client.admin-base-url', ...wiring.engines.map((e) => `http://${hostOf(e.node)}:${e.port}/v1`));
  }
  // prime-rl's localhost defaults hang multi-node runs: pass the real hosts (PR #3149). The orchestrator
  // binds the rollout transport, so it gets the wildcard; trainers get its host.
  if (wiring.ncclMasterNode !== undefined) cmd.push('--weight_broadcast.host', hostOf(wiring.ncclMasterNode));
  cmd.push('--rollout_transport.host', '0.0.0.0');
  return cmd;
}

export function orchestratorEnv(spec: Spec): Record<string, string> {
  return mergeEnv(COMMON_ENV_DEFAULTS, spec.env, spec.orchestrator.env, { WANDB_SHARED_LABEL: 'orchestrator' });
}
