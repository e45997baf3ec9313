/**
 * The search. The split comes first (samples/s against the trainer's share is close to unimodal: the
 * bottleneck switches sides once), on a coarse grid refined by ternary search and a local sweep; at each
 * split the other choices are tuned by coordinate search — the trainer's options ranked on the trainer
 * side alone (its own rules and memory, its step time), inference layout × max_inflight jointly, then the
 * trainer again with the full model — warm-started from the neighbouring split. Everything goes through
 * the cheap evaluation first; only the best are planned in full.
 */
import type { Diagnostic } from '../diagnostics/diagnostic.js';
import { derive } from '../plan/derive.js';
import type { ResolvedSpec } from '../resolve.js';
import type { ThroughputSummary } from '../throughput/summary.js';
import { Evaluator, headroomOf, objectiveOf, planProblems, type Evaluation } from './evaluate.js';
import { reasonFor } from './reason.js';
import { applyOverrides, inferenceOptions, inflightOptions, overridesKey, splitAxis, splitOverrides, trainerOptions, type SplitAxis } from './space.js';
import type { AutoBaseline, AutoCandidate, AutoResult, Objective, Overrides } from './types.js';

export interface AutoOptions {
  objective?: Objective;
  /** the resolve phase's warnings, kept on every plan */
  loadDiagnostics?: readonly Diagnostic[];
  /** candidates to return (best included); default 5 */
  top?: number;
}

/** Trainer options kept per split after ranking on the trainer side alone. */
const TRAINER_KEEP = 4;
/** Full plans at most, when candidates keep failing the checks the cheap stage does not make. */
const MAX_PLANS = 40;
/** Up to this many split points, all are tried; beyond, grid + ternary refinement. */
const EXHAUSTIVE_SPLITS = 24;

export function searchAuto(resolved: ResolvedSpec, options: AutoOptions = {}): AutoResult {
  const started = performance.now();
  const objective = options.objective ?? 'samples';
  const top = options.top ?? 5;
  const ev = new Evaluator(resolved, objective, options.loadDiagnostics ?? []);
  const baseline = baselineOf(ev.plan({}));
  const axis = splitAxis(resolved.spec, derive(resolved.spec));

  ev.evaluate({});
  if (typeof axis === 'string') tune(ev, {}, {});
  else {
    const memo = new Map<number, Evaluation | undefined>();
    let warm: Overrides = {};
    const f = (u: number): number => {
      if (!memo.has(u)) {
        const best = tune(ev, splitOverrides(axis, ev.written, u), warm);
        memo.set(u, best);
        if (best) warm = withoutSplit(best.overrides, axis);
      }
      return memo.get(u)?.score ?? -Infinity;
    };
    searchLine(axis, f);
    // the narrow split search (everything else as written) seeds a point the tuned search may not visit
    searchLine(axis, (u) => ev.evaluate(splitOverrides(axis, ev.written, u)).score);
  }

  const candidates = finalists(ev, baseline, top, axis);
  const seconds = Math.round((performance.now() - started) / 10) / 100;
  return {
    objective,
    baseline,
    best: candidates[0] ?? null,
    candidates,
    searched: { evaluated: ev.evaluated, planned: ev.planned, seconds, split: typeof axis === 'string' ? axis : `trainer ${axis.unit} ${axis.min}-${axis.max} of ${axis.total} (as written ${axis.written})` },
  };
}

/**
 * Only the trainer/inference split, everything else as written: the best split that plans clean, or
 * undefined when the spec has no split to move or none plans. `vs_spec` and `reason` compare it with the
 * spec as written (overrides {} when the written split is the best).
 */
export function bestSplit(resolved: ResolvedSpec, objective: Objective = 'samples'): AutoCandidate | undefined {
  const ev = new Evaluator(resolved, objective);
  const axis = splitAxis(resolved.spec, derive(resolved.spec));
  if (typeof axis === 'string') return undefined;
  ev.evaluate({});
  searchLine(axis, (u) => ev.evaluate(splitOverrides(axis, ev.written, u)).score);
  const baseline = baselineOf(ev.plan({}));
  return finalists(ev, baseline, 1, axis)[0];
}

/**
 * Maximises f over the split's integer range: every point when few, else a grid of 13, ternary search
 * in the bracket around the grid's best, and a sweep of ±2 around the result (f is near-unimodal).
 */
