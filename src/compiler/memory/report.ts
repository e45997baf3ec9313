/**
 * Will it fit? Runs the trainer, host, disk, inference and sandbox models on a checked spec, and turns
 * every shortfall into a diagnostic that says by how much and which changes would make it fit — found by
 * trying them in the same model, not from a fixed list.
 */
import { isMoe } from '../catalog/models.js';
import * as trainerRules from '../check/rules/trainer.js';
import type { Diagnostic } from '../diagnostics/diagnostic.js';
import { diagnostic } from '../diagnostics/diagnostic.js';
import type { Code } from '../diagnostics/codes.js';
import { positionOf, type Provenance } from '../load/provenance.js';
import { derive, DEFAULT_POOL, type Derived } from '../plan/derive.js';
import { boxDemand, slotsPerNode, systemReserve } from '../plan/sandbox-capacity.js';
import type { LaunchPlan } from '../plan/types.js';
import type { Spec } from '../spec/schema.js';
import { estimateDisk, estimateHostMemory, type HostMemoryEstimate } from './host.js';
import { DEFAULT_VLLM_VERSION, estimateInferenceMemory, parseVllmVersion, type InferenceMemoryEstimate } from './inference.js';
import { estimateTrainerMemory, type TrainerMemoryEstimate, type TrainerMemoryInput } from './trainer.js';
import { UPPER_BOUND_MARGIN, upperBound } from './calibration.js';

/** Outside what max_memory_reserved() sees: the CUDA context, and NCCL's own buffers when there are peers. */
export const CUDA_CONTEXT_GIB = 0.6;
export const NCCL_BUFFERS_GIB = 0.5;
/** Above this share of a capacity, a warning: allocator spikes and version drift eat thin margins. */
const TIGHT = 0.92;

/** What a report says where the spec declares no capacity: the need is known, the capacity is not (yet). */
export const UNKNOWN_CAPACITY = 'capacity unknown (not in the spec): each node checks it at start';

export interface MemoryReport {
  trainer: {
    peak_gib: number;
    fit_gib: number;
    /** peak × (1 + margin): the model's largest under-prediction on the calibration set */
    peak_upper_gib: number;
    fit_upper_gib: number;
    upper_margin: number;
    capacity_gib: number;
    host_gib: number;
    /** null: not declared — each trainer node compares host_gib with what it has at start. */
    host_capacity_gib: number | null;
    peak_phase: string;
    extrapolated: string[];
    breakdown_gib: Record<string, number>;
    host_breakdown_gib: Record<string, number>;
  };
  inference: {
    vllm_version: string;
    max_num_seqs: number;
    max_num_batched_tokens: number;
    kv_cache_dtype: string;
    weights_gib: number;
    /** activation peak + non-torch memory */
    overhead_gib: number;
    activation_gib: { sampler: number; forward: number; moe_workspace: number; peak: number };
    non_torch_gib: number;
    outside_budget_gib: { cuda_context: number; cuda_graphs: number; sampler_warmup: number; total: number; headroom: number };
    kv_cache_gib: number;
    block_size: number;
    kv_blocks_per_engine: number;
    budget_gib: number;
    kv_bytes_per_token_per_gpu: number;
    kv_tokens_per_replica: number;
    full_length_seqs_per_replica: number;
    inflight_per_replica: number;
    inflight_tokens_per_replica: number;
    mean_rollout_tokens: number;
  } | null;
  disk: { run_dir_gib: number; checkpoint_gib: number; checkpoints_kept: number; broadcasts_gib: number; model_cache_gib: number; /** null: not declared — checked on the nodes at start. */ capacity_gib: number | null };
  sandboxes: { node: number; slots: number; demand: number; environments: string[] }[];
}

interface Context {
  spec: Spec;
  derived: Derived;
  provenance: Provenance;
}

