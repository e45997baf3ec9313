import { describe, expect, it } from 'vitest';
import { throughputOf } from '../../src/compiler/throughput/index.js';
import { replicaOf, replicaRate } from '../../src/compiler/throughput/inference.js';
import { solvePool, stepOutcome } from '../../src/compiler/throughput/loop.js';
import type { ThroughputInput } from '../../src/compiler/throughput/types.js';
import { glm, intellect3, qwen30b, qwen4b, small } from './fixtures.js';

const v = (t: ReturnType<typeof throughputOf>, group: 'inference' | 'trainer' | 'weight_transfer' | 'loop', key: string) => t.terms[group][key]!.value;

function withRollouts(over: Partial<ThroughputInput['rollouts']>, input = small()): ThroughputInput {
  return { ...input, rollouts: { ...input.rollouts, ...over } };
}

describe("the loop: Little's law, staleness, the binding side", () => {
  it("Little's law: with max_inflight = batch, generation time = the mean episode latency (reference §6.3)", () => {
    const t = throughputOf(withRollouts({ envSeconds: 1000, maxInflight: 256, batchSize: 256 }));
    expect(t.generation_s).toBeCloseTo(v(t, 'inference', 'episode_latency_s'), 6);
    expect(v(t, 'inference', 'episode_latency_s')).toBeGreaterThan(1000);
  });

  it('the fixed point holds max_inflight episodes: R·B in the batches + X·(time off the GPU)', () => {
    const input = withRollouts({ envSeconds: 120, maxInflight: 300 });
    const rep = replicaOf(qwen4b, input.inference!);
    const work = { outputTokens: 4000, prefillTokens: 500 / 8, promptTokens: 500, context: 4500 };
    const pool = solvePool({ rep, replicas: 4, inflight: 300, work, envSeconds: 120, turns: 1, batchCap: 1e9 });
    expect(4 * pool.batch + pool.episodesPerS * pool.offGpuS).toBeCloseTo(300, 6);
    expect(pool.episodesPerS).toBeCloseTo(4 * replicaRate(rep, pool.batch, work).episodesPerS, 9);
  });

  it('a saturated pool queues the rest: throughput stays at the batch cap', () => {
    const input = small();
    const rep = replicaOf(qwen4b, input.inference!);
    const work = { outputTokens: 4000, prefillTokens: 0, promptTokens: 500, context: 4500 };
    const pool = solvePool({ rep, replicas: 4, inflight: 10_000, work, envSeconds: 0, turns: 1, batchCap: 50 });
    expect(pool.batch).toBe(50);
    expect(pool.saturated).toBe(true);
    expect(pool.queued).toBeGreaterThan(9000);
  });

  it('staleness: only max_off_policy_steps × batch episodes in flight are useful', () => {
    const t = throughputOf(withRollouts({ maxInflight: 4096, batchSize: 256, maxOffPolicySteps: 2 }));
    expect(v(t, 'loop', 'inflight')).toBe(512);
  });

  it('asynchronous: step = max(trainer + transfer, generation + pause); synchronous (max_off_policy_steps 0): their sum', () => {
    const a = throughputOf(small());
    expect(a.step_time_s).toBeCloseTo(Math.max(a.trainer_s + a.weight_transfer_s, a.generation_s + v(a, 'weight_transfer', 'inference_pause_s')), 9);
    const s = throughputOf(withRollouts({ maxOffPolicySteps: 0 }));
    expect(s.step_time_s).toBeCloseTo(s.generation_s + s.trainer_s + Math.max(s.weight_transfer_s, v(s, 'weight_transfer', 'inference_pause_s')), 9);
    expect(s.step_time_s).toBeGreaterThan(a.step_time_s);
  });

  it('a toy case with a known answer: a slow trainer binds at trainer_s + transfer', () => {
    const input = small();
    const t = throughputOf({ ...input, trainer: { ...input.trainer, gpus: 1, dpShard: 1 }, inference: { ...input.inference!, replicas: 64 } });
    expect(t.bottleneck).toBe('trainer');
    expect(t.step_time_s).toBeCloseTo(t.trainer_s + t.weight_transfer_s, 9);
    expect(t.trainer_busy).toBeGreaterThan(0.95);
    expect(t.inference_busy).toBeLessThan(0.2);
  });

  it('names inference when the pool is slow', () => {
    const input = small();
    const t = throughputOf({ ...input, trainer: { ...input.trainer, gpus: 8, dpShard: 8 }, inference: { ...input.inference!, replicas: 1 } });
    expect(t.bottleneck).toBe('inference');
    expect(t.inference_busy).toBeGreaterThan(0.95);
  });

  it('names the environment when long tool time with few episodes in flight keeps the pool idle', () => {
    const t = throughputOf(withRollouts({ envSeconds: 3000, maxInflight: 256, turns: 20 }));
    expect(t.bottleneck).toBe('environment');
    expect(v(t, 'loop', 'env_share')).toBeGreaterThan(0.5);
    expect(t.inference_busy).toBeLessThan(0.3);
  });

  it('names the weight transfer when a large model moves by filesystem every short step', () => {
    const input = small();
    const t = throughputOf({
      ...input,
      arch: qwen30b,
      weights: { transport: 'filesystem' },
      trainer: { ...input.trainer, gpus: 8, dpShard: 8 },
      rollouts: { ...input.rollouts, batchSize: 16, maxInflight: 16, meanRolloutTokens: 600, meanPromptTokens: 100, maxTokens: 2000 },
    });
    expect(t.bottleneck).toBe('weight_transfer');
    expect(t.weight_transfer_s).toBeGreaterThan(30);
  });

  it('busy fractions stay in [0, 1] and throughput is consistent over a sweep of splits', () => {
    for (let tn = 2; tn <= 42; tn += 4) {
      const t = throughputOf(intellect3({ trainerNodes: tn, inferenceNodes: 44 - tn }));
      for (const b of [t.inference_busy, t.trainer_busy]) {
        expect(b).toBeGreaterThanOrEqual(0);
        expect(b).toBeLessThanOrEqual(1);
      }
      expect(t.samples_per_s).toBeCloseTo(4096 / t.step_time_s, 9);
      expect(t.tokens_per_s).toBeCloseTo((4096 * 11000) / t.step_time_s, 6);
      expect(['inference', 'trainer', 'weight_transfer', 'environment']).toContain(t.bottleneck);
    }
  });

  it('stepOutcome picks the larger part of the binding side', () => {
    const base = { trainerS: 100, transferTrainerS: 5, inferencePauseS: 5, generationS: 50, overlapped: true, envShare: 0, poolSaturated: true };
    expect(stepOutcome(base)).toMatchObject({ stepS: 105, bottleneck: 'trainer', binding: 'trainer' });
    expect(stepOutcome({ ...base, trainerS: 1, transferTrainerS: 10 })).toMatchObject({ stepS: 55, bottleneck: 'inference' });
    expect(stepOutcome({ ...base, trainerS: 1, generationS: 2, inferencePauseS: 10 })).toMatchObject({ bottleneck: 'weight_transfer' });
    expect(stepOutcome({ ...base, trainerS: 1, poolSaturated: false, envShare: 0.8 })).toMatchObject({ bottleneck: 'environment' });
    expect(stepOutcome({ ...base, overlapped: false })).toMatchObject({ stepS: 155, binding: 'synchronous', bottleneck: 'trainer' });
  });

  it('a trainer-only run is the trainer and its transfer', () => {
    const t = throughputOf({ ...small(), inference: null });
    expect(t.generation_s).toBe(0);
    expect(t.weight_transfer_s).toBe(0);
    expect(t.bottleneck).toBe('trainer');
    expect(t.step_time_s).toBeCloseTo(t.trainer_s, 9);
  });

  it('INTELLECT-3 production (reference §6.8 lengths: 1k prompt, 10k output): step ≈ mean rollout latency of 5–7 minutes, both sides near balance', () => {
    const t = throughputOf(intellect3());
    expect(t.step_time_s / 60).toBeGreaterThan(4);
    expect(t.step_time_s / 60).toBeLessThan(8);
    expect(t.trainer_busy).toBeGreaterThan(0.6);
    expect(t.inference_busy).toBeGreaterThan(0.6);
    expect(t.weight_transfer_s / t.step_time_s).toBeLessThan(0.05);
    expect(glm.layers).toBe(46);
  });
});

describe('edge cases', () => {
  it('rollouts that are all prompt still take a decode step each; every term has a unit', () => {
    const t = throughputOf(withRollouts({ meanPromptTokens: 4000, meanRolloutTokens: 4000 }));
    expect(Number.isFinite(t.step_time_s)).toBe(true);
    for (const group of Object.values(t.terms)) for (const term of Object.values(group)) expect(term.unit.length).toBeGreaterThan(0);
  });

  it('a KV pool too small for one sequence still gives a finite, inference-bound step', () => {
    const input = small();
    const t = throughputOf({ ...input, inference: { ...input.inference!, kvTokensPerReplica: 1000 } });
    expect(Number.isFinite(t.step_time_s)).toBe(true);
    expect(t.bottleneck).toBe('inference');
  });
});
