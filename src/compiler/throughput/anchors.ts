/**
 * Every published number of reference/throughput.md the model can be run on, next to the model's prediction,
 * each marked fitted (the number set a constant) or not fitted. docs/throughput-model.md prints this table
 * (a test keeps it current). Anchors on models outside the catalogue, or without the setup needed to run the
 * model, are listed in the docs as not compared, with the reason.
 */
import { findGpu, type GpuSpec } from '../catalog/gpus.js';
import { countParameters, findModelById, type ModelArchitecture } from '../catalog/models.js';
import { estimateInferenceMemory } from '../memory/inference.js';
import { GIB } from '../memory/trainer.js';
import { FILESYSTEM_BYTES_PER_S } from './constants.js';
import { links, intraNodeBytesPerS, INTER_NODE_BYTES_PER_S } from './hardware.js';
import { batchCap, INFERENCE_CONSTANTS, replicaOf, replicaRate } from './inference.js';
import { throughputOf } from './index.js';
import { trainerStep } from './trainer.js';
import { weightTransfer } from './transfer.js';
import type { AttentionImpl, InferenceThroughputInput, ThroughputInput, TrainerThroughputInput } from './types.js';

export interface Anchor {
  /** The reference's anchor id (throughput.md §2–§5). */
  id: string;
  what: string;
  unit: string;
  measured: number;
  predicted: number;
  fitted: boolean;
  note: string;
}

const gpu = (id: string): GpuSpec => findGpu(id)!;
const model = (id: string): ModelArchitecture => findModelById(id)!;

// ------------------------------------------------------------------------------------------------ trainer

/** A prime-rl benchmark-style run: FSDP over `gpus` GPUs of one node, 2 micro-batches of one `seqLen` sample each. */
function benchmarkTokensPerGpu(arch: ModelArchitecture, g: GpuSpec, o: { gpus: number; seqLen: number; lora: boolean; offload: boolean; attention: AttentionImpl; ep?: number }): number {
  const t: TrainerThroughputInput = {
    gpu: g,
    gpus: o.gpus,
    gpusPerNode: o.gpus,
    dpReplicate: 1,
    dpShard: o.gpus,
    ep: o.ep ?? 1,
    cp: 1,
    cpStyle: 'ring',
    seqLen: o.seqLen,
    loraRank: o.lora ? 16 : 0,
    ac: 'full',
    activationOffload: o.offload,
    optimizer: 'adamw',
    optimizerOffload: false,
    attention: o.attention,
  };
  const intra = intraNodeBytesPerS(g);
  const s = trainerStep(arch, t, { tokens: 2 * o.gpus * o.seqLen, samples: 2 * o.gpus, effectiveLength: o.seqLen, attentionCostCv: 0 }, { trainerIntra: intra, inferenceIntra: intra, inter: INTER_NODE_BYTES_PER_S });
  return s.tokensPerSPerGpu;
}

