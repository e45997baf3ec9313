/**
 * The trainer model against prime-rl's measured trainer runs (reference/calibration-benchmarks.json, copied
 * as src/compiler/memory/calibration-benchmarks.json — both copies carry the throughput fields). Pure: the
 * rows are passed in (the test and the docs load the file).
 *
 * What a row measured (reference/run-and-models.md §3.1): every GPU trains `micro_batches` micro-batches of
 * one `seq_len`-token sample each per step (tokens/step = micro_batches × GPUs × seq_len); `step_time`
 * excludes the per-step filesystem weight broadcast, the logged `throughput` includes it (full fine-tune RL
 * runs of January 2026: the whole bf16 model is written each step; LoRA writes the adapter, SFT nothing; the
 * June-2026 runs log no gap). So each row checks two predictions:
 *   trainer tokens/s   = tokens/step ÷ trainer_s                       vs tokens/step ÷ step_time
 *   logged tokens/s    = tokens/step ÷ (trainer_s + filesystem write)  vs throughput
 *
 * Fitted: the trainer constants (constants.ts) on the 34 successful runs not on B200 — the B200 runs used
 * FlashAttention 2 on a stack that ran 2–3× slower than H200 with FA3 and the reference advises against
 * calibrating on them (reference/throughput.md C8); they are reported, not fitted.
 */
import { findGpu, type GpuSpec } from '../catalog/gpus.js';
import { findModelByName, type ModelArchitecture } from '../catalog/models.js';
import { TRAINER_CONSTANTS, type TrainerConstants } from './constants.js';
import { attentionEfficiency, intraNodeBytesPerS, INTER_NODE_BYTES_PER_S, resolveAttention, type Links } from './hardware.js';
import { causalAttentionFlopsPerToken, matmulParams } from './shapes.js';
import { trainerStep, type TrainerStep } from './trainer.js';
import { weightTransfer } from './transfer.js';
import type { AttentionImpl, TrainerThroughputInput } from './types.js';
import type { CalibrationRun } from '../memory/calibration.js';

/** A row of the calibration file (src/compiler/memory/calibration.ts reads the same rows for memory). */
export interface ThroughputCalibrationRow extends CalibrationRun {
  attention: string;
  mfu_pct: number | null;
  throughput_tok_s: number | null;
  step_time_s: number | null;
}

/** Successful runs with a measured throughput and step time. */
export function measuredThroughputRows(rows: ThroughputCalibrationRow[]): ThroughputCalibrationRow[] {
  return rows.filter((r) => r.success && r.throughput_tok_s !== null && r.step_time_s !== null);
}

/** Rows the constants are fitted on: all measured rows but the B200 ones (reference C8). */
export function isFitRow(r: ThroughputCalibrationRow): boolean {
  return !/B200/.test(r.device);
}

export function benchmarkGpu(device: string): GpuSpec {
  const id = /B200/.test(device) ? 'b200' : /H200/.test(device) ? 'h200' : /H100/.test(device) ? 'h100' : /A6000/.test(device) ? 'a6000' : undefined;
  const gpu = id ? findGpu(id) : undefined;
  if (!gpu) throw new Error(`calibration run on an unknown device: ${device}`);
  return gpu;
}

function archOf(r: ThroughputCalibrationRow): ModelArchitecture {
  const arch = findModelByName(r.model);
  if (!arch) throw new Error(`calibration run uses a model outside the catalogue: ${r.model}`);
  return arch;
}

const isJune = (r: ThroughputCalibrationRow) => r.trainer_defaults_era.startsWith('2026-06');

