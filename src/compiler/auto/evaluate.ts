/**
 * Judging one candidate, cheaply first: the rules the searched keys can break, the memory fit (trainer on
 * its upper bound, host RAM, vLLM's KV cache, the sandbox fleet), then the throughput model — about a
 * tenth of a millisecond, cached by overrides. Only candidates that pass and rank high are planned in full
 * (`planCandidate`: every rule, placement, memory), as `rlstack plan` would plan the written layer.
 */
import * as clusterRules from '../check/rules/cluster.js';
import * as inferenceRules from '../check/rules/inference.js';
import * as orchestratorRules from '../check/rules/orchestrator.js';
import * as trainerRules from '../check/rules/trainer.js';
import type { Rule } from '../check/context.js';
import type { Diagnostic } from '../diagnostics/diagnostic.js';
import type { Provenance } from '../load/provenance.js';
import { upperBound } from '../memory/calibration.js';
import { estimateHostMemory } from '../memory/host.js';
import { fitGib, inferenceEstimate, trainerInput, type MemoryReport } from '../memory/report.js';
import { estimateTrainerMemory } from '../memory/trainer.js';
import { DEFAULT_POOL, derive, type Derived } from '../plan/derive.js';
import { boxDemand, slotsPerNode } from '../plan/sandbox-capacity.js';
import { planResolved, type PlanResult } from '../pipeline.js';
import type { ResolvedSpec } from '../resolve.js';
import type { Spec } from '../spec/schema.js';
import { throughputOf, type Throughput } from '../throughput/index.js';
import { throughputInputFromPlan } from '../throughput/from-plan.js';
import { applyOverrides, overridesKey } from './space.js';
import type { MemoryHeadroom, Objective, Overrides } from './types.js';

/** Warnings that mean "does not fit" for a candidate: the upper bound, KV thrash, vLLM start-up outside its budget. */
export const FIT_WARNINGS: ReadonlySet<string> = new Set(['RS2005', 'RS2010', 'RS2011']);

const TRAINER_RULES: readonly Rule[] = [trainerRules.trainerWorldDivides, trainerRules.expertParallelValid, trainerRules.contextParallelDividesHeads];
const LAYOUT_RULES: readonly Rule[] = [
  clusterRules.rolesFitTheirPools,
  clusterRules.poolsNotOversubscribed,
  inferenceRules.tensorParallelFits,
  inferenceRules.replicasSpanNodes,
  orchestratorRules.batchMatchesGroups,
  orchestratorRules.orchestratorHasANode,
];

export interface Evaluation {
  overrides: Overrides;
  feasible: boolean;
  /** the code of the first check it fails */
  why?: string;
  throughput?: Throughput;
  /** objective per second; -Infinity when infeasible */
  score: number;
  /** capacity − fit on the upper bound per trainer GPU (GiB), from the cheap check */
  trainerHeadroomGib?: number;
}

export function objectiveOf(t: Pick<Throughput, 'samples_per_s' | 'tokens_per_s'>, objective: Objective): number {
  return objective === 'tokens' ? t.tokens_per_s : t.samples_per_s;
}

export class Evaluator {
  readonly written: Spec;
  evaluated = 0;
  planned = 0;
  private readonly cache = new Map<string, Evaluation>();
  private readonly trainerCache = new Map<string, { feasible: boolean; why?: string; trainerS: number; headroomGib: number }>();
  private readonly plans = new Map<string, PlanResult>();
  private readonly provenance: Provenance;

  constructor(
    private readonly resolved: ResolvedSpec,
    readonly objective: Objective,
    private readonly loadDiagnostics: readonly Diagnostic[] = [],
  ) {
    this.written = resolved.spec;
    this.provenance = resolved.provenance;
  }

  /** Every cheap evaluation so far (feasible or not). */
  all(): Evaluation[] {
    return [...this.cache.values()];
  }

  evaluate(overrides: Overrides): Evaluation {
    const key = overridesKey(overrides);
    const cached = this.cache.get(key);
    if (cached) return cached;
    this.evaluated++;
    const result = this.judge(overrides);
    this.cache.set(key, result);
    return result;
  }

  /**
   * The trainer side alone (its rules, GPU and host memory, its step time with no inference attached):
   * ranks trainer options without running the pool's fixed point for each.
   */
  trainerSide(overrides: Overrides): { feasible: boolean; why?: string; trainerS: number; headroomGib: number } {
    const key = overridesKey(overrides);
    const cached = this.trainerCache.get(key);
    if (cached) return cached;
    const spec = applyOverrides(this.written, overrides);
    const derived = derive(spec);
    const fail = (why: string) => ({ feasible: false, why, trainerS: Infinity, headroomGib: -Infinity });
    let result: { feasible: boolean; why?: string; trainerS: number; headroomGib: number };
    const broken = this.brokenRule(spec, derived, TRAINER_RULES);
    const memory = broken ? undefined : trainerMemory(spec, derived);
    if (broken) result = fail(broken);
    else if (!memory || memory.why) result = fail(memory?.why ?? 'RS1101');
    else {
      const input = throughputInputFromPlan(spec, derived);
      result = input ? { feasible: true, trainerS: throughputOf({ ...input, inference: null }).trainer_s, headroomGib: memory.headroomGib } : fail('RS1101');
    }
    this.trainerCache.set(key, result);
    return result;
  }

