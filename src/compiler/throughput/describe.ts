/**
 * The throughput summary in words, shared by the text plan (src/cli/render-throughput.ts) and the HTML page
 * (src/report/html.ts) so both say the same thing about the same numbers.
 */
import type { ThroughputSummary } from './summary.js';
import { stepTimeline, type StepTimeline } from './timeline.js';

/** Seconds as the docs' presets table prints them: whole above 100 s, one decimal above 1 s. */
export function secondsText(s: number): string {
  if (s === 0) return '0 s';
  return `${s >= 100 ? s.toFixed(0) : s >= 1 ? s.toFixed(1) : s.toFixed(2)} s`;
}

export function rateText(t: ThroughputSummary): string {
  const samples = t.samples_per_s >= 100 ? t.samples_per_s.toFixed(0) : t.samples_per_s.toFixed(2);
  return `${samples} samples/s · ${Math.round(t.tokens_per_s).toLocaleString('en-US')} tokens/s`;
}

/** What binds the step, in words, with what the other side does meanwhile. */
export function bottleneckText(t: ThroughputSummary, line: StepTimeline = stepTimeline(t)): string {
  if (line.mode === 'trainer-only') return `bottleneck ${t.bottleneck === 'weight_transfer' ? 'weight transfer: writing the weights takes longer than training' : 'trainer'} (trainer-only run)`;
  const waits = line.mode === 'synchronous' ? '' : t.bottleneck === 'trainer' || (t.bottleneck === 'weight_transfer' && line.trainerWaitS === 0) ? `; the inference pool waits ${secondsText(line.inferenceWaitS)} a step` : `; the trainer waits ${secondsText(line.trainerWaitS)} a step`;
  const why: Record<ThroughputSummary['bottleneck'], string> = {
    inference: 'generation outlasts training',
    environment: 'rollouts wait on tool-running environments (episode_seconds), not on GPUs',
    trainer: 'training outlasts generation',
    weight_transfer: 'the transfer outlasts the work it interrupts',
  };
  const prefix = line.mode === 'synchronous' ? 'synchronous (max_off_policy_steps = 0): generate, train, transfer in turn; ' : '';
  return `${prefix}bottleneck ${t.bottleneck.replace('_', ' ')}: ${why[t.bottleneck]}${waits}`;
}
