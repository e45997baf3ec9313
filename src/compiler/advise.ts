/**
 * Advice on a plan that places and fits: is the step balanced? A side that idles most of a step, or a
 * weight transfer that takes a large share of it, is a warning whose fix is computed — the same search
 * `plan --auto` runs, held to the trainer/inference split, so the hint names node counts that plan clean.
 * It runs after the pipeline (it plans candidates itself), only when there is something to say.
 */
import { bestSplit } from './auto/search.js';
import type { AutoCandidate } from './auto/types.js';
import { diagnostic, sortDiagnostics, type Diagnostic } from './diagnostics/diagnostic.js';
import { positionOf } from './load/provenance.js';
import { planSpec, type PlanOptions, type PlanResult } from './pipeline.js';
import type { LaunchPlan } from './plan/types.js';
import type { ResolvedSpec } from './resolve.js';
import { secondsText } from './throughput/describe.js';
import { stepTimeline } from './throughput/timeline.js';

/** A side busy for less than this share of the step waits for the other most of the time. */
export const IDLE_BELOW = 0.6;
/** A weight transfer above this share of the step is what the run spends its time on. */
export const TRANSFER_ABOVE = 0.25;
/** A split is advised only when it buys at least this much (the model is a few per cent off at best). */
export const WORTH_AT_LEAST = 1.1;

const AUTO_TOO = '`rlstack plan --auto` also searches parallelism, activation checkpointing/offload and max_inflight';

/** The computed fix of an idle side: a better split when one buys enough, else what binds the step. */
function idleFix(bottleneck: string, split: () => AutoCandidate | undefined): string {
  // Moving GPUs between the sides cannot shorten episodes.
  if (bottleneck === 'environment') return `more rollouts in flight keep both sides fed while episodes run (orchestrator.max_inflight, within the KV cache and the sandbox fleet); ${AUTO_TOO}`;
  const best = split();
  const moves = best ? Object.entries(best.overrides) : [];
  if (best && moves.length > 0 && (best.vs_spec ?? 0) >= WORTH_AT_LEAST) {
    return `${moves.map(([k, v]) => `${k} = ${v}`).join(', ')}: ${best.reason}; ${AUTO_TOO}`;
  }
  return `no trainer/inference split does better by ${Math.round((WORTH_AT_LEAST - 1) * 100)} % or more; ${AUTO_TOO}`;
}

const pct = (x: number) => `${Math.round(x * 100)} %`;

export function planWithAdvice(specPath: string, options: PlanOptions = {}): PlanResult {
  const result = planSpec(specPath, options);
  if (!result.ok) return result;
  const advice = throughputAdvice(result.resolved, result.plan);
  if (advice.length === 0) return result;
  const diagnostics = sortDiagnostics([...result.diagnostics, ...advice]);
  result.plan.diagnostics = diagnostics;
  return { ...result, diagnostics };
}

export function throughputAdvice(resolved: ResolvedSpec, plan: LaunchPlan, split: (r: ResolvedSpec) => AutoCandidate | undefined = (r) => bestSplit(r, 'samples')): Diagnostic[] {
  const t = plan.throughput;
  if (!t || t.step_time_s <= 0 || t.generation_s <= 0) return [];
  const out: Diagnostic[] = [];
  // the same waits the text plan and the HTML timeline show
  const line = stepTimeline(t);
  // the table the advice is about, else [inference] (a spec that never wrote [weights])
  const at = (path: string) => positionOf(resolved.provenance, path) ?? positionOf(resolved.provenance, 'inference');

  const idle = t.inference_busy <= t.trainer_busy ? { side: 'inference', busy: t.inference_busy, other: 'trainer' } : { side: 'trainer', busy: t.trainer_busy, other: 'inference' };
  // A transfer-bound step idles both sides: RS2102 below says so, with the transfer's own fixes.
  if (idle.busy < IDLE_BELOW && t.bottleneck !== 'weight_transfer') {
    const path = idle.side === 'inference' ? 'inference' : 'trainer';
    const waitsFor = t.bottleneck === 'environment' ? 'the environments (their episode time)' : `the ${idle.other}`;
    out.push(
      diagnostic('RS2101', {
        path,
        at: at(path),
        message: `${idle.side} busy ${pct(idle.busy)} of each step: it waits ${secondsText(idle.side === 'trainer' ? line.trainerWaitS : line.inferenceWaitS)} a step for ${waitsFor} (${t.samples_per_s.toPrecision(3)} samples/s)`,
        hint: idleFix(t.bottleneck, () => split(resolved)),
      }),
    );
  }

  const transferShare = t.weight_transfer_s / t.step_time_s;
  if (transferShare > TRANSFER_ABOVE || t.bottleneck === 'weight_transfer') {
    const nccl = plan.weights.broadcast === 'nccl';
    out.push(
      diagnostic('RS2102', {
        path: 'weights',
        at: at('weights'),
        message: `the weight transfer takes ${pct(transferShare)} of each step (${secondsText(t.weight_transfer_s)} of ${secondsText(t.step_time_s)}): ${nccl ? `one trainer rank broadcasts to ${plan.weights.inference_world_size} inference GPUs while the engines pause` : 'the engines pause to read the checkpoint from the filesystem'}`,
        hint: nccl
          ? 'fewer inference GPUs get more work each (fewer replicas, larger batches), fp8 engines (inference.weights_dtype = "fp8") halve the bytes, and a larger orchestrator.batch_size spreads the transfer over more samples'
          : 'weights.broadcast = "nccl" sends them over the network instead; a larger orchestrator.batch_size spreads the transfer over more samples',
      }),
    );
  }
  return out;
}
