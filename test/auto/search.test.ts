/**
 * Issue 14 part 3: the search keeps every rule and the memory fit, and finds the optimum the model
 * defines — checked against exhaustive plans of every split and against the balance point where the
 * binding side switches.
 */
import { describe, expect, it } from 'vitest';
import { applyOverrides, bestSplit, FIT_WARNINGS, searchAuto, searchLine, type AutoCandidate, type SplitAxis } from '../../src/compiler/auto/index.js';
import { Evaluator } from '../../src/compiler/auto/evaluate.js';
import { describeOrigin } from '../../src/compiler/load/provenance.js';
import { splitOverrides } from '../../src/compiler/auto/space.js';
import { planResolved } from '../../src/compiler/pipeline.js';
import type { ResolvedSpec } from '../../src/compiler/resolve.js';
import { resolvePreset, resolveText, toySpec } from './toy.js';

/** The plan of the spec with a candidate's overrides, from scratch. */
function replan(resolved: ResolvedSpec, overrides: AutoCandidate['overrides']) {
  return planResolved({ ...resolved, spec: applyOverrides(structuredClone(resolved.spec), overrides) }, []);
}

function expectPlansClean(resolved: ResolvedSpec, candidate: AutoCandidate): void {
  const result = replan(resolved, candidate.overrides);
  const label = JSON.stringify(candidate.overrides);
  expect(result.ok, `${label}: ${result.diagnostics.filter((d) => d.severity === 'error').map((d) => d.code).join(', ')}`).toBe(true);
  expect(result.diagnostics.filter((d) => FIT_WARNINGS.has(d.code)).map((d) => d.code), label).toEqual([]);
  const trainer = result.plan!.memory!.trainer;
  expect(trainer.fit_upper_gib, label).toBeLessThanOrEqual(trainer.capacity_gib);
  expect(result.plan!.throughput, label).toEqual(candidate.throughput);
}

/** Every split planned in full: the exhaustive optimum bestSplit must find. */
function exhaustiveSplits(resolved: ResolvedSpec, total: number) {
  const out: { t: number; samples: number; bottleneck: string }[] = [];
  for (let t = 1; t < total; t++) {
    const r = replan(resolved, { 'trainer.nodes': t, 'inference.nodes': total - t });
    if (r.ok && !r.diagnostics.some((d) => FIT_WARNINGS.has(d.code))) out.push({ t, samples: r.plan!.throughput!.samples_per_s, bottleneck: r.plan!.throughput!.bottleneck });
  }
  return out;
}

describe('bestSplit: only the trainer/inference split', () => {
  it('finds the exhaustive optimum of a 12-node toy, at the balance point where the binding side switches', () => {
    const resolved = resolveText(toySpec(12));
    const all = exhaustiveSplits(resolved, 12);
    const max = all.reduce((a, b) => (b.samples > a.samples ? b : a));
    const best = bestSplit(resolved)!;
    expect(best.overrides).toEqual({ 'trainer.nodes': max.t, 'inference.nodes': 12 - max.t });
    expect(best.throughput.samples_per_s).toBe(max.samples);
    // the optimum of max(trainer side, inference side): trainer-bound one node below, inference-bound above
    expect(all.find((s) => s.t === max.t - 1)?.bottleneck).toBe('trainer');
    expect(max.bottleneck).toBe('inference');
    expect(best.vs_spec).toBeGreaterThan(1.1);
    expect(best.reason).toMatch(/trainer busy \d+ % → \d+ %; \d\.\d\d× samples\/s/);
  });

  it('on 40 nodes (grid + ternary refinement, not every split) still finds the maximum of every split', () => {
    const resolved = resolveText(toySpec(40));
    const ev = new Evaluator(resolved, 'samples');
    const axis: SplitAxis = { unit: 'nodes', total: 40, written: 20, min: 1, max: 39, trainerKey: 'trainer.nodes', inferenceKey: 'inference.nodes' };
    let calls = 0;
    const f = (u: number) => (calls++, ev.evaluate(splitOverrides(axis, resolved.spec, u)).score);
    const found = searchLine(axis, f);
    let argmax = 1;
    for (let u = 1; u <= 39; u++) if (f(u) > f(argmax)) argmax = u;
    expect(found).toBe(argmax);
    expect(bestSplit(resolved)!.overrides['trainer.nodes']).toBe(argmax);
  });

  it('searchLine maximises a unimodal function with far fewer calls than points', () => {
    const axis: SplitAxis = { unit: 'nodes', total: 1024, written: 256, min: 1, max: 1023, trainerKey: 'trainer.nodes', inferenceKey: 'inference.nodes' };
    const seen = new Set<number>();
    // samples/s of max(A/t, B/(N − t)): the closed-form optimum t* = N·A/(A + B)
    const A = 300;
    const B = 900;
    const f = (t: number) => (seen.add(t), 1 / Math.max(A / t, B / (1024 - t)));
    const best = searchLine(axis, f);
    const analytic = (1024 * A) / (A + B);
    expect([Math.floor(analytic), Math.ceil(analytic)]).toContain(best);
    expect(f(best)).toBe(Math.max(f(Math.floor(analytic)), f(Math.ceil(analytic))));
    expect(seen.size).toBeLessThan(60);
  });

  it('is undefined when there is no split to move (a trainer-only run)', () => {
    const resolved = resolveText(toySpec(4).replace(/\[inference\]\nnodes = 2/, '[inference]\nnodes = 0').replace('nodes = 4\ngpus', 'nodes = 2\ngpus').replace('[trainer]\nnodes = 2', '[trainer]\nnodes = 2'));
    expect(bestSplit(resolved)).toBeUndefined();
  });
});

