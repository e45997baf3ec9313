/**
 * One verifiers env server per environment. Unsandboxed ones run beside the orchestrator; sandboxed ones
 * (docker) on a fleet node next to its Docker, reached through `serve.address`.
 */
import type { Source } from '../../compiler/plan/sources.js';
import type { Spec } from '../../compiler/spec/schema.js';
import { COMMON_ENV_DEFAULTS, mergeEnv, RUNTIME, UV_RUN } from './common.js';

export function envServerName(source: Pick<Source, 'name' | 'split'>): string {
  return `env-${source.split}-${source.name}`;
}

export function envServerConfig(source: Pick<Source, 'name' | 'split'>): string {
  return `configs/envs/${source.split}/${source.name}.toml`;
}

export function envServerCommand(source: Pick<Source, 'name' | 'split'>): string[] {
  return [...UV_RUN, 'env-server', '@', `${RUNTIME.artifacts}/${envServerConfig(source)}`];
}

/** prime-rl gives env servers the orchestrator's env; sandboxed ones also get [sandboxes.env]. */
export function envServerEnv(spec: Spec, sandboxed: boolean): Record<string, string> {
  return mergeEnv(COMMON_ENV_DEFAULTS, spec.env, spec.orchestrator.env, sandboxed ? spec.sandboxes.env : {});
}
