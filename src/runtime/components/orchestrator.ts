/** The orchestrator: a CPU process on the first trainer node (or the last inference node). */
import type { Spec } from '../../compiler/spec/schema.js';
import { COMMON_ENV_DEFAULTS, mergeEnv, RUNTIME, UV_RUN } from './common.js';

export const ORCHESTRATOR_CONFIG = 'configs/orchestrator.toml';

export function orchestratorCommand(opts: { inference: boolean; ncclBroadcast: boolean }): string[] {
  const cmd = [...UV_RUN, 'orchestrator', '@', ORCHESTRATOR_CONFIG];
  if (opts.inference) cmd.push('--model.client.base-url', RUNTIME.routerUrl, '--model.client.admin-base-url', RUNTIME.adminUrls);
  // prime-rl's localhost defaults hang multi-node runs: pass the real hosts (PR #3149).
  if (opts.ncclBroadcast) cmd.push('--weight_broadcast.host', RUNTIME.masterAddr);
  cmd.push('--rollout_transport.host', RUNTIME.orchestratorAddr);
  return cmd;
}

export function orchestratorEnv(spec: Spec): Record<string, string> {
  return mergeEnv(COMMON_ENV_DEFAULTS, spec.env, spec.orchestrator.env, { WANDB_SHARED_LABEL: 'orchestrator' });
}