export function trainerInput(spec: Spec, derived: Derived): TrainerMemoryInput | undefined {
  if (!derived.arch) return undefined;
  const p = derived.trainerParallelism;
  const offload = spec.trainer.activation_offload;
  return {
    arch: derived.arch,
    dpShard: p.dpShard,
    cp: p.cp,
    ep: p.ep,
    seqLen: spec.model.seq_len,
    loraRank: spec.trainer.lora_rank,
    ac: spec.trainer.activation_checkpointing,
    offloadInflight: offload === true ? 5 : offload === false ? 0 : offload,
    optimizer: spec.trainer.optimizer.type,
    optimizerOffload: spec.trainer.optimizer_offload,
    lmHeadChunk: spec.trainer.lm_head_chunk,
  };
}

/** What the trainer needs beyond max_memory_reserved(): context, NCCL, and rank 0's copy of a layer for the weight broadcast. */
export function fitGib(spec: Spec, derived: Derived, estimate: TrainerMemoryEstimate): number {
  const peers = derived.trainerParallelism.world > 1 ? NCCL_BUFFERS_GIB : 0;
  const broadcast = derived.weightBroadcast === 'nccl' ? estimate.breakdownGib.gathered / 5 + (spec.inference.weights_dtype === 'fp8' ? estimate.breakdownGib.gathered / 10 : 0) : 0;
  return estimate.peakGib + CUDA_CONTEXT_GIB + peers + broadcast;
}

