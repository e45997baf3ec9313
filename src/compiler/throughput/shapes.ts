/**
 * FLOPs and bytes of a model shape, per token: the matmul parameters a token passes through (dense and
 * routed-expert parts apart: they run at different efficiencies), attention FLOPs at a context length
 * (sliding-window layers capped at their window), and the weight bytes a decode step reads. Parameter
 * counts come from the catalogue's `countParameters`, never typed in.
 */
import { countParameters, isMoe, layerParameters, type ModelArchitecture } from '../catalog/models.js';

export interface MatmulParams {
  /** Matmul parameters every token passes through except routed experts: attention projections, dense and shared MLPs, router, LM head. */
  dense: number;
  /** Routed-expert parameters a token passes through (top-k experts of every MoE layer). */
  expert: number;
  /** dense + expert: the `A` of 6·A FLOPs per trained token. */
  total: number;
}

/** Active matmul parameters per token. The input embedding is a lookup (no FLOPs); the LM head is a matmul even when tied to it. */
export function matmulParams(arch: ModelArchitecture): MatmulParams {
  const c = countParameters(arch);
  const lp = layerParameters(arch);
  const activeRouted = isMoe(arch) ? lp.moeLayers * Math.min(arch.expertsPerToken, arch.experts) * 3 * arch.hidden * arch.moeIntermediate : 0;
  const lmHead = arch.vocab * arch.hidden;
  const norms = arch.layers * lp.norms + arch.hidden;
  const dense = c.active - activeRouted - c.embedding - c.lmHead + lmHead - norms;
  return { dense, expert: activeRouted, total: dense + activeRouted };
}

/** Layers with full attention and with a sliding window, and the window. */
function attentionLayers(arch: ModelArchitecture): { full: number; sliding: number; window: number } {
  const sw = arch.slidingWindow;
  if (!sw || sw.layers <= 0) return { full: arch.layers, sliding: 0, window: Infinity };
  return { full: arch.layers - sw.layers, sliding: Math.min(sw.layers, arch.layers), window: sw.window };
}

/**
 * Forward attention FLOPs of one token that attends to `context` earlier tokens: QKᵀ and AV, 2·heads·head_dim
 * FLOPs each per key, summed over layers (a sliding-window layer sees at most its window).
 */
export function attentionFlopsAtContext(arch: ModelArchitecture, context: number): number {
  const a = attentionLayers(arch);
  const keys = a.full * context + a.sliding * Math.min(context, a.window);
  return 4 * arch.heads * arch.headDim * keys;
}

/** Keys one token of a causal sample of length `l` attends to on average, over the sample: l/2 (≤ the window on sliding layers). */
function meanCausalKeys(l: number, window: number): number {
  if (l <= window) return l / 2;
  // tokens before the window fill it up: Σ_t min(t, w) / l = (w²/2 + (l − w)·w) / l
  return (window * window) / 2 / l + ((l - window) * window) / l;
}

/** Forward attention FLOPs per token of causal training samples of (effective) length `l`: 2·heads·head_dim·l per full layer. */
export function causalAttentionFlopsPerToken(arch: ModelArchitecture, l: number): number {
  const a = attentionLayers(arch);
  const keys = a.full * meanCausalKeys(l, Infinity) + a.sliding * meanCausalKeys(l, a.window);
  return 4 * arch.heads * arch.headDim * keys;
}

export type WeightDtype = 'bf16' | 'fp8' | 'fp4';

export function bytesPerWeight(dtype: WeightDtype): number {
  return dtype === 'fp8' ? 1 : dtype === 'fp4' ? 0.5 : 2;
}

/** Served weight bytes by what a decode step reads: the LM head (bf16 even with quantized weights), the other non-expert weights, all routed experts. */
export interface WeightBytes {
  lmHead: number;
  otherNonExpert: number;
  routedExperts: number;
  total: number;
}

export function servedWeightBytes(arch: ModelArchitecture, dtype: WeightDtype): WeightBytes {
  const c = countParameters(arch);
  const b = bytesPerWeight(dtype);
  const lmHead = arch.vocab * arch.hidden * 2;
  // the input embedding is read one row per token: not part of a step's weight traffic
  const otherNonExpert = (c.nonExpert - c.embedding - c.lmHead) * b;
  const routedExperts = c.routedExpert * b;
  return { lmHead, otherNonExpert, routedExperts, total: lmHead + otherNonExpert + routedExperts };
}

/** KV-cache bytes one sequence at `context` tokens reads per decode step, given the bytes per token (all layers) on a rank. */
export function kvReadBytes(arch: ModelArchitecture, kvBytesPerTokenPerRank: number, context: number): number {
  const a = attentionLayers(arch);
  const perLayer = kvBytesPerTokenPerRank / arch.layers;
  return perLayer * (a.full * context + a.sliding * Math.min(context, a.window));
}

/** Parameters (bf16 bytes) the trainer broadcasts: every parameter, or only the adapters with LoRA. */
export function transferParams(arch: ModelArchitecture, loraRank: number): { params: number; embeddingAndHead: number } {
  const c = countParameters(arch);
  if (loraRank <= 0) return { params: c.total, embeddingAndHead: c.embedding + c.lmHead };
  return { params: loraParams(arch, loraRank), embeddingAndHead: 0 };
}

/**
 * LoRA adapter parameters: rank × (in + out) of every attention projection and dense/shared MLP matrix
 * (routed experts not adapted: assumption, prime-rl's default target modules are the attention and MLP
 * projections).
 */
export function loraParams(arch: ModelArchitecture, rank: number): number {
  const h = arch.hidden;
  const q = arch.heads * arch.headDim;
  const kv = arch.kvHeads * arch.headDim;
  const attention = h + q + 2 * (h + kv) + (q + h);
  const lp = layerParameters(arch);
  const mlpWidth = (w: number) => 3 * (h + w);
  const mlp = lp.denseLayers * mlpWidth(arch.intermediate) + lp.moeLayers * (arch.sharedExperts > 0 ? mlpWidth(arch.sharedExperts * arch.moeIntermediate) : 0);
  return rank * (arch.layers * attention + mlp);
}
