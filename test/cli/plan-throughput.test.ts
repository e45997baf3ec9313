/** The text plan's throughput section (render-throughput.ts): what plan.throughput says, in the plan's style. */
import { describe, expect, it } from 'vitest';
import { renderPlan } from '../../src/cli/render-plan.js';
import { throughputLines } from '../../src/cli/render-throughput.js';
import { secondsText } from '../../src/compiler/throughput/describe.js';
import { plainStyle } from '../../src/compiler/diagnostics/render.js';
import { presetPath } from '../../src/compiler/load/compose.js';
import { planSpec } from '../../src/compiler/pipeline.js';

function planned(preset: string, sets: string[] = [], unsets: string[] = []) {
  const r = planSpec(presetPath(preset), { sets, unsets });
  if (!r.ok) throw new Error(`${preset} does not plan: ${r.diagnostics.map((d) => `${d.code} ${d.message}`).join('\n')}`);
  return r.plan;
}

const row = (lines: string[], label: string) => lines.find((l) => l.startsWith(`  ${label} `));

describe('the throughput section of the text plan', () => {
  it('intellect3: between memory and the node map, with the figures of plan.throughput', () => {
    const plan = planned('intellect3');
    const t = plan.throughput!;
    const text = renderPlan(plan, 'presets/intellect3.toml', plainStyle);
    const at = (h: string) => text.indexOf(`\n${h}`);
    expect(at('memory')).toBeGreaterThan(0);
    expect(at('throughput (one RL step')).toBeGreaterThan(at('memory'));
    expect(at('node map')).toBeGreaterThan(at('throughput'));
    const lines = throughputLines(plan, plainStyle);
    expect(row(lines, 'step time')).toMatch(new RegExp(`^ {2}step time +${t.step_time_s.toFixed(0)} s {2}bottleneck ${t.bottleneck}: `));
    expect(row(lines, 'generation')).toContain(`${Math.round(t.inference_busy * 100)}%  inference busy`);
    expect(row(lines, 'trainer')).toContain(`${Math.round(t.trainer_busy * 100)}%  trainer busy`);
    expect(row(lines, 'weight transfer')).toMatch(new RegExp(`${secondsText(t.weight_transfer_s).replace('.', '\\.')} {2}NCCL broadcast`));
    expect(row(lines, 'rate')).toBe(`  rate             ${t.samples_per_s.toFixed(2)} samples/s · ${Math.round(t.tokens_per_s).toLocaleString('en-US')} tokens/s`);
    expect(row(lines, 'how sure')).toContain('median error 3.8 % on 34 measured prime-rl runs (6.4 % leave-one-out)');
    expect(lines[lines.indexOf(row(lines, 'how sure')!) + 1]).toMatch(/^ {19}inference: a bandwidth roofline with fewer anchors/);
    // the trainer's wait is what the step leaves it: step − trainer − transfer
    const wait = Number(/the trainer waits ([\d.]+) s a step/.exec(row(lines, 'step time')!)![1]);
    expect(wait).toBeCloseTo(t.step_time_s - t.trainer_s - t.weight_transfer_s, 0);
  });

  it('tiny is trainer-bound: the inference pool waits', () => {
    const plan = planned('tiny');
    expect(plan.throughput!.bottleneck).toBe('trainer');
    expect(row(throughputLines(plan, plainStyle), 'step time')).toMatch(/bottleneck trainer: training outlasts generation; the inference pool waits [\d.]+ s a step$/);
  });

  it('max_off_policy_steps = 0 is synchronous: the step is the sum, and the section says so', () => {
    const plan = planned('tiny', ['orchestrator.max_off_policy_steps=0']);
    const t = plan.throughput!;
    expect(t.step_time_s).toBeCloseTo(t.generation_s + t.trainer_s + t.weight_transfer_s, 0);
    expect(row(throughputLines(plan, plainStyle), 'step time')).toContain('synchronous (max_off_policy_steps = 0): generate, train, transfer in turn');
  });

  it('a trainer-only run has no generation row', () => {
    const plan = planned('tiny', ['inference.nodes=0', 'trainer.gpus=2'], ['inference.gpus']);
    const lines = throughputLines(plan, plainStyle);
    expect(row(lines, 'generation')).toBeUndefined();
    expect(row(lines, 'step time')).toContain('(trainer-only run)');
    expect(row(lines, 'weight transfer')).toContain('the trainer writes the weights to the run dir');
  });

  it('without a throughput estimate: one line that says why', () => {
    const plan = planned('tiny');
    const { throughput: _t, memory: _m, ...bare } = plan;
    expect(throughputLines(bare, plainStyle)).toEqual(["throughput  not estimated: the model's shape or a GPU type is unknown, as for the memory report (the diagnostics say which)"]);
    const text = renderPlan(bare, 'tiny.toml', plainStyle);
    expect(text).toContain('\nthroughput  not estimated:');
  });
});