export function estimateMemory(ctx: Context, plan: LaunchPlan): { report: MemoryReport | undefined; diagnostics: Diagnostic[] } {
  const { spec, derived } = ctx;
  const input = trainerInput(spec, derived);
  const trainerPool = derived.pools.get(derived.trainer.pool);
  if (!input || !trainerPool?.gpu || derived.trainer.gpus === 0) return { report: undefined, diagnostics: [] };
  const diagnostics: Diagnostic[] = [];
  const at = (path: string) => positionOf(ctx.provenance, path);
  const say = (code: Code, path: string, message: string, hint?: string) => diagnostics.push(diagnostic(code, { message, path, at: at(path), hint }));

  // --- trainer GPU
  const trainer = estimateTrainerMemory(input);
  const capacity = trainerPool.gpu.memoryGib;
  const fit = fitGib(spec, derived, trainer);
  const fitUpper = fit + upperBound(trainer.peakGib) - trainer.peakGib;
  if (fit > capacity) {
    const fixes = trainerFixes(ctx, capacity);
    say(
      'RS2001',
      'trainer',
      `the trainer needs ${gib(fit)} per GPU, ${gib(fit - capacity)} more than the ${gib(capacity)} of a ${trainerPool.gpu.name} (peak ${gib(trainer.peakGib)} reserved + CUDA context, NCCL and broadcast buffers)`,
      fixes.length ? `fits with ${fixes.join('; or ')}` : 'no single change fits: shorten model.seq_len or add trainer nodes',
    );
  } else if (fitUpper > capacity) {
    const fixes = trainerFixes(ctx, capacity, true);
    say(
      'RS2010',
      'trainer',
      `the trainer fits on the estimate (${gib(fit)} per GPU) but not on its upper bound (${gib(fitUpper)}, +${pct(UPPER_BOUND_MARGIN)}: the model's largest under-prediction on measured runs) of the ${gib(capacity)} of a ${trainerPool.gpu.name}: it needs ${gib(fitUpper - capacity)} of margin`,
      fixes.length ? `the cheapest knob that buys it: ${fixes[0]}${fixes.length > 1 ? `; or ${fixes.slice(1).join('; or ')}` : ''}` : 'no single change buys the margin: shorten model.seq_len or add trainer nodes',
    );
  } else if (fitUpper > capacity * TIGHT) {
    say('RS2009', 'trainer', `the trainer uses ${gib(fit)} of ${gib(capacity)} per GPU, up to ${gib(fitUpper)} on its upper bound (${pct(fitUpper / capacity)}): little room for allocator spikes`, trainerFixes(ctx, capacity * 0.85).slice(0, 2).join('; ') || undefined);
  }
  const extrapolated = extrapolation(spec, derived);
  if (extrapolated.length) {
    say('RS2007', 'trainer', `the trainer memory estimate is extrapolated beyond the measured runs (${extrapolated.join(', ')})`, 'the model is calibrated on FSDP runs with AdamW, no EP/CP, up to 8 GPUs; see docs/memory-model.md');
  }

  // --- host RAM of the busiest trainer node
  const ranksPerNode = derived.trainer.mode === 'gpus' ? derived.trainer.gpus : trainerPool.gpusPerNode;
  const orchestratorNode = plan.roles.orchestrator.node;
  const envServersOnOrchestrator = plan.roles.env_servers.filter((e) => e.node === orchestratorNode).length;
  const orchestratorOnTrainer = plan.processes.some((p) => p.role === 'trainer' && p.node === orchestratorNode);
  const host = estimateHostMemory({
    ranksPerNode,
    hostOptimizerGibPerRank: trainer.hostOptimizerGib,
    hostActivationsGibPerRank: trainer.hostActivationsGib,
    orchestratorHere: orchestratorOnTrainer,
    envServersHere: orchestratorOnTrainer ? envServersOnOrchestrator : 0,
  });
  const hostCapacity = trainerPool.hostMemoryGib;
  if (hostCapacity !== undefined && host.totalGib > hostCapacity) {
    const fixes = hostFixes(ctx, hostCapacity, capacity);
    say(
      'RS2002',
      'trainer.optimizer_offload',
      `a trainer node needs ${gib(host.totalGib)} of host RAM, ${gib(host.totalGib - hostCapacity)} more than its ${gib(hostCapacity)} (optimizer state ${gib(host.optimizerGib)}, offloaded activations ${gib(host.activationsGib)})`,
      fixes.length ? `fits with ${fixes.join('; or ')}` : `raise ${trainerPool.path}.host_memory_gib if the nodes have more`,
    );
  }

  // --- disk
  const disk = estimateDisk({
    arch: input.arch,
    servedArchSameAsTrained: derived.servedModel === spec.model.name,
    loraRank: spec.trainer.lora_rank,
    optimizer: spec.trainer.optimizer.type,
    checkpointInterval: spec.checkpoint.interval,
    keep: spec.checkpoint.keep,
    keepInterval: spec.checkpoint.keep_interval,
    maxSteps: spec.run.max_steps,
    filesystemBroadcast: derived.weightBroadcast === 'filesystem',
    maxOffPolicySteps: spec.orchestrator.max_off_policy_steps,
    servedWeightsDtype: spec.inference.weights_dtype,
  });
  const defaultPool = derived.pools.get(DEFAULT_POOL)!;
  const diskCapacity = defaultPool.diskGib;
  if (diskCapacity !== undefined && disk.runDirGib > diskCapacity) {
    const perCheckpoint = disk.checkpointGib;
    const keepFits = Math.floor((diskCapacity - disk.modelCacheGib - disk.broadcastsGib) / Math.max(perCheckpoint, 1e-9));
    say(
      'RS2003',
      'checkpoint.keep',
      `the run dir needs ${gib(disk.runDirGib)} (${disk.checkpointsKept} checkpoints × ${gib(perCheckpoint)}, broadcasts ${gib(disk.broadcastsGib)}, model cache ${gib(disk.modelCacheGib)}), more than the ${gib(diskCapacity)} of cluster.disk_gib`,
      keepFits >= 1 ? `fits keeping ${keepFits} checkpoint${keepFits === 1 ? '' : 's'} in all (checkpoint.keep and keep_interval)` : 'the model cache alone does not fit: use a larger filesystem',
    );
  }

  // --- inference
  if (!parseVllmVersion(spec.inference.vllm_version)) {
    say('RS2012', 'inference.vllm_version', `inference.vllm_version = "${spec.inference.vllm_version}" is not a vLLM version`, `write it as major.minor[.patch], e.g. "${DEFAULT_VLLM_VERSION}" (what prime-rl 559b447 locks)`);
  }
  const inference = inferenceEstimate(spec, derived);
  let inferenceReport: MemoryReport['inference'] = null;
  if (inference) {
    const { estimate, meanTokens } = inference;
    const pool = derived.pools.get(derived.inference.pool)!;
    if (estimate.kvCacheGib <= 0 || estimate.kvTokensPerReplica < derived.maxModelLen) {
      const fixes = inferenceFixes(ctx);
      say(
        'RS2004',
        'inference.tp',
        estimate.kvCacheGib <= 0
          ? `vLLM weights (${gib(estimate.weightsGib)}), activation peak (${gib(estimate.activation.peakGib)}) and non-torch memory (${gib(estimate.nonTorchGib)}) exceed the ${gib(estimate.budgetGib)} budget per GPU (gpu_memory_utilization × ${gib(pool.gpu!.memoryGib)})`
          : `the KV cache of a replica holds ${estimate.kvTokensPerReplica} tokens, less than one sequence of max_model_len = ${derived.maxModelLen}`,
        fixes.length ? `fits with ${fixes.join('; or ')}` : 'use a larger GPU or a smaller max_model_len',
      );
    } else if (estimate.inflightTokensPerReplica > estimate.kvTokensPerReplica) {
      const holds = Math.floor(estimate.kvTokensPerReplica / meanTokens);
      const inflightFits = holds * plan.roles.inference!.replicas;
      const nodesNeeded = Math.ceil((derived.inference.nodes * estimate.inflightTokensPerReplica) / estimate.kvTokensPerReplica);
      // A node count the cluster does not have is no fix by itself: name the cluster size it takes too.
      const othersInPool = derived.trainer.pool === derived.inference.pool && derived.trainer.mode === 'nodes' ? derived.trainer.nodes : 0;
      const poolNodes = pool.nodes;
      const grow = nodesNeeded + othersInPool > poolNodes ? ` with ${pool.path}.nodes = ${nodesNeeded + othersInPool} (it has ${poolNodes})` : '';
      say(
        'RS2005',
        'orchestrator.max_inflight',
        `each replica's KV cache holds ~${holds} rollouts of ${meanTokens} tokens, but ${Math.round(estimate.inflightPerReplica)} are in flight per replica: vLLM will preempt and recompute, and throughput collapses`,
        `max_inflight ≤ ${inflightFits}${derived.inference.mode === 'nodes' ? `, or inference.nodes = ${nodesNeeded}${grow}` : ''}, or a lower orchestrator.mean_rollout_tokens if rollouts are shorter`,
      );
    }
    if (estimate.maxNumBatchedTokens < estimate.maxNumSeqs) {
      // vLLM's SchedulerConfig refuses to start: max_num_batched_tokens must be ≥ max_num_seqs.
      say(
        'RS2013',
        spec.inference.max_num_batched_tokens > 0 ? 'inference.max_num_batched_tokens' : 'inference.max_num_seqs',
        `vLLM refuses max_num_batched_tokens = ${estimate.maxNumBatchedTokens} below max_num_seqs = ${estimate.maxNumSeqs}${spec.inference.max_num_batched_tokens > 0 && spec.inference.max_num_seqs > 0 ? '' : ' (one of them is vLLM\'s default for the GPU)'}`,
        `set inference.max_num_batched_tokens ≥ ${estimate.maxNumSeqs}, or inference.max_num_seqs ≤ ${estimate.maxNumBatchedTokens}`,
      );
    }
    const outside = estimate.outsideBudget;
    if (estimate.kvCacheGib > 0 && outside.totalGib > outside.headroomGib) {
      const gmuFits = Math.floor((1 - outside.totalGib / pool.gpu!.memoryGib) * 100) / 100;
      say(
        'RS2011',
        'inference.gpu_memory_utilization',
        `vLLM keeps ${gib(outside.totalGib)} per GPU outside its budget (CUDA context ${gib(outside.cudaContextGib)}, CUDA graphs ~${gib(outside.cudaGraphsGib)}, sampler warm-up ${gib(outside.samplerWarmupGib)}), more than the ${gib(outside.headroomGib)} that gpu_memory_utilization = ${spec.inference.gpu_memory_utilization} leaves: start-up may run out of memory after the KV cache is allocated`,
        `gpu_memory_utilization ≤ ${gmuFits}${estimate.maxNumSeqs > 256 ? ', or a smaller inference.max_num_seqs' : ''}`,
      );
    }
    inferenceReport = {
      vllm_version: estimate.vllmVersion,
      max_num_seqs: estimate.maxNumSeqs,
      max_num_batched_tokens: estimate.maxNumBatchedTokens,
      kv_cache_dtype: estimate.kvCacheDtype,
      weights_gib: round(estimate.weightsGib),
      overhead_gib: round(estimate.overheadGib),
      activation_gib: {
        sampler: round(estimate.activation.samplerGib),
        forward: round(estimate.activation.forwardGib),
        moe_workspace: round(estimate.activation.moeWorkspaceGib),
        peak: round(estimate.activation.peakGib),
      },
      non_torch_gib: round(estimate.nonTorchGib),
      outside_budget_gib: {
        cuda_context: round(outside.cudaContextGib),
        cuda_graphs: round(outside.cudaGraphsGib),
        sampler_warmup: round(outside.samplerWarmupGib),
        total: round(outside.totalGib),
        headroom: round(outside.headroomGib),
      },
      kv_cache_gib: round(estimate.kvCacheGib),
      block_size: estimate.blockSize,
      kv_blocks_per_engine: estimate.kvBlocksPerEngine,
      budget_gib: round(estimate.budgetGib),
      kv_bytes_per_token_per_gpu: estimate.kvBytesPerTokenPerGpu,
      kv_tokens_per_replica: estimate.kvTokensPerReplica,
      full_length_seqs_per_replica: estimate.fullLengthSeqsPerReplica,
      inflight_per_replica: round(estimate.inflightPerReplica),
      inflight_tokens_per_replica: Math.round(estimate.inflightTokensPerReplica),
      mean_rollout_tokens: meanTokens,
    };
  }

  // --- sandbox fleet: one environment's env server and its boxes live on one fleet node
  const sandboxes = sandboxReport(ctx, plan);
  for (const node of sandboxes) {
    if (node.demand <= node.slots) continue;
    const fleetPool = derived.pools.get(spec.sandboxes.pool === '' ? DEFAULT_POOL : spec.sandboxes.pool)!;
    const slots = slotsPerNode(spec, fleetPool);
    const inflightFits = Math.floor((spec.orchestrator.max_inflight * node.slots) / node.demand);
    // When CPU is what limits the node, smaller boxes would fit more of them.
    const usableCpus = fleetPool.cpusPerNode - systemReserve(fleetPool).cpus;
    const cpusFit = slots.byCpu < Math.min(slots.byMemory, slots.byDisk) ? Math.floor((usableCpus / node.demand) * 100) / 100 : 0;
    say(
      'RS2008',
      'sandboxes',
      `fleet node ${node.node} runs ${node.environments.join(', ')}: ~${node.demand} live boxes at max_inflight = ${spec.orchestrator.max_inflight}, but it has ${node.slots} slots (CPU ${slots.byCpu}, memory ${slots.byMemory}, disk ${slots.byDisk}${spec.sandboxes.network === 'restricted' ? `, bridge ${slots.byNetwork}` : ''})`,
      node.slots === 0
        ? `not one box fits: ${zeroSlotFix(slots, fleetPool.path)}, or provider = "prime"`
        : `fits with orchestrator.max_inflight ≤ ${inflightFits}${cpusFit > 0 ? `, or sandboxes.cpus ≤ ${cpusFit}` : ''}, or shards = ${Math.ceil(node.demand / Math.max(node.slots, 1))} on the environment (one fleet node each), or provider = "prime"; long episodes hold boxes for their whole duration`,
    );
  }

  const b = trainer.breakdownGib;
  return {
    diagnostics,
    report: {
      trainer: {
        peak_gib: round(trainer.peakGib),
        fit_gib: round(fit),
        peak_upper_gib: round(upperBound(trainer.peakGib)),
        fit_upper_gib: round(fitUpper),
        upper_margin: UPPER_BOUND_MARGIN,
        capacity_gib: capacity,
        host_gib: round(host.totalGib),
        host_capacity_gib: hostCapacity ?? null,
        peak_phase: trainer.peakPhase,
        extrapolated,
        breakdown_gib: {
          params: round(b.params),
          grads: round(b.grads),
          optimizer: round(b.optimizer),
          activations: round(b.activations + b.working),
          logits: round(b.logits),
          buffers: round(b.gathered + b.buffers),
          reserve: round(b.reserve),
        },
        host_breakdown_gib: hostBreakdown(host),
      },
      inference: inferenceReport,
      disk: {
        run_dir_gib: round(disk.runDirGib),
        checkpoint_gib: round(disk.checkpointGib),
        checkpoints_kept: disk.checkpointsKept,
        broadcasts_gib: round(disk.broadcastsGib),
        model_cache_gib: round(disk.modelCacheGib),
        capacity_gib: diskCapacity ?? null,
      },
      sandboxes,
    },
  };
}

