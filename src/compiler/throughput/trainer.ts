/**
 * The FSDP2 trainer's time for one step (reference §6.5). Per token on one GPU:
 *
 *   t_tok = [X_mm·A_dense/e_mm + X_mm·A_expert/e_expert + X_att·F_att(l_eff)·imbalance/e_att] / P
 *         + [c_layer·L·h + c_vocab·V + c_lora·L·h] / BW                  (÷ offload with activation offload)
 *
 * A = active matmul parameters (shapes.ts), F_att = forward causal attention FLOPs per token at the effective
 * sample length l_eff = E[l²]/E[l] (attention is per sample, not per packed micro-batch), X = the passes
 * executed per forward-equivalent: full fine-tune with full activation checkpointing runs forward, the
 * recomputed forward and a backward of twice the forward (X_mm = 8, X_att = 4); without checkpointing 6 / 3;
 * LoRA skips the frozen weights' gradient (6 / 4 with checkpointing). The e's and c's are fitted on prime-rl's
 * measured runs (constants.ts, calibration.ts); the MFU it implies — useful FLOPs (6·A, or 4·A with LoRA,
 * + 3·F_att) over the peak — then depends on sequence length, checkpointing, offload and LoRA by construction.
 *
 * Then the step adds what the calibration runs (one node, FSDP only) do not show: FSDP all-gathers and
 * reduce-scatters beyond what overlaps with compute, expert-parallel all-to-all, context-parallel exchanges,
 * the DP ranks' attention imbalance, and the optimizer step.
 */
import { countParameters, isMoe, layerParameters, type ModelArchitecture } from '../catalog/models.js';
import { HOST_OPTIMIZER_BYTES_PER_S, MUON_NS_ITERATIONS, PCIE_BYTES_PER_S, TRAINER_CONSTANTS, type TrainerConstants } from './constants.js';
import { attentionEfficiency, groupBytesPerS, resolveAttention, type Links } from './hardware.js';
import { causalAttentionFlopsPerToken, loraParams, matmulParams } from './shapes.js';
import type { TrainerThroughputInput } from './types.js';

/** What one step trains. */
export interface TrainerWork {
  /** Trained tokens (prompt + completion) of the whole step. */
  tokens: number;
  samples: number;
  /** l_eff = E[l²]/E[l], ≤ seq_len. */
  effectiveLength: number;
  /** Coefficient of variation of a sample's attention cost (l²); 0 for equal samples. */
  attentionCostCv: number;
}

export interface TokenTime {
  /** Seconds per token on one GPU, by part. */
  matmulS: number;
  expertS: number;
  attentionS: number;
  memoryS: number;
  /** Offload multiplier applied (1 without activation offload). */
  offload: number;
  totalS: number;
  /** Useful FLOPs per token (6·A or 4·A + 3·F_att): the MFU numerator. */
  usefulFlops: number;
  attentionEfficiency: number;
  attention: string;
}

/** Seconds per trained token on one GPU (compute and memory-bound parts; no communication). `imbalance` scales the attention part. */
export function tokenTime(arch: ModelArchitecture, t: TrainerThroughputInput, effectiveLength: number, c: TrainerConstants = TRAINER_CONSTANTS, imbalance = 1): TokenTime {
  const mm = matmulParams(arch);
  const lora = t.loraRank > 0;
  const ac = t.ac === 'full';
  const xMatmul = (lora ? 4 : 6) + (ac ? 2 : 0);
  const xAttention = 3 + (ac ? 1 : 0);
  const attnFwd = causalAttentionFlopsPerToken(arch, effectiveLength);
  const peak = t.gpu.bf16Tflops * 1e12;
  const bw = t.gpu.bandwidthTBs * 1e12;
  const impl = resolveAttention(t.attention, t.gpu);
  const eAtt = attentionEfficiency(impl, t.gpu, c);
  const matmulS = (xMatmul * mm.dense) / (c.eMatmul * peak);
  const expertS = (xMatmul * mm.expert) / (c.eExpert * peak);
  const attentionS = (xAttention * attnFwd * imbalance) / (eAtt * peak);
  const memBytes = c.cLayer * arch.layers * arch.hidden + ((t.loss ?? 'rl') === 'rl' ? c.cVocabRl * arch.vocab : 0) + (lora ? c.cLora * arch.layers * arch.hidden : 0);
  const memoryS = memBytes / bw;
  const offload = t.activationOffload ? c.offload : 1;
  const totalS = (matmulS + expertS + attentionS + memoryS) / offload;
  const usefulFlops = (lora ? 4 : 6) * mm.total + 3 * attnFwd;
  return { matmulS, expertS, attentionS, memoryS, offload, totalS, usefulFlops, attentionEfficiency: eAtt, attention: impl };
}