function trainerAnchors(): Anchor[] {
  const glm = model('glm4_moe-106b-a12b');
  const q30 = model('qwen3_moe-30b-a3b');
  const h200 = gpu('h200');
  const note = 'prime-rl benchmark, Jan 2026, not in calibration-benchmarks.json';
  return [
    { id: 'C1', what: 'INTELLECT-3 LoRA r16, 8×H200 FSDP, 16k, full AC, FA3', unit: 'tok/s/GPU', measured: 2086, predicted: benchmarkTokensPerGpu(glm, h200, { gpus: 8, seqLen: 16384, lora: true, offload: false, attention: 'flash_attention_3' }), fitted: false, note },
    { id: 'C8', what: 'INTELLECT-3 LoRA r16, 8×H200, 16k, AC offload, FA3', unit: 'tok/s/GPU', measured: 16154 / 8, predicted: benchmarkTokensPerGpu(glm, h200, { gpus: 8, seqLen: 16384, lora: true, offload: true, attention: 'flash_attention_3' }), fitted: false, note },
    { id: 'C1', what: 'INTELLECT-3 LoRA r16, 8×H200, 65k, AC offload, FA3', unit: 'tok/s/GPU', measured: 1220, predicted: benchmarkTokensPerGpu(glm, h200, { gpus: 8, seqLen: 65536, lora: true, offload: true, attention: 'flash_attention_3' }), fitted: false, note },
    { id: 'C8', what: 'INTELLECT-3 LoRA r16, 8×H200, 65k, AC offload, FA2', unit: 'tok/s/GPU', measured: 6299 / 8, predicted: benchmarkTokensPerGpu(glm, h200, { gpus: 8, seqLen: 65536, lora: true, offload: true, attention: 'flash_attention_2' }), fitted: false, note },
    { id: 'C2', what: 'Qwen3-30B-A3B full RL, 8×H200, 65k (by step time)', unit: 'tok/s/GPU', measured: 3056, predicted: benchmarkTokensPerGpu(q30, h200, { gpus: 8, seqLen: 65536, lora: false, offload: false, attention: 'flash_attention_3' }), fitted: false, note },
    { id: 'C2', what: 'Qwen3-30B-A3B full RL, 8×H200, 16k (by step time)', unit: 'tok/s/GPU', measured: 4428, predicted: benchmarkTokensPerGpu(q30, h200, { gpus: 8, seqLen: 16384, lora: false, offload: false, attention: 'flash_attention_3' }), fitted: true, note: 'a calibration row' },
    {
      id: 'C3',
      what: 'Qwen3-30B-A3B, 8×H100 FSDP8 + EP8, 4k (NeMo AutoModel, TE + DeepEP)',
      unit: 'tok/s/GPU',
      measured: 12040,
      predicted: benchmarkTokensPerGpu(q30, gpu('h100'), { gpus: 8, seqLen: 4096, lora: false, offload: false, attention: 'flash_attention_3', ep: 8 }),
      fitted: false,
      note: 'another framework; predicted as prime-rl would run it (full AC, RL loss)',
    },
  ];
}

// ------------------------------------------------------------------------------------------------ inference

/** KV tokens of a replica from the memory model (vLLM's accounting); FP4 weights free the difference to FP8. */
function kvTokensOf(arch: ModelArchitecture, g: GpuSpec, o: { tp: number; engines: number; ep: boolean; dtype: 'bf16' | 'fp8' | 'fp4'; maxModelLen: number }): number {
  const est = estimateInferenceMemory({
    arch,
    gpu: g,
    tp: o.tp,
    dpGroup: o.engines,
    expertParallel: o.ep,
    weightsDtype: o.dtype === 'bf16' ? 'bf16' : 'fp8',
    gpuMemoryUtilization: 0.9,
    maxModelLen: o.maxModelLen,
    maxNumSeqs: 0,
    replicas: 1,
    enginesPerReplica: o.engines,
    maxInflight: 1,
    meanRolloutTokens: 1,
  });
  if (o.dtype !== 'fp4') return est.kvTokensPerReplica;
  const c = countParameters(arch);
  const freed = ((c.total - c.embedding - c.lmHead) * 0.5) / o.tp;
  const perEngine = Math.floor((est.kvCacheGib * GIB + freed) / (16 * est.kvBytesPerTokenPerGpu)) * 16;
  return perEngine * o.engines;
}

/**
 * Offline, fixed-length serving (a benchmark, not RL): every request isl in, osl out; the engine fills its
 * KV pool (usage 1, not prime-rl's 0.7 target); output (or total) tokens per second per GPU at the batch cap.
 */
