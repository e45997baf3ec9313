/** `rlstack gpus` and `rlstack models`: the catalogues, human and JSON (one envelope). */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { GPUS } from '../../src/compiler/catalog/gpus.js';
import { MODELS } from '../../src/compiler/catalog/models.js';

const ROOT = new URL('../..', import.meta.url).pathname;
const rlstack = (args: string[]) => spawnSync(process.execPath, [join(ROOT, 'bin', 'rlstack.js'), ...args], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });

describe('rlstack gpus / models', () => {
  it('gpus: a row per entry with its figures, and the way to describe another', () => {
    const r = rlstack(['gpus']);
    expect(r.status).toBe(0);
    for (const g of GPUS) expect(r.stdout).toMatch(new RegExp(`^${g.id}\\s+${g.memoryGib}\\s+${g.bf16Tflops}\\s`, 'm'));
    expect(r.stdout).toContain('[cluster.gpu_spec]');
    const raw = rlstack(['gpus', '--json']);
    expect(raw.status).toBe(0);
    expect(raw.stderr).toBe('');
    // one envelope and nothing else on stdout
    const json = JSON.parse(raw.stdout) as { ok: boolean; diagnostics: unknown[]; gpus: { id: string; memory_gib: number; bf16_tflops: number; bandwidth_tbs: number; fp8: boolean; source: string }[] };
    expect(Object.keys(json)).toEqual(['ok', 'diagnostics', 'gpus']);
    expect(json.ok).toBe(true);
    for (const g of json.gpus) expect(g.memory_gib > 0 && g.bf16_tflops > 0 && g.bandwidth_tbs > 0 && g.source.length > 0, g.id).toBe(true);
    expect(json.diagnostics).toEqual([]);
    expect(json.gpus.map((g) => g.id)).toEqual(GPUS.map((g) => g.id));
    expect(json.gpus.find((g) => g.id === 'l40s')).toMatchObject({ fp8: true, source: expect.stringContaining('L40S') });
  });

  it('models: a row per entry with parameters and Hugging Face ids, and the way to describe another', () => {
    const r = rlstack(['models']);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^glm4_moe-106b-a12b\s+106\.9B\s+13\.4B\s+128 \(top 8\)\s+PrimeIntellect\/INTELLECT-3/m);
    expect(r.stdout).toContain('[model.architecture]');
    const raw = rlstack(['models', '--json']);
    expect(raw.status).toBe(0);
    expect(raw.stderr).toBe('');
    const json = JSON.parse(raw.stdout) as { ok: boolean; diagnostics: unknown[]; models: { id: string; hf_ids: string[]; parameters: number }[] };
    expect(Object.keys(json)).toEqual(['ok', 'diagnostics', 'models']);
    expect(json.ok).toBe(true);
    expect(json.diagnostics).toEqual([]);
    expect(json.models.map((m) => m.id)).toEqual(MODELS.map((m) => m.id));
    expect(json.models[0]!.parameters).toBeGreaterThan(1e11);
  });
});