/** What to raise (or shrink) when a fleet node has room for no box at all. */
function zeroSlotFix(slots: { byCpu: number; byMemory: number; byDisk: number; byNetwork: number }, poolPath: string): string {
  const fixes: string[] = [];
  if (slots.byCpu === 0) fixes.push(`raise ${poolPath}.cpus_per_node or lower sandboxes.cpus`);
  if (slots.byMemory === 0) fixes.push(`raise ${poolPath}.host_memory_gib or lower sandboxes.memory_gib`);
  if (slots.byDisk === 0) fixes.push(`raise ${poolPath}.disk_gib or lower sandboxes.disk_gib`);
  if (slots.byNetwork === 0) fixes.push('use sandboxes.network = "open"');
  return fixes.join('; and ');
}

function hostBreakdown(host: HostMemoryEstimate): Record<string, number> {
  return { processes: round(host.ranksGib), optimizer: round(host.optimizerGib), activations: round(host.activationsGib), orchestrator: round(host.orchestratorGib) };
}

export function inferenceEstimate(spec: Spec, derived: Derived): { estimate: InferenceMemoryEstimate; meanTokens: number } | undefined {
  const pool = derived.pools.get(derived.inference.pool);
  if (!derived.arch || !pool?.gpu || derived.inference.gpus === 0) return undefined;
  const layout = derived.inferenceLayout;
  const dpGroup = spec.inference.expert_parallel ? layout.nodesPerReplica * layout.enginesPerNode : 1;
  const meanTokens = spec.orchestrator.mean_rollout_tokens ?? Math.ceil(derived.maxTokens / 2);
  const estimate = estimateInferenceMemory({
    arch: derived.arch,
    gpu: pool.gpu,
    tp: layout.tp,
    dpGroup,
    expertParallel: spec.inference.expert_parallel,
    weightsDtype: spec.inference.weights_dtype,
    gpuMemoryUtilization: spec.inference.gpu_memory_utilization,
    maxModelLen: derived.maxModelLen,
    maxNumSeqs: spec.inference.max_num_seqs,
    maxNumBatchedTokens: spec.inference.max_num_batched_tokens,
    kvCacheDtype: spec.inference.kv_cache_dtype,
    vllmVersion: spec.inference.vllm_version,
    replicas: layout.replicas,
    enginesPerReplica: dpGroup,
    maxInflight: spec.orchestrator.max_inflight,
    meanRolloutTokens: meanTokens,
  });
  return { estimate, meanTokens };
}

