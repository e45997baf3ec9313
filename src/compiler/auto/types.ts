/**
 * What `plan --auto` searches and returns: overrides as dotted spec keys (only those that differ from the
 * spec as written), each candidate's throughput, memory headroom and why it beats the spec. docs/plan-auto.md.
 */
import type { ThroughputSummary } from '../throughput/summary.js';

export type Objective = 'samples' | 'tokens';
export const OBJECTIVES: readonly Objective[] = ['samples', 'tokens'];

export type OverrideValue = number | string | boolean;
/** Dotted spec keys → values, e.g. { "trainer.nodes": 24, "inference.nodes": 40 }. */
export type Overrides = Record<string, OverrideValue>;

/** Free memory on the tightest GPU of each side, judged on the trainer's upper bound (docs/memory-model.md). */
export interface MemoryHeadroom {
  /** capacity − fit on the upper bound, GiB per trainer GPU */
  trainer_gib: number;
  /** … as a share of the GPU's memory */
  trainer_share: number;
  /** vLLM's budget − (weights + activation peak + non-torch) per inference GPU: what the KV cache gets; null without inference */
  inference_gib: number | null;
  inference_share: number | null;
  /** the side with the smaller share */
  tightest: 'trainer' | 'inference';
}

export interface AutoCandidate {
  overrides: Overrides;
  throughput: ThroughputSummary;
  memory_headroom: MemoryHeadroom | null;
  /** objective value over the spec as written's (null when the spec as written does not plan) */
  vs_spec: number | null;
  /** why it beats the spec as written, e.g. "inference busy 31 % → 88 %; 1.60× samples/s" */
  reason: string;
  /** warnings and infos of its plan (codes only; the plan of the written layer shows them in full) */
  warnings: string[];
}

export interface AutoBaseline {
  /** the spec as written plans (rules and memory on its upper bound) */
  ok: boolean;
  throughput: ThroughputSummary | null;
  memory_headroom: MemoryHeadroom | null;
  /** error codes (and memory warnings) that keep it from planning clean */
  problems: string[];
}

export interface AutoSearched {
  /** candidates run through the throughput model (rules and memory checked cheaply first) */
  evaluated: number;
  /** candidates run through the whole plan (every rule, placement, memory) */
  planned: number;
  seconds: number;
  /** the split axis searched, or why none was */
  split: string;
}

export interface AutoResult {
  objective: Objective;
  baseline: AutoBaseline;
  /** null when nothing feasible was found */
  best: AutoCandidate | null;
  /** best first, then the next few distinct ones */
  candidates: AutoCandidate[];
  searched: AutoSearched;
}
