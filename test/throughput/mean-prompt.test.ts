/** orchestrator.mean_prompt_tokens: the throughput model's prompt length, a planning input that prime-rl never sees. */
import { describe, expect, it } from 'vitest';
import { renderArtifacts } from '../../src/compiler/emit/artifacts.js';
import { presetPath } from '../../src/compiler/load/compose.js';
import { planSpec } from '../../src/compiler/pipeline.js';
import { DEFAULT_MEAN_PROMPT_TOKENS, throughputInputFromPlan } from '../../src/compiler/throughput/from-plan.js';

function planned(preset: string, sets: string[] = []) {
  const r = planSpec(presetPath(preset), { sets });
  if (!r.ok) throw new Error(r.diagnostics.map((d) => `${d.code} ${d.message}`).join('\n'));
  return r;
}

describe('orchestrator.mean_prompt_tokens', () => {
  it('absent: min(1024, mean rollout / 4) — a quarter on tiny (512-token rollouts), 1k on intellect3', () => {
    const tiny = planned('tiny');
    expect(throughputInputFromPlan(tiny.resolved.spec, tiny.derived)!.rollouts.meanPromptTokens).toBe(128);
    const i3 = planned('intellect3');
    expect(throughputInputFromPlan(i3.resolved.spec, i3.derived)!.rollouts.meanPromptTokens).toBe(DEFAULT_MEAN_PROMPT_TOKENS);
  });

  it('set: the model takes it, and a longer prompt (prefilled once per group, a longer decode context) changes the step', () => {
    const base = planned('tiny');
    const longer = planned('tiny', ['orchestrator.mean_prompt_tokens=400']);
    expect(throughputInputFromPlan(longer.resolved.spec, longer.derived)!.rollouts.meanPromptTokens).toBe(400);
    // same rollout length, fewer completion tokens to decode: generation gets shorter
    expect(longer.plan.throughput!.generation_s).toBeLessThan(base.plan.throughput!.generation_s);
  });

  it('is not a prime-rl key: the emitted configs and scripts are the same with and without it', () => {
    const configs = (sets: string[]) => {
      const r = planned('i3-mini', sets);
      return renderArtifacts(r.resolved, r.derived, r.plan).artifacts.filter((a) => a.path !== 'plan.json' && a.path !== 'manifest.json');
    };
    const without = configs([]);
    const withKey = configs(['orchestrator.mean_prompt_tokens=2000']);
    expect(withKey.map((a) => a.path)).toEqual(without.map((a) => a.path));
    for (const [i, a] of withKey.entries()) expect(a.content, a.path).toBe(without[i]!.content);
    expect(withKey.some((a) => a.content.includes('mean_prompt'))).toBe(false);
  });
});