/** A run as the trainer of its era ran it: FSDP over all GPUs, full AC, AC offload for "Offload" rows and the June-2026 defaults (+ optimizer offload), AdamW. */
export function benchmarkTrainerInput(r: ThroughputCalibrationRow): TrainerThroughputInput {
  return {
    gpu: benchmarkGpu(r.device),
    gpus: r.num_gpus,
    gpusPerNode: r.num_gpus,
    dpReplicate: 1,
    dpShard: r.num_gpus / r.cp,
    ep: r.ep,
    cp: r.cp,
    cpStyle: 'ring',
    seqLen: r.seq_len,
    loraRank: r.lora_rank ?? 0,
    ac: 'full',
    activationOffload: r.ac === 'Offload' || isJune(r),
    optimizer: 'adamw',
    optimizerOffload: isJune(r),
    attention: r.attention as AttentionImpl,
    loss: r.type,
  };
}

function benchmarkLinks(gpu: GpuSpec): Links {
  const intra = intraNodeBytesPerS(gpu);
  return { trainerIntra: intra, inferenceIntra: intra, inter: INTER_NODE_BYTES_PER_S };
}

export function tokensPerStep(r: ThroughputCalibrationRow): number {
  return r.micro_batches * r.num_gpus * r.seq_len;
}

/** Whether the run's logged throughput includes a filesystem write of the whole model (full fine-tune RL, January 2026). */
export function logsBroadcast(r: ThroughputCalibrationRow): boolean {
  return r.type === 'rl' && !r.lora_rank && !isJune(r);
}

export interface RowPrediction {
  step: TrainerStep;
  stepS: number;
  broadcastS: number;
  /** tokens/step ÷ trainer_s */
  trainerTokensPerS: number;
  /** tokens/step ÷ (trainer_s + broadcast) */
  loggedTokensPerS: number;
}

export function predictRow(r: ThroughputCalibrationRow, c: TrainerConstants = TRAINER_CONSTANTS): RowPrediction {
  const arch = archOf(r);
  const input = benchmarkTrainerInput(r);
  const links = benchmarkLinks(input.gpu);
  const tokens = tokensPerStep(r);
  const step = trainerStep(arch, input, { tokens, samples: r.micro_batches * r.num_gpus, effectiveLength: r.seq_len, attentionCostCv: 0 }, links, c);
  const broadcastS = logsBroadcast(r)
    ? weightTransfer({
        arch,
        transport: 'filesystem',
        fp8Transfer: false,
        loraRank: 0,
        trainerShardGroup: r.num_gpus,
        trainerGpusPerNode: r.num_gpus,
        inferenceGpus: 1,
        inferenceGpusPerNode: 1,
        replicas: 1,
        colocated: false,
        inferenceBandwidthTBs: input.gpu.bandwidthTBs,
        links,
      }).trainerBlockedS
    : 0;
  return { step, stepS: step.totalS, broadcastS, trainerTokensPerS: tokens / step.totalS, loggedTokensPerS: tokens / (step.totalS + broadcastS) };
}

export interface CalibrationPoint {
  row: ThroughputCalibrationRow;
  label: string;
  fitted: boolean;
  prediction: RowPrediction;
  measuredTrainerTokensPerS: number;
  /** (predicted − measured) / measured, trainer tokens/s */
  trainerError: number;
  measuredLoggedTokensPerS: number;
  loggedError: number;
  /** MFU in the model's convention (useful FLOPs at the measured step time), for the docs. */
  measuredMfu: number;
}

export function rowLabel(r: ThroughputCalibrationRow): string {
  const dev = r.device.replace('NVIDIA ', '').replace(' 80GB HBM3', '');
  return `${r.model.split('/')[1]} ${r.type} ${r.lora_rank ? `lora${r.lora_rank}` : 'full'} ${r.num_gpus}x${dev} ${r.seq_len / 1024}k ${r.ac} ${r.attention.replace('flash_attention_', 'FA')}${isJune(r) ? ' (Jun-26)' : ''}`;
}