describe('candidates are planned as written by plan --auto', () => {
  it('their overrides carry the origin "plan --auto"; the spec as written is left alone', () => {
    const resolved = resolveText(toySpec(12));
    const before = structuredClone(resolved.spec);
    const ev = new Evaluator(resolved, 'samples');
    const plan = ev.plan({ 'trainer.nodes': 3, 'inference.nodes': 9 });
    expect(plan.ok).toBe(true);
    expect(plan.resolved!.provenance.get('trainer.nodes')).toEqual({ source: 'auto' });
    expect(describeOrigin(plan.resolved!.provenance.get('trainer.nodes'))).toBe('plan --auto');
    expect(resolved.provenance.get('trainer.nodes')).toMatchObject({ source: 'file' });
    expect(resolved.spec).toEqual(before);
    expect(ev.plan({ 'trainer.nodes': 3, 'inference.nodes': 9 })).toBe(plan);
    expect(ev.planned).toBe(1);
  });
});

describe('searchAuto', () => {
  it('never returns a candidate that breaks a rule or does not fit on the upper bound (toy and intellect3)', () => {
    for (const resolved of [resolveText(toySpec(12)), resolvePreset('intellect3')]) {
      const result = searchAuto(resolved);
      expect(result.candidates.length).toBeGreaterThan(1);
      for (const c of result.candidates) expectPlansClean(resolved, c);
      expect(result.best).toEqual(result.candidates[0]);
      expect(result.searched.planned).toBeLessThan(result.searched.evaluated);
    }
  });

  it('beats or equals the split-only optimum and the spec as written; overrides name only changed keys', () => {
    const resolved = resolveText(toySpec(12));
    const result = searchAuto(resolved);
    const split = bestSplit(resolved)!;
    expect(result.baseline.ok).toBe(true);
    expect(result.best!.throughput.samples_per_s).toBeGreaterThanOrEqual(split.throughput.samples_per_s);
    expect(result.best!.vs_spec).toBeGreaterThanOrEqual(1);
    for (const c of result.candidates) {
      for (const [key, value] of Object.entries(c.overrides)) expect((resolved.spec as unknown as Record<string, Record<string, unknown>>)[key.split('.')[0]!]![key.split('.')[1]!], key).not.toEqual(value);
    }
    const samples = result.candidates.map((c) => c.throughput.samples_per_s);
    expect([...samples].sort((a, b) => b - a)).toEqual(samples);
  });

  it('objective tokens ranks by tokens/s and says so', () => {
    const resolved = resolveText(toySpec(12));
    const result = searchAuto(resolved, { objective: 'tokens' });
    expect(result.objective).toBe('tokens');
    const tokens = result.candidates.map((c) => c.throughput.tokens_per_s);
    expect([...tokens].sort((a, b) => b - a)).toEqual(tokens);
    expect(result.best!.reason).toMatch(/× tokens\/s$/);
    // trained tokens per sample are fixed by the batch and seq_len, which the search leaves alone: the two
    // objectives agree up to the rounding that orders near-ties
    expect(result.best!.throughput.samples_per_s).toBeCloseTo(searchAuto(resolved).best!.throughput.samples_per_s, 0);
  });

  it('a spec that does not plan as written is the baseline with its problems, and the search still finds plans', () => {
    // cp = 5 does not divide the 48 trainer GPUs (RS1201), so the spec as written does not plan
    const resolved = resolveText(toySpec(12).replace('nodes = 6\n\n[inference]', 'nodes = 6\ncp = 5\n\n[inference]'));
    const result = searchAuto(resolved);
    expect(result.baseline).toMatchObject({ ok: false, throughput: null, problems: ['RS1201'] });
    expect(result.best).not.toBeNull();
    expect(result.best!.vs_spec).toBeNull();
    expect(result.best!.reason).toBe('the spec as written does not plan; this does');
    for (const c of result.candidates) expectPlansClean(resolved, c);
  });

  it('MoE specs search inference expert parallel and trainer EP only at values the rules allow', () => {
    const resolved = resolvePreset('intellect3');
    const result = searchAuto(resolved, { top: 3 });
    expect(result.baseline.ok).toBe(true);
    expect(result.best!.throughput.samples_per_s).toBeGreaterThanOrEqual(result.baseline.throughput!.samples_per_s);
    expect(result.searched.split).toBe('trainer nodes 1-63 of 64 (as written 16)');
  });
});
