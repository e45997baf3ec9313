/** The single global vllm-router in front of every engine (prime-rl `launch_router`). */
import type { Spec } from '../../compiler/spec/schema.js';
import { COMMON_ENV_DEFAULTS, hostOf, mergeEnv, UV_RUN } from './common.js';

/** `engines`: node and port of every engine the router fronts. */
export function routerCommand(spec: Spec, port: number, metricsPort: number, engines: readonly { node: number; port: number }[]): string[] {
  return [
    ...UV_RUN, 'vllm-router',
    '--policy', spec.inference.router_policy,
    '--host', '0.0.0.0',
    '--port', String(port),
    '--worker-urls', ...engines.map((e) => `http://${hostOf(e.node)}:${e.port}`),
    '--request-id-headers', 'x-session-id',
    '--worker-startup-timeout-secs', '4200',
    '--prometheus-port', String(metricsPort),
  ];
}

export function routerEnv(spec: Spec): Record<string, string> {
  return mergeEnv(COMMON_ENV_DEFAULTS, spec.env, spec.inference.env);
}
