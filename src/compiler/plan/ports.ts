/**
 * Every port rlstack derives, in one place (prime-rl's defaults, reference/prime-rl.md §6), each shifted by
 * `ports.base` so two runs can share hosts.
 */
import type { Spec } from '../spec/schema.js';

export interface Ports {
  router: number;
  routerMetrics: number;
  /** Engine k on a node listens on backend + k. */
  backend: number;
  dataParallelRpc: number;
  rendezvous: number;
  weightBroadcast: number;
  rollouts: number;
  rolloutsReady: number;
  /** Env server i (train sources first, then eval) listens on envServerBase + i. */
  envServerBase: number;
}

export function derivePorts(spec: Spec): Ports {
  const base = spec.ports.base;
  const router = spec.inference.port + base;
  return {
    router,
    routerMetrics: router + 21000,
    backend: router + 100,
    dataParallelRpc: 13345 + base,
    rendezvous: 29500 + base,
    weightBroadcast: spec.weights.port + base,
    rollouts: 5555 + base,
    rolloutsReady: 5556 + base,
    envServerBase: 5000 + base,
  };
}