export function calibrateThroughput(rows: ThroughputCalibrationRow[], c: TrainerConstants = TRAINER_CONSTANTS): CalibrationPoint[] {
  return measuredThroughputRows(rows).map((row) => {
    const prediction = predictRow(row, c);
    const tokens = tokensPerStep(row);
    const measuredTrainerTokensPerS = tokens / row.step_time_s!;
    const measuredLoggedTokensPerS = row.throughput_tok_s!;
    const gpu = benchmarkGpu(row.device);
    return {
      row,
      label: rowLabel(row),
      fitted: isFitRow(row),
      prediction,
      measuredTrainerTokensPerS,
      trainerError: (prediction.trainerTokensPerS - measuredTrainerTokensPerS) / measuredTrainerTokensPerS,
      measuredLoggedTokensPerS,
      loggedError: (prediction.loggedTokensPerS - measuredLoggedTokensPerS) / measuredLoggedTokensPerS,
      measuredMfu: (measuredTrainerTokensPerS * prediction.step.token.usefulFlops) / (row.num_gpus * gpu.bf16Tflops * 1e12),
    };
  });
}

export function errorSummary(errors: number[]): { median: number; max: number; n: number } {
  const abs = errors.map(Math.abs).sort((a, b) => a - b);
  const n = abs.length;
  const median = n === 0 ? 0 : n % 2 ? abs[(n - 1) / 2]! : (abs[n / 2 - 1]! + abs[n / 2]!) / 2;
  return { median, max: n ? abs[n - 1]! : 0, n };
}

// ------------------------------------------------------------------------------------------------ fitting

/**
 * For a fixed row, the trainer's time per token is linear in (1/e_mm, 1/e_expert, 1/e_att of the row's
 * kernel, c_layer, c_vocab, c_lora), divided by the offload multiplier; the rest of the step (optimizer,
 * exposed communication) does not depend on the fitted constants for these AdamW runs. So a row is a
 * feature vector and the fit is cheap.
 */
interface RowFeatures {
  /** Coefficients of θ = [1/e_mm, 1/e_expert, 1/fa3, 1/fa2Ampere, 1/fa2Other, c_layer, c_vocab, c_lora]. */
  f: number[];
  offloaded: boolean;
  tokensPerGpu: number;
  extraS: number;
  measuredStepS: number;
}

const ATTENTION_SLOT: Record<string, number> = { fa3: 2, fa2Ampere: 3, fa2Other: 4 };

function attentionSlot(impl: Exclude<AttentionImpl, 'auto'>, gpu: GpuSpec): number {
  // which of the three fitted attention efficiencies this kernel on this GPU uses (hardware.ts)
  const probe: TrainerConstants = { ...TRAINER_CONSTANTS, eAttention: { fa3: 1, fa2Ampere: 2, fa2Other: 3 } };
  const slot = attentionEfficiency(impl, gpu, probe);
  return ATTENTION_SLOT[slot === 1 ? 'fa3' : slot === 2 ? 'fa2Ampere' : 'fa2Other']!;
}

function rowFeatures(r: ThroughputCalibrationRow): RowFeatures {
  const arch = archOf(r);
  const input = benchmarkTrainerInput(r);
  const mm = matmulParams(arch);
  const lora = input.loraRank > 0;
  const xMatmul = (lora ? 4 : 6) + 2;
  const xAttention = 4;
  const peak = input.gpu.bf16Tflops * 1e12;
  const bw = input.gpu.bandwidthTBs * 1e12;
  const f = new Array<number>(8).fill(0);
  f[0] = (xMatmul * mm.dense) / peak;
  f[1] = (xMatmul * mm.expert) / peak;
  f[attentionSlot(resolveAttention(input.attention, input.gpu), input.gpu)] = (xAttention * causalAttentionFlopsPerToken(arch, r.seq_len)) / peak;
  f[5] = (arch.layers * arch.hidden) / bw;
  f[6] = r.type === 'rl' ? arch.vocab / bw : 0;
  f[7] = lora ? (arch.layers * arch.hidden) / bw : 0;
  const step = predictRow(r).step;
  return { f, offloaded: input.activationOffload, tokensPerGpu: step.tokensPerGpu, extraS: step.totalS - step.computeS, measuredStepS: r.step_time_s! };
}