function sandboxReport(ctx: Context, plan: LaunchPlan): MemoryReport['sandboxes'] {
  const { spec, derived } = ctx;
  if (spec.sandboxes.provider !== 'docker') return [];
  const pool = derived.pools.get(spec.sandboxes.pool === '' ? DEFAULT_POOL : spec.sandboxes.pool);
  if (!pool) return [];
  const slots = slotsPerNode(spec, pool).slots;
  const demand = boxDemand(spec);
  const byNode = new Map<number, { demand: number; environments: string[] }>();
  for (const env of plan.roles.env_servers.filter((e) => e.sandboxed)) {
    const entry = byNode.get(env.node) ?? { demand: 0, environments: [] };
    entry.demand += demand.get(env.name) ?? 0;
    entry.environments.push(env.name);
    byNode.set(env.node, entry);
  }
  return [...byNode].map(([node, e]) => ({ node, slots, demand: e.demand, environments: e.environments }));
}

/** Names why the trainer estimate leaves the calibrated range. */
function extrapolation(spec: Spec, derived: Derived): string[] {
  const p = derived.trainerParallelism;
  const out: string[] = [];
  if (p.ep > 1) out.push(`EP ${p.ep}`);
  if (p.cp > 1) out.push(`CP ${p.cp}`);
  if (spec.trainer.optimizer.type !== 'adamw') out.push(spec.trainer.optimizer.type === 'muon' ? 'Muon' : 'SignSGD');
  if (p.world > 8) out.push(`${p.world} GPUs`);
  if (spec.model.seq_len > 65536) out.push(`seq_len ${spec.model.seq_len}`);
  if (spec.trainer.activation_checkpointing !== 'full') out.push(`${spec.trainer.activation_checkpointing} activation checkpointing`);
  return out;
}

