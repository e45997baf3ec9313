/**
 * Throughput advice on a plan (issue 14 part 2): a side idle most of a step, or a weight transfer that
 * dominates it, is a warning whose hint is computed — and the computed fix must hold when planned.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { planWithAdvice, throughputAdvice } from '../../src/compiler/advise.js';
import type { Diagnostic } from '../../src/compiler/diagnostics/diagnostic.js';
import { presetPath } from '../../src/compiler/load/compose.js';
import { planSpec } from '../../src/compiler/pipeline.js';
import { rlstack, tempDirs } from '../helpers.js';

const tempDir = tempDirs('rlstack-advise-');

function planned(path: string, sets: string[] = []) {
  const r = planWithAdvice(path, { sets });
  if (!r.ok) throw new Error(r.diagnostics.map((d) => `${d.code} ${d.message}`).join('\n'));
  return r;
}

const only = (list: readonly Diagnostic[], code: string) => list.filter((d) => d.code === code);

/** `trainer.gpus = 3, inference.gpus = 5: …` → the --set arguments it names. */
function setsOf(hint: string): string[] {
  const moves = hint.slice(0, hint.indexOf(':'));
  return moves.split(', ').map((m) => m.replace(' = ', '='));
}

const TRANSFER_BOUND = `[run]
name = "transfer"
output_dir = "runs"
prime_rl_dir = "prime-rl"

[cluster]
nodes = 16
gpus_per_node = 8
gpu = "h200"
backend = "slurm"

[model]
name = "PrimeIntellect/INTELLECT-3"
seq_len = 4096

[trainer]
nodes = 8
ep = 8

[inference]
nodes = 8
tp = 8

[orchestrator]
batch_size = 64
group_size = 16
max_inflight = 64
max_tokens = 256

[[environments]]
name = "math"
taskset = "i3_math"
`;

describe('throughput advice', () => {
  it('a balanced run (intellect3 as recorded) gets none', () => {
    const r = planned(presetPath('intellect3'));
    expect(r.diagnostics.filter((d) => d.code.startsWith('RS21'))).toEqual([]);
  });

  it('an idle trainer: the hint names a split that plans clean and buys what it says', () => {
    // single-node with 6 trainer GPUs for 2 engines: the trainer waits for generation most of the step
    const r = planned(presetPath('single-node'), ['trainer.gpus=6', 'inference.gpus=2']);
    const [warning] = only(r.diagnostics, 'RS2101');
    expect(warning?.severity).toBe('warning');
    expect(warning?.message).toMatch(/^trainer busy \d+ % of each step: it waits \d+ s a step for the inference/);
    expect(warning?.line).toBeGreaterThan(0);
    const hint = warning!.hint!;
    const sets = setsOf(hint);
    expect(sets).toContain('trainer.gpus=3');
    const claimed = Number(/(\d+\.\d+)× samples\/s/.exec(hint)?.[1]);
    expect(claimed).toBeGreaterThanOrEqual(1.1);
    // planned with the hint's values on top: clean, and the gain the hint claims (to its two decimals)
    const fixed = planned(presetPath('single-node'), ['trainer.gpus=6', 'inference.gpus=2', ...sets]);
    const ratio = fixed.plan.throughput!.samples_per_s / r.plan.throughput!.samples_per_s;
    expect(Math.abs(ratio - claimed)).toBeLessThan(0.02);
    expect(fixed.plan.throughput!.trainer_busy).toBeGreaterThan(r.plan.throughput!.trainer_busy);
  });

  it('an idle inference pool (trainer-bound) is named the other way round', () => {
    const r = planned(presetPath('single-node'), ['trainer.gpus=1', 'inference.gpus=7', 'trainer.activation_checkpointing=full']);
    const t = r.plan.throughput!;
    expect(t.bottleneck).toBe('trainer');
    const [warning] = only(r.diagnostics, 'RS2101');
    expect(warning?.message).toMatch(/^inference busy \d+ %.*for the trainer/);
    expect(warning?.path).toBe('inference');
  });

  it('when no split helps, the hint says so instead of inventing one', () => {
    const plan = planned(presetPath('single-node'), ['trainer.gpus=6', 'inference.gpus=2']);
    const advice = throughputAdvice(plan.resolved, plan.plan, () => undefined);
    expect(advice.map((d) => d.code)).toEqual(['RS2101']);
    expect(advice[0]!.hint).toMatch(/^no trainer\/inference split does better by 10 % or more/);
  });

  it('a transfer-bound step: RS2102 with the transfer share and where it goes; no split advice on top', () => {
    const dir = tempDir();
    const spec = join(dir, 'transfer.toml');
    writeFileSync(spec, TRANSFER_BOUND);
    const r = planned(spec);
    const t = r.plan.throughput!;
    expect(t.bottleneck).toBe('weight_transfer');
    const [warning] = only(r.diagnostics, 'RS2102');
    const share = Math.round((t.weight_transfer_s / t.step_time_s) * 100);
    expect(warning?.message).toContain(`takes ${share} % of each step`);
    expect(warning?.message).toContain('broadcasts to 64 inference GPUs');
    expect(warning?.file).toBe(spec);
    expect(only(r.diagnostics, 'RS2101')).toEqual([]);
  });

  it('the pipeline alone gives no advice (compile and launch do not search); plan --json carries it', () => {
    const sets = ['trainer.gpus=6', 'inference.gpus=2'];
    const bare = planSpec(presetPath('single-node'), { sets });
    expect(bare.ok && only(bare.diagnostics, 'RS2101')).toEqual([]);
    const cli = rlstack(['plan', 'single-node', '--json', ...sets.flatMap((s) => ['--set', s])]);
    expect(cli.code).toBe(0);
    const json = JSON.parse(cli.stdout) as { ok: boolean; diagnostics: Diagnostic[] };
    expect(json.ok).toBe(true);
    expect(only(json.diagnostics, 'RS2101')[0]?.hint).toMatch(/^trainer\.gpus = \d+, inference\.gpus = \d+: /);
  });
});