export function offlineTokensPerGpu(arch: ModelArchitecture, inf: InferenceThroughputInput, isl: number, osl: number, total = false): number {
  const c = { ...INFERENCE_CONSTANTS, kvUsage: 1 };
  const rep = replicaOf(arch, inf);
  const context = isl + osl / 2;
  const cap = batchCap(rep, context, c);
  const rate = replicaRate(rep, cap.cap, { outputTokens: osl, prefillTokens: isl, promptTokens: isl, context }, c);
  return total ? (rate.episodesPerS * (isl + osl)) / rep.gpus : rate.outputTokensPerSPerGpu;
}

function inferenceAnchors(): Anchor[] {
  const q235 = model('qwen3_moe-235b-a22b');
  const q30 = model('qwen3_moe-30b-a3b');
  const glm = model('glm4_moe-106b-a12b');
  const out: Anchor[] = [];
  const a1 = (g: GpuSpec, engines: number, isl: number, osl: number, measured: number) => {
    const inf: InferenceThroughputInput = {
      gpu: g,
      gpusPerNode: 8,
      replicas: 1,
      tp: 1,
      enginesPerReplica: engines,
      expertParallel: true,
      weightsDtype: 'fp8',
      kvCacheDtype: 'auto',
      kvTokensPerReplica: kvTokensOf(q235, g, { tp: 1, engines, ep: true, dtype: 'fp8', maxModelLen: isl + osl }),
      maxNumSeqs: 0,
    };
    out.push({
      id: 'A1',
      what: `Qwen3-235B-A22B FP8, ${g.id.toUpperCase()} DEP${engines}, ISL/OSL ${isl / 1024}k/${osl / 1024}k`,
      unit: 'out tok/s/GPU',
      measured,
      predicted: offlineTokensPerGpu(q235, inf, isl, osl),
      fitted: true,
      note: 'TensorRT-LLM; sets the η band (reference §6.1)',
    });
  };
  a1(gpu('h200'), 4, 1024, 1024, 3288);
  a1(gpu('h200'), 4, 1024, 8192, 1417);
  a1(gpu('h200'), 4, 8192, 1024, 627);
  a1(gpu('h200'), 4, 32768, 1024, 134);
  a1(gpu('h100'), 8, 1024, 1024, 1932);
  a1(gpu('h100'), 8, 1024, 8192, 873);

  const b200 = gpu('b200');
  for (const [isl, osl, measured] of [
    [1024, 1024, 26971],
    [1024, 8192, 13497],
    [1024, 32768, 4494],
    [32768, 1024, 1265],
  ] as const) {
    const inf: InferenceThroughputInput = {
      gpu: b200,
      gpusPerNode: 8,
      replicas: 1,
      tp: 1,
      enginesPerReplica: 1,
      expertParallel: false,
      weightsDtype: 'fp4',
      kvCacheDtype: 'auto',
      kvTokensPerReplica: kvTokensOf(q30, b200, { tp: 1, engines: 1, ep: false, dtype: 'fp4', maxModelLen: isl + osl }),
      maxNumSeqs: 0,
    };
    out.push({ id: 'A4', what: `Qwen3-30B-A3B FP4, B200 TP1, ISL/OSL ${isl / 1024}k/${osl / 1024}k`, unit: 'out tok/s/GPU', measured, predicted: offlineTokensPerGpu(q30, inf, isl, osl), fitted: false, note: 'TensorRT-LLM' });
  }

  const h100 = gpu('h100');
  for (const [isl, osl, measured] of [
    [4096, 200, 21700],
    [32768, 100, 20700],
    [2048, 100, 22600],
  ] as const) {
    const inf: InferenceThroughputInput = {
      gpu: h100,
      gpusPerNode: 8,
      replicas: 1,
      tp: 4,
      enginesPerReplica: 1,
      expertParallel: false,
      weightsDtype: 'bf16',
      kvCacheDtype: 'auto',
      kvTokensPerReplica: kvTokensOf(glm, h100, { tp: 4, engines: 1, ep: false, dtype: 'bf16', maxModelLen: isl + osl }),
      maxNumSeqs: 0,
    };
    out.push({
      id: 'A9',
      what: `GLM-4.5-Air bf16, 4×H100 vLLM TP4, ${isl / 1024}k in / ${osl} out (prefill-heavy)`,
      unit: 'total tok/s per server',
      measured,
      predicted: offlineTokensPerGpu(glm, inf, isl, osl, true) * 4,
      fitted: false,
      note: 'GPUStack; 4 GPUs assumed (TP4 command)',
    });
  }
  return out;
}