// ------------------------------------------------------------------------------------------------ fixes

interface Candidate {
  label: string;
  apply(spec: Spec): void;
}

/** Re-derives a changed spec and keeps it only if the trainer rules still hold. */
function variant(ctx: Context, candidate: Candidate): { spec: Spec; derived: Derived } | undefined {
  const spec = structuredClone(ctx.spec);
  candidate.apply(spec);
  const derived = derive(spec);
  const rc = { spec, provenance: new Map(), derived };
  const problems = [trainerRules.trainerWorldDivides, trainerRules.expertParallelValid, trainerRules.contextParallelDividesHeads].flatMap((rule) => rule(rc));
  return problems.some((d) => d.severity === 'error') ? undefined : { spec, derived };
}

function trainerCandidates(spec: Spec, derived: Derived): Candidate[] {
  const t = spec.trainer;
  const out: Candidate[] = [];
  if (t.activation_offload === false) out.push({ label: 'trainer.activation_offload = true', apply: (s) => void (s.trainer.activation_offload = true) });
  const inflight = t.activation_offload === true ? 5 : t.activation_offload === false ? 0 : t.activation_offload;
  if (inflight > 1) out.push({ label: 'trainer.activation_offload = 1', apply: (s) => void (s.trainer.activation_offload = 1) });
  if (!t.optimizer_offload) out.push({ label: 'trainer.optimizer_offload = true', apply: (s) => void (s.trainer.optimizer_offload = true) });
  if (t.activation_checkpointing !== 'full') out.push({ label: 'trainer.activation_checkpointing = "full"', apply: (s) => void (s.trainer.activation_checkpointing = 'full') });
  if (t.lm_head_chunk === 0 || t.lm_head_chunk > 1024) out.push({ label: 'trainer.lm_head_chunk = 1024', apply: (s) => void (s.trainer.lm_head_chunk = 1024) });
  for (const cp of [t.cp * 2, t.cp * 4]) out.push({ label: `trainer.cp = ${cp}`, apply: (s) => void (s.trainer.cp = cp) });
  if (derived.arch && isMoe(derived.arch)) {
    const ep = derived.trainerParallelism.ep * 2;
    out.push({ label: `trainer.ep = ${ep}`, apply: (s) => void (s.trainer.ep = ep) });
  }
  if (t.dp_replicate > 1) out.push({ label: 'trainer.dp_replicate = 1', apply: (s) => void (s.trainer.dp_replicate = 1) });
  if (t.nodes !== undefined) out.push({ label: `trainer.nodes = ${t.nodes * 2}`, apply: (s) => void (s.trainer.nodes = t.nodes! * 2) });
  return out;
}

