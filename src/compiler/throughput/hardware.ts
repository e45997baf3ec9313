/**
 * What the throughput model needs to know about a GPU beyond the catalogue's peak FLOP/s and HBM bandwidth:
 * its generation (which attention kernel prime-rl picks, how well it runs), and the bandwidth of a
 * collective inside a node and across nodes.
 */
import type { GpuSpec } from '../catalog/gpus.js';
import type { TrainerConstants } from './constants.js';
import type { AttentionImpl, NetworkThroughputInput } from './types.js';

export type GpuGeneration = 'ampere' | 'ada' | 'hopper' | 'blackwell' | 'unknown';

const GENERATION_BY_ID: Record<string, GpuGeneration> = {
  'a100-80g': 'ampere',
  'a100-40g': 'ampere',
  a6000: 'ampere',
  l40s: 'ada',
  h100: 'hopper',
  h200: 'hopper',
  'h100-nvl': 'hopper',
  h20: 'hopper',
  gh200: 'hopper',
  b200: 'blackwell',
  b300: 'blackwell',
};

/** The catalogue id, else the name (a GPU described inline in the spec). */
export function gpuGeneration(gpu: GpuSpec): GpuGeneration {
  const known = GENERATION_BY_ID[gpu.id.toLowerCase()];
  if (known) return known;
  const name = `${gpu.id} ${gpu.name}`.toUpperCase();
  if (/\bG?B[23]00\b|BLACKWELL/.test(name)) return 'blackwell';
  if (/\bG?H[12]00\b|\bH20\b|HOPPER/.test(name)) return 'hopper';
  if (/\bL40|\bL4\b|ADA/.test(name)) return 'ada';
  if (/\bA100\b|\bA6000\b|\bA40\b|\bA10\b|AMPERE/.test(name)) return 'ampere';
  return 'unknown';
}

/** prime-rl's `attn = "auto"` (src/prime_rl/trainer/model.py:1293-1311 at 559b447): FA4 on SM100, FA3 on Hopper, FA2 otherwise. */
export function resolveAttention(impl: AttentionImpl | undefined, gpu: GpuSpec): Exclude<AttentionImpl, 'auto'> {
  if (impl && impl !== 'auto') return impl;
  const gen = gpuGeneration(gpu);
  if (gen === 'blackwell') return 'flash_attention_4';
  if (gen === 'hopper') return 'flash_attention_3';
  return 'flash_attention_2';
}

/**
 * Share of the bf16 peak the trainer's attention kernel reaches. FA3 on Hopper is fitted; FA4 on Blackwell
 * has no measurement and is taken to reach what FA3 reaches on Hopper; FA2 is fitted separately on Ampere
 * (its native target) and on Hopper (where it leaves the wgmma units idle).
 */
export function attentionEfficiency(impl: Exclude<AttentionImpl, 'auto'>, gpu: GpuSpec, c: TrainerConstants): number {
  const gen = gpuGeneration(gpu);
  if (impl === 'flash_attention_3' && gen === 'hopper') return c.eAttention.fa3;
  if (impl === 'flash_attention_4' && gen === 'blackwell') return c.eAttention.fa3;
  if (gen === 'ampere' || gen === 'ada') return c.eAttention.fa2Ampere;
  return c.eAttention.fa2Other;
}

/**
 * Bus bandwidth of a collective among the GPUs of one node, bytes/s per GPU: 0.8 × the one-way NVLink
 * bandwidth (Hopper 450 GB/s → 360; reference §1 measured 476 GB/s bus bandwidth for an all-reduce with
 * NVLink SHARP), or 0.8 × PCIe Gen4 x16 for parts without NVLink. assumption.
 */
export function intraNodeBytesPerS(gpu: GpuSpec): number {
  const id = gpu.id.toLowerCase();
  if (id === 'a6000' || id === 'l40s' || id === 'h100-nvl') return 25e9;
  switch (gpuGeneration(gpu)) {
    case 'blackwell':
      return 720e9;
    case 'hopper':
      return 360e9;
    case 'ampere':
      return 240e9;
    default:
      return 25e9;
  }
}

/** One 400 Gb/s NDR NIC per GPU: 46–48 GB/s achievable in nccl-tests (reference §1, NVIDIA/nccl-tests#290). */
export const INTER_NODE_BYTES_PER_S = 46e9;

export interface Links {
  trainerIntra: number;
  inferenceIntra: number;
  inter: number;
}

export function links(trainerGpu: GpuSpec, inferenceGpu: GpuSpec | undefined, network: NetworkThroughputInput | undefined): Links {
  return {
    trainerIntra: network?.trainerIntraNodeGBps ? network.trainerIntraNodeGBps * 1e9 : intraNodeBytesPerS(trainerGpu),
    inferenceIntra: network?.inferenceIntraNodeGBps ? network.inferenceIntraNodeGBps * 1e9 : intraNodeBytesPerS(inferenceGpu ?? trainerGpu),
    inter: network?.interNodeGBps ? network.interNodeGBps * 1e9 : INTER_NODE_BYTES_PER_S,
  };
}

/** Bandwidth of a collective over `group` GPUs: inside a node when it fits in one, else across nodes (the slower link). */
export function groupBytesPerS(group: number, gpusPerNode: number, intra: number, inter: number): number {
  return group <= Math.max(1, gpusPerNode) ? intra : Math.min(intra, inter);
}
