/**
 * `throughputOf`: one asynchronous RL step of prime-rl — the vLLM pool generating rollouts, the FSDP2 trainer
 * training on the previous batch, the weights going back to the engines — from the shapes the plan knows.
 * Pure: no I/O. Term by term in docs/throughput-model.md.
 */
import { batchCap, INFERENCE_CONSTANTS, replicaOf, replicaRate, type EpisodeWork } from './inference.js';
import { DEFAULT_OUTPUT_LENGTH_CV, PRIME_RL_TARGET_LAG } from './constants.js';
import { links as linksOf } from './hardware.js';
import { attentionCostCv, effectiveTrainLength, meanDecodeContext, type LengthModel } from './lengths.js';
import { solvePool, stepOutcome, type PoolState } from './loop.js';
import { trainerStep } from './trainer.js';
import { weightTransfer } from './transfer.js';
import { term, type Terms, type Throughput, type ThroughputInput } from './types.js';

export type { Bottleneck, Term, Terms, Throughput, ThroughputInput } from './types.js';

const GB = 1e9;

/** The rollout lengths the input implies: prompt, mean completion, their spread. */
export function lengthModel(input: ThroughputInput): LengthModel {
  const r = input.rollouts;
  const prompt = Math.max(0, Math.min(r.meanPromptTokens, r.meanRolloutTokens));
  return { prompt, output: Math.max(0, r.meanRolloutTokens - prompt), cv: r.outputLengthCv ?? DEFAULT_OUTPUT_LENGTH_CV };
}

