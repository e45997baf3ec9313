import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import {
  calibrateThroughput,
  errorSummary,
  featureStepS,
  fitTrainerConstants,
  isFitRow,
  leaveOneOut,
  measuredThroughputRows,
  type ThroughputCalibrationRow,
} from '../../src/compiler/throughput/calibration.js';
import { TRAINER_CONSTANTS } from '../../src/compiler/throughput/constants.js';

const shipped = JSON.parse(readFileSync('src/compiler/memory/calibration-benchmarks.json', 'utf8')) as ThroughputCalibrationRow[];
const reference = JSON.parse(readFileSync('../shared/reference/calibration-benchmarks.json', 'utf8')) as ThroughputCalibrationRow[];

describe('trainer throughput against the measured prime-rl runs', () => {
  const points = calibrateThroughput(shipped);
  const table = () => points.map((p) => `${p.label}: trainer ${(p.trainerError * 100).toFixed(1)} %, logged ${(p.loggedError * 100).toFixed(1)} %`).join('\n');

  it('the shipped copy is the reference file and carries the throughput fields', () => {
    expect(shipped).toEqual(reference);
    const measured = measuredThroughputRows(shipped);
    expect(measured.length).toBe(40);
    for (const r of measured) {
      expect(r.throughput_tok_s).toBeGreaterThan(0);
      expect(r.step_time_s).toBeGreaterThan(0);
    }
    expect(measured.filter(isFitRow).length).toBe(34);
  });

  it('trainer tokens/s (tokens per step ÷ step time): median error ≤ 15 % over every measured run, fitted or not', () => {
    expect(errorSummary(points.map((p) => p.trainerError)).median, table()).toBeLessThanOrEqual(0.15);
    expect(errorSummary(points.filter((p) => p.fitted).map((p) => p.trainerError)).median, table()).toBeLessThanOrEqual(0.1);
    expect(errorSummary(points.filter((p) => p.fitted).map((p) => p.trainerError)).max, table()).toBeLessThanOrEqual(0.25);
  });

  it('logged throughput (trainer + the filesystem broadcast it includes): median error ≤ 15 %', () => {
    expect(errorSummary(points.map((p) => p.loggedError)).median, table()).toBeLessThanOrEqual(0.15);
    const full = points.filter((p) => p.fitted && p.prediction.broadcastS > 0);
    expect(full.length).toBe(10);
    expect(errorSummary(full.map((p) => p.loggedError)).median, table()).toBeLessThanOrEqual(0.1);
  });

  it('leave-one-out: refitted without each run, the run is predicted with median error ≤ 15 %', () => {
    const loo = leaveOneOut(shipped);
    expect(loo.length).toBe(34);
    const s = errorSummary(loo.map((l) => l.error));
    expect(s.median, loo.map((l) => `${l.label}: ${(l.error * 100).toFixed(1)} %`).join('\n')).toBeLessThanOrEqual(0.15);
    expect(s.max).toBeLessThanOrEqual(0.35);
  });

  it('the constants are the fit (Σ|log error| within 1 % of a fresh fit from them)', () => {
    const fit = fitTrainerConstants(shipped);
    expect(fit.objectiveAt(TRAINER_CONSTANTS)).toBeLessThanOrEqual(fit.objective * 1.01);
  });

  it('the fit optimises what the model computes: feature form = trainerStep for every run', () => {
    for (const p of points) expect(featureStepS(p.row) / p.prediction.stepS).toBeCloseTo(1, 9);
  });

  it('the B200 runs (FA2 on an early Blackwell stack) are not fitted and come out optimistic, as the reference warns', () => {
    const b200 = points.filter((p) => !p.fitted);
    expect(b200.length).toBe(6);
    for (const p of b200) expect(p.trainerError).toBeGreaterThan(0.5);
  });
});
