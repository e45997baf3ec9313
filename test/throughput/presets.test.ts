/** Every preset plans with a throughput estimate that makes sense, and the docs' presets table covers them all. */
import { describe, expect, it } from 'vitest';
import { listPresets, presetPath } from '../../src/compiler/load/compose.js';
import { planSpec } from '../../src/compiler/pipeline.js';
import { stepTimeline } from '../../src/compiler/throughput/timeline.js';
import { PRESETS } from './generated.js';

describe('the presets\' throughput', () => {
  it('the docs\' presets table (generated.ts) lists every preset', () => {
    expect([...PRESETS].sort()).toEqual([...listPresets()].sort());
  });

  for (const name of listPresets()) {
    it(`${name}: present, finite, the step at least each side's work, busy shares in (0, 1]`, () => {
      const r = planSpec(presetPath(name));
      if (!r.ok) throw new Error(`${name} does not plan: ${r.diagnostics.map((d) => d.code).join(', ')}`);
      const t = r.plan.throughput;
      expect(t, `${name} has no throughput`).toBeDefined();
      for (const [key, value] of Object.entries(t!)) if (typeof value === 'number') expect(Number.isFinite(value), `${key} = ${value}`).toBe(true);
      const slack = t!.step_time_s * 1e-3; // the summary rounds to 4 significant figures
      // overlapped: the step is the longer side; each side's work fits in it
      expect(t!.step_time_s + slack).toBeGreaterThanOrEqual(t!.trainer_s + t!.weight_transfer_s);
      expect(t!.step_time_s + slack).toBeGreaterThanOrEqual(t!.generation_s);
      expect(t!.inference_busy).toBeGreaterThan(0);
      expect(t!.inference_busy).toBeLessThanOrEqual(1);
      expect(t!.trainer_busy).toBeGreaterThan(0);
      expect(t!.trainer_busy).toBeLessThanOrEqual(1);
      expect(t!.trainer_busy).toBeCloseTo(t!.trainer_s / t!.step_time_s, 2);
      expect(t!.samples_per_s).toBeCloseTo(r.resolved.spec.orchestrator.batch_size / t!.step_time_s, 2);
      expect(t!.tokens_per_s).toBeGreaterThan(t!.samples_per_s);
      expect(stepTimeline(t!).mode).toBe('overlapped');
    });
  }

  it('intellect3, the recorded 16 trainer + 48 inference node split, comes out near balanced: both sides at least 60 % busy', () => {
    const r = planSpec(presetPath('intellect3'));
    if (!r.ok) throw new Error('intellect3 does not plan');
    const t = r.plan.throughput!;
    expect(r.plan.roles.trainer.gpus).toBe(128);
    expect(r.plan.roles.inference!.gpus).toBe(384);
    expect(t.inference_busy).toBeGreaterThanOrEqual(0.6);
    expect(t.trainer_busy).toBeGreaterThanOrEqual(0.6);
    // neither side waits for more than a tenth of the step
    const line = stepTimeline(t);
    expect(Math.max(line.trainerWaitS, line.inferenceWaitS)).toBeLessThan(0.1 * t.step_time_s);
  });
});
