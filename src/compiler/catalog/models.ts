/**
 * Model architecture catalogue.
 *
 * Shapes are copied from Hugging Face `config.json` files (see `source` on each entry); every
 * parameter count is computed from these shapes by `countParameters`, never typed in. Reference
 * for the numbers and the counting rule: /work/shared/reference/run-and-models.md §2.
 */

export interface ModelArchitecture {
  /** Catalogue id, e.g. 'glm4_moe-106b-a12b'. */
  id: string;
  /** Hugging Face ids (incl. variants) that share this shape. */
  hfIds: string[];
  /** HF `model_type`: glm4_moe | qwen3 | qwen3_moe. */
  modelType: string;
  layers: number;
  hidden: number;
  /** Dense MLP width (used by the first `firstKDense` layers, or every layer of a dense model). */
  intermediate: number;
  /** Expert MLP width; 0 for dense models. */
  moeIntermediate: number;
  heads: number;
  kvHeads: number;
  headDim: number;
  vocab: number;
  /** Routed experts; 0 = dense. */
  experts: number;
  expertsPerToken: number;
  sharedExperts: number;
  /** Leading layers with a dense MLP (MoE models). */
  firstKDense: number;
  tiedEmbeddings: boolean;
  /** `max_position_embeddings` of the base entry; see `maxPositionsByHfId` for variants. */
  maxPositions: number;
  attentionBias: boolean;
  qkNorm: boolean;
  /**
   * Per-variant `max_position_embeddings` where a variant differs from `maxPositions`
   * (Qwen3 -2507 releases: 262144). Keys are HF ids as listed in `hfIds`.
   */
  maxPositionsByHfId?: Readonly<Record<string, number>>;
  /** Multi-head latent attention (DeepSeek-V2/V3): vLLM caches one latent of kv_lora_rank + qk_rope_head_dim per layer. */
  mla?: { kvLoraRank: number; qkRopeHeadDim: number };
  /** Sliding-window attention on `layers` of the layers (`[model.architecture]`; gemma-2/3, gpt-oss). */
  slidingWindow?: { window: number; layers: number };
  /** Where the numbers come from. */
  source: string;
}

const QWEN3_2507_MAX_POSITIONS = 262144;