// ------------------------------------------------------------------------------------------------ weight transfer

function transferAnchors(): Anchor[] {
  const glm = model('glm4_moe-106b-a12b');
  const h200 = gpu('h200');
  const l = links(h200, h200, undefined);
  const d1 = weightTransfer({
    arch: glm,
    transport: 'nccl',
    fp8Transfer: false,
    loraRank: 0,
    trainerShardGroup: 32,
    trainerGpusPerNode: 8,
    inferenceGpus: 96,
    inferenceGpusPerNode: 8,
    replicas: 12,
    colocated: false,
    inferenceBandwidthTBs: h200.bandwidthTBs,
    links: l,
  }).trainerBlockedS;
  const fs = (id: string) => {
    const arch = model(id);
    return weightTransfer({
      arch,
      transport: 'filesystem',
      fp8Transfer: false,
      loraRank: 0,
      trainerShardGroup: 8,
      trainerGpusPerNode: 8,
      inferenceGpus: 1,
      inferenceGpusPerNode: 1,
      replicas: 1,
      colocated: false,
      inferenceBandwidthTBs: h200.bandwidthTBs,
      links: l,
    }).trainerBlockedS;
  };
  const note = 'GLM-4.5-Air, 4 trainer nodes (shard group 32); inference 12 nodes assumed (the INTELLECT-3.1 split)';
  return [
    { id: 'D1', what: 'NCCL broadcast per step, GLM-4.5-Air bf16', unit: 's', measured: 7, predicted: d1, fitted: false, note },
    { id: 'D2', what: 'NCCL broadcast per step, GLM-4.5-Air bf16 (47.2 − 40.7 s)', unit: 's', measured: 6.5, predicted: d1, fitted: false, note },
    { id: 'D9', what: 'filesystem broadcast, Qwen3-30B-A3B full, 8 GPUs', unit: 's', measured: 37, predicted: fs('qwen3_moe-30b-a3b'), fitted: true, note: 'the calibration rows\' logged gap (35–39 s) set B_fs' },
    { id: 'D9', what: 'filesystem broadcast, Qwen3-4B full, 8 GPUs', unit: 's', measured: 5, predicted: fs('qwen3-4b'), fitted: true, note: 'the calibration rows\' logged gap set B_fs' },
    { id: 'D10', what: 'filesystem save, Laguna-XS.2 68 GB bf16, one NVMe', unit: 's', measured: 51.9, predicted: 68e9 / FILESYSTEM_BYTES_PER_S, fitted: false, note: 'bytes only (model not in the catalogue): S / B_fs' },
  ];
}

// ------------------------------------------------------------------------------------------------ the loop

/**
 * INTELLECT-3 production (reference B1) with `trainerNodes` trainer nodes and the rest of its 44 nodes (or
 * `inferenceNodes`) serving, with the lengths reference §6.8 assumes.
 */
