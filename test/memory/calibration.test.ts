import { describe, expect, it } from 'vitest';
import {
  boundMargin,
  calibrate,
  DEFAULT_CONSTANTS,
  deviceTotalGib,
  errorSummary,
  fitConstants,
  leaveOneGroupOut,
  logoSummary,
  measuredCalibrationRuns,
  oomCalibrationRuns,
  rlCalibrationRuns,
  UPPER_BOUND_MARGIN,
  upperBound,
} from '../../src/compiler/memory/calibration.js';
import { readFileSync } from 'node:fs';

describe('trainer peak memory against measured prime-rl runs', () => {
  const results = calibrate();

  it('the copy in src/ agrees with the reference file', () => {
    expect(JSON.parse(readFileSync('src/compiler/memory/calibration-benchmarks.json', 'utf8'))).toEqual(JSON.parse(readFileSync('../shared/reference/calibration-benchmarks.json', 'utf8')));
  });

  it('covers every successful run with a measured peak, RL and SFT; the one OOM run is a CUDA out-of-memory', () => {
    expect(results.length).toBe(measuredCalibrationRuns().length);
    expect(results.length).toBe(40);
    expect(rlCalibrationRuns().length).toBe(32);
    expect(oomCalibrationRuns().map((r) => `${r.model} ${r.type} ${r.seq_len}`)).toEqual(['Qwen/Qwen3-0.6B sft 65536']);
  });

  it('in sample: median absolute error ≤ 5 %, every run within 20 %', () => {
    const summary = errorSummary(results);
    const table = results.map((r) => `${r.label}: predicted ${r.predicted.peakGib.toFixed(2)}, measured ${r.measured} (${(r.error * 100).toFixed(1)} %)`).join('\n');
    expect(summary.median, table).toBeLessThanOrEqual(0.05);
    expect(summary.max, table).toBeLessThanOrEqual(0.2);
  });

  it('the constants are the fit on the calibration set, and the bound margin is its largest under-prediction', () => {
    expect(fitConstants(measuredCalibrationRuns())).toEqual(DEFAULT_CONSTANTS);
    expect(boundMargin(results)).toBe(UPPER_BOUND_MARGIN);
    for (const r of results) expect(upperBound(r.predicted.peakGib), r.label).toBeGreaterThanOrEqual(r.measured);
  });

  it('the OOM run does not fit on the estimate, and no successful run is predicted over its device', () => {
    for (const r of calibrate(oomCalibrationRuns())) expect(r.predicted.peakGib).toBeGreaterThan(deviceTotalGib(r.run));
    for (const r of results) expect(r.predicted.peakGib, r.label).toBeLessThanOrEqual(deviceTotalGib(r.run));
  });
});

describe('leave one group out (a whole model, or a whole sequence length, never seen by the fit)', () => {
  const rows = leaveOneGroupOut();
  const summary = logoSummary(rows);
  const table = rows.map((r) => `${r.group}: ${r.runs} runs, median ${(r.median * 100).toFixed(1)} %, max ${(r.max * 100).toFixed(1)} %, margin ${r.margin}, false OOM ${r.falseOom.join(', ')}, missed OOM ${r.missedOom.join(', ')}`).join('\n');

  it('holds out every model and every sequence length of the file', () => {
    expect(rows.map((r) => r.group)).toEqual([
      'Qwen3-0.6B',
      'Qwen3-30B-A3B-Instruct-2507',
      'Qwen3-4B-Instruct-2507',
      'seq_len 16384',
      'seq_len 65536',
      'seq_len 8192',
    ]);
    expect(summary.predictions).toBe(80); // 40 runs, held out once per grouping
  });

  it('median error ≤ 8 % on the held-out runs', () => {
    expect(summary.median, table).toBeLessThanOrEqual(0.08);
  });

  it('no successful run over-predicted to OOM, no OOM run predicted to fit (on the upper bound)', () => {
    expect(summary.falseOom, table).toBe(0);
    expect(summary.missedOom, table).toBe(0);
    // the OOM run (0.6B, 64k) is held out twice: once with its model, once with its sequence length
    expect(rows.filter((r) => r.group === 'Qwen3-0.6B' || r.group === 'seq_len 65536').every((r) => r.missedOom.length === 0)).toBe(true);
  });
});
