/**
 * The measured prime-rl trainer runs (reference/calibration-benchmarks.json, copied here) expressed as
 * model inputs with the trainer defaults of their era, the model's error on each, the upper bound derived
 * from those errors, and the leave-one-group-out check of both. Used by the calibration test,
 * `npm run bench:memory` and docs/memory-model.md.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PACKAGE_ROOT } from '../../paths.js';
import { findModelByName } from '../catalog/models.js';
import { ALLOCATOR_RESERVE, estimateTrainerMemory, WORKING_FACTOR, type TrainerConstants, type TrainerMemoryEstimate, type TrainerMemoryInput } from './trainer.js';

export interface CalibrationRun {
  model: string;
  num_gpus: number;
  device: string;
  type: 'rl' | 'sft';
  lora_rank: number | null;
  finetune: string;
  seq_len: number;
  ac: 'Recompute' | 'Offload';
  cp: number;
  ep: number;
  micro_batches: number;
  success: boolean;
  error_reason?: string | null;
  peak_memory_gib: number | null;
  device_total_gib_reported?: number | null;
  trainer_defaults_era: string;
}

export interface CalibrationResult {
  run: CalibrationRun;
  label: string;
  predicted: TrainerMemoryEstimate;
  measured: number;
  /** (predicted − measured) / measured */
  error: number;
}

/**
 * The upper bound: estimate × (1 + UPPER_BOUND_MARGIN). The margin is the largest under-prediction of the
 * calibrated model on the calibration set, (measured − predicted) / predicted, rounded up to the next
 * percent (`boundMargin` computes it; the calibration test holds the constant to it).
 */
export const UPPER_BOUND_MARGIN = 0.2;

export function upperBound(peakGib: number, margin = UPPER_BOUND_MARGIN): number {
  return peakGib * (1 + margin);
}

export function loadCalibrationRuns(): CalibrationRun[] {
  return JSON.parse(readFileSync(join(PACKAGE_ROOT, 'src', 'compiler', 'memory', 'calibration-benchmarks.json'), 'utf8')) as CalibrationRun[];
}

/** The successful runs with a measured peak (RL and SFT): what the model is calibrated and tested on. */
export function measuredCalibrationRuns(): CalibrationRun[] {
  return loadCalibrationRuns().filter((r) => r.success && r.peak_memory_gib !== null);
}

/** The successful RL runs. */
export function rlCalibrationRuns(): CalibrationRun[] {
  return measuredCalibrationRuns().filter((r) => r.type === 'rl');
}

/** Failed runs whose log says CUDA out of memory (the others failed for reasons the memory model does not judge). */
export function oomCalibrationRuns(): CalibrationRun[] {
  return loadCalibrationRuns().filter((r) => !r.success && /out of memory/i.test(r.error_reason ?? ''));
}

/** torch's total device memory of a run's GPU (the file's figure, or the catalogue's for the same device). */
export function deviceTotalGib(run: CalibrationRun): number {
  if (run.device_total_gib_reported) return run.device_total_gib_reported;
  const d = run.device;
  if (/B200/.test(d)) return 178.36;
  if (/H200/.test(d)) return 139.8;
  if (/H100/.test(d)) return 79.18;
  if (/A6000/.test(d)) return 47.4;
  throw new Error(`calibration run on an unknown device: ${d}`);
}

/**
 * A run as the trainer of its era ran it: Jan-2026 = AdamW without optimizer offload, RL fused LM-head chunk
 * 2048 and SFT unchunked, AC full (Recompute) or AC offload with 5 in flight (Offload); June-2026 = AC
 * offload, optimizer offload, chunk 1024. FSDP over all GPUs, no EP or CP.
 */
export function calibrationInput(run: CalibrationRun, constants?: TrainerConstants): TrainerMemoryInput {
  const arch = findModelByName(run.model);
  if (!arch) throw new Error(`calibration run uses a model outside the catalogue: ${run.model}`);
  const june = run.trainer_defaults_era.startsWith('2026-06');
  return {
    arch,
    dpShard: run.num_gpus / run.cp,
    cp: run.cp,
    ep: run.ep,
    seqLen: run.seq_len,
    loraRank: run.lora_rank ?? 0,
    ac: 'full',
    offloadInflight: june || run.ac === 'Offload' ? 5 : 0,
    optimizer: 'adamw',
    optimizerOffload: june,
    lmHeadChunk: run.type === 'sft' ? 0 : june ? 1024 : 2048,
    // the benchmark script trains LoRA with --max-concurrent-runs 4: four adapters side by side
    loraAdapters: run.lora_rank ? 4 : 1,
    ...(constants ? { constants } : {}),
  };
}

export function runLabel(run: CalibrationRun): string {
  return `${run.model.split('/')[1]} ${run.type} ${run.lora_rank ? `lora${run.lora_rank}` : 'full'} ${run.num_gpus}x${run.device.replace('NVIDIA ', '').replace(' 80GB HBM3', '')} ${run.seq_len / 1024}k ${run.ac}${run.trainer_defaults_era.startsWith('2026-06') ? ' (Jun-26)' : ''}`;
}

export function calibrate(runs = measuredCalibrationRuns(), constants?: TrainerConstants): CalibrationResult[] {
  return runs.map((run) => {
    const predicted = estimateTrainerMemory(calibrationInput(run, constants));
    const measured = run.peak_memory_gib!;
    return { run, label: runLabel(run), predicted, measured, error: (predicted.peakGib - measured) / measured };
  });
}

