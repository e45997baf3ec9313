/**
 * One RL step at steady state laid out in time, from the plan's throughput summary alone (so the text plan
 * and the HTML page draw exactly what `plan --json` says). The order follows prime-rl's loop (loop.ts):
 *
 *   overlapped (max_off_policy_steps ≥ 1): the trainer trains batch s while the pool generates batch s+1;
 *     then the trainer sends the weights, and the engines pause while it does (NCCL: they join the
 *     broadcast; filesystem: they load). Whichever side finishes first waits for the other.
 *   synchronous (max_off_policy_steps = 0): generate, then train, then transfer, one after another.
 *   trainer-only (no inference pool): train, then write the weights.
 *
 * The summary does not say which mode ran; the sums tell: a synchronous step is generation + trainer +
 * transfer, and an overlapped one is the longer of the two sides, which reaches that sum only when one side
 * has no work at all (a pause longer than training and transfer together: not a configuration that plans).
 */
import type { ThroughputSummary } from './summary.js';

export type PhaseKind = 'generate' | 'train' | 'transfer' | 'paused' | 'wait';

export interface Phase {
  kind: PhaseKind;
  startS: number;
  endS: number;
}

export interface StepTimeline {
  mode: 'overlapped' | 'synchronous' | 'trainer-only';
  stepS: number;
  inference: Phase[];
  trainer: Phase[];
  /** Seconds of the step each side waits for the other. */
  inferenceWaitS: number;
  trainerWaitS: number;
}

/** The summary's figures are rounded to 4 significant figures: sums agree to this share of the step. */
const ROUNDING = 1e-3;

export function stepTimeline(t: ThroughputSummary): StepTimeline {
  const step = t.step_time_s;
  const g = t.generation_s;
  const train = t.trainer_s;
  const x = t.weight_transfer_s;
  const lane = (phases: [PhaseKind, number, number][]): Phase[] =>
    phases
      .map(([kind, a, b]) => ({ kind, startS: Math.min(a, step), endS: Math.min(b, step) }))
      .filter((p) => p.endS - p.startS > ROUNDING * step * 0.01);
  const withWait = (phases: [PhaseKind, number, number][]): [PhaseKind, number, number][] => {
    const last = phases[phases.length - 1];
    const end = last ? last[2] : 0;
    // a gap within the summary's rounding is no wait: the last phase runs to the end of the step
    if (last && step - end <= ROUNDING * step) return [...phases.slice(0, -1), [last[0], last[1], Math.max(end, step)]];
    return end < step ? [...phases, ['wait', end, step]] : phases;
  };

  let mode: StepTimeline['mode'];
  let inference: Phase[];
  let trainer: Phase[];
  if (g <= 0 && t.inference_busy <= 0) {
    mode = 'trainer-only';
    inference = [];
    trainer = lane(withWait([['train', 0, train], ['transfer', train, train + x]]));
  } else if (step >= (g + train + x) * (1 - ROUNDING)) {
    mode = 'synchronous';
    inference = lane(withWait([['generate', 0, g], ['wait', g, g + train], ['paused', g + train, g + train + x]]));
    trainer = lane(withWait([['wait', 0, g], ['train', g, g + train], ['transfer', g + train, g + train + x]]));
  } else {
    mode = 'overlapped';
    trainer = lane(withWait([['train', 0, train], ['transfer', train, train + x]]));
    // the pool generates around the pause the transfer imposes, starting with the step
    inference = lane(
      withWait(
        g > train
          ? [['generate', 0, train], ['paused', train, train + x], ['generate', train + x, x + g]]
          : [['generate', 0, g], ['wait', g, train], ['paused', train, train + x]],
      ),
    );
  }
  const waited = (phases: Phase[]) => phases.filter((p) => p.kind === 'wait').reduce((s, p) => s + p.endS - p.startS, 0);
  return { mode, stepS: step, inference, trainer, inferenceWaitS: waited(inference), trainerWaitS: waited(trainer) };
}