export interface TrainerStep {
  tokensPerGpu: number;
  microBatchesPerRank: number;
  token: TokenTime;
  /** Attention imbalance across DP ranks (≥ 1). */
  imbalance: number;
  computeS: number;
  fsdpCommS: number;
  fsdpExposedS: number;
  epCommS: number;
  cpCommS: number;
  cpExposedS: number;
  optimizerS: number;
  totalS: number;
  /** Useful FLOPs / (GPUs × peak × step). */
  mfu: number;
  tokensPerSPerGpu: number;
}

/** Expected max over `ranks` of a sum of `n` samples whose cost has coefficient of variation `cv`: mean × (1 + cv·√(2 ln ranks)/√n). */
export function rankImbalance(cv: number, samplesPerRank: number, ranks: number): number {
  if (cv <= 0 || ranks <= 1) return 1;
  return 1 + (cv * Math.sqrt(2 * Math.log(ranks))) / Math.sqrt(Math.max(1, samplesPerRank));
}

export function trainerStep(arch: ModelArchitecture, t: TrainerThroughputInput, work: TrainerWork, links: Links, c: TrainerConstants = TRAINER_CONSTANTS): TrainerStep {
  const world = Math.max(1, t.gpus);
  const cp = Math.max(1, t.cp);
  const ep = Math.max(1, t.ep);
  const dpRanks = Math.max(1, Math.floor(world / cp));
  const tokensPerGpu = work.tokens / world;
  const microBatchesPerRank = Math.max(1, Math.ceil(work.tokens / (dpRanks * t.seqLen)));
  const imbalance = rankImbalance(work.attentionCostCv, work.samples / dpRanks, dpRanks);
  const token = tokenTime(arch, t, work.effectiveLength, c, imbalance);
  const computeS = tokensPerGpu * token.totalS;

  // FSDP2 with reshard_after_forward: every micro-batch all-gathers each layer's bf16 weights twice (forward;
  // backward, where the recomputed forward reuses them) and reduce-scatters fp32 gradients; with EP the
  // routed experts are sharded over dp_shard·cp / ep ranks only. HSDP adds an all-reduce across replicas.
  const counts = countParameters(arch);
  const shard = Math.max(1, t.dpShard * cp);
  const expertShard = Math.max(1, shard / ep);
  const frac = (g: number) => (g - 1) / g;
  const gathered = counts.nonExpert * frac(shard) + (counts.routedExpert / ep) * frac(expertShard);
  const lora = t.loraRank > 0;
  const trainable = lora ? loraParams(arch, t.loraRank) : counts.total;
  const reduced = lora ? trainable * frac(shard) : gathered;
  const fsdpBytes = microBatchesPerRank * (2 * 2 * gathered + 4 * reduced);
  const fsdpBw = groupBytesPerS(shard, t.gpusPerNode, links.trainerIntra, links.inter);
  const replicaBytes = t.dpReplicate > 1 ? (4 * trainable * 2 * (t.dpReplicate - 1)) / t.dpReplicate / shard : 0;
  const fsdpCommS = shard > 1 || t.dpReplicate > 1 ? fsdpBytes / fsdpBw + replicaBytes / links.inter : 0;
  const fsdpExposedS = Math.max(0, fsdpCommS - computeS);

  // Expert parallel: dispatch and combine of k·h bf16 activations per token per MoE layer, in forward, the
  // recomputed forward and backward (twice); not overlapped in prime-rl.
  const passes = t.ac === 'full' ? 4 : 3;
  const moeLayers = isMoe(arch) ? layerParameters(arch).moeLayers : 0;
  const epBw = groupBytesPerS(ep, t.gpusPerNode, links.trainerIntra, links.inter);
  const epCommS = ep > 1 && moeLayers > 0 ? (tokensPerGpu * passes * 2 * arch.expertsPerToken * arch.hidden * 2 * moeLayers * frac(ep)) / epBw : 0;

  // Context parallel: ulysses all-to-alls q, k, v and the output (exposed); ring passes the K/V chunks around
  // the ring, overlapped with the attention it feeds.
  let cpCommS = 0;
  let cpExposedS = 0;
  if (cp > 1) {
    const cpBw = groupBytesPerS(cp, t.gpusPerNode, links.trainerIntra, links.inter);
    const perTokenLayer =
      t.cpStyle === 'ulysses'
        ? (2 * arch.heads + 2 * arch.kvHeads) * arch.headDim * 2 * frac(cp)
        : (cp - 1) * 2 * arch.kvHeads * arch.headDim * 2;
    cpCommS = (tokensPerGpu * passes * perTokenLayer * arch.layers) / cpBw;
    cpExposedS = t.cpStyle === 'ulysses' ? cpCommS : Math.max(0, cpCommS - tokensPerGpu * token.attentionS);
  }

  const optimizerS = optimizerStepS(arch, t, trainable, shard, links);
  const totalS = computeS + fsdpExposedS + epCommS + cpExposedS + optimizerS;
  const mfu = totalS > 0 ? (work.tokens * token.usefulFlops) / (world * t.gpu.bf16Tflops * 1e12 * totalS) : 0;
  return {
    tokensPerGpu,
    microBatchesPerRank,
    token,
    imbalance,
    computeS,
    fsdpCommS,
    fsdpExposedS,
    epCommS,
    cpCommS,
    cpExposedS,
    optimizerS,
    totalS,
    mfu,
    tokensPerSPerGpu: totalS > 0 ? tokensPerGpu / totalS : 0,
  };
}