  private judge(overrides: Overrides): Evaluation {
    const spec = applyOverrides(this.written, overrides);
    const derived = derive(spec);
    const fail = (why: string): Evaluation => ({ overrides, feasible: false, why, score: -Infinity });
    const broken = this.brokenRule(spec, derived, [...LAYOUT_RULES, ...TRAINER_RULES]);
    if (broken) return fail(broken);
    const memory = trainerMemory(spec, derived);
    if (!memory) return fail('RS1101');
    if (memory.why) return fail(memory.why);
    const inference = inferenceFit(spec, derived);
    if (inference) return fail(inference);
    const fleet = fleetFit(spec, derived);
    if (fleet) return fail(fleet);
    const input = throughputInputFromPlan(spec, derived);
    if (!input) return fail('RS1101');
    const throughput = throughputOf(input);
    const score = objectiveOf(throughput, this.objective);
    if (!Number.isFinite(score) || score <= 0) return fail('no throughput');
    return { overrides, feasible: true, throughput, score, trainerHeadroomGib: memory.headroomGib };
  }

  private brokenRule(spec: Spec, derived: Derived, rules: readonly Rule[]): string | undefined {
    const ctx = { spec, provenance: this.provenance, derived };
    for (const rule of rules) {
      const error = rule(ctx).find((d) => d.severity === 'error');
      if (error) return error.code;
    }
    return undefined;
  }

  /** The whole plan of a candidate, as `rlstack plan` of the layer `--write` would write (cached). */
  plan(overrides: Overrides): PlanResult {
    const key = overridesKey(overrides);
    const cached = this.plans.get(key);
    if (cached) return cached;
    this.planned++;
    const spec = applyOverrides(structuredClone(this.written), overrides);
    const provenance: Provenance = new Map(this.provenance);
    for (const k of Object.keys(overrides)) provenance.set(k, { source: 'auto' });
    const result = planResolved({ file: this.resolved.file, spec, provenance, sources: this.resolved.sources }, this.loadDiagnostics);
    this.plans.set(key, result);
    return result;
  }
}

/** A plan is a candidate when it has no errors and none of the "does not fit" warnings. */
export function planProblems(result: PlanResult): string[] {
  return [...new Set(result.diagnostics.filter((d) => d.severity === 'error' || FIT_WARNINGS.has(d.code)).map((d) => d.code))];
}

export function headroomOf(memory: MemoryReport | undefined): MemoryHeadroom | null {
  if (!memory) return null;
  const t = memory.trainer;
  const trainerGib = t.capacity_gib - t.fit_upper_gib;
  const trainerShare = trainerGib / t.capacity_gib;
  const i = memory.inference;
  const gpuGib = i ? i.budget_gib - i.weights_gib - i.overhead_gib : null;
  const share = i && gpuGib !== null ? gpuGib / i.budget_gib : null;
  return {
    trainer_gib: round(trainerGib),
    trainer_share: round(trainerShare, 3),
    inference_gib: gpuGib === null ? null : round(gpuGib),
    inference_share: share === null ? null : round(share, 3),
    tightest: share !== null && share < trainerShare ? 'inference' : 'trainer',
  };
}

function trainerMemory(spec: Spec, derived: Derived): { why?: string; headroomGib: number } | undefined {
  const input = trainerInput(spec, derived);
  const pool = derived.pools.get(derived.trainer.pool);
  if (!input || !pool?.gpu) return undefined;
  const estimate = estimateTrainerMemory(input);
  const fitUpper = fitGib(spec, derived, estimate) + upperBound(estimate.peakGib) - estimate.peakGib;
  const headroomGib = pool.gpu.memoryGib - fitUpper;
  if (headroomGib < 0) return { why: 'RS2010', headroomGib };
  if (pool.hostMemoryGib !== undefined) {
    // conservative: the orchestrator and every environment's server on the busiest trainer node
    const ranks = derived.trainer.mode === 'gpus' ? derived.trainer.gpus : pool.gpusPerNode;
    const orchestratorHere = spec.orchestrator.placement === 'trainer';
    const host = estimateHostMemory({ ranksPerNode: ranks, hostOptimizerGibPerRank: estimate.hostOptimizerGib, hostActivationsGibPerRank: estimate.hostActivationsGib, orchestratorHere, envServersHere: orchestratorHere ? spec.environments.length : 0 });
    if (host.totalGib > pool.hostMemoryGib) return { why: 'RS2002', headroomGib };
  }
  return { headroomGib };
}

/** vLLM's side of the memory report: a sequence fits, the rollouts in flight fit the KV cache, start-up fits. */
function inferenceFit(spec: Spec, derived: Derived): string | undefined {
  if (derived.inference.gpus === 0) return undefined;
  const e = inferenceEstimate(spec, derived)?.estimate;
  if (!e) return 'RS1101';
  if (e.kvCacheGib <= 0 || e.kvTokensPerReplica < derived.maxModelLen) return 'RS2004';
  if (e.inflightTokensPerReplica > e.kvTokensPerReplica) return 'RS2005';
  if (e.outsideBudget.totalGib > e.outsideBudget.headroomGib) return 'RS2011';
  return undefined;
}

/** Live sandboxes per environment source against one fleet node's slots (the plan gives each source its node). */
function fleetFit(spec: Spec, derived: Derived): string | undefined {
  if (spec.sandboxes.provider !== 'docker') return undefined;
  const pool = derived.pools.get(spec.sandboxes.pool === '' ? DEFAULT_POOL : spec.sandboxes.pool);
  if (!pool) return undefined;
  const slots = slotsPerNode(spec, pool).slots;
  for (const demand of boxDemand(spec).values()) if (demand > slots) return 'RS2008';
  return undefined;
}

function round(v: number, digits = 2): number {
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}
