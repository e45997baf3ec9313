/**
 * Weight transfer per step, trainer → inference (reference §6.6; prime-rl 559b447):
 *
 *   NCCL (src/prime_rl/transports/weights/nccl.py:140-161, 195-209): the orchestrator pauses every engine
 *   (src/prime_rl/utils/client.py:274-320), then layer by layer every trainer rank all-gathers the layer's
 *   bf16 shards (`full_tensor`, over the FSDP shard group) and trainer rank 0 alone broadcasts it to all
 *   inference GPUs. NCCL broadcasts along a pipelined ring through every node of the group, so the wire
 *   time is S / (the slowest link on the ring: one NIC) plus a pipeline fill of one chunk per hop per call.
 *     trainer blocked = inference paused = gather + broadcast (+ the engines' in-place load, + control)
 *   FP8 transfer (`quantize_in_weight_transfer`) sends linear weights in 1 byte (embeddings and head stay bf16).
 *
 *   Filesystem (src/prime_rl/transports/weights/filesystem.py:63-66): the trainer gathers and writes the bf16
 *   checkpoint (S / B_fs, fitted on the calibration runs' logged gap, reference D9); inference keeps generating
 *   while it is written and pauses only to read it back (S / B_fs per engine). With LoRA only the adapter
 *   moves and the engines load it without a pause (client.py:294-295).
 */
import type { ModelArchitecture } from '../catalog/models.js';
import {
  FILESYSTEM_BYTES_PER_S,
  NCCL_CALLS_PER_LAYER,
  NCCL_CHUNK_BYTES,
  NCCL_HOP_LATENCY_S,
  WEIGHT_LOAD_EFFICIENCY,
  WEIGHT_UPDATE_CONTROL_S,
} from './constants.js';
import { groupBytesPerS, type Links } from './hardware.js';
import { transferParams } from './shapes.js';

export interface TransferInput {
  arch: ModelArchitecture;
  transport: 'nccl' | 'filesystem';
  fp8Transfer: boolean;
  loraRank: number;
  /** FSDP shard group of the trainer (dp_shard × cp): each rank gathers the full layer over it. */
  trainerShardGroup: number;
  trainerGpusPerNode: number;
  /** Inference GPUs in the broadcast group (prime-rl `inference_world_size`); 0 = no inference pool. */
  inferenceGpus: number;
  inferenceGpusPerNode: number;
  /** Inference replicas (engines reading a filesystem checkpoint). */
  replicas: number;
  /** Whether trainer rank 0 shares a node with the inference GPUs (one node split between the roles). */
  colocated: boolean;
  /** HBM bandwidth of an inference GPU (TB/s), for the in-place load. */
  inferenceBandwidthTBs: number;
  links: Links;
  filesystemBytesPerS?: number;
}

export interface WeightTransfer {
  transport: 'nccl' | 'filesystem' | 'none';
  /** bf16 bytes of what moves (all parameters, or the adapters). */
  bytesBf16: number;
  /** Bytes on the wire (FP8 transfer halves the linear weights). */
  bytesSent: number;
  gatherS: number;
  /** Wire time: the NCCL broadcast, or the filesystem write. */
  sendS: number;
  /** NCCL ring: nodes on the ring, and the pipeline fill over all calls. */
  ringNodes: number;
  pipelineFillS: number;
  /** Engines' load: in-place copy (NCCL) or the read from the filesystem. */
  loadS: number;
  controlS: number;
  trainerBlockedS: number;
  inferencePauseS: number;
}

const NONE: WeightTransfer = { transport: 'none', bytesBf16: 0, bytesSent: 0, gatherS: 0, sendS: 0, ringNodes: 0, pipelineFillS: 0, loadS: 0, controlS: 0, trainerBlockedS: 0, inferencePauseS: 0 };

