import { describe, expect, it } from 'vitest';
import type { ThroughputSummary } from '../../src/compiler/throughput/summary.js';
import { stepTimeline, type Phase } from '../../src/compiler/throughput/timeline.js';

const base: ThroughputSummary = { step_time_s: 100, generation_s: 90, trainer_s: 60, weight_transfer_s: 10, inference_busy: 0.8, trainer_busy: 0.6, bottleneck: 'inference', samples_per_s: 1, tokens_per_s: 1000 };
const total = (phases: Phase[], kind: Phase['kind']) => phases.filter((p) => p.kind === kind).reduce((s, p) => s + p.endS - p.startS, 0);

/** Each lane covers [0, step] without gaps or overlaps. */
function expectContiguous(phases: Phase[], step: number) {
  expect(phases[0]!.startS).toBe(0);
  for (let i = 1; i < phases.length; i++) expect(phases[i]!.startS).toBeCloseTo(phases[i - 1]!.endS, 9);
  expect(phases.at(-1)!.endS).toBeCloseTo(step, 9);
}

describe('one step laid out in time', () => {
  it('overlapped, inference binding: the pool generates around the pause, the trainer waits the rest', () => {
    const line = stepTimeline(base);
    expect(line.mode).toBe('overlapped');
    expectContiguous(line.inference, 100);
    expectContiguous(line.trainer, 100);
    expect(line.inference.map((p) => p.kind)).toEqual(['generate', 'paused', 'generate']);
    expect(total(line.inference, 'generate')).toBeCloseTo(90, 9);
    expect(line.inference[1]).toEqual({ kind: 'paused', startS: 60, endS: 70 });
    expect(line.trainer.map((p) => p.kind)).toEqual(['train', 'transfer', 'wait']);
    expect(line.trainerWaitS).toBeCloseTo(30, 9);
    expect(line.inferenceWaitS).toBe(0);
  });

  it('overlapped, trainer binding: the pool finishes early and waits for the transfer', () => {
    const line = stepTimeline({ ...base, step_time_s: 70, generation_s: 40, trainer_s: 60, bottleneck: 'trainer' });
    expectContiguous(line.inference, 70);
    expect(line.inference.map((p) => p.kind)).toEqual(['generate', 'wait', 'paused']);
    expect(line.inferenceWaitS).toBeCloseTo(20, 9);
    expect(line.trainerWaitS).toBe(0);
  });

  it('a gap within the summary\'s rounding (4 significant figures) is no wait', () => {
    const line = stepTimeline({ ...base, step_time_s: 100.05 });
    expect(line.inference.map((p) => p.kind)).toEqual(['generate', 'paused', 'generate']);
    expect(line.inference.at(-1)!.endS).toBe(100.05);
    expect(line.inferenceWaitS).toBe(0);
  });

  it('synchronous: generate, train, transfer in turn', () => {
    const line = stepTimeline({ ...base, step_time_s: 160 });
    expect(line.mode).toBe('synchronous');
    expectContiguous(line.trainer, 160);
    expectContiguous(line.inference, 160);
    expect(line.trainer.map((p) => [p.kind, p.startS, p.endS])).toEqual([['wait', 0, 90], ['train', 90, 150], ['transfer', 150, 160]]);
    expect(line.inference.map((p) => p.kind)).toEqual(['generate', 'wait', 'paused']);
  });

  it('trainer-only: no inference lane', () => {
    const line = stepTimeline({ ...base, step_time_s: 70, generation_s: 0, inference_busy: 0, bottleneck: 'trainer' });
    expect(line.mode).toBe('trainer-only');
    expect(line.inference).toEqual([]);
    expect(line.trainer.map((p) => p.kind)).toEqual(['train', 'transfer']);
  });
});
