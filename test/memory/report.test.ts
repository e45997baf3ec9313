import { describe, expect, it } from 'vitest';
import { presetPath } from '../../src/compiler/load/compose.js';
import { planSpec } from '../../src/compiler/pipeline.js';

const plan = (preset: string, sets: string[] = []) => planSpec(presetPath(preset), { sets });

describe('will it fit?', () => {
  it('the intellect3 preset fits and reports trainer peak, host RAM and KV capacity', () => {
    const r = plan('intellect3');
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    const m = r.plan.memory!;
    expect(m.trainer.fit_gib).toBeLessThan(m.trainer.capacity_gib);
    expect(m.trainer.host_gib).toBeLessThan(m.trainer.host_capacity_gib!);
    expect(m.inference!.inflight_tokens_per_replica).toBeLessThan(m.inference!.kv_tokens_per_replica);
    expect(m.trainer.extrapolated).toEqual(expect.arrayContaining(['EP 8', 'CP 2', 'Muon']));
    expect(r.diagnostics.map((d) => d.code)).toContain('RS2007');
    for (const node of m.sandboxes) expect(node.demand).toBeLessThanOrEqual(node.slots);
  });

  it('a trainer that does not fit is an error saying by how much and what would fit, computed in the model', () => {
    const r = plan('tiny', ['model.seq_len=40960', 'inference.max_model_len=40960', 'trainer.lm_head_chunk=0']);
    expect(r.ok).toBe(false);
    const d = r.diagnostics.find((x) => x.code === 'RS2001')!;
    expect(d.severity).toBe('error');
    expect(d.message).toMatch(/needs \d+\.\d GiB per GPU, \d+\.\d GiB more than the 47\.4 GiB/);
    expect(d.hint).toMatch(/^fits with trainer\.lm_head_chunk = 1024 \(\d+\.\d GiB \/ 47\.4 GiB\)/);
    expect(r.plan?.memory).toBeDefined(); // the report still comes with the error
  });

  it('suggests only changes that pass the parallelism rules', () => {
    const r = plan('i3-mini', ['trainer.optimizer_offload=false', 'trainer.activation_offload=false', 'trainer.activation_checkpointing="none"']);
    const d = r.diagnostics.find((x) => x.code === 'RS2001')!;
    expect(d.hint).toContain('trainer.activation_checkpointing = "full"');
    // cp = 16 would not divide the 8 trainer GPUs: never suggested
    expect(d.hint).not.toContain('trainer.cp = 16');
  });

  it('inference weights that do not fit are an error with a larger TP or fp8 as the fix', () => {
    const r = plan('intellect3', ['inference.tp=1']);
    const d = r.diagnostics.find((x) => x.code === 'RS2004')!;
    expect(d.severity).toBe('error');
    expect(d.hint).toContain('inference.tp = 2');
  });

  it('warns when the KV cache cannot hold the rollouts in flight', () => {
    const r = plan('i3-mini', ['orchestrator.max_inflight=1024']);
    const d = r.diagnostics.find((x) => x.code === 'RS2005')!;
    expect(d.severity).toBe('warning');
    expect(d.hint).toMatch(/max_inflight ≤ \d+/);
  });

  it('a sandbox fleet node over capacity is an error with the max_inflight that fits', () => {
    const r = plan('intellect3', ['environments[5].shards=10']);
    const d = r.diagnostics.find((x) => x.code === 'RS2008')!;
    expect(d.message).toMatch(/swe-\d+: ~\d+ live boxes at max_inflight = 4096, but it has 91 slots/);
    expect(d.hint).toMatch(/orchestrator\.max_inflight ≤ \d+/);
  });

  it('a fleet node with room for no box at all names the resource to raise, not a max_inflight of 0', () => {
    const r = plan('intellect3', ['cluster.pools.cpu.disk_gib=40']);
    const d = r.diagnostics.find((x) => x.code === 'RS2008')!;
    expect(d.message).toMatch(/but it has 0 slots \(CPU \d+, memory \d+, disk 0/);
    expect(d.hint).toBe('not one box fits: raise cluster.pools.cpu.disk_gib or lower sandboxes.disk_gib, or provider = "prime"');
  });

  it('host RAM and disk shortfalls are errors', () => {
    const host = plan('intellect3', ['cluster.host_memory_gib=128']);
    expect(host.diagnostics.find((x) => x.code === 'RS2002')?.hint).toMatch(/fits with|raise/);
    const disk = plan('intellect3', ['cluster.disk_gib=2000']);
    expect(disk.diagnostics.find((x) => x.code === 'RS2003')?.message).toMatch(/5 checkpoints × 796\.1 GiB/);
  });
});

describe('fits judged on the upper bound', () => {
  it('between estimate and bound: a warning naming the margin and the cheapest knob that buys it; beyond the estimate: an error', () => {
    // grow seq_len on the tiny preset with unchunked logits until the trainer no longer fits on its bound
    let warned: ReturnType<typeof plan> | undefined;
    for (let seq = 4096; seq <= 40960 && !warned; seq += 512) {
      const r = plan('tiny', [`model.seq_len=${seq}`, `inference.max_model_len=${seq}`, 'trainer.lm_head_chunk=0']);
      if (r.diagnostics.some((d) => d.code === 'RS2010')) warned = r;
    }
    expect(warned).toBeDefined();
    const t = warned!.plan!.memory!.trainer;
    expect(t.fit_gib).toBeLessThanOrEqual(t.capacity_gib);
    expect(t.fit_upper_gib).toBeGreaterThan(t.capacity_gib);
    expect(t.peak_upper_gib).toBeCloseTo(t.peak_gib * (1 + t.upper_margin), 1);
    const d = warned!.diagnostics.find((x) => x.code === 'RS2010')!;
    expect(d.severity).toBe('warning');
    expect(d.message).toMatch(/fits on the estimate \(\d+\.\d GiB per GPU\) but not on its upper bound \(\d+\.\d GiB, \+20 %/);
    expect(d.message).toMatch(/needs \d+\.\d GiB of margin/);
    expect(d.hint).toMatch(/^the cheapest knob that buys it: trainer\.\S+ = \S+ \(\d+\.\d GiB on the bound \/ 47\.4 GiB\)/);
    expect(warned!.diagnostics.some((x) => x.code === 'RS2001')).toBe(false);
  });
});