export function errorSummary(results: CalibrationResult[]): { median: number; max: number; within20: number; count: number } {
  const abs = results.map((r) => Math.abs(r.error)).sort((a, b) => a - b);
  return { median: median(abs), max: abs[abs.length - 1] ?? 0, within20: abs.filter((e) => e <= 0.2).length, count: abs.length };
}

function median(sorted: number[]): number {
  if (sorted.length === 0) return 0;
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** The largest under-prediction (measured − predicted) / predicted, rounded up to a whole percent; 0 if none. */
export function boundMargin(results: CalibrationResult[]): number {
  const worst = Math.max(0, ...results.map((r) => (r.measured - r.predicted.peakGib) / r.predicted.peakGib));
  return Math.ceil(worst * 100 - 1e-9) / 100;
}

/**
 * Fits the two constants on `runs`: a grid over the working-set factor and the allocator reserve that
 * minimises the mean absolute relative error (ties: the smaller maximum).
 */
export function fitConstants(runs: CalibrationRun[]): TrainerConstants {
  let best: { c: TrainerConstants; median: number; max: number } | undefined;
  for (let w = 0.5; w <= 2.0001; w += 0.05) {
    for (let r = 0; r <= 0.3001; r += 0.02) {
      const c = { workingFactor: Math.round(w * 100) / 100, allocatorReserve: Math.round(r * 100) / 100 };
      const errors = calibrate(runs, c).map((x) => Math.abs(x.error));
      const mean = errors.reduce((a, e) => a + e, 0) / errors.length;
      const max = Math.max(...errors);
      if (!best || mean < best.median - 1e-9 || (Math.abs(mean - best.median) < 1e-9 && max < best.max)) best = { c, median: mean, max };
    }
  }
  return best!.c;
}

export const DEFAULT_CONSTANTS: TrainerConstants = { workingFactor: WORKING_FACTOR, allocatorReserve: ALLOCATOR_RESERVE };

export interface LogoRow {
  group: string;
  runs: number;
  constants: TrainerConstants;
  margin: number;
  /** median and max |error| of the estimate on the held-out runs */
  median: number;
  max: number;
  /** held-out runs whose measured peak exceeds the upper bound */
  aboveBound: number;
  /** successful held-out runs whose estimate exceeds the device: over-predicted to OOM (an error) */
  falseOom: string[];
  /** successful held-out runs between estimate and bound: fit on the estimate, not on the bound (a warning) */
  warned: string[];
  /** held-out OOM runs predicted to fit on the upper bound */
  missedOom: string[];
  results: CalibrationResult[];
}

export type GroupKey = 'model' | 'seq_len';

function groupOf(run: CalibrationRun, key: GroupKey): string {
  return key === 'model' ? run.model.split('/')[1]! : `seq_len ${run.seq_len}`;
}

/**
 * Leave one group out: for every model and every sequence length, refit the constants and the bound margin
 * on the runs outside the group, then predict the group's runs (and its OOM runs) with them.
 */
export function leaveOneGroupOut(keys: GroupKey[] = ['model', 'seq_len']): LogoRow[] {
  const measured = measuredCalibrationRuns();
  const ooms = oomCalibrationRuns();
  const rows: LogoRow[] = [];
  for (const key of keys) {
    const groups = [...new Set([...measured, ...ooms].map((r) => groupOf(r, key)))].sort();
    for (const group of groups) {
      const train = measured.filter((r) => groupOf(r, key) !== group);
      const test = measured.filter((r) => groupOf(r, key) === group);
      const testOom = ooms.filter((r) => groupOf(r, key) === group);
      const constants = fitConstants(train);
      const margin = boundMargin(calibrate(train, constants));
      const results = calibrate(test, constants);
      const s = errorSummary(results);
      const bound = (r: CalibrationResult) => upperBound(r.predicted.peakGib, margin);
      rows.push({
        group,
        runs: test.length,
        constants,
        margin,
        median: s.median,
        max: s.max,
        aboveBound: results.filter((r) => r.measured > bound(r)).length,
        falseOom: results.filter((r) => r.predicted.peakGib > deviceTotalGib(r.run)).map((r) => r.label),
        warned: results.filter((r) => r.predicted.peakGib <= deviceTotalGib(r.run) && bound(r) > deviceTotalGib(r.run)).map((r) => r.label),
        missedOom: calibrate(testOom, constants)
          .filter((r) => upperBound(r.predicted.peakGib, margin) <= deviceTotalGib(r.run))
          .map((r) => r.label),
        results,
      });
    }
  }
  return rows;
}

/** All held-out predictions of a leave-one-group-out pass (each run once per grouping), pooled. */
export function logoSummary(rows: LogoRow[]): { median: number; max: number; aboveBound: number; falseOom: number; warned: number; missedOom: number; predictions: number } {
  const errors = rows.flatMap((r) => r.results.map((x) => Math.abs(x.error))).sort((a, b) => a - b);
  return {
    median: median(errors),
    max: errors[errors.length - 1] ?? 0,
    aboveBound: rows.reduce((a, r) => a + r.aboveBound, 0),
    falseOom: rows.reduce((a, r) => a + r.falseOom.length, 0),
    warned: rows.reduce((a, r) => a + r.warned.length, 0),
    missedOom: rows.reduce((a, r) => a + r.missedOom.length, 0),
    predictions: errors.length,
  };
}
