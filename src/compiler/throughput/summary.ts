/**
 * The throughput figures a plan carries (`plan --json` → `throughput`, the text plan, the HTML timeline,
 * `plan --auto`'s candidates): the step's headline numbers without the per-term breakdown.
 */
import type { Throughput } from './types.js';

export type ThroughputSummary = Omit<Throughput, 'terms'>;

/** Rounded to what the model can claim (it is a few per cent off at best), so plan.json does not churn on float noise. */
export function throughputSummary(t: Throughput): ThroughputSummary {
  return {
    step_time_s: significant(t.step_time_s),
    generation_s: significant(t.generation_s),
    trainer_s: significant(t.trainer_s),
    weight_transfer_s: significant(t.weight_transfer_s),
    inference_busy: Math.round(t.inference_busy * 1000) / 1000,
    trainer_busy: Math.round(t.trainer_busy * 1000) / 1000,
    bottleneck: t.bottleneck,
    samples_per_s: significant(t.samples_per_s),
    tokens_per_s: significant(t.tokens_per_s),
  };
}

function significant(x: number, digits = 4): number {
  return Number.isFinite(x) && x !== 0 ? Number(x.toPrecision(digits)) : x;
}
