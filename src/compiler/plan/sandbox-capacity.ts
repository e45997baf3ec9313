/**
 * Sandbox fleet capacity (reference/sandboxes.md §3.3): boxes a fleet node can hold, and boxes the run keeps
 * alive by Little's law — long episodes hold far more boxes than their sampling weight suggests.
 */
import type { Spec } from '../spec/schema.js';
import type { Pool } from './derive.js';
import { environmentSources, type Source } from './sources.js';

/** Linux caps a bridge at 1024 ports; restricted mode puts every box on one. */
export const MAX_BOXES_PER_BRIDGE = 1023;

export interface NodeSlots {
  slots: number;
  byCpu: number;
  byMemory: number;
  byDisk: number;
  byNetwork: number;
}

/** What the host keeps for itself: the OS, dockerd, the env servers and their workers. */
export function systemReserve(pool: Pool): { cpus: number; memoryGib: number; diskGib: number } {
  return {
    cpus: Math.max(2, Math.ceil(pool.cpusPerNode * 0.05)),
    memoryGib: Math.max(8, Math.ceil((pool.hostMemoryGib ?? 0) * 0.05)),
    diskGib: Math.max(50, Math.ceil((pool.diskGib ?? 0) * 0.1)),
  };
}

/** Boxes a capacity holds; a capacity the spec does not declare limits nothing here (the node checks it at start). */
function boxesIn(capacity: number | undefined, reserve: number, perBox: number): number {
  return capacity === undefined ? Number.MAX_SAFE_INTEGER : Math.max(0, Math.floor((capacity - reserve) / perBox));
}

export function slotsPerNode(spec: Spec, pool: Pool): NodeSlots {
  const reserve = systemReserve(pool);
  const s = spec.sandboxes;
  const byCpu = Math.max(0, Math.floor((pool.cpusPerNode - reserve.cpus) / s.cpus));
  const byMemory = boxesIn(pool.hostMemoryGib, reserve.memoryGib, s.memory_gib);
  const byDisk = boxesIn(pool.diskGib, reserve.diskGib, s.disk_gib);
  const byNetwork = s.network === 'restricted' ? MAX_BOXES_PER_BRIDGE : Number.MAX_SAFE_INTEGER;
  return { slots: Math.min(byCpu, byMemory, byDisk, byNetwork), byCpu, byMemory, byDisk, byNetwork };
}

/** Live boxes per sandboxed train source at `max_inflight` episodes in flight (Little's law), by source name. */
export function boxDemand(spec: Spec): Map<string, number> {
  const train = environmentSources(spec).filter((s) => s.split === 'train');
  const share = (s: Source) => s.weight * spec.orchestrator.group_size * s.environment.episode_seconds;
  const total = train.reduce((sum, s) => sum + share(s), 0);
  const demand = new Map<string, number>();
  for (const s of train) {
    if (s.environment.runtime !== 'sandbox' || total === 0) continue;
    demand.set(s.name, Math.ceil((spec.orchestrator.max_inflight * share(s)) / total));
  }
  return demand;
}
