/**
 * One verifiers env server per environment. Unsandboxed ones run beside the orchestrator; sandboxed ones
 * (docker) on a fleet node next to its Docker, reached through `serve.address`.
 */
import type { EnvironmentSpec, Spec } from '../../compiler/spec/schema.js';
import { COMMON_ENV_DEFAULTS, mergeEnv, UV_RUN } from './common.js';

export function envServerName(env: EnvironmentSpec): string {
  return `env-${env.split}-${env.name}`;
}

export function envServerConfig(env: EnvironmentSpec): string {
  return `configs/envs/${env.split}/${env.name}.toml`;
}

export function envServerCommand(env: EnvironmentSpec): string[] {
  return [...UV_RUN, 'env-server', '@', envServerConfig(env)];
}

/** prime-rl gives env servers the orchestrator's env; sandboxed ones also get [sandboxes.env]. */
export function envServerEnv(spec: Spec, sandboxed: boolean): Record<string, string> {
  return mergeEnv(COMMON_ENV_DEFAULTS, spec.env, spec.orchestrator.env, sandboxed ? spec.sandboxes.env : {});
}
