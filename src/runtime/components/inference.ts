/** vLLM engines, started as prime-rl's multi-node template starts them: one bare engine per tp GPUs. */
import type { Spec } from '../../compiler/spec/schema.js';
import { addressOf, COMMON_ENV_DEFAULTS, mergeEnv, RUNTIME, UV_RUN } from './common.js';

/** Path of the config within the compiled artifacts. */
export const INFERENCE_CONFIG = 'configs/inference.toml';

const INFERENCE_ENV_DEFAULTS = {
  VLLM_WORKER_MULTIPROC_METHOD: 'spawn',
  PYTORCH_CUDA_ALLOC_CONF: 'expandable_segments:False',
  VLLM_ENGINE_READY_TIMEOUT_S: '4200',
  UCX_TLS: 'all',
};

export interface EngineSlot {
  port: number;
  /** Present when the engine is one rank of an expert-parallel DP group spanning nodes. */
  dpGroup?: { size: number; rank: number; rpcPort: number; headNode: number };
}

export function engineCommand(slot: EngineSlot): string[] {
  const cmd = [...UV_RUN, 'inference', '@', `${RUNTIME.artifacts}/${INFERENCE_CONFIG}`, '--server.host', '0.0.0.0', '--server.port', String(slot.port)];
  if (slot.dpGroup) {
    cmd.push(
      '--vllm.data-parallel-size', String(slot.dpGroup.size),
      '--vllm.data-parallel-size-local', '1',
      '--vllm.data-parallel-rank', String(slot.dpGroup.rank),
      // ZMQ binds the DP coordinator on the head: an IP there, the head's host name elsewhere.
      '--vllm.data-parallel-address', addressOf(slot.dpGroup.headNode),
      '--vllm.data-parallel-rpc-port', String(slot.dpGroup.rpcPort),
      '--vllm.api-server-count', '1',
    );
  } else {
    cmd.push('--vllm.data-parallel-size', '1', '--vllm.data-parallel-size-local', '1', '--vllm.api-server-count', '1');
  }
  return cmd;
}

export function engineEnv(spec: Spec, gpus: readonly number[]): Record<string, string> {
  return mergeEnv(COMMON_ENV_DEFAULTS, INFERENCE_ENV_DEFAULTS, spec.env, spec.inference.env, { CUDA_VISIBLE_DEVICES: gpus.join(',') });
}
