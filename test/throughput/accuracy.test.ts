/** The accuracy figures the plan prints (accuracy.ts) are what the calibration and the anchors compute today. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { accuracyText, THROUGHPUT_ACCURACY } from '../../src/compiler/throughput/accuracy.js';
import { anchors } from '../../src/compiler/throughput/anchors.js';
import { calibrateThroughput, errorSummary, leaveOneOut, type ThroughputCalibrationRow } from '../../src/compiler/throughput/calibration.js';

const rows = JSON.parse(readFileSync('src/compiler/memory/calibration-benchmarks.json', 'utf8')) as ThroughputCalibrationRow[];
// to the 0.1 % the plan prints
const printed = (x: number) => Math.round(x * 1000) / 1000;

describe('the throughput accuracy the plan states', () => {
  it('trainer: the fitted runs\' median error and the leave-one-out median, as calibration.ts computes them', () => {
    const fitted = calibrateThroughput(rows).filter((p) => p.fitted);
    expect(fitted.length).toBe(THROUGHPUT_ACCURACY.trainer.fittedRuns);
    expect(printed(errorSummary(fitted.map((p) => p.trainerError)).median)).toBe(THROUGHPUT_ACCURACY.trainer.fittedMedianError);
    const loo = leaveOneOut(rows);
    expect(printed(errorSummary(loo.map((l) => l.error)).median)).toBe(THROUGHPUT_ACCURACY.trainer.leaveOneOutMedianError);
  }, 60_000);

  it('inference: the count of published serving figures it is compared with (anchors A…)', () => {
    expect(anchors().filter((a) => a.id.startsWith('A')).length).toBe(THROUGHPUT_ACCURACY.inference.anchors);
  });

  it('says both, with the figures', () => {
    expect(accuracyText()).toEqual({
      trainer: 'trainer: median error 3.8 % on 34 measured prime-rl runs (6.4 % leave-one-out)',
      inference: 'inference: a bandwidth roofline with fewer anchors (13 published serving figures)',
    });
  });
});
