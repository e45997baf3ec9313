/** The vLLM pool: TP against the node and the heads, replicas against nodes, fp8 weights. */
import { GPUS } from '../../catalog/gpus.js';
import type { Diagnostic } from '../../diagnostics/diagnostic.js';
import { divisors, plural, report, type Rule } from '../context.js';

export const tensorParallelFits: Rule = (ctx) => {
  const role = ctx.derived.inference;
  if (role.gpus === 0) return [];
  const tp = ctx.spec.inference.tp;
  const pool = ctx.derived.pools.get(role.pool);
  const out: Diagnostic[] = [];
  if (role.mode === 'nodes' && pool && pool.gpusPerNode > 0 && pool.gpusPerNode % tp !== 0) {
    out.push(
      report(ctx, 'RS1301', 'inference.tp', {
        message: `inference.tp = ${tp} does not divide the ${pool.gpusPerNode} GPUs per node: prime-rl starts gpus_per_node / tp engines per node`,
        hint: `valid values: ${divisors(pool.gpusPerNode).join(', ')}`,
      }),
    );
  }
  if (role.mode === 'gpus' && role.gpus % tp !== 0) {
    out.push(
      report(ctx, 'RS1304', role.path === 'inference' ? 'inference.tp' : role.path, {
        message: `${plural(role.gpus, 'inference GPU')} on the shared node are not a multiple of inference.tp = ${tp}`,
        hint: `use a multiple of ${tp} inference GPUs, or tp in ${divisors(role.gpus).join(', ')}`,
      }),
    );
  }
  const arch = ctx.derived.arch;
  if (arch && arch.heads % tp !== 0) {
    out.push(
      report(ctx, 'RS1302', 'inference.tp', {
        message: `inference.tp = ${tp} does not divide the ${arch.heads} attention heads of ${arch.id}`,
        hint: `valid values: ${divisors(arch.heads).filter((d) => d <= (pool?.gpusPerNode ?? d)).join(', ')}`,
      }),
    );
  } else if (arch && tp > arch.kvHeads) {
    out.push(
      report(ctx, 'RS1303', 'inference.tp', {
        message: `inference.tp = ${tp} exceeds the ${arch.kvHeads} KV heads of ${arch.id}: each KV head is replicated on ${tp / arch.kvHeads} GPUs, so KV cache per token per GPU does not shrink past tp = ${arch.kvHeads}`,
        hint: `tp = ${arch.kvHeads} keeps KV per GPU minimal; more engines with smaller tp hold more sequences`,
      }),
    );
  }
  return out;
};

export const replicasSpanNodes: Rule = (ctx) => {
  const npr = ctx.spec.inference.nodes_per_replica;
  const role = ctx.derived.inference;
  if (npr === 1 || role.gpus === 0) return [];
  const out: Diagnostic[] = [];
  if (!ctx.spec.inference.expert_parallel) {
    out.push(
      report(ctx, 'RS1305', 'inference.nodes_per_replica', {
        message: `inference.nodes_per_replica = ${npr} needs inference.expert_parallel = true: a replica across nodes is one expert-parallel DP group`,
        hint: 'set inference.expert_parallel = true, or nodes_per_replica = 1 for one engine group per node',
      }),
    );
  }
  if (role.mode === 'gpus' || role.nodes % npr !== 0) {
    out.push(
      report(ctx, 'RS1306', 'inference.nodes_per_replica', {
        message: `${plural(role.nodes, 'inference node')} cannot be split into replicas of ${npr} nodes`,
        hint: `inference.nodes must be a multiple of ${npr}`,
      }),
    );
  }
  return out;
};


export const fp8WeightsPossible: Rule = (ctx) => {
  if (ctx.spec.inference.weights_dtype !== 'fp8' || ctx.derived.inference.gpus === 0) return [];
  const out: Diagnostic[] = [];
  const pool = ctx.derived.pools.get(ctx.derived.inference.pool);
  if (pool?.gpu && !pool.gpu.fp8) {
    out.push(report(ctx, 'RS1504', 'inference.weights_dtype', { message: `fp8 weights need fp8 tensor cores; ${pool.gpu.name} has none`, hint: `fp8 runs on GPUs with fp8 tensor cores (${GPUS.filter((g) => g.fp8).map((g) => g.id).join(', ')}; an inline gpu_spec says fp8 = true); use weights_dtype = "bf16"` }));
  }
  // prime-rl quantizes during the NCCL transfer (quantize_in_weight_transfer); a filesystem broadcast writes bf16.
  if (ctx.derived.weightBroadcast !== 'nccl') {
    out.push(
      report(ctx, 'RS1504', 'inference.weights_dtype', {
        message: `fp8 inference weights need the NCCL weight broadcast (prime-rl quantizes in the transfer), but the broadcast is ${ctx.derived.weightBroadcast}${ctx.spec.trainer.lora_rank > 0 ? ' because of LoRA' : ''}`,
        hint: 'use weights.broadcast = "nccl" without LoRA, or weights_dtype = "bf16"',
      }),
    );
  }
  return out;
};
