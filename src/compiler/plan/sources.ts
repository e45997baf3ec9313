/**
 * Environments become orchestrator sources, each served by one env server: train sources first, then eval
 * (prime-rl numbers env-server ports in that order). An environment with `shards = N` becomes N sources
 * of weight / N — the way to spread a sandboxed environment whose boxes do not fit on one fleet node,
 * since one env server drives the Docker of one node (reference/sandboxes.md §3.2).
 */
import type { EnvironmentSpec, Spec } from '../spec/schema.js';

export interface Source {
  /** Source and env-server name: the environment's name, with `-<k>` per shard when sharded. */
  name: string;
  environment: EnvironmentSpec;
  /** Index of the environment in spec.environments. */
  environmentIndex: number;
  split: 'train' | 'eval';
  /** Position within its split's source list (prime-rl's `train.source.<j>` / `eval.source.<j>`). */
  sourceIndex: number;
  weight: number;
  shard: number;
  shards: number;
}

export function environmentSources(spec: Spec): Source[] {
  const sources: Source[] = [];
  for (const split of ['train', 'eval'] as const) {
    let sourceIndex = 0;
    spec.environments.forEach((environment, environmentIndex) => {
      if (environment.split !== split) return;
      const shards = environment.shards;
      for (let shard = 0; shard < shards; shard++) {
        sources.push({
          name: shards > 1 ? `${environment.name}-${shard}` : environment.name,
          environment,
          environmentIndex,
          split,
          sourceIndex: sourceIndex++,
          weight: environment.weight / shards,
          shard,
          shards,
        });
      }
    });
  }
  return sources;
}
