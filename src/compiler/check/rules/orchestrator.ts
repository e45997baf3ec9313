/** Orchestrator and weight transfer: prime-rl's O1, W1–W2 and X1 rules that the spec can reach. */
import type { Diagnostic } from '../../diagnostics/diagnostic.js';
import { meanRolloutTokensOf } from '../../throughput/from-plan.js';
import { report, type Rule } from '../context.js';

export const batchMatchesGroups: Rule = (ctx) => {
  const o = ctx.spec.orchestrator;
  const out: Diagnostic[] = [];
  if (o.batch_size % o.group_size !== 0) {
    const lower = Math.floor(o.batch_size / o.group_size) * o.group_size;
    out.push(
      report(ctx, 'RS1401', 'orchestrator.batch_size', {
        message: `orchestrator.batch_size = ${o.batch_size} is not a multiple of group_size = ${o.group_size}`,
        hint: `e.g. batch_size = ${lower || o.group_size} or ${lower + o.group_size}`,
      }),
    );
  }
  if (o.max_inflight < o.group_size) {
    out.push(
      report(ctx, 'RS1402', 'orchestrator.max_inflight', {
        message: `orchestrator.max_inflight = ${o.max_inflight} is below group_size = ${o.group_size}: a whole group could never be in flight`,
        hint: `max_inflight ≥ ${o.group_size}`,
      }),
    );
  }
  return out;
};

export const tokensWithinContext: Rule = (ctx) => {
  const out: Diagnostic[] = [];
  const { maxTokens, maxModelLen } = ctx.derived;
  if (maxTokens > maxModelLen) {
    out.push(
      report(ctx, 'RS1403', 'orchestrator.max_tokens', {
        message: `orchestrator.max_tokens = ${maxTokens} exceeds inference.max_model_len = ${maxModelLen}`,
        hint: `max_tokens ≤ ${maxModelLen}, or raise inference.max_model_len`,
      }),
    );
  }
  const seqLen = ctx.spec.model.seq_len;
  if (ctx.spec.orchestrator.max_tokens !== undefined && maxTokens > seqLen) {
    out.push(
      report(ctx, 'RS1406', 'orchestrator.max_tokens', {
        message: `orchestrator.max_tokens = ${maxTokens} exceeds model.seq_len = ${seqLen}: longer rollouts are truncated for training`,
        hint: `max_tokens ≤ ${seqLen}, or raise model.seq_len`,
      }),
    );
  }
  return out;
};

/**
 * The prompt is part of the rollout (mean_rollout_tokens counts prompt + completion, max_tokens caps both):
 * a mean prompt at or above either leaves the throughput model no completion to decode.
 */
export const promptWithinRollout: Rule = (ctx) => {
  const o = ctx.spec.orchestrator;
  const prompt = o.mean_prompt_tokens;
  if (prompt === undefined) return [];
  const mean = meanRolloutTokensOf(ctx.spec, ctx.derived);
  const { maxTokens } = ctx.derived;
  const [bound, what, raise] =
    maxTokens < mean
      ? [maxTokens, `orchestrator.max_tokens = ${maxTokens}`, 'orchestrator.max_tokens']
      : o.mean_rollout_tokens !== undefined
        ? [mean, `orchestrator.mean_rollout_tokens = ${mean}`, 'orchestrator.mean_rollout_tokens']
        : [mean, `the mean rollout of ${mean} tokens (max_tokens / 2, the default of orchestrator.mean_rollout_tokens)`, 'orchestrator.mean_rollout_tokens'];
  if (prompt < bound) return [];
  return [
    report(ctx, 'RS1407', 'orchestrator.mean_prompt_tokens', {
      message: `orchestrator.mean_prompt_tokens = ${prompt} is not below ${what}: the prompt is part of the rollout, so no completion would be left`,
      hint: `mean_prompt_tokens ≤ ${bound - 1}, or ${o.mean_rollout_tokens === undefined && raise === 'orchestrator.mean_rollout_tokens' ? 'set' : 'raise'} ${raise}`,
    }),
  ];
};

export const orchestratorHasANode: Rule = (ctx) => {
  if (ctx.spec.orchestrator.placement !== 'inference' || ctx.derived.inference.gpus > 0) return [];
  return [
    report(ctx, 'RS1404', 'orchestrator.placement', {
      message: 'orchestrator.placement = "inference", but this run has no inference nodes',
      hint: 'use placement = "trainer"',
    }),
  ];
};

export const weightBroadcastPossible: Rule = (ctx) => {
  if (ctx.spec.weights.broadcast !== 'nccl') return [];
  const out: Diagnostic[] = [];
  if (ctx.spec.trainer.lora_rank > 0) {
    out.push(
      report(ctx, 'RS1501', 'weights.broadcast', {
        message: `weights.broadcast = "nccl" cannot carry LoRA adapters (trainer.lora_rank = ${ctx.spec.trainer.lora_rank})`,
        hint: 'use "filesystem" (or "auto", which picks it for LoRA)',
      }),
    );
  }
  if (ctx.derived.inference.gpus === 0) {
    out.push(report(ctx, 'RS1502', 'weights.broadcast', { message: 'weights.broadcast = "nccl" needs inference engines to send to, but inference has no GPUs', hint: 'use "auto" or "filesystem" for a trainer-only run' }));
  }
  return out;
};
