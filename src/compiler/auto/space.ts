/**
 * The choices `plan --auto` may change, and only the values the rules allow: the trainer/inference split
 * (same total), the trainer's parallelism (dp_replicate, cp, ep as prime-rl's parallel_dims accepts them),
 * its memory knobs (activation checkpointing, activation and optimizer offload), inference TP and expert
 * parallel layouts, and orchestrator.max_inflight. Values are generated from divisors, never tried blindly.
 */
import { isMoe } from '../catalog/models.js';
import { divisors } from '../check/context.js';
import type { Derived } from '../plan/derive.js';
import type { Spec } from '../spec/schema.js';
import type { Overrides, OverrideValue } from './types.js';

/** A copy of `spec` with the overrides applied; only the tables they touch are copied (all knobs are top-level table keys). */
export function applyOverrides(spec: Spec, overrides: Overrides): Spec {
  const out = { ...spec } as Record<string, unknown>;
  const copied = new Set<string>();
  for (const [key, value] of Object.entries(overrides)) {
    const [table, field] = splitKey(key);
    if (!copied.has(table)) {
      out[table] = { ...(out[table] as Record<string, unknown>) };
      copied.add(table);
    }
    (out[table] as Record<string, unknown>)[field] = value;
  }
  return out as unknown as Spec;
}

export function valueAt(spec: Spec, key: string): unknown {
  const [table, field] = splitKey(key);
  return (spec as unknown as Record<string, Record<string, unknown>>)[table]?.[field];
}

function splitKey(key: string): [string, string] {
  const dot = key.indexOf('.');
  return [key.slice(0, dot), key.slice(dot + 1)];
}

/** Only the entries that differ from the spec as written: what the user would change. */
export function relative(written: Spec, entries: Overrides): Overrides {
  const out: Overrides = {};
  for (const [key, value] of Object.entries(entries)) if (valueAt(written, key) !== value) out[key] = value;
  return out;
}

/** A canonical text of a set of overrides (cache key, distinctness). */
export function overridesKey(overrides: Overrides): string {
  return JSON.stringify(Object.keys(overrides).sort().map((k) => [k, overrides[k]]));
}

// ------------------------------------------------------------------------------------------------ split

export interface SplitAxis {
  unit: 'nodes' | 'gpus';
  /** trainer + inference units (the total never changes) */
  total: number;
  /** trainer units as written */
  written: number;
  min: number;
  max: number;
  trainerKey: string;
  /** undefined when the inference size is derived (the rest of the pool): setting the trainer moves it */
  inferenceKey: string | undefined;
}

/** The split the spec allows, or why there is none to search. */
export function splitAxis(spec: Spec, derived: Derived): SplitAxis | string {
  const t = derived.trainer;
  const i = derived.inference;
  if (i.gpus === 0) return 'none: a trainer-only run (no inference GPUs)';
  if (t.pool !== i.pool) return `none: trainer (pool ${t.pool}) and inference (pool ${i.pool}) are on different pools`;
  if (t.mode !== i.mode) return 'none: one role takes whole nodes, the other GPUs of a shared node';
  if (t.mode === 'nodes') {
    const total = t.nodes + i.nodes;
    if (total < 2) return 'none: fewer than 2 nodes';
    return { unit: 'nodes', total, written: t.nodes, min: 1, max: total - 1, trainerKey: 'trainer.nodes', inferenceKey: spec.inference.nodes !== undefined ? 'inference.nodes' : undefined };
  }
  const total = t.gpus + i.gpus;
  if (total < 2) return 'none: fewer than 2 GPUs';
  return { unit: 'gpus', total, written: t.gpus, min: 1, max: total - 1, trainerKey: 'trainer.gpus', inferenceKey: 'inference.gpus' };
}

export function splitOverrides(axis: SplitAxis, written: Spec, trainerUnits: number): Overrides {
  const entries: Overrides = { [axis.trainerKey]: trainerUnits };
  if (axis.inferenceKey) entries[axis.inferenceKey] = axis.total - trainerUnits;
  return relative(written, entries);
}

// ------------------------------------------------------------------------------------------------ trainer

const AC_MODES = ['full', 'selective', 'none'] as const;