/**
 * The optimizer step on the local shard (derived, not calibrated): AdamW / SignSGD / Muon's momentum are
 * memory-bound passes over fp32 state; with optimizer offload the gradients go to the host and the updated
 * weights come back over PCIe and the CPU does the update; Muon adds Newton–Schulz on whole matrices, spread
 * over the shard group, and the all-to-all that gathers and scatters them.
 */
export function optimizerStepS(arch: ModelArchitecture, t: TrainerThroughputInput, trainable: number, shard: number, links: Links): number {
  const local = trainable / shard;
  const bw = t.gpu.bandwidthTBs * 1e12;
  const stateBytes = t.optimizer === 'adamw' ? 8 : t.optimizer === 'muon' ? 4 : 0;
  if (t.optimizerOffload) {
    return (local * 8) / PCIE_BYTES_PER_S + (local * (4 + 4 + stateBytes) * 2) / HOST_OPTIMIZER_BYTES_PER_S;
  }
  let s = (local * (4 + 4 + stateBytes) * 2) / bw;
  if (t.optimizer === 'muon' && t.loraRank <= 0) {
    const peak = t.gpu.bf16Tflops * 1e12;
    s += muonFlops(arch) / shard / (TRAINER_CONSTANTS.eMatmul * peak);
    s += shard > 1 ? (local * 4 * 2) / groupBytesPerS(shard, t.gpusPerNode, links.trainerIntra, links.inter) : 0;
  }
  return s;
}

/** Newton–Schulz FLOPs of one Muon step: per m×n matrix (m ≤ n), iterations × (4·m²·n + 2·m³). */
export function muonFlops(arch: ModelArchitecture): number {
  const ns = (a: number, b: number) => {
    const m = Math.min(a, b);
    const n = Math.max(a, b);
    return MUON_NS_ITERATIONS * (4 * m * m * n + 2 * m * m * m);
  };
  const h = arch.hidden;
  const q = arch.heads * arch.headDim;
  const kv = arch.kvHeads * arch.headDim;
  const lp = layerParameters(arch);
  const attention = ns(h, q) * 2 + ns(h, kv) * 2;
  const dense = 3 * ns(h, arch.intermediate);
  const expert = 3 * ns(h, arch.moeIntermediate);
  const perMoe = (arch.experts + arch.sharedExperts) * expert + (arch.experts > 0 ? ns(arch.experts, h) : 0);
  return arch.layers * attention + lp.denseLayers * dense + lp.moeLayers * perMoe;
}