export const MODELS: readonly ModelArchitecture[] = Object.freeze<ModelArchitecture[]>([
  {
    id: 'glm4_moe-106b-a12b',
    hfIds: [
      'PrimeIntellect/INTELLECT-3',
      'PrimeIntellect/INTELLECT-3-Base',
      'zai-org/GLM-4.5-Air',
      'zai-org/GLM-4.5-Air-Base',
    ],
    modelType: 'glm4_moe',
    layers: 46, // + 1 MTP layer (num_nextn_predict_layers = 1), excluded: not loaded by the trainer
    hidden: 4096,
    intermediate: 10944,
    moeIntermediate: 1408,
    heads: 96,
    kvHeads: 8,
    headDim: 128,
    vocab: 151552,
    experts: 128,
    expertsPerToken: 8,
    sharedExperts: 1,
    firstKDense: 1,
    tiedEmbeddings: false,
    maxPositions: 131072,
    attentionBias: true,
    qkNorm: false,
    source:
      'config.json of PrimeIntellect/INTELLECT-3 and -Base (same shape as zai-org/GLM-4.5-Air); ' +
      'prime-rl src/prime_rl/trainer/models/glm4_moe/configuration_glm4_moe.py defaults; ' +
      'reference run-and-models.md §2',
  },
  {
    id: 'qwen3-0.6b',
    hfIds: ['Qwen/Qwen3-0.6B'],
    modelType: 'qwen3',
    layers: 28,
    hidden: 1024,
    intermediate: 3072,
    moeIntermediate: 0,
    heads: 16,
    kvHeads: 8,
    headDim: 128,
    vocab: 151936,
    experts: 0,
    expertsPerToken: 0,
    sharedExperts: 0,
    firstKDense: 0,
    tiedEmbeddings: true,
    maxPositions: 40960,
    attentionBias: false,
    qkNorm: true,
    source: 'config.json of Qwen/Qwen3-0.6B; reference run-and-models.md §2',
  },
  {
    id: 'qwen3-4b',
    hfIds: ['Qwen/Qwen3-4B', 'Qwen/Qwen3-4B-Instruct-2507', 'Qwen/Qwen3-4B-Thinking-2507'],
    modelType: 'qwen3',
    layers: 36,
    hidden: 2560,
    intermediate: 9728,
    moeIntermediate: 0,
    heads: 32,
    kvHeads: 8,
    headDim: 128,
    vocab: 151936,
    experts: 0,
    expertsPerToken: 0,
    sharedExperts: 0,
    firstKDense: 0,
    tiedEmbeddings: true,
    maxPositions: 40960,
    maxPositionsByHfId: {
      'Qwen/Qwen3-4B-Instruct-2507': QWEN3_2507_MAX_POSITIONS,
      'Qwen/Qwen3-4B-Thinking-2507': QWEN3_2507_MAX_POSITIONS,
    },
    attentionBias: false,
    qkNorm: true,
    source: 'config.json of Qwen/Qwen3-4B and Qwen/Qwen3-4B-Instruct-2507; reference run-and-models.md §2',
  },
  {
    id: 'qwen3_moe-30b-a3b',
    hfIds: ['Qwen/Qwen3-30B-A3B', 'Qwen/Qwen3-30B-A3B-Instruct-2507', 'Qwen/Qwen3-30B-A3B-Thinking-2507'],
    modelType: 'qwen3_moe',
    layers: 48,
    hidden: 2048,
    intermediate: 6144, // present in config.json but unused: every layer is MoE
    moeIntermediate: 768,
    heads: 32,
    kvHeads: 4,
    headDim: 128,
    vocab: 151936,
    experts: 128,
    expertsPerToken: 8,
    sharedExperts: 0,
    firstKDense: 0, // decoder_sparse_step 1, mlp_only_layers []
    tiedEmbeddings: false,
    maxPositions: 40960,
    maxPositionsByHfId: {
      'Qwen/Qwen3-30B-A3B-Instruct-2507': QWEN3_2507_MAX_POSITIONS,
      'Qwen/Qwen3-30B-A3B-Thinking-2507': QWEN3_2507_MAX_POSITIONS,
    },
    attentionBias: false,
    qkNorm: true,
    source:
      'Qwen3MoE config.json of Qwen/Qwen3-30B-A3B(-2507) and transformers Qwen3MoeConfig docs; ' +
      'reference run-and-models.md §2',
  },
  {
    id: 'qwen3_moe-235b-a22b',
    hfIds: ['Qwen/Qwen3-235B-A22B', 'Qwen/Qwen3-235B-A22B-Instruct-2507', 'Qwen/Qwen3-235B-A22B-Thinking-2507'],
    modelType: 'qwen3_moe',
    layers: 94,
    hidden: 4096,
    intermediate: 12288, // unused: every layer is MoE
    moeIntermediate: 1536,
    heads: 64,
    kvHeads: 4,
    headDim: 128,
    vocab: 151936,
    experts: 128,
    expertsPerToken: 8,
    sharedExperts: 0,
    firstKDense: 0,
    tiedEmbeddings: false,
    maxPositions: 40960,
    maxPositionsByHfId: {
      'Qwen/Qwen3-235B-A22B-Instruct-2507': QWEN3_2507_MAX_POSITIONS,
      'Qwen/Qwen3-235B-A22B-Thinking-2507': QWEN3_2507_MAX_POSITIONS,
    },
    attentionBias: false,
    qkNorm: true,
    source: 'config.json of Qwen/Qwen3-235B-A22B and -Instruct-2507; reference run-and-models.md §2',
  },
  {
    id: 'glm4_moe-tiny',
    hfIds: ['PrimeIntellect/glm4-moe-tiny'],
    modelType: 'glm4_moe',
    layers: 24,
    hidden: 1024,
    intermediate: 2048,
    moeIntermediate: 256,
    heads: 16,
    kvHeads: 4,
    headDim: 64, // = hidden / heads (not set explicitly)
    vocab: 151552,
    experts: 8,
    expertsPerToken: 4,
    sharedExperts: 1,
    firstKDense: 1,
    tiedEmbeddings: false,
    maxPositions: 131072,
    attentionBias: true,
    qkNorm: false,
    source:
      'prime-rl scripts/mini_moe.py glm4_moe preset and docs/development.md ("~543M-parameter GLM-4 MoE"); ' +
      'reference run-and-models.md §2. The config.json of PrimeIntellect/glm4-moe-tiny (0.5B on HF) was not ' +
      'retrieved; it is assumed to have the mini_moe.py shape',
  },
]);

/** Catalogue entry by catalogue id (exact match). */
export function findModelById(id: string): ModelArchitecture | undefined {
  return MODELS.find((m) => m.id === id);
}

/** Catalogue entry by Hugging Face id, case-insensitive, including variants. */
export function findModelByName(hfName: string): ModelArchitecture | undefined {
  const wanted = hfName.trim().toLowerCase();
  return MODELS.find((m) => m.hfIds.some((h) => h.toLowerCase() === wanted));
}

/** `max_position_embeddings` for a given HF id (variant-aware), or undefined if not in the catalogue. */
export function maxPositionsFor(hfName: string): number | undefined {
  const arch = findModelByName(hfName);
  if (!arch) return undefined;
  const wanted = hfName.trim().toLowerCase();
  for (const [hfId, value] of Object.entries(arch.maxPositionsByHfId ?? {})) {
    if (hfId.toLowerCase() === wanted) return value;
  }
  return arch.maxPositions;
}