export function searchLine(axis: SplitAxis, f: (u: number) => number): number {
  const { min, max } = axis;
  if (max - min + 1 <= EXHAUSTIVE_SPLITS) {
    let best = min;
    for (let u = min; u <= max; u++) if (f(u) > f(best)) best = u;
    return best;
  }
  const grid = new Set<number>([axis.written]);
  for (let k = 0; k <= 12; k++) grid.add(Math.round(min + ((max - min) * k) / 12));
  const points = [...grid].filter((u) => u >= min && u <= max).sort((a, b) => a - b);
  let at = 0;
  for (let k = 1; k < points.length; k++) if (f(points[k]!) > f(points[at]!)) at = k;
  let lo = points[Math.max(0, at - 1)]!;
  let hi = points[Math.min(points.length - 1, at + 1)]!;
  while (hi - lo > 4) {
    const m1 = lo + Math.floor((hi - lo) / 3);
    const m2 = hi - Math.floor((hi - lo) / 3);
    if (f(m1) < f(m2)) lo = m1;
    else hi = m2;
  }
  let best = points[at]!;
  for (let u = Math.max(min, lo - 2); u <= Math.min(max, hi + 2); u++) if (f(u) > f(best)) best = u;
  return best;
}

/** The best candidate at a fixed split: trainer options ranked on their own side, then coordinate search. */
function tune(ev: Evaluator, split: Overrides, warm: Overrides): Evaluation | undefined {
  const base = applyOverrides(ev.written, split);
  const derived = derive(base);
  const ranked = trainerOptions(base, derived, ev.written)
    .map((o) => ({ o, side: ev.trainerSide({ ...split, ...o }) }))
    .filter((x) => x.side.feasible)
    .sort((a, b) => a.side.trainerS - b.side.trainerS || b.side.headroomGib - a.side.headroomGib);
  // distinct trainer step times only: the memory knobs often tie, the one with more headroom first
  const trainers: Overrides[] = [];
  const seen = new Set<number>();
  for (const { o, side } of ranked) {
    if (seen.has(side.trainerS)) continue;
    seen.add(side.trainerS);
    trainers.push(o);
    if (trainers.length === TRAINER_KEEP) break;
  }
  const warmTrainer = pick(warm, 'trainer.');
  if (Object.keys(warmTrainer).length && ev.trainerSide({ ...split, ...warmTrainer }).feasible) trainers.push(warmTrainer);
  if (trainers.length === 0) return undefined;
  const inference = inferenceOptions(derived, ev.written);
  const inflight = inflightOptions(ev.written);
  const layout = (o: Overrides) => ({ ...pick(o, 'inference.', new Set(['inference.nodes', 'inference.gpus'])), ...pick(o, 'orchestrator.') });

  let best: Evaluation | undefined;
  const consider = (o: Overrides) => {
    const e = ev.evaluate(o);
    if (e.feasible && (!best || e.score > best.score)) best = e;
  };
  let trainer = trainers[0]!;
  let rest = layout(warm);
  consider({ ...split, ...trainer, ...rest });
  for (let round = 0; round < 3; round++) {
    const before = best;
    // inference layout × max_inflight together: a layout with less KV needs fewer rollouts in flight
    for (const i of inference.length ? inference : [{}]) for (const q of inflight) consider({ ...split, ...trainer, ...i, ...q });
    if (best) rest = layout(best.overrides);
    for (const t of trainers) consider({ ...split, ...t, ...rest });
    if (best) trainer = pick(best.overrides, 'trainer.', new Set(['trainer.nodes', 'trainer.gpus']));
    if (best === before) break;
  }
  return best;
}

function pick(o: Overrides, prefix: string, except: ReadonlySet<string> = new Set()): Overrides {
  const out: Overrides = {};
  for (const [k, v] of Object.entries(o)) if (k.startsWith(prefix) && !except.has(k)) out[k] = v;
  return out;
}

function withoutSplit(o: Overrides, axis: SplitAxis): Overrides {
  const out = { ...o };
  delete out[axis.trainerKey];
  if (axis.inferenceKey) delete out[axis.inferenceKey];
  return out;
}

