/**
 * The public vLLM start-up measurements (reference/vllm-kv-measurements.json, copied here) run through the
 * KV accounting of inference.ts: the KV test, `npm run bench:memory` and docs/memory-model.md use it.
 *
 * Weights are the logged figure of each row (they include quantized checkpoints — compressed-tensors fp8,
 * mxfp4 — that the parameter-count weights model does not cover); everything else is predicted: activation
 * peak, non-torch memory (logged only for V0 rows, whose accounting changed between patch releases), block
 * rounding and bytes per token from the model shape below (HF config.json of each model).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PACKAGE_ROOT } from '../../paths.js';
import { GIB } from './trainer.js';
import { activationPeak, kvTokens, nonTorchGib, parseVllmVersion } from './inference.js';

export interface KvMeasurement {
  id: number;
  vllm_version: string;
  engine: 'V0' | 'V1';
  model: string;
  weights_dtype: string;
  kv_cache_dtype: string;
  gpu: string;
  gpu_total_gib: number;
  tensor_parallel_size: number;
  gpu_memory_utilization: number;
  max_num_batched_tokens: number;
  max_num_seqs: number;
  block_size: number;
  weights_gib: number;
  activation_peak_gib: number | null;
  non_torch_gib: number | null;
  activation_plus_non_torch_gib: number | null;
  available_kv_gib: number;
  kv_tokens: number;
  vocab_size: number;
  hidden_size: number;
  is_moe: boolean;
  notes: string;
}

/** Attention and MLP shape of each measured model (config.json): layers, KV heads × head_dim or MLA latent, MLP width per token. */
interface Shape {
  layers: number;
  kvHeads: number;
  headDim: number;
  mla?: number;
  mlpWidth: number;
}
const SHAPES: Record<string, Shape> = {
  'meta-llama/Llama-3.1-8B-Instruct': { layers: 32, kvHeads: 8, headDim: 128, mlpWidth: 14336 },
  'meta-llama/Meta-Llama-3-8B': { layers: 32, kvHeads: 8, headDim: 128, mlpWidth: 14336 },
  'Qwen/Qwen2.5-7B-Instruct': { layers: 28, kvHeads: 4, headDim: 128, mlpWidth: 18944 },
  'Qwen/Qwen2-7B-Instruct': { layers: 28, kvHeads: 4, headDim: 128, mlpWidth: 18944 },
  'Qwen/Qwen3-8B': { layers: 36, kvHeads: 8, headDim: 128, mlpWidth: 12288 },
  'Qwen/Qwen3-14B': { layers: 40, kvHeads: 8, headDim: 128, mlpWidth: 17408 },
  'Qwen/Qwen3-0.6B': { layers: 28, kvHeads: 8, headDim: 128, mlpWidth: 3072 },
  'deepseek-ai/DeepSeek-V2-Lite-Chat': { layers: 27, kvHeads: 1, headDim: 0, mla: 512 + 64, mlpWidth: 6 * 1408 + 2 * 1408 },
  'deepseek-ai/DeepSeek-R1': { layers: 61, kvHeads: 1, headDim: 0, mla: 512 + 64, mlpWidth: 8 * 2048 + 2048 },
  'google/gemma-2-27b-it': { layers: 46, kvHeads: 16, headDim: 128, mlpWidth: 36864 },
  'codellama/CodeLlama-7b-hf': { layers: 32, kvHeads: 32, headDim: 128, mlpWidth: 11008 },
  'RedHatAI/Llama-3.3-70B-Instruct-fp8-dynamic': { layers: 80, kvHeads: 8, headDim: 128, mlpWidth: 28672 },
  'RedHatAI/Llama-3.3-70B-Instruct-FP8-dynamic': { layers: 80, kvHeads: 8, headDim: 128, mlpWidth: 28672 },
  'meta-llama/Llama-4-Scout-17B-16E-Instruct': { layers: 48, kvHeads: 8, headDim: 128, mlpWidth: 8192 + 8192 },
  'openai/gpt-oss-20b': { layers: 24, kvHeads: 8, headDim: 64, mlpWidth: 4 * 2880 },
  'openai/gpt-oss-120b': { layers: 36, kvHeads: 8, headDim: 64, mlpWidth: 4 * 2880 },
  'ibm-granite/granite-3.1-8b-instruct': { layers: 40, kvHeads: 8, headDim: 128, mlpWidth: 12800 },
  'mistralai/Mistral-Small-3.2-24B-Instruct-2506': { layers: 40, kvHeads: 8, headDim: 128, mlpWidth: 32768 },
};

