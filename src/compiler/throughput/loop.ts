/**
 * The asynchronous loop at steady state (reference §6.3, §6.7).
 *
 * Little's law over the in-flight episodes. Of the N_if episodes the orchestrator keeps in flight, R·B are
 * decoding in the R replicas and the rest sit in the environment (tool calls, sandboxes, judges: env seconds
 * per episode, plus a round trip and a rejoin per turn). A replica at mean batch B completes
 * X_r(B) = B / λ_gpu(B) episodes per second (inference.ts), so
 *
 *   N_if = R·B + R·X_r(B)·t_env          (solved for B by bisection; B ≤ the replica's batch cap)
 *
 * and the pool produces X = R·X_r(B) episodes per second: generation_s = batch / X. When the cap binds the
 * rest wait in the engines' queues (throughput X(B_cap), latency grows).
 *
 * Staleness (prime-rl 559b447): a rollout older than `max_off_policy_steps` policy versions is dropped
 * (packages/prime-rl-configs/src/prime_rl/configs/orchestrator.py:532, src/prime_rl/orchestrator/utils.py:51-54,
 * dispatcher.py:368-397). An episode spends N_if/batch steps in flight (Little), so only k·batch of them can
 * be useful: N_if,eff = min(max_inflight, k·batch) — the floor T_step ≥ λ/k of reference §6.3. The
 * orchestrator runs at most TARGET_LAG = 1 batch ahead of the trainer (src/prime_rl/orchestrator/orchestrator.py:101-104,
 * 662-680): inference generates batch s+1 while the trainer trains batch s, so
 *
 *   step = max(trainer_s + transfer (trainer blocked), generation_s + inference pause)      (k ≥ 1, lag ≥ 1)
 *   step = generation_s + trainer_s + transfer                                            (k = 0 or lag 0: synchronous)
 */
import { replicaRate, type EpisodeWork, type InferenceConstants, INFERENCE_CONSTANTS, type Replica, type ReplicaRate } from './inference.js';
import { TURN_ROUND_TRIP_S } from './constants.js';
import type { Bottleneck } from './types.js';

export interface PoolInput {
  rep: Replica;
  replicas: number;
  /** Episodes in flight (after the staleness cap). */
  inflight: number;
  work: EpisodeWork;
  envSeconds: number;
  turns: number;
  batchCap: number;
}

export interface PoolState {
  /** Mean sequences decoding per replica. */
  batch: number;
  rate: ReplicaRate;
  /** Episodes per second of the pool. */
  episodesPerS: number;
  /** Seconds an episode spends outside the replica's batch: environment, turn round trips and rejoins. */
  offGpuS: number;
  /** Episodes waiting in the engines' queues (cap binding). */
  queued: number;
  queueS: number;
  /** Whether the batch cap binds (the pool is saturated). */
  saturated: boolean;
  /** Mean episode latency: in the batch + off the GPU + queued. */
  latencyS: number;
}

function offGpu(p: PoolInput, rate: ReplicaRate): number {
  return p.envSeconds + p.turns * (TURN_ROUND_TRIP_S + rate.decode.totalS);
}

function inflightAt(p: PoolInput, batch: number, c: InferenceConstants): { n: number; rate: ReplicaRate } {
  const rate = replicaRate(p.rep, batch, p.work, c);
  return { n: p.replicas * (batch + rate.episodesPerS * offGpu(p, rate)), rate };
}

/** Little's law fixed point: the mean batch per replica that holds `inflight` episodes. */
export function solvePool(p: PoolInput, c: InferenceConstants = INFERENCE_CONSTANTS): PoolState {
  const cap = Math.max(p.batchCap, 1e-9);
  const atCap = inflightAt(p, cap, c);
  let batch: number;
  let rate: ReplicaRate;
  let queued = 0;
  if (atCap.n <= p.inflight) {
    batch = cap;
    rate = atCap.rate;
    queued = p.inflight - atCap.n;
  } else {
    let lo = 0;
    let hi = cap;
    for (let i = 0; i < 100; i++) {
      const mid = (lo + hi) / 2;
      if (inflightAt(p, mid, c).n < p.inflight) lo = mid;
      else hi = mid;
    }
    batch = (lo + hi) / 2;
    rate = replicaRate(p.rep, batch, p.work, c);
  }
  const episodesPerS = p.replicas * rate.episodesPerS;
  const offGpuS = offGpu(p, rate);
  const queueS = episodesPerS > 0 ? queued / episodesPerS : 0;
  return { batch, rate, episodesPerS, offGpuS, queued, queueS, saturated: queued > 0 || batch >= cap * 0.999, latencyS: rate.gpuLatencyS + offGpuS + queueS };
}

export interface StepInput {
  trainerS: number;
  transferTrainerS: number;
  inferencePauseS: number;
  generationS: number;
  /** Whether the trainer and inference overlap (k ≥ 1 and lag ≥ 1). */
  overlapped: boolean;
  /** Share of an episode's latency spent in the environment. */
  envShare: number;
  poolSaturated: boolean;
}

export interface StepOutcome {
  stepS: number;
  trainerSideS: number;
  inferenceSideS: number;
  binding: 'trainer' | 'inference' | 'synchronous';
  bottleneck: Bottleneck;
}

/** Step time = the binding side; the bottleneck = the largest part of it. */
export function stepOutcome(x: StepInput): StepOutcome {
  const trainerSideS = x.trainerS + x.transferTrainerS;
  const inferenceSideS = x.generationS + x.inferencePauseS;
  const generationBottleneck: Bottleneck = !x.poolSaturated && x.envShare >= 0.5 ? 'environment' : 'inference';
  if (!x.overlapped) {
    const transfer = Math.max(x.transferTrainerS, x.inferencePauseS);
    const stepS = x.generationS + x.trainerS + transfer;
    const parts: [Bottleneck, number][] = [
      [generationBottleneck, x.generationS],
      ['trainer', x.trainerS],
      ['weight_transfer', transfer],
    ];
    const bottleneck = parts.reduce((a, b) => (b[1] > a[1] ? b : a))[0];
    return { stepS, trainerSideS, inferenceSideS, binding: 'synchronous', bottleneck };
  }
  if (trainerSideS >= inferenceSideS) {
    return { stepS: trainerSideS, trainerSideS, inferenceSideS, binding: 'trainer', bottleneck: x.transferTrainerS > x.trainerS ? 'weight_transfer' : 'trainer' };
  }
  return { stepS: inferenceSideS, trainerSideS, inferenceSideS, binding: 'inference', bottleneck: x.inferencePauseS > x.generationS ? 'weight_transfer' : generationBottleneck };
}