function baselineOf(plan: ReturnType<Evaluator['plan']>): AutoBaseline {
  const problems = planProblems(plan);
  return {
    ok: plan.ok && problems.length === 0,
    throughput: plan.plan?.throughput ?? null,
    memory_headroom: headroomOf(plan.plan?.memory),
    problems,
  };
}

/**
 * The cheap stage's best, planned in full in order until `top` distinct ones plan clean. Distinct: a
 * candidate whose predicted figures equal one already kept (a knob the model does not see) is left out;
 * of equals, the one with fewer overrides and more trainer headroom comes first.
 */
function finalists(ev: Evaluator, baseline: AutoBaseline, top: number, axis: SplitAxis | string): AutoCandidate[] {
  // 4 significant figures: what the plan shows; within that, the simpler and roomier candidate first
  const shown = (e: Evaluation) => Number(e.score.toPrecision(4));
  const ranked = ev
    .all()
    .filter((e) => e.feasible)
    .sort((a, b) => shown(b) - shown(a) || Object.keys(a.overrides).length - Object.keys(b.overrides).length || (b.trainerHeadroomGib ?? 0) - (a.trainerHeadroomGib ?? 0));
  const out: AutoCandidate[] = [];
  const seen = new Set<string>();
  const baseScore = baseline.throughput ? objectiveOf(baseline.throughput, ev.objective) : null;
  // the spec as written, judged like the candidates: nothing at or below it is worth listing, and it is the
  // answer itself when nothing beats it
  const written = baseline.ok ? ev.evaluate({}) : undefined;
  let plans = 0;
  for (const e of ranked) {
    if (out.length >= top || plans >= MAX_PLANS) break;
    if (written?.feasible && e.score <= written.score && (out.length > 0 || e !== written)) {
      if (out.length > 0) break;
      continue;
    }
    // simplified, unless the simpler one fails the full plan where the candidate itself would not
    let c = simplify(ev, e, axis);
    if (c !== e && !cleanPlan(ev, c)) c = e;
    // distinct: another split, or another predicted objective at 3 significant figures
    const split = typeof axis === 'string' ? '' : String(c.overrides[axis.trainerKey] ?? axis.written);
    const distinct = `${split}|${c.score.toPrecision(3)}`;
    if (seen.has(distinct) || seen.has(overridesKey(c.overrides))) continue;
    plans++;
    const plan = ev.plan(c.overrides);
    if (!plan.ok || planProblems(plan).length || !plan.plan?.throughput) continue;
    seen.add(distinct);
    seen.add(overridesKey(c.overrides));
    const throughput: ThroughputSummary = plan.plan.throughput;
    const ratio = baseScore ? Math.round((objectiveOf(throughput, ev.objective) / baseScore) * 1000) / 1000 : null;
    out.push({
      overrides: c.overrides,
      throughput,
      memory_headroom: headroomOf(plan.plan.memory),
      vs_spec: ratio,
      reason: reasonFor(throughput, baseline.throughput, ev.objective, ratio, Object.keys(c.overrides).length === 0),
      warnings: [...new Set(plan.diagnostics.filter((d) => d.severity !== 'error').map((d) => d.code))],
    });
  }
  return out;
}

function cleanPlan(ev: Evaluator, e: Evaluation): boolean {
  const plan = ev.plan(e.overrides);
  return plan.ok && planProblems(plan).length === 0;
}

/** Within this share of a candidate's objective, an override that buys nothing is dropped. */
const NEGLIGIBLE = 1e-3;

/**
 * The candidate with every override that buys (almost) nothing put back as written, one key at a time
 * (the split's keys together): the user changes what matters, not what the search happened to pass by.
 */
function simplify(ev: Evaluator, e: Evaluation, axis: SplitAxis | string): Evaluation {
  let current = e;
  const groups = Object.keys(e.overrides).filter((k) => typeof axis === 'string' || k !== axis.inferenceKey);
  for (const key of groups) {
    if (!(key in current.overrides)) continue;
    const fewer = { ...current.overrides };
    delete fewer[key];
    if (typeof axis !== 'string' && key === axis.trainerKey && axis.inferenceKey) delete fewer[axis.inferenceKey];
    const tried = ev.evaluate(fewer);
    if (tried.feasible && tried.score >= current.score * (1 - NEGLIGIBLE)) current = tried;
  }
  return current;
}