export interface KvCheckRow {
  m: KvMeasurement;
  label: string;
  version: string;
  multimodal: boolean;
  activationGib: number;
  nonTorchGib: number;
  /** Whether N was taken from the log (V0 rows). */
  nonTorchLogged: boolean;
  kvGib: number;
  bytesPerToken: number;
  tokens: number;
  /** (predicted − measured) / measured KV tokens */
  error: number;
}

export function loadKvMeasurements(): KvMeasurement[] {
  return JSON.parse(readFileSync(join(PACKAGE_ROOT, 'src', 'compiler', 'memory', 'vllm-kv-measurements.json'), 'utf8')) as KvMeasurement[];
}

export function kvCheck(rows = loadKvMeasurements()): KvCheckRow[] {
  return rows.map((m) => {
    const shape = SHAPES[m.model];
    if (!shape) throw new Error(`vLLM measurement ${m.id} uses a model without a shape: ${m.model}`);
    const version = /^[~v]?(\d+\.\d+(?:\.\d+)?)/.exec(m.vllm_version.replace('~', ''))?.[1] ?? m.vllm_version;
    if (!parseVllmVersion(version)) throw new Error(`vLLM measurement ${m.id}: unreadable version ${m.vllm_version}`);
    const tp = m.tensor_parallel_size;
    const act = activationPeak({
      vocab: m.vocab_size,
      hidden: m.hidden_size,
      mlpWidth: shape.mlpWidth,
      tp,
      moe: m.is_moe,
      mxfp4: m.weights_dtype.startsWith('mxfp4'),
      maxNumSeqs: m.max_num_seqs,
      maxNumBatchedTokens: m.max_num_batched_tokens,
      version,
    });
    const nonTorchLogged = m.engine === 'V0';
    const nonTorch = nonTorchLogged ? m.non_torch_gib! : nonTorchGib(version, tp);
    const kvBytes = m.gpu_total_gib * m.gpu_memory_utilization * GIB - m.weights_gib * GIB - act.peak - nonTorch * GIB;
    const elem = m.kv_cache_dtype === 'fp8' ? 1 : 2;
    let bytesPerToken: number;
    if (shape.mla) {
      const perLayer = shape.mla * elem;
      bytesPerToken = shape.layers * (m.engine === 'V0' ? Math.ceil(perLayer / 256) * 256 : perLayer);
    } else {
      bytesPerToken = 2 * shape.layers * Math.max(1, Math.ceil(shape.kvHeads / tp)) * shape.headDim * elem;
    }
    const { tokens } = kvTokens(kvBytes, bytesPerToken, m.block_size);
    const multimodal = /multimodal/i.test(m.notes);
    return {
      m,
      label: `#${m.id} ${m.model.split('/')[1]} v${version} ${m.gpu} TP${tp}${m.kv_cache_dtype === 'fp8' ? ' kv-fp8' : ''}`,
      version,
      multimodal,
      activationGib: act.peak / GIB,
      nonTorchGib: nonTorch,
      nonTorchLogged,
      kvGib: kvBytes / GIB,
      bytesPerToken,
      tokens,
      error: (tokens - m.kv_tokens) / m.kv_tokens,
    };
  });
}
