import { describe, expect, it } from 'vitest';
import { expectedDistinctExperts, expertCoverage } from '../../src/compiler/throughput/coverage.js';

describe('MoE expert coverage φ(B) = 1 − (1 − k/E)^B', () => {
  it('one token reads exactly its top-k experts', () => {
    expect(expertCoverage(1, 8, 128)).toBeCloseTo(8 / 128, 12);
    expect(expectedDistinctExperts(1, 8, 128)).toBeCloseTo(8, 10);
    expect(expectedDistinctExperts(1, 4, 8)).toBeCloseTo(4, 10);
  });

  it('many tokens read every expert', () => {
    expect(expertCoverage(1e6, 8, 128)).toBe(1);
    expect(expectedDistinctExperts(1e6, 8, 128)).toBeCloseTo(128, 10);
  });

  it('GLM-4.5-Air (k/E = 8/128): 64 % at B = 16, 98 % at B = 64 (reference §6.1)', () => {
    expect(expertCoverage(16, 8, 128)).toBeCloseTo(0.644, 3);
    expect(expertCoverage(64, 8, 128)).toBeCloseTo(0.984, 3);
  });

  it('grows monotonically and takes fractional mean batches', () => {
    let last = 0;
    for (const b of [0.5, 1, 2, 4, 8, 16, 32, 64, 128]) {
      const phi = expertCoverage(b, 8, 128);
      expect(phi).toBeGreaterThan(last);
      expect(phi).toBeLessThanOrEqual(1);
      last = phi;
    }
  });

  it('dense models and empty batches read no experts; k = E reads all', () => {
    expect(expertCoverage(16, 0, 0)).toBe(0);
    expect(expertCoverage(0, 8, 128)).toBe(0);
    expect(expertCoverage(3, 8, 8)).toBe(1);
  });
});