/** Changes that make the trainer fit `capacity` — on its upper bound when `upper` — in the order of what they cost in throughput. */
function trainerFixes(ctx: Context, capacity: number, upper = false): string[] {
  const fixes: string[] = [];
  for (const candidate of trainerCandidates(ctx.spec, ctx.derived)) {
    const v = variant(ctx, candidate);
    const input = v && trainerInput(v.spec, v.derived);
    if (!v || !input) continue;
    const e = estimateTrainerMemory(input);
    const fit = fitGib(v.spec, v.derived, e) + (upper ? upperBound(e.peakGib) - e.peakGib : 0);
    if (fit <= capacity) fixes.push(`${candidate.label} (${gib(fit)}${upper ? ' on the bound' : ''} / ${gib(capacity)})`);
    if (fixes.length === 3) break;
  }
  return fixes;
}

function hostFixes(ctx: Context, hostCapacity: number, gpuCapacity: number): string[] {
  const candidates: Candidate[] = [];
  if (ctx.spec.trainer.optimizer_offload) candidates.push({ label: 'trainer.optimizer_offload = false', apply: (s) => void (s.trainer.optimizer_offload = false) });
  if (ctx.spec.trainer.activation_offload !== false) candidates.push({ label: 'trainer.activation_offload = false', apply: (s) => void (s.trainer.activation_offload = false) });
  if (ctx.spec.trainer.nodes !== undefined) candidates.push({ label: `trainer.nodes = ${ctx.spec.trainer.nodes * 2}`, apply: (s) => void (s.trainer.nodes = ctx.spec.trainer.nodes! * 2) });
  const fixes: string[] = [];
  for (const candidate of candidates) {
    const v = variant(ctx, candidate);
    const input = v && trainerInput(v.spec, v.derived);
    if (!v || !input) continue;
    const t = estimateTrainerMemory(input);
    const ranks = v.derived.trainer.mode === 'gpus' ? v.derived.trainer.gpus : v.derived.pools.get(v.derived.trainer.pool)!.gpusPerNode;
    const host = estimateHostMemory({ ranksPerNode: ranks, hostOptimizerGibPerRank: t.hostOptimizerGib, hostActivationsGibPerRank: t.hostActivationsGib, orchestratorHere: true, envServersHere: v.spec.environments.length });
    if (host.totalGib <= hostCapacity && fitGib(v.spec, v.derived, t) <= gpuCapacity) fixes.push(`${candidate.label} (host ${gib(host.totalGib)}, GPU ${gib(fitGib(v.spec, v.derived, t))})`);
  }
  return fixes;
}

