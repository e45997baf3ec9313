/**
 * The cluster settings a plan reader needs beside placement — capacities and the Slurm job's limits — each
 * marked with where it came from, so a default reads as a default and an undeclared capacity as unknown.
 */
import type { Provenance } from '../load/provenance.js';
import type { Spec } from '../spec/schema.js';
import { defaultSlurmSignal } from './slurm-time.js';

export interface PlanSetting {
  key: string;
  /** null: the spec does not say and nothing can know before the nodes report (capacities). */
  value: string | number | null;
  /** spec: written (in the user's file, a preset or --set); default: rlstack's; derived: computed from other values; unknown: see value. */
  origin: 'spec' | 'default' | 'derived' | 'unknown';
}

export function clusterSettings(spec: Spec, provenance: Provenance): PlanSetting[] {
  const written = (key: string) => provenance.get(key) !== undefined && provenance.get(key)!.source !== 'default';
  const setting = (key: string, value: string | number): PlanSetting => ({ key, value, origin: written(key) ? 'spec' : 'default' });
  const c = spec.cluster;
  const out: PlanSetting[] = [
    c.host_memory_gib === undefined ? { key: 'cluster.host_memory_gib', value: null, origin: 'unknown' } : setting('cluster.host_memory_gib', c.host_memory_gib),
    c.disk_gib === undefined ? { key: 'cluster.disk_gib', value: null, origin: 'unknown' } : setting('cluster.disk_gib', c.disk_gib),
  ];
  if (c.backend === 'slurm') {
    out.push(setting('cluster.slurm.partition', c.slurm.partition), setting('cluster.slurm.time', c.slurm.time));
    out.push(c.slurm.signal === '' ? { key: 'cluster.slurm.signal', value: defaultSlurmSignal(c.slurm.time), origin: 'derived' } : setting('cluster.slurm.signal', c.slurm.signal));
  }
  return out;
}