/** The trainer's memory knobs, each combination (the model decides which fits and which is faster). */
function memoryCombos(written: Spec): Overrides[] {
  const offloads: OverrideValue[] = [false, true, 1];
  // an integer the user wrote (activations in flight) is a value of its own
  if (typeof written.trainer.activation_offload === 'number' && written.trainer.activation_offload !== 1) offloads.push(written.trainer.activation_offload);
  const out: Overrides[] = [];
  for (const ac of AC_MODES) for (const offload of offloads) for (const optimizer of [true, false]) out.push({ 'trainer.activation_checkpointing': ac, 'trainer.activation_offload': offload, 'trainer.optimizer_offload': optimizer });
  return out;
}

/**
 * Every (dp_replicate, cp, ep) the trainer rules accept for this world size, times the memory knobs:
 * dp_replicate and cp divide the world, ulysses cp divides the heads, cp stays within a node (or as
 * written), ep divides the experts and dp_shard × cp and is a multiple of cp.
 */
export function trainerOptions(spec: Spec, derived: Derived, written: Spec): Overrides[] {
  const world = derived.trainer.gpus;
  const arch = derived.arch;
  if (world === 0 || !arch) return [];
  const gpusPerNode = derived.pools.get(derived.trainer.pool)?.gpusPerNode ?? 1;
  const moe = isMoe(arch);
  const combos = memoryCombos(written);
  const out: Overrides[] = [];
  for (const dpr of divisors(world)) {
    const replica = world / dpr;
    const cps = divisors(replica).filter((cp) => cp <= Math.max(gpusPerNode, written.trainer.cp) && (spec.trainer.cp_style !== 'ulysses' || arch.heads % cp === 0));
    for (const cp of cps) {
      const autoEp = moe ? Math.max(1, Math.min(replica, 8)) : 1;
      const eps: OverrideValue[] = moe ? divisors(replica).filter((ep) => arch.experts % ep === 0 && (ep === 1 || ep % cp === 0)) : [written.trainer.ep];
      for (const ep of eps) {
        // "auto" as written stays "auto" where it resolves to the same degree: one override fewer
        const epValue = written.trainer.ep === 'auto' && ep === autoEp ? 'auto' : ep;
        for (const combo of combos) out.push(relative(written, { 'trainer.dp_replicate': dpr, 'trainer.cp': cp, 'trainer.ep': epValue, ...combo }));
      }
    }
  }
  return out;
}

// ------------------------------------------------------------------------------------------------ inference

/** TP degrees that divide the node (or the shared node's inference GPUs) and the heads; EP layouts for MoE models. */
export function inferenceOptions(derived: Derived, written: Spec): Overrides[] {
  const role = derived.inference;
  const arch = derived.arch;
  if (role.gpus === 0 || !arch) return [];
  const perNode = role.mode === 'gpus' ? role.gpus : (derived.pools.get(role.pool)?.gpusPerNode ?? 0);
  const tps = divisors(perNode).filter((tp) => arch.heads % tp === 0);
  const layouts: Overrides[] = [{ 'inference.expert_parallel': isMoe(arch) ? false : written.inference.expert_parallel, 'inference.nodes_per_replica': 1 }];
  if (isMoe(arch)) {
    // a replica across nodes is one expert-parallel DP group: up to 8 nodes (beyond, the all-to-all dominates)
    const spans = role.mode === 'gpus' ? [1] : divisors(role.nodes).filter((n) => n <= Math.max(8, written.inference.nodes_per_replica));
    for (const npr of spans) layouts.push({ 'inference.expert_parallel': true, 'inference.nodes_per_replica': npr });
  }
  const out: Overrides[] = [];
  for (const tp of tps) for (const layout of layouts) out.push(relative(written, { 'inference.tp': tp, ...layout }));
  return out;
}

// ------------------------------------------------------------------------------------------------ in flight

/**
 * max_inflight values worth trying: multiples of group_size from a quarter batch up to the staleness bound
 * (max_off_policy_steps × batch; beyond it the model gains nothing), and the value as written.
 */
export function inflightOptions(written: Spec): Overrides[] {
  const o = written.orchestrator;
  const group = o.group_size;
  const ceiling = Math.max(1, o.max_off_policy_steps) * o.batch_size;
  const values = new Set<number>([o.max_inflight]);
  for (const f of [0.25, 0.5, 0.75, 1, 1.5, 2, 3, 4, 6, 8]) {
    const v = Math.floor((f * o.batch_size) / group) * group;
    if (v >= group && v <= ceiling) values.add(v);
  }
  const top = Math.floor(ceiling / group) * group;
  if (top >= group) values.add(top);
  return [...values].sort((a, b) => a - b).map((v) => relative(written, { 'orchestrator.max_inflight': v }));
}