function toVector(c: TrainerConstants): number[] {
  return [1 / c.eMatmul, 1 / c.eExpert, 1 / c.eAttention.fa3, 1 / c.eAttention.fa2Ampere, 1 / c.eAttention.fa2Other, c.cLayer, c.cVocabRl, c.cLora, c.offload];
}

function fromVector(v: number[]): TrainerConstants {
  return {
    eMatmul: 1 / v[0]!,
    eExpert: 1 / v[1]!,
    eAttention: { fa3: 1 / v[2]!, fa2Ampere: 1 / v[3]!, fa2Other: 1 / v[4]! },
    cLayer: v[5]!,
    cVocabRl: v[6]!,
    cLora: v[7]!,
    offload: v[8]!,
  };
}

function stepFromFeatures(x: RowFeatures, v: number[]): number {
  let perToken = 0;
  for (let j = 0; j < 8; j++) perToken += x.f[j]! * v[j]!;
  return x.tokensPerGpu * (x.offloaded ? perToken / v[8]! : perToken) + x.extraS;
}

/** Σ |log(predicted / measured)| of the trainer step time. */
function objective(features: RowFeatures[], v: number[]): number {
  let s = 0;
  for (const x of features) s += Math.abs(Math.log(stepFromFeatures(x, v) / x.measuredStepS));
  return s;
}

/** Nelder–Mead in log space (offload clamped to ≤ 1). */
function nelderMead(fn: (logV: number[]) => number, start: number[], iterations: number, scale = 0.3): number[] {
  const n = start.length;
  let simplex = [start.slice()];
  for (let i = 0; i < n; i++) {
    const p = start.slice();
    p[i] = p[i]! + scale;
    simplex.push(p);
  }
  let values = simplex.map(fn);
  for (let it = 0; it < iterations; it++) {
    const order = values.map((v, i) => [v, i] as const).sort((a, b) => a[0] - b[0]);
    simplex = order.map(([, i]) => simplex[i]!);
    values = order.map(([v]) => v);
    const centroid = new Array<number>(n).fill(0);
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) centroid[j]! += simplex[i]![j]! / n;
    const worst = simplex[n]!;
    const at = (t: number) => centroid.map((c, j) => c + t * (worst[j]! - c));
    const reflected = at(-1);
    const fr = fn(reflected);
    if (fr < values[0]!) {
      const expanded = at(-2);
      const fe = fn(expanded);
      if (fe < fr) {
        simplex[n] = expanded;
        values[n] = fe;
      } else {
        simplex[n] = reflected;
        values[n] = fr;
      }
    } else if (fr < values[n - 1]!) {
      simplex[n] = reflected;
      values[n] = fr;
    } else {
      const contracted = fr < values[n]! ? at(-0.5) : at(0.5);
      const fc = fn(contracted);
      if (fc < Math.min(fr, values[n]!)) {
        simplex[n] = contracted;
        values[n] = fc;
      } else {
        const best = simplex[0]!;
        for (let i = 1; i <= n; i++) {
          simplex[i] = simplex[i]!.map((x, j) => best[j]! + 0.5 * (x - best[j]!));
          values[i] = fn(simplex[i]!);
        }
      }
    }
  }
  const best = values.indexOf(Math.min(...values));
  return simplex[best]!;
}

function clampedExp(logV: number[]): number[] {
  return logV.map((x, i) => (i === 8 ? Math.min(1, Math.exp(x)) : Math.exp(x)));
}

export interface TrainerFit {
  constants: TrainerConstants;
  /** Σ |log error| of the fit, and of the given constants on the same rows. */
  objective: number;
  objectiveAt: (c: TrainerConstants) => number;
}

