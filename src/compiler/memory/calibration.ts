/**
 * The measured prime-rl trainer runs (reference/calibration-benchmarks.json, copied here) expressed as
 * model inputs with the trainer defaults of their era, and the model's error on each. Used by the
 * calibration test, `npm run bench:memory` and docs/memory-model.md.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PACKAGE_ROOT } from '../../paths.js';
import { findModelByName } from '../catalog/models.js';
import { estimateTrainerMemory, type TrainerMemoryEstimate, type TrainerMemoryInput } from './trainer.js';

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
  peak_memory_gib: number | null;
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

export function loadCalibrationRuns(): CalibrationRun[] {
  return JSON.parse(readFileSync(join(PACKAGE_ROOT, 'src', 'compiler', 'memory', 'calibration-benchmarks.json'), 'utf8')) as CalibrationRun[];
}

/** The successful RL runs: what the RL trainer's memory model is calibrated and tested on. */
export function rlCalibrationRuns(): CalibrationRun[] {
  return loadCalibrationRuns().filter((r) => r.type === 'rl' && r.success && r.peak_memory_gib !== null);
}

/**
 * A run as the trainer of its era ran it: Jan-2026 = AdamW without optimizer offload, LM-head chunk 2048,
 * AC full (Recompute) or AC offload with 5 in flight (Offload); June-2026 = AC offload, optimizer offload,
 * chunk 1024. FSDP over all GPUs, no EP or CP.
 */
export function calibrationInput(run: CalibrationRun): TrainerMemoryInput {
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
    lmHeadChunk: june ? 1024 : 2048,
    // the benchmark script trains LoRA with --max-concurrent-runs 4: four adapters side by side
    loraAdapters: run.lora_rank ? 4 : 1,
  };
}

export function calibrate(runs = rlCalibrationRuns()): CalibrationResult[] {
  return runs.map((run) => {
    const predicted = estimateTrainerMemory(calibrationInput(run));
    const measured = run.peak_memory_gib!;
    const label = `${run.model.split('/')[1]} ${run.lora_rank ? `lora${run.lora_rank}` : 'full'} ${run.num_gpus}x${run.device.replace('NVIDIA ', '')} ${run.seq_len} ${run.ac}${run.trainer_defaults_era.startsWith('2026-06') ? ' (Jun-26)' : ''}`;
    return { run, label, predicted, measured, error: (predicted.peakGib - measured) / measured };
  });
}

export function errorSummary(results: CalibrationResult[]): { median: number; max: number; within20: number; count: number } {
  const abs = results.map((r) => Math.abs(r.error)).sort((a, b) => a - b);
  return { median: abs[Math.floor(abs.length / 2)] ?? 0, max: abs[abs.length - 1] ?? 0, within20: abs.filter((e) => e <= 0.2).length, count: abs.length };
}
