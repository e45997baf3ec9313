/**
 * The text plan's throughput section: one RL step as the throughput model predicts it (docs/throughput-model.md),
 * from `plan.throughput` only, so it says what `plan --json` says. Pure: plan in, lines out.
 */
import type { Style } from '../compiler/diagnostics/render.js';
import type { LaunchPlan } from '../compiler/plan/types.js';
import { accuracyText } from '../compiler/throughput/accuracy.js';
import { bottleneckText, rateText, secondsText } from '../compiler/throughput/describe.js';
import { stepTimeline } from '../compiler/throughput/timeline.js';

const BAR_WIDTH = 20;

function bar(share: number): string {
  const filled = Math.min(BAR_WIDTH, Math.max(0, Math.round(share * BAR_WIDTH)));
  return `[${'█'.repeat(filled)}${'░'.repeat(BAR_WIDTH - filled)}] ${String(Math.round(share * 100)).padStart(3)}%`;
}

/** Why a plan carries no throughput: the model's inputs it lacks (the same conditions leave out the memory report). */
function absentReason(plan: LaunchPlan): string {
  if (!plan.memory) return "the model's shape or a GPU type is unknown, as for the memory report (the diagnostics say which)";
  return 'the inference pool has no KV-cache estimate to size its batch';
}

export function throughputLines(plan: LaunchPlan, style: Style): string[] {
  const t = plan.throughput;
  const head = style.bold('throughput') + style.dim(' (one RL step at steady state, estimates; docs/throughput-model.md)');
  if (!t) return [`${style.bold('throughput')}  not estimated: ${absentReason(plan)}`];
  if (![t.step_time_s, t.generation_s, t.trainer_s, t.weight_transfer_s].every(Number.isFinite)) {
    return [`${style.bold('throughput')}  not estimated: the inference pool completes no rollout (no decode capacity for the rollouts in flight)`];
  }
  const line = stepTimeline(t);
  const rows: [string, string, string][] = [['step time', secondsText(t.step_time_s), bottleneckText(t, line)]];
  if (line.mode !== 'trainer-only') {
    rows.push(['generation', secondsText(t.generation_s), `${bar(t.inference_busy)}  inference busy: share of the step the full-batch pool needs`]);
  }
  rows.push(['trainer', secondsText(t.trainer_s), `${bar(t.trainer_busy)}  trainer busy: forward, backward, optimizer, exposed comms`]);
  const how = plan.weights.broadcast === 'nccl' ? 'NCCL broadcast: the trainer is blocked and the engines pause' : line.mode === 'trainer-only' ? 'the trainer writes the weights to the run dir' : 'filesystem: the trainer writes, the engines pause to load';
  rows.push(['weight transfer', secondsText(t.weight_transfer_s), how]);
  rows.push(['rate', rateText(t), '']);
  const sure = accuracyText();
  rows.push(['how sure', sure.trainer, ''], ['', sure.inference, '']);
  const w0 = Math.max(...rows.map((r) => r[0].length));
  const w1 = Math.max(...rows.filter((r) => r[2]).map((r) => r[1].length));
  return [head, ...rows.map(([a, b, c]) => (c ? `  ${a.padEnd(w0)}  ${b.padStart(w1)}  ${c}` : `  ${a.padEnd(w0)}  ${b}`))];
}