function inferenceFixes(ctx: Context): string[] {
  const { spec, derived } = ctx;
  const pool = derived.pools.get(derived.inference.pool);
  const candidates: Candidate[] = [];
  for (const tp of [spec.inference.tp * 2, spec.inference.tp * 4]) {
    if (pool && tp <= pool.gpusPerNode && derived.arch && derived.arch.heads % tp === 0) candidates.push({ label: `inference.tp = ${tp}`, apply: (s) => void (s.inference.tp = tp) });
  }
  if (spec.inference.weights_dtype === 'bf16' && pool?.gpu?.fp8) candidates.push({ label: 'inference.weights_dtype = "fp8"', apply: (s) => void (s.inference.weights_dtype = 'fp8') });
  if (spec.inference.gpu_memory_utilization < 0.95) candidates.push({ label: 'inference.gpu_memory_utilization = 0.95', apply: (s) => void (s.inference.gpu_memory_utilization = 0.95) });
  const fixes: string[] = [];
  for (const candidate of candidates) {
    const s = structuredClone(spec);
    candidate.apply(s);
    const d = derive(s);
    const e = inferenceEstimate(s, d);
    if (e && e.estimate.kvTokensPerReplica >= d.maxModelLen) fixes.push(`${candidate.label} (${e.estimate.fullLengthSeqsPerReplica} full-length sequences per replica)`);
  }
  return fixes;
}

function gib(v: number): string {
  return `${v.toFixed(1)} GiB`;
}

function pct(v: number): string {
  return `${Math.round(v * 100)} %`;
}

function round(v: number): number {
  return Math.round(v * 100) / 100;
}