/** Least Σ|log error| of the trainer step time over `rows` (default: the fit rows of the measured ones), from `start`, three restarts. */
export function fitTrainerConstants(rows: ThroughputCalibrationRow[], start: TrainerConstants = TRAINER_CONSTANTS): TrainerFit {
  const features = measuredThroughputRows(rows).filter(isFitRow).map(rowFeatures);
  const fn = (logV: number[]) => objective(features, clampedExp(logV));
  let logV = toVector(start).map(Math.log);
  for (let restart = 0; restart < 3; restart++) logV = nelderMead(fn, logV, 3000, restart === 0 ? 0.3 : 0.1);
  const constants = fromVector(clampedExp(logV));
  return { constants, objective: fn(logV), objectiveAt: (c) => objective(features, toVector(c)) };
}

export interface LeaveOneOutPoint {
  label: string;
  /** Error on the left-out row with the constants fitted on the others (trainer tokens/s). */
  error: number;
}

/** Refit without each fit row in turn and predict it. */
export function leaveOneOut(rows: ThroughputCalibrationRow[], start: TrainerConstants = TRAINER_CONSTANTS): LeaveOneOutPoint[] {
  const fitRows = measuredThroughputRows(rows).filter(isFitRow);
  return fitRows.map((row, i) => {
    const others = fitRows.filter((_, j) => j !== i);
    const { constants } = fitTrainerConstants(others, start);
    const p = predictRow(row, constants);
    const measured = tokensPerStep(row) / row.step_time_s!;
    return { label: rowLabel(row), error: (p.trainerTokensPerS - measured) / measured };
  });
}

/** The linear-feature step time and trainerStep agree (the fit optimises what the model computes). */
export function featureStepS(row: ThroughputCalibrationRow, c: TrainerConstants = TRAINER_CONSTANTS): number {
  return stepFromFeatures(rowFeatures(row), toVector(c));
}

/** The markdown table docs/throughput-model.md carries: every measured run, fitted or not, with its leave-one-out error. */
export function calibrationTable(points: CalibrationPoint[], loo: LeaveOneOutPoint[]): string {
  const pct = (x: number) => {
    const v = Math.round(x * 1000) / 10;
    return v === 0 ? '0.0 %' : `${v > 0 ? '+' : ''}${v.toFixed(1)} %`;
  };
  const perGpu = (p: CalibrationPoint, x: number) => Math.round(x / p.row.num_gpus).toLocaleString('en-US');
  const byLabel = new Map(loo.map((l) => [l.label, l.error]));
  const lines = [
    '| run | fitted? | measured tok/s/GPU (step time) | predicted | error | leave-one-out | logged tok/s/GPU | predicted (+ broadcast) | error | MFU (model convention) |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
  ];
  for (const p of points) {
    const l = byLabel.get(p.label);
    lines.push(
      `| ${p.label} | ${p.fitted ? 'fitted' : 'not fitted'} | ${perGpu(p, p.measuredTrainerTokensPerS)} | ${perGpu(p, p.prediction.trainerTokensPerS)} | ${pct(p.trainerError)} | ${l === undefined ? '—' : pct(l)} | ${perGpu(p, p.measuredLoggedTokensPerS)} | ${perGpu(p, p.prediction.loggedTokensPerS)} | ${pct(p.loggedError)} | ${(p.measuredMfu * 100).toFixed(1)} % |`,
    );
  }
  const s = (xs: number[]) => errorSummary(xs);
  const all = s(points.map((p) => p.trainerError));
  const fit = s(points.filter((p) => p.fitted).map((p) => p.trainerError));
  const logged = s(points.map((p) => p.loggedError));
  const lo = s(loo.map((l) => l.error));
  lines.push('');
  lines.push(
    `${all.n} runs: trainer tokens/s median |error| ${(all.median * 100).toFixed(1)} %, max ${(all.max * 100).toFixed(0)} % (the B200 runs); ` +
      `the ${fit.n} fitted runs: median ${(fit.median * 100).toFixed(1)} %, max ${(fit.max * 100).toFixed(1)} %; ` +
      `leave-one-out: median ${(lo.median * 100).toFixed(1)} %, max ${(lo.max * 100).toFixed(1)} %; ` +
      `logged throughput (with the filesystem broadcast): median ${(logged.median * 100).toFixed(1)} %`,
  );
  return lines.join('\n');
}
