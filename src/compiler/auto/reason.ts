/**
 * Why a candidate beats the spec as written, in the plan's own terms: the side that idled getting busy
 * (the split story: "inference busy 31 % → 88 %"), a bottleneck that moved, else the binding side getting
 * faster ("generation 692 s → 615 s"); then the ratio of the objective.
 */
import type { ThroughputSummary } from '../throughput/summary.js';
import type { Objective } from './types.js';

const pct = (x: number) => `${Math.round(x * 100)} %`;
const sec = (s: number) => (s >= 100 ? `${Math.round(s)} s` : `${s.toPrecision(3)} s`);

export function reasonFor(candidate: ThroughputSummary, baseline: ThroughputSummary | null, objective: Objective, ratio: number | null, isWritten: boolean): string {
  const unit = objective === 'tokens' ? 'tokens/s' : 'samples/s';
  if (isWritten) return 'the spec as written is the best found';
  if (!baseline || ratio === null) return 'the spec as written does not plan; this does';
  const parts: string[] = [];
  const idle = baseline.inference_busy <= baseline.trainer_busy ? 'inference' : 'trainer';
  const before = idle === 'inference' ? baseline.inference_busy : baseline.trainer_busy;
  const after = idle === 'inference' ? candidate.inference_busy : candidate.trainer_busy;
  if (after - before >= 0.05) parts.push(`${idle} busy ${pct(before)} → ${pct(after)}`);
  if (candidate.bottleneck !== baseline.bottleneck) parts.push(`bottleneck ${baseline.bottleneck} → ${candidate.bottleneck}`);
  if (parts.length === 0) {
    if (baseline.bottleneck === 'inference') parts.push(`generation ${sec(baseline.generation_s)} → ${sec(candidate.generation_s)}`);
    else if (baseline.bottleneck === 'trainer') parts.push(`trainer ${sec(baseline.trainer_s)} → ${sec(candidate.trainer_s)}`);
    else parts.push(`step ${sec(baseline.step_time_s)} → ${sec(candidate.step_time_s)}`);
  }
  parts.push(ratio >= 0.9995 && ratio < 1.0005 ? `same ${unit}` : `${ratio.toFixed(2)}× ${unit}`);
  return parts.join('; ');
}