export function throughputOf(input: ThroughputInput): Throughput {
  const { arch, trainer: t, rollouts: r } = input;
  const inf = input.inference;
  const lengths = lengthModel(input);
  const links = linksOf(t.gpu, inf?.gpu, input.network);
  const batch = Math.max(1, r.batchSize);
  const sampleTokens = Math.min(r.meanRolloutTokens, t.seqLen);

  // ------------------------------------------------------------------ trainer
  const step = trainerStep(
    arch,
    t,
    { tokens: batch * sampleTokens, samples: batch, effectiveLength: effectiveTrainLength(lengths, t.seqLen), attentionCostCv: attentionCostCv(lengths) },
    links,
  );

  // ------------------------------------------------------------------ weight transfer
  const inferenceGpus = inf ? inf.replicas * inf.tp * Math.max(1, inf.enginesPerReplica) : 0;
  const transfer = weightTransfer({
    arch,
    transport: input.weights.transport,
    fp8Transfer: input.weights.fp8Transfer ?? false,
    loraRank: t.loraRank,
    trainerShardGroup: Math.max(1, t.dpShard * t.cp),
    trainerGpusPerNode: t.gpusPerNode,
    inferenceGpus,
    inferenceGpusPerNode: inf?.gpusPerNode ?? 1,
    replicas: inf?.replicas ?? 0,
    colocated: input.weights.sameNode ?? (inf ? t.gpus + inferenceGpus <= Math.min(t.gpusPerNode, inf.gpusPerNode) : false),
    inferenceBandwidthTBs: inf?.gpu.bandwidthTBs ?? t.gpu.bandwidthTBs,
    links,
    ...(input.weights.filesystemGBps ? { filesystemBytesPerS: input.weights.filesystemGBps * GB } : {}),
  });

  // ------------------------------------------------------------------ inference and the loop
  const k = Math.max(0, r.maxOffPolicySteps);
  const lag = r.asyncLevel ?? PRIME_RL_TARGET_LAG;
  const overlapped = k >= 1 && lag >= 1;
  const inflight = Math.max(1, Math.min(r.maxInflight, (overlapped ? k : 1) * batch));

  const trainerTerms: Terms = {
    tokens_per_step: term(batch * sampleTokens, 'tokens', 'trained tokens per step: batch × min(mean rollout tokens, seq_len)'),
    effective_sample_length: term(effectiveTrainLength(lengths, t.seqLen), 'tokens', 'l_eff = E[l²]/E[l]: attention cost per token is that of a sample this long'),
    tokens_per_gpu: term(step.tokensPerGpu, 'tokens', 'tokens per trainer GPU per step'),
    micro_batches_per_rank: term(step.microBatchesPerRank, 'micro-batches', '⌈tokens / (DP ranks × seq_len)⌉'),
    matmul_s_per_token: term(step.token.matmulS, 's/token', 'dense GEMMs: X_mm·A_dense / (e_mm·P)'),
    expert_s_per_token: term(step.token.expertS, 's/token', 'routed-expert grouped GEMMs: X_mm·A_expert / (e_expert·P)'),
    attention_s_per_token: term(step.token.attentionS, 's/token', `attention (${step.token.attention}, e_att ${step.token.attentionEfficiency}): X_att·F_att(l_eff)·imbalance / (e_att·P)`),
    memory_s_per_token: term(step.token.memoryS, 's/token', 'memory-bound work: (c_layer·L·h + c_vocab·V + c_lora·L·h) / BW'),
    offload_factor: term(step.token.offload, '×', 'activation offload throughput multiplier'),
    s_per_token: term(step.token.totalS, 's/token', 'one GPU, all parts'),
    attention_imbalance: term(step.imbalance, '×', 'slowest DP rank over the mean, attention part'),
    compute_s: term(step.computeS, 's', 'tokens per GPU × s per token'),
    fsdp_comm_s: term(step.fsdpCommS, 's', 'FSDP all-gathers (2 per micro-batch, bf16) + fp32 reduce-scatters + HSDP all-reduce'),
    fsdp_exposed_s: term(step.fsdpExposedS, 's', 'FSDP communication beyond the compute it overlaps'),
    ep_comm_s: term(step.epCommS, 's', 'expert-parallel dispatch + combine'),
    cp_comm_s: term(step.cpCommS, 's', `context-parallel exchanges (${t.cpStyle})`),
    cp_exposed_s: term(step.cpExposedS, 's', 'context-parallel exchanges not hidden behind attention'),
    optimizer_s: term(step.optimizerS, 's', `${t.optimizer} step${t.optimizerOffload ? ' on the host' : ''}`),
    trainer_s: term(step.totalS, 's', 'compute + exposed communication + optimizer'),
    mfu: term(step.mfu, 'fraction', 'useful FLOPs (6·A or 4·A with LoRA, + 3·F_att) / (GPUs × peak × trainer_s)'),
    tokens_per_s_per_gpu: term(step.tokensPerSPerGpu, 'tokens/s/GPU', 'trainer throughput per GPU'),
  };
  const transferTerms: Terms = {
    bytes_bf16: term(transfer.bytesBf16, 'bytes', 'bf16 bytes of the parameters that move (adapters only with LoRA)'),
    bytes_sent: term(transfer.bytesSent, 'bytes', 'bytes on the wire (FP8 transfer: 1 B per linear weight)'),
    gather_s: term(transfer.gatherS, 's', 'every trainer rank all-gathers each layer over the shard group'),
    send_s: term(transfer.sendS, 's', transfer.transport === 'filesystem' ? 'write the checkpoint: S / B_fs' : 'NCCL ring broadcast from trainer rank 0: S / B_link + pipeline fill'),
    ring_nodes: term(transfer.ringNodes, 'nodes', 'nodes on the NCCL broadcast ring'),
    pipeline_fill_s: term(transfer.pipelineFillS, 's', 'one NCCL chunk per hop per broadcast call'),
    load_s: term(transfer.loadS, 's', transfer.transport === 'filesystem' ? 'each engine reads the checkpoint back: S / B_fs' : 'in-place copy into the engines'),
    control_s: term(transfer.controlS, 's', 'marker polling, engine pause and resume'),
    trainer_blocked_s: term(transfer.trainerBlockedS, 's', 'what the transfer costs the trainer per step'),
    inference_pause_s: term(transfer.inferencePauseS, 's', 'what the transfer pauses the engines for per step'),
  };

  if (!inf || inf.replicas <= 0) {
    const stepS = step.totalS + transfer.trainerBlockedS;
    return {
      step_time_s: stepS,
      generation_s: 0,
      trainer_s: step.totalS,
      weight_transfer_s: transfer.trainerBlockedS,
      inference_busy: 0,
      trainer_busy: stepS > 0 ? Math.min(1, step.totalS / stepS) : 0,
      bottleneck: transfer.trainerBlockedS > step.totalS ? 'weight_transfer' : 'trainer',
      samples_per_s: stepS > 0 ? batch / stepS : 0,
      tokens_per_s: stepS > 0 ? (batch * sampleTokens) / stepS : 0,
      terms: { inference: {}, trainer: trainerTerms, weight_transfer: transferTerms, loop: { step_time_s: term(stepS, 's', 'trainer-only run: trainer + transfer') } },
    };
  }

  const rep = replicaOf(arch, inf);
  const context = meanDecodeContext(lengths);
  const cap = batchCap(rep, context);
  const work: EpisodeWork = {
    // at least the first token is decoded
    outputTokens: Math.max(1, lengths.output),
    prefillTokens: lengths.prompt / Math.max(1, r.groupSize),
    promptTokens: lengths.prompt,
    context,
  };
  const turns = Math.max(1, r.turns);
  const pool: PoolState = solvePool({ rep, replicas: inf.replicas, inflight, work, envSeconds: Math.max(0, r.envSeconds), turns, batchCap: cap.cap });
  const generationS = pool.episodesPerS > 0 ? batch / pool.episodesPerS : Infinity;
  const saturatedRate = replicaRate(rep, cap.cap, work);
  const capacityS = batch / (inf.replicas * saturatedRate.episodesPerS);
  const envShare = pool.latencyS > 0 ? pool.offGpuS / pool.latencyS : 0;

  const outcome = stepOutcome({
    trainerS: step.totalS,
    transferTrainerS: transfer.trainerBlockedS,
    inferencePauseS: transfer.inferencePauseS,
    generationS,
    overlapped,
    envShare,
    poolSaturated: pool.saturated,
  });
  const stepS = outcome.stepS;

  // the tail: a rollout of max_tokens at the same batch and context
  const tailOutput = Math.max(0, r.maxTokens - lengths.prompt);
  const tailLatencyS = tailOutput * pool.rate.decode.totalS + pool.rate.prefillS * pool.batch + pool.offGpuS + pool.queueS;
  const tailSteps = stepS > 0 ? tailLatencyS / stepS : 0;

  const inferenceTerms: Terms = {
    replicas: term(inf.replicas, 'replicas', 'independent vLLM servers'),
    gpus_per_replica: term(rep.gpus, 'GPUs', 'tp × engines of the DP group'),
    mean_context: term(context, 'tokens', 'c̄ = p̄ + ō(1 + cv²)/2: mean context of the sequences decoding'),
    batch_cap: term(cap.cap, 'sequences', `per replica: min(max_num_seqs × engines = ${cap.bySeqs}, ${rep.kvTokens} KV tokens × ${INFERENCE_CONSTANTS.kvUsage} / c̄ = ${cap.byKv.toFixed(1)}) — bound by ${cap.bound}`),
    batch: term(pool.batch, 'sequences', 'mean sequences decoding per replica (Little fixed point)'),
    expert_coverage: term(pool.rate.decode.coverage, 'fraction', 'φ(B) = 1 − (1 − k/E)^B: share of routed experts a step reads'),
    weight_bytes_per_gpu: term(pool.rate.decode.weightBytesPerGpu, 'bytes', 'non-expert weights read per step per GPU (LM head bf16)'),
    expert_bytes_per_gpu: term(pool.rate.decode.expertBytesPerGpu, 'bytes', 'routed-expert weights read per step per GPU: φ(B)·W_experts / expert shards'),
    kv_bytes_per_gpu: term(pool.rate.decode.kvBytesPerGpu, 'bytes', 'KV read per step per GPU: (B / engines)·κ_rank·c̄'),
    decode_fixed_s: term(pool.rate.decode.fixedS, 's', 't₀: scheduler, sampling, per-layer collectives'),
    decode_memory_s: term(pool.rate.decode.memoryS, 's', 'bytes per GPU / (η·BW)'),
    decode_compute_s: term(pool.rate.decode.computeS, 's', '(B/engines)(2A + F_att(c̄)) / (tp·P·μ_dec)'),
    decode_step_s: term(pool.rate.decode.totalS, 's', 't_dec(B, c̄)'),
    prefill_s_per_episode: term(pool.rate.prefillS, 's', 'replica time to prefill one episode (prompt ÷ group size through the prefix cache)'),
    gpu_latency_s: term(pool.rate.gpuLatencyS, 's', 'time an episode occupies the batch: o·t_dec + B·prefill'),
    off_gpu_s: term(pool.offGpuS, 's', 'environment time + turns × (round trip + rejoin)'),
    queue_s: term(pool.queueS, 's', 'waiting in the engines\' queues when the batch cap binds'),
    episode_latency_s: term(pool.latencyS, 's', 'λ: mean episode latency'),
    tokens_per_s_per_replica: term(pool.rate.outputTokensPerS, 'tokens/s', 'generated tokens per second per replica'),
    tokens_per_s_per_gpu: term(pool.rate.outputTokensPerSPerGpu, 'tokens/s/GPU', 'generated tokens per second per inference GPU'),
    saturated_tokens_per_s_per_gpu: term(saturatedRate.outputTokensPerSPerGpu, 'tokens/s/GPU', 'at the batch cap'),
    episodes_per_s: term(pool.episodesPerS, 'episodes/s', 'pool throughput X = R·B/λ_gpu'),
    capacity_s: term(capacityS, 's', 'the step\'s rollouts at the batch cap (no in-flight limit)'),
  };
  const loopTerms: Terms = {
    inflight: term(inflight, 'episodes', `min(max_inflight = ${r.maxInflight}, ${overlapped ? `max_off_policy_steps × batch = ${k * batch}` : `batch (synchronous) = ${batch}`})`),
    staleness_floor_s: term(overlapped ? pool.latencyS / k : 0, 's', 'λ / max_off_policy_steps: shortest step the mean rollout survives'),
    overlapped: term(overlapped ? 1 : 0, 'bool', `trainer and inference overlap (async level ${lag}, max_off_policy_steps ${k})`),
    trainer_side_s: term(outcome.trainerSideS, 's', 'trainer_s + trainer blocked by the transfer'),
    inference_side_s: term(outcome.inferenceSideS, 's', 'generation_s + inference pause'),
    env_share: term(envShare, 'fraction', 'share of episode latency outside the GPUs'),
    tail_latency_s: term(tailLatencyS, 's', `latency of a ${r.maxTokens}-token rollout`),
    tail_steps: term(tailSteps, 'steps', 'policy versions the longest rollout spans'),
    tail_dropped: term(overlapped && tailSteps > k ? 1 : 0, 'bool', 'the longest rollouts outlive max_off_policy_steps and are dropped'),
    generated_tokens_per_s: term((batch * lengths.output) / stepS, 'tokens/s', 'completion tokens per second'),
    binding: term(outcome.binding === 'trainer' ? 1 : outcome.binding === 'inference' ? 2 : 0, 'enum', `${outcome.binding} side binds (1 trainer, 2 inference, 0 synchronous)`),
  };

  return {
    step_time_s: stepS,
    generation_s: generationS,
    trainer_s: step.totalS,
    weight_transfer_s: transfer.trainerBlockedS,
    inference_busy: stepS > 0 ? Math.min(1, capacityS / stepS) : 0,
    trainer_busy: stepS > 0 ? Math.min(1, step.totalS / stepS) : 0,
    bottleneck: outcome.bottleneck,
    samples_per_s: batch / stepS,
    tokens_per_s: (batch * sampleTokens) / stepS,
    terms: { inference: inferenceTerms, trainer: trainerTerms, weight_transfer: transferTerms, loop: loopTerms },
  };
}
