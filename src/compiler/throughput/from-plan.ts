/**
 * The throughput model's input from a checked spec and what `derive` makes of it — the same facts the plan
 * and the memory report use (parallelism as prime-rl resolves it, the inference layout, vLLM's KV tokens per
 * replica from the memory model). Nothing here changes the spec, the plan or their types.
 *
 * `orchestrator.mean_prompt_tokens` when set (rule RS1407 holds it below the mean rollout); otherwise
 *   mean prompt tokens   min(1024, mean rollout tokens / 4)  (reference §6.8 assumes 1k)
 * Inputs the spec has no key for take a default here:
 *   environment time     mean of `episode_seconds` over the train environments, by weight, counting the
 *                        environments that run tools (runtime "sandbox", a harness, or max_turns > 1); a
 *                        single-turn environment's episode is its generation, which the model predicts
 *   turns                `max_turns` of those environments (an upper bound), 1 elsewhere
 *   async level          prime-rl's TARGET_LAG (1)
 */
import { derive, type Derived } from '../plan/derive.js';
import { inferenceEstimate } from '../memory/report.js';
import type { Spec } from '../spec/schema.js';
import type { ThroughputInput } from './types.js';

export const DEFAULT_MEAN_PROMPT_TOKENS = 1024;

/** The mean rollout (prompt + completion) the memory model also sizes the KV cache with: the key, or max_tokens / 2. */
export function meanRolloutTokensOf(spec: Spec, derived: Pick<Derived, 'maxTokens'>): number {
  return spec.orchestrator.mean_rollout_tokens ?? Math.ceil(derived.maxTokens / 2);
}

/** `orchestrator.mean_prompt_tokens`, or a quarter of the mean rollout up to 1k (reference §6.8 assumes 1k prompts). */
export function meanPromptTokensOf(spec: Spec, meanRolloutTokens: number): number {
  return spec.orchestrator.mean_prompt_tokens ?? Math.min(DEFAULT_MEAN_PROMPT_TOKENS, Math.floor(meanRolloutTokens / 4));
}

/** Whether an environment spends episode time outside the GPUs (tools, sandboxes, multi-turn harnesses). */
export function usesTools(env: Spec['environments'][number]): boolean {
  return env.runtime === 'sandbox' || (env.harness !== '' && env.harness !== 'null') || env.max_turns > 1;
}

export function environmentTime(spec: Spec): { envSeconds: number; turns: number } {
  const train = spec.environments.filter((e) => e.split === 'train');
  const total = train.reduce((s, e) => s + e.weight, 0);
  if (total <= 0) return { envSeconds: 0, turns: 1 };
  let env = 0;
  let turns = 0;
  for (const e of train) {
    const share = e.weight / total;
    env += usesTools(e) ? share * e.episode_seconds : 0;
    turns += share * (usesTools(e) && e.max_turns > 0 ? e.max_turns : 1);
  }
  return { envSeconds: env, turns };
}

/** undefined when the model's shape or a GPU type is unknown, or the trainer has no GPUs (the rules say why). */
export function throughputInputFromPlan(spec: Spec, derived: Derived = derive(spec)): ThroughputInput | undefined {
  const arch = derived.arch;
  const trainerPool = derived.pools.get(derived.trainer.pool);
  if (!arch || !trainerPool?.gpu || derived.trainer.gpus === 0) return undefined;
  const p = derived.trainerParallelism;
  const t = spec.trainer;
  const meanRolloutTokens = meanRolloutTokensOf(spec, derived);

  let inference: ThroughputInput['inference'] = null;
  const inferencePool = derived.pools.get(derived.inference.pool);
  if (derived.inference.gpus > 0) {
    const kv = inferenceEstimate(spec, derived);
    if (!inferencePool?.gpu || !kv) return undefined;
    const layout = derived.inferenceLayout;
    inference = {
      gpu: inferencePool.gpu,
      gpusPerNode: inferencePool.gpusPerNode,
      replicas: layout.replicas,
      tp: layout.tp,
      enginesPerReplica: spec.inference.expert_parallel ? layout.nodesPerReplica * layout.enginesPerNode : 1,
      expertParallel: spec.inference.expert_parallel,
      weightsDtype: spec.inference.weights_dtype,
      kvCacheDtype: spec.inference.kv_cache_dtype,
      kvTokensPerReplica: kv.estimate.kvTokensPerReplica,
      maxNumSeqs: spec.inference.max_num_seqs,
    };
  }

  const { envSeconds, turns } = environmentTime(spec);
  return {
    arch,
    trainer: {
      gpu: trainerPool.gpu,
      gpus: p.world,
      gpusPerNode: trainerPool.gpusPerNode,
      dpReplicate: p.dpReplicate,
      dpShard: p.dpShard,
      ep: p.ep,
      cp: p.cp,
      cpStyle: t.cp_style,
      seqLen: spec.model.seq_len,
      loraRank: t.lora_rank,
      ac: t.activation_checkpointing,
      activationOffload: t.activation_offload !== false,
      optimizer: t.optimizer.type,
      optimizerOffload: t.optimizer_offload,
      attention: 'auto',
    },
    inference,
    rollouts: {
      batchSize: spec.orchestrator.batch_size,
      groupSize: spec.orchestrator.group_size,
      maxInflight: spec.orchestrator.max_inflight,
      meanPromptTokens: meanPromptTokensOf(spec, meanRolloutTokens),
      meanRolloutTokens,
      maxTokens: derived.maxTokens,
      envSeconds,
      turns,
      maxOffPolicySteps: spec.orchestrator.max_off_policy_steps,
    },
    weights: {
      transport: derived.weightBroadcast,
      // rlstack turns on quantize_in_weight_transfer for fp8 engines fed by NCCL (emit/prime-rl/configs.ts)
      fp8Transfer: spec.inference.weights_dtype === 'fp8' && derived.weightBroadcast === 'nccl',
      // `gpus` on both roles: they split one node, so the broadcast never leaves it
      sameNode: derived.trainer.mode === 'gpus' && derived.inference.mode === 'gpus' && derived.trainer.pool === derived.inference.pool,
    },
  };
}
