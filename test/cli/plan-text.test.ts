/** Issue 13, smaller items: what the text plan says, and one diagnostic per mistake. */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { renderPlan } from '../../src/cli/render-plan.js';
import { plainStyle } from '../../src/compiler/diagnostics/render.js';
import { presetPath } from '../../src/compiler/load/compose.js';
import { planSpec } from '../../src/compiler/pipeline.js';
import { workspace } from '../helpers.js';

describe('the text plan', () => {
  it('names the secrets and the roles that get them, and the Slurm partition, time limit and warning', () => {
    const r = planSpec(presetPath('i3-mini'));
    if (!r.ok) throw new Error('i3-mini does not plan');
    const text = renderPlan(r.plan, 'presets/i3-mini.toml', plainStyle);
    const secretLine = text.split('\n').find((l) => l.startsWith('  secrets'))!;
    for (const p of r.plan.processes) for (const name of p.secrets) expect(secretLine).toMatch(new RegExp(`${name} \\([^)]*${p.role}`));
    expect(text).toMatch(/\n {2}slurm {5}partition the cluster default \(default\), time limit 12:00:00, warning USR1@900 \(derived/);
  });
});

describe('one mistake, one diagnostic', () => {
  it('ep = 12 on intellect3 breaks two divisibility rules: one error naming both, one hint meeting both', () => {
    const dir = workspace({ 'bad.toml': 'extends = "intellect3"\n\n[trainer]\nep = 12\n' });
    const errors = planSpec(join(dir, 'bad.toml')).diagnostics.filter((d) => d.severity === 'error');
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ code: 'RS1203', path: 'trainer.ep', hint: 'valid values: 1, 2, 4, 8, 16, 32, 64' });
    expect(errors[0]!.message).toContain('does not divide the 128 experts of glm4_moe-106b-a12b, and does not divide dp_shard × cp = 32 × 2 = 64');
  });
});

describe('hints name values the cluster can take', () => {
  it('more inference nodes than the cluster has comes with the cluster size it takes (RS2005)', () => {
    const r = planSpec(presetPath('i3-mini'), { sets: ['orchestrator.max_inflight=4096'] });
    const d = r.diagnostics.find((x) => x.code === 'RS2005')!;
    const m = /inference\.nodes = (\d+) with cluster\.nodes = (\d+) \(it has 2\)/.exec(d.hint ?? '');
    expect(m, d.hint).not.toBeNull();
    expect(Number(m![2])).toBe(Number(m![1]) + 1); // the trainer node stays
  });
});