export function intellect3Production(trainerNodes: number, inferenceNodes = 44 - trainerNodes): ThroughputInput {
  const glm = model('glm4_moe-106b-a12b');
  const h200 = gpu('h200');
  const gpus = trainerNodes * 8;
  const dpReplicate = trainerNodes % 2 === 0 ? 2 : 1;
  return {
    arch: glm,
    trainer: {
      gpu: h200,
      gpus,
      gpusPerNode: 8,
      dpReplicate,
      dpShard: gpus / dpReplicate,
      ep: 1,
      cp: 1,
      cpStyle: 'ring',
      seqLen: 51200,
      loraRank: 0,
      ac: 'full',
      activationOffload: false,
      optimizer: 'muon',
      optimizerOffload: false,
    },
    inference: {
      gpu: h200,
      gpusPerNode: 8,
      replicas: inferenceNodes,
      tp: 8,
      enginesPerReplica: 1,
      expertParallel: false,
      weightsDtype: 'bf16',
      kvCacheDtype: 'auto',
      kvTokensPerReplica: kvTokensOf(glm, h200, { tp: 8, engines: 1, ep: false, dtype: 'bf16', maxModelLen: 131072 }),
      maxNumSeqs: 0,
    },
    rollouts: {
      batchSize: 4096,
      groupSize: 16,
      maxInflight: 4096,
      meanPromptTokens: 1000,
      meanRolloutTokens: 11000,
      maxTokens: 51200,
      envSeconds: 0,
      turns: 1,
      maxOffPolicySteps: 1,
    },
    weights: { transport: 'nccl' },
  };
}

/** The trainer node count of 44 that maximises predicted samples/s. */
export function bestIntellect3Split(): number {
  let best = 1;
  let bestRate = 0;
  for (let n = 1; n < 44; n++) {
    const rate = throughputOf(intellect3Production(n)).samples_per_s;
    if (rate > bestRate) {
      bestRate = rate;
      best = n;
    }
  }
  return best;
}

function loopAnchors(): Anchor[] {
  return [
    {
      id: 'B1',
      what: 'INTELLECT-3 production: trainer nodes of 44 (the split that maximises samples/s)',
      unit: 'nodes',
      measured: 16,
      predicted: bestIntellect3Split(),
      fitted: false,
      note: 'a configuration, not a measurement; lengths assumed (1k prompt, 10k output, reference §6.8)',
    },
  ];
}

export function anchors(): Anchor[] {
  return [...trainerAnchors(), ...inferenceAnchors(), ...transferAnchors(), ...loopAnchors()];
}

function fmt(x: number): string {
  if (Math.abs(x) >= 100 || Number.isInteger(x)) return Math.round(x).toLocaleString('en-US');
  if (Math.abs(x) >= 10) return x.toFixed(1);
  return x.toFixed(2);
}

/** The markdown table docs/throughput-model.md carries. */
export function anchorTable(list: Anchor[] = anchors()): string {
  const lines = ['| # | setup | unit | published | predicted | error | fitted? | note |', '| --- | --- | --- | --- | --- | --- | --- | --- |'];
  for (const a of list) {
    const err = Math.round(((a.predicted - a.measured) / a.measured) * 100);
    lines.push(`| ${a.id} | ${a.what} | ${a.unit} | ${fmt(a.measured)} | ${fmt(a.predicted)} | ${err > 0 ? '+' : ''}${err === 0 ? 0 : err} % | ${a.fitted ? 'fitted' : 'not fitted'} | ${a.note} |`);
  }
  return lines.join('\n');
}

/** One line per planned spec: step, each side, busy shares, bottleneck (docs/throughput-model.md, the presets). */
export function throughputTable(rows: { name: string; t: import('./types.js').Throughput }[]): string {
  const lines = [
    '| spec | step | generation | trainer | weight transfer | inference busy | trainer busy | bottleneck | samples/s | tokens/s |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
  ];
  const s = (x: number) => `${x >= 100 ? Math.round(x) : x.toFixed(1)} s`;
  const pct = (x: number) => `${Math.round(x * 100)} %`;
  for (const { name, t } of rows) {
    lines.push(`| ${name} | ${s(t.step_time_s)} | ${s(t.generation_s)} | ${s(t.trainer_s)} | ${s(t.weight_transfer_s)} | ${pct(t.inference_busy)} | ${pct(t.trainer_busy)} | ${t.bottleneck} | ${t.samples_per_s.toFixed(2)} | ${Math.round(t.tokens_per_s).toLocaleString('en-US')} |`);
  }
  return lines.join('\n');
}
