import { describe, expect, it } from 'vitest';
import { presetPath } from '../../src/compiler/load/compose.js';
import { planSpec } from '../../src/compiler/pipeline.js';
import { environmentTime, throughputInputFromPlan } from '../../src/compiler/throughput/from-plan.js';
import { throughputOf } from '../../src/compiler/throughput/index.js';

function planned(preset: string) {
  const r = planSpec(presetPath(preset));
  if (!r.ok) throw new Error(`${preset} does not plan: ${r.diagnostics.map((d) => d.code).join(', ')}`);
  return r;
}

describe('throughput input from a planned spec', () => {
  it('intellect3: the plan\'s layout, parallelism and KV capacity feed the model', () => {
    const r = planned('intellect3');
    const input = throughputInputFromPlan(r.resolved.spec, r.derived)!;
    const inf = r.plan.roles.inference!;
    expect(input.inference!.replicas).toBe(inf.replicas);
    expect(input.inference!.tp).toBe(inf.tp);
    expect(input.inference!.kvTokensPerReplica).toBe(r.plan.memory!.inference!.kv_tokens_per_replica);
    expect(input.rollouts.meanRolloutTokens).toBe(r.plan.memory!.inference!.mean_rollout_tokens);
    const tr = r.plan.roles.trainer;
    expect([input.trainer.gpus, input.trainer.dpReplicate, input.trainer.dpShard, input.trainer.ep, input.trainer.cp]).toEqual([tr.gpus, tr.dp_replicate, tr.dp_shard, tr.ep, tr.cp]);
    expect(input.weights.transport).toBe(r.plan.weights.broadcast);
    expect(input.weights.sameNode).toBe(false);
    expect(input.rollouts.maxOffPolicySteps).toBe(1);
  });

  it('environment time counts the environments that run tools, by weight; single-turn ones add none', () => {
    const r = planned('intellect3');
    const spec = r.resolved.spec;
    const train = spec.environments.filter((e) => e.split === 'train');
    const total = train.reduce((s, e) => s + e.weight, 0);
    const tools = train.filter((e) => e.runtime === 'sandbox' || e.harness !== 'null' || e.max_turns > 1);
    expect(environmentTime(spec).envSeconds).toBeCloseTo(tools.reduce((s, e) => s + (e.weight / total) * e.episode_seconds, 0), 9);
    expect(environmentTime({ ...spec, environments: spec.environments.map((e) => ({ ...e, runtime: 'subprocess' as const, harness: 'null', max_turns: 0 })) })).toEqual({ envSeconds: 0, turns: 1 });
  });

  it('the intellect3 preset comes out near balanced: both sides above 80 % busy', () => {
    const r = planned('intellect3');
    const t = throughputOf(throughputInputFromPlan(r.resolved.spec, r.derived)!);
    expect(t.trainer_busy).toBeGreaterThan(0.8);
    expect(t.inference_busy).toBeGreaterThan(0.8);
    expect(t.weight_transfer_s / t.step_time_s).toBeLessThan(0.02);
  });

  it('a split node keeps the broadcast on the node', () => {
    const r = planned('tiny');
    const input = throughputInputFromPlan(r.resolved.spec, r.derived)!;
    expect(input.weights.sameNode).toBe(true);
    expect(throughputOf(input).terms.weight_transfer.ring_nodes!.value).toBe(1);
  });

  for (const preset of ['intellect3', 'i3-mini', 'single-node', 'tiny']) {
    it(`${preset}: a finite step, busy shares in [0, 1], a named bottleneck`, () => {
      const r = planned(preset);
      const t = throughputOf(throughputInputFromPlan(r.resolved.spec, r.derived)!);
      expect(Number.isFinite(t.step_time_s)).toBe(true);
      expect(t.step_time_s).toBeGreaterThan(0);
      for (const b of [t.inference_busy, t.trainer_busy]) expect(b >= 0 && b <= 1).toBe(true);
      expect(['inference', 'trainer', 'weight_transfer', 'environment']).toContain(t.bottleneck);
      for (const group of Object.values(t.terms)) for (const [k, term] of Object.entries(group)) expect(Number.isFinite(term.value), k).toBe(true);
    });
  }
});