export function isMoe(a: ModelArchitecture): boolean {
  return a.experts > 0;
}

export interface ParameterCounts {
  /** All parameters (MTP layers excluded). */
  total: number;
  /** Parameters touched per token: all non-routed-expert params + expertsPerToken experts per MoE layer. */
  active: number;
  /** active − embedding. */
  activeExcludingEmbedding: number;
  /** All routed-expert MLP weights. */
  routedExpert: number;
  /** total − routedExpert. */
  nonExpert: number;
  /** One whole MoE decoder layer (attention, norms, router, routed + shared experts); 0 for dense. */
  perMoeLayer: number;
  /** Input embedding vocab·hidden. */
  embedding: number;
  /** Untied LM head vocab·hidden; 0 when tied to the embedding. */
  lmHead: number;
}

/** Attention block of one layer: q/k/v/o projections, q/k/v biases, per-head q/k RMSNorm. */
function attentionParams(a: ModelArchitecture): number {
  const q = a.hidden * a.heads * a.headDim;
  const kv = 2 * a.hidden * a.kvHeads * a.headDim;
  const o = a.heads * a.headDim * a.hidden;
  const bias = a.attentionBias ? a.heads * a.headDim + 2 * a.kvHeads * a.headDim : 0;
  const qkNorm = a.qkNorm ? 2 * a.headDim : 0;
  return q + kv + o + bias + qkNorm;
}

/** SwiGLU MLP: gate, up, down. */
function swigluParams(hidden: number, intermediate: number): number {
  return 3 * hidden * intermediate;
}

/** Parameters of one layer by part, and how many layers of each kind: the unit the memory model shards. */
export interface LayerParameters {
  denseLayers: number;
  moeLayers: number;
  attention: number;
  norms: number;
  denseMlp: number;
  /** All routed experts of one MoE layer. */
  routedExperts: number;
  sharedExperts: number;
  router: number;
}

export function layerParameters(a: ModelArchitecture): LayerParameters {
  const moe = isMoe(a);
  const denseLayers = moe ? Math.min(a.firstKDense, a.layers) : a.layers;
  const expert = swigluParams(a.hidden, a.moeIntermediate);
  return {
    denseLayers,
    moeLayers: a.layers - denseLayers,
    attention: attentionParams(a),
    norms: 2 * a.hidden,
    denseMlp: swigluParams(a.hidden, a.intermediate),
    routedExperts: moe ? a.experts * expert : 0,
    sharedExperts: moe ? a.sharedExperts * expert : 0,
    router: moe ? a.experts * a.hidden + (a.modelType === 'glm4_moe' ? a.experts : 0) : 0,
  };
}

export function countParameters(a: ModelArchitecture): ParameterCounts {
  const moe = isMoe(a);
  const denseLayers = moe ? Math.min(a.firstKDense, a.layers) : a.layers;
  const moeLayers = a.layers - denseLayers;

  const attention = attentionParams(a);
  const layerNorms = 2 * a.hidden;

  const denseLayer = attention + layerNorms + swigluParams(a.hidden, a.intermediate);

  const expert = swigluParams(a.hidden, a.moeIntermediate);
  const routedPerLayer = moe ? a.experts * expert : 0;
  const sharedPerLayer = moe ? a.sharedExperts * expert : 0;
  // glm4_moe's router also has an e_score_correction_bias of size `experts`.
  const routerPerLayer = moe ? a.experts * a.hidden + (a.modelType === 'glm4_moe' ? a.experts : 0) : 0;
  const moeLayer = moe ? attention + layerNorms + routedPerLayer + sharedPerLayer + routerPerLayer : 0;

  const embedding = a.vocab * a.hidden;
  const lmHead = a.tiedEmbeddings ? 0 : a.vocab * a.hidden;
  const finalNorm = a.hidden;

  const total = denseLayers * denseLayer + moeLayers * moeLayer + embedding + lmHead + finalNorm;
  const routedExpert = moeLayers * routedPerLayer;
  const activeRouted = moe ? moeLayers * Math.min(a.expertsPerToken, a.experts) * expert : 0;
  const active = total - routedExpert + activeRouted;

  return {
    total,
    active,
    activeExcludingEmbedding: active - embedding,
    routedExpert,
    nonExpert: total - routedExpert,
    perMoeLayer: moeLayer,
    embedding,
    lmHead,
  };
}

/** KV-cache bytes per token over all layers (K and V), default bf16 (2 bytes per element). */
export function kvBytesPerToken(a: ModelArchitecture, bytesPerElement = 2): number {
  return a.layers * a.kvHeads * a.headDim * 2 * bytesPerElement;
}