/** Bytes that move per step: bf16 of every parameter (or of the LoRA adapters); FP8 transfer sends linear weights in one byte. */
export function transferBytes(arch: ModelArchitecture, loraRank: number, fp8: boolean): { bytesBf16: number; bytesSent: number } {
  const { params, embeddingAndHead } = transferParams(arch, loraRank);
  const bytesBf16 = params * 2;
  const bytesSent = fp8 && loraRank <= 0 ? embeddingAndHead * 2 + (params - embeddingAndHead) : bytesBf16;
  return { bytesBf16, bytesSent };
}

/** Every trainer rank receives each layer's missing shards: S·(D−1)/D over the shard group's link. */
export function gatherSeconds(bytes: number, shardGroup: number, gpusPerNode: number, links: Links): number {
  if (shardGroup <= 1) return 0;
  return (bytes * (shardGroup - 1)) / shardGroup / groupBytesPerS(shardGroup, gpusPerNode, links.trainerIntra, links.inter);
}

/**
 * A pipelined NCCL ring broadcast from one rank to `receivers` GPUs: S / B (B = the slowest link on the ring:
 * a NIC once the ring leaves a node) plus, for every broadcast call, the pipeline fill of one chunk per hop.
 */
export function ncclBroadcastSeconds(bytes: number, calls: number, ringNodes: number, links: Links): { wireS: number; fillS: number; bandwidth: number } {
  const crossesNodes = ringNodes > 1;
  const bandwidth = crossesNodes ? Math.min(links.inter, links.inferenceIntra) : links.inferenceIntra;
  const perHop = crossesNodes ? NCCL_HOP_LATENCY_S + NCCL_CHUNK_BYTES / bandwidth : NCCL_CHUNK_BYTES / bandwidth;
  return { wireS: bytes / bandwidth, fillS: calls * Math.max(1, ringNodes) * perHop, bandwidth };
}

export function weightTransfer(x: TransferInput): WeightTransfer {
  if (x.inferenceGpus <= 0) return { ...NONE };
  const fp8 = x.fp8Transfer && x.transport === 'nccl';
  const { bytesBf16, bytesSent } = transferBytes(x.arch, x.loraRank, fp8);
  const gatherS = gatherSeconds(bytesBf16, x.trainerShardGroup, x.trainerGpusPerNode, x.links);
  const fs = x.filesystemBytesPerS ?? FILESYSTEM_BYTES_PER_S;
  if (x.transport === 'filesystem') {
    const sendS = bytesBf16 / fs;
    const loadS = x.loraRank > 0 ? 0 : bytesBf16 / fs;
    const controlS = x.loraRank > 0 ? 0 : WEIGHT_UPDATE_CONTROL_S;
    return {
      transport: 'filesystem',
      bytesBf16,
      bytesSent: bytesBf16,
      gatherS,
      sendS,
      ringNodes: 0,
      pipelineFillS: 0,
      loadS,
      controlS,
      trainerBlockedS: gatherS + sendS,
      inferencePauseS: loadS + controlS,
    };
  }
  const inferenceNodes = Math.ceil(x.inferenceGpus / Math.max(1, x.inferenceGpusPerNode));
  const ringNodes = inferenceNodes + (x.colocated ? 0 : 1);
  const calls = (x.arch.layers + 1) * NCCL_CALLS_PER_LAYER;
  const b = ncclBroadcastSeconds(bytesSent, calls, ringNodes, x.links);
  const sendS = b.wireS + b.fillS;
  // every inference GPU receives whole layers and copies its shard in place
  const loadS = bytesSent / (WEIGHT_LOAD_EFFICIENCY * x.inferenceBandwidthTBs * 1e12);
  const controlS = WEIGHT_UPDATE_CONTROL_S;
  return {
    transport: 'nccl',
    bytesBf16,
    bytesSent,
    gatherS,
    sendS,
    ringNodes,
    pipelineFillS: b.fillS,
    loadS,
    controlS,
    trainerBlockedS: gatherS + sendS + loadS + controlS,
    inferencePauseS: gatherS + sendS + loadS + controlS,
  };
}
