import { describe, expect, it } from 'vitest';
import { calibrate, errorSummary, rlCalibrationRuns } from '../../src/compiler/memory/calibration.js';

describe('trainer peak memory against measured prime-rl runs', () => {
  const results = calibrate();

  it('covers every successful RL run of the calibration file', () => {
    expect(results.length).toBe(rlCalibrationRuns().length);
    expect(results.length).toBeGreaterThanOrEqual(30);
  });

  it('has a median absolute error of at most 10 % and every run within 20 %', () => {
    const summary = errorSummary(results);
    const table = results.map((r) => `${r.label}: predicted ${r.predicted.peakGib.toFixed(2)}, measured ${r.measured} (${(r.error * 100).toFixed(1)} %)`).join('\n');
    expect(summary.median, table).toBeLessThanOrEqual(0.1);
    expect(summary.max, table).toBeLessThanOrEqual(0.2);
  });
});
