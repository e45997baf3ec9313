import { describe, it, expect } from 'vitest';
import { GPUS, findGpu } from '../../src/compiler/catalog/gpus.js';

describe('GPU catalogue', () => {
  it('has exactly the documented ids, unique', () => {
    const ids = GPUS.map((g) => g.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect([...ids].sort()).toEqual(['a100-40g', 'a100-80g', 'a6000', 'b200', 'b300', 'gh200', 'h100', 'h100-nvl', 'h20', 'h200', 'l40s']);
  });

  it('every entry is complete', () => {
    for (const g of GPUS) {
      expect(g.id, g.id).toMatch(/^[a-z0-9-]+$/);
      expect(g.name.length, g.id).toBeGreaterThan(0);
      expect(g.source.length, g.id).toBeGreaterThan(10);
      for (const v of [g.memoryGib, g.bf16Tflops, g.bandwidthTBs]) {
        expect(Number.isFinite(v) && v > 0, g.id).toBe(true);
      }
    }
  });

  it.each([
    // id, torch total memory GiB (reference §3.1; A100 80GB 79.15), dense bf16 TFLOP/s, TB/s
    ['a100-80g', 79.15, 312, 2.039],
    ['h100', 79.18, 989, 3.35],
    ['h200', 139.8, 989, 4.8],
    ['b200', 178.36, 2250, 8.0],
    ['a6000', 47.4, 154.8, 0.768],
  ] as const)('%s: %s GiB, %s TFLOP/s, %s TB/s', (id, mem, tflops, bw) => {
    const g = findGpu(id);
    expect(g).toBeDefined();
    expect(g?.memoryGib).toBe(mem);
    expect(g?.bf16Tflops).toBe(tflops);
    expect(g?.bandwidthTBs).toBe(bw);
  });

  it('torch-reported memory (GiB) is a little below the nominal capacity', () => {
    // Nominal figures as marketed; torch reports slightly less. L40S: the 46,068 MiB nvidia-smi shows with ECC on;
    // B300: its 288 GB are decimal (275,040 MiB in nvidia-smi), 268.2 GiB.
    const nominal: Record<string, number> = { 'a100-80g': 80, h100: 80, h200: 141, b200: 180, a6000: 48, 'a100-40g': 40, 'h100-nvl': 94, h20: 96, gh200: 96, b300: 268.2, l40s: 45.0 };
    for (const g of GPUS) {
      const n = nominal[g.id];
      expect(n, g.id).toBeDefined();
      expect(g.memoryGib, g.id).toBeLessThan(n!);
      expect(g.memoryGib, g.id).toBeGreaterThan(0.95 * n!);
    }
  });

  it('lookup is by id, case-insensitive; unknown ids are undefined', () => {
    expect(findGpu('h200')?.name).toMatch(/H200/);
    expect(findGpu('H100')?.id).toBe('h100');
    expect(findGpu('A100-80G')?.id).toBe('a100-80g');
    expect(findGpu('v100')).toBeUndefined();
    expect(findGpu('')).toBeUndefined();
  });
});
