/** Why a candidate beats the spec as written, in the plan's own terms: the busy shares, the bottleneck, the ratio. */
import type { ThroughputSummary } from '../throughput/summary.js';
import type { Objective } from './types.js';

const pct = (x: number) => `${Math.round(x * 100)} %`;

export function reasonFor(candidate: ThroughputSummary, baseline: ThroughputSummary | null, objective: Objective, ratio: number | null, isWritten: boolean): string {
  const unit = objective === 'tokens' ? 'tokens/s' : 'samples/s';
  if (isWritten) return 'the spec as written';
  if (!baseline || ratio === null) return 'the spec as written does not plan; this does';
  const parts: string[] = [];
  // The side that idled most as written is the story: its busy share is what the change buys.
  const idle = baseline.inference_busy <= baseline.trainer_busy ? 'inference' : 'trainer';
  const before = idle === 'inference' ? baseline.inference_busy : baseline.trainer_busy;
  const after = idle === 'inference' ? candidate.inference_busy : candidate.trainer_busy;
  if (Math.round(before * 100) !== Math.round(after * 100)) parts.push(`${idle} busy ${pct(before)} → ${pct(after)}`);
  if (candidate.bottleneck !== baseline.bottleneck) parts.push(`bottleneck ${baseline.bottleneck} → ${candidate.bottleneck}`);
  parts.push(ratio >= 0.9995 && ratio < 1.0005 ? `same ${unit}` : `${ratio.toFixed(2)}× ${unit}`);
  return parts.join('; ');
}
