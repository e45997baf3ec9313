import { describe, it, expect } from 'vitest';
import {
  MODELS,
  countParameters,
  findModelById,
  findModelByName,
  isMoe,
  kvBytesPerToken,
  maxPositionsFor,
  type ModelArchitecture,
  type ParameterCounts,
} from '../../src/compiler/catalog/models.js';

/**
 * Reference figures: /work/shared/reference/run-and-models.md §2 (published totals, derived
 * breakdown). Parameter counts are compared with a relative tolerance of 0.5 %; the reference
 * rounds to 2–5 significant figures, and every figure is matched well inside that.
 */
const REL_TOL = 0.005;
const B = 1e9;

function expectClose(actual: number, expected: number, what: string): void {
  const rel = Math.abs(actual - expected) / expected;
  expect(rel, `${what}: computed ${actual}, reference ${expected} (rel. err ${rel})`).toBeLessThanOrEqual(REL_TOL);
}

function arch(id: string): ModelArchitecture {
  const a = findModelById(id);
  if (!a) throw new Error(`catalogue has no model '${id}'`);
  return a;
}

type Ref = Partial<Record<keyof ParameterCounts, number>> & { kvKiB: number };

const REFERENCE: Record<string, Ref> = {
  'glm4_moe-106b-a12b': {
    total: 106.85 * B,
    active: 13.42 * B,
    activeExcludingEmbedding: 12.8 * B,
    routedExpert: 99.66 * B,
    nonExpert: 7.2 * B,
    perMoeLayer: 2.34 * B,
    kvKiB: 184,
  },
  'qwen3-0.6b': {
    total: 0.596 * B,
    active: 0.596 * B,
    activeExcludingEmbedding: 0.44 * B,
    nonExpert: 0.596 * B,
    kvKiB: 112,
  },
  'qwen3-4b': {
    total: 4.02 * B,
    active: 4.02 * B,
    activeExcludingEmbedding: 3.63 * B,
    nonExpert: 4.02 * B,
    kvKiB: 144,
  },
  'qwen3_moe-30b-a3b': {
    total: 30.53 * B,
    active: 3.35 * B,
    activeExcludingEmbedding: 3.04 * B,
    routedExpert: 28.99 * B,
    nonExpert: 1.54 * B,
    perMoeLayer: 0.623 * B,
    kvKiB: 96,
  },
  'qwen3_moe-235b-a22b': {
    total: 235.09 * B,
    active: 22.19 * B,
    activeExcludingEmbedding: 21.57 * B,
    routedExpert: 227.1 * B,
    nonExpert: 8.0 * B,
    perMoeLayer: 2.49 * B,
    kvKiB: 188,
  },
  'glm4_moe-tiny': {
    total: 0.543 * B,
    active: 0.47 * B,
    activeExcludingEmbedding: 0.315 * B,
    routedExpert: 0.145 * B,
    nonExpert: 0.398 * B,
    perMoeLayer: 0.0097 * B,
    kvKiB: 24,
  },
};

describe('model catalogue: parameter counts (within 0.5 % of the reference)', () => {
  it('has a reference row for every catalogue entry and vice versa', () => {
    expect(MODELS.map((m) => m.id).sort()).toEqual(Object.keys(REFERENCE).sort());
  });

  for (const [id, ref] of Object.entries(REFERENCE)) {
    describe(id, () => {
      const counts = countParameters(arch(id));

      it('total and active parameters', () => {
        expectClose(counts.total, ref.total!, 'total');
        expectClose(counts.active, ref.active!, 'active');
      });

      it('breakdown (active excl. embedding, routed experts, non-expert, one MoE layer)', () => {
        for (const key of ['activeExcludingEmbedding', 'routedExpert', 'nonExpert', 'perMoeLayer'] as const) {
          const expected = ref[key];
          if (expected === undefined) {
            if (key === 'routedExpert' || key === 'perMoeLayer') expect(counts[key], key).toBe(0);
            continue;
          }
          expectClose(counts[key], expected, key);
        }
      });

      it('KV cache bytes per token (bf16, all layers)', () => {
        expect(kvBytesPerToken(arch(id))).toBe(ref.kvKiB * 1024);
      });
    });
  }
});

describe('model catalogue: exact cross-checks', () => {
  it('Qwen3-0.6B total = 596,049,920 and matches prime-rl test_perf active_mm 595,984,384 (total − norms)', () => {
    const a = arch('qwen3-0.6b');
    const c = countParameters(a);
    expect(c.total).toBe(596_049_920);
    const norms = a.layers * (2 * a.hidden + 2 * a.headDim) + a.hidden;
    expect(c.total - norms).toBe(595_984_384);
  });

  it('GLM-4.5-Air bf16 weights ≈ 199 GiB (reference §0)', () => {
    const gib = (countParameters(arch('glm4_moe-106b-a12b')).total * 2) / 2 ** 30;
    expect(gib).toBeCloseTo(199, 0);
  });

  it('fp8 KV cache halves the bytes per token', () => {
    const a = arch('glm4_moe-106b-a12b');
    expect(kvBytesPerToken(a, 1)).toBe(kvBytesPerToken(a) / 2);
  });

  it('internal identities hold for every model', () => {
    for (const m of MODELS) {
      const c = countParameters(m);
      expect(c.nonExpert + c.routedExpert, m.id).toBe(c.total);
      expect(c.activeExcludingEmbedding, m.id).toBe(c.active - c.embedding);
      expect(c.embedding, m.id).toBe(m.vocab * m.hidden);
      expect(c.lmHead, m.id).toBe(m.tiedEmbeddings ? 0 : m.vocab * m.hidden);
      expect(c.active, m.id).toBeLessThanOrEqual(c.total);
      for (const v of Object.values(c)) expect(Number.isSafeInteger(v), m.id).toBe(true);
      if (!isMoe(m)) {
        expect(c.active, m.id).toBe(c.total);
        expect(c.routedExpert, m.id).toBe(0);
      }
    }
  });
});

describe('model catalogue: lookups', () => {
  it('ids are unique', () => {
    const ids = MODELS.map((m) => m.id);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('HF ids are unique across entries (case-insensitive)', () => {
    const names = MODELS.flatMap((m) => m.hfIds.map((h) => h.toLowerCase()));
    expect(new Set(names).size).toBe(names.length);
  });

  it('finds by catalogue id', () => {
    for (const m of MODELS) expect(findModelById(m.id)).toBe(m);
    expect(findModelById('nope')).toBeUndefined();
  });

  const byName: Array<[string, string]> = [
    ['PrimeIntellect/INTELLECT-3', 'glm4_moe-106b-a12b'],
    ['PrimeIntellect/INTELLECT-3-Base', 'glm4_moe-106b-a12b'],
    ['zai-org/GLM-4.5-Air', 'glm4_moe-106b-a12b'],
    ['zai-org/GLM-4.5-Air-Base', 'glm4_moe-106b-a12b'],
    ['Qwen/Qwen3-0.6B', 'qwen3-0.6b'],
    ['Qwen/Qwen3-4B', 'qwen3-4b'],
    ['Qwen/Qwen3-4B-Instruct-2507', 'qwen3-4b'],
    ['Qwen/Qwen3-4B-Thinking-2507', 'qwen3-4b'],
    ['Qwen/Qwen3-30B-A3B', 'qwen3_moe-30b-a3b'],
    ['Qwen/Qwen3-30B-A3B-Instruct-2507', 'qwen3_moe-30b-a3b'],
    ['Qwen/Qwen3-30B-A3B-Thinking-2507', 'qwen3_moe-30b-a3b'],
    ['Qwen/Qwen3-235B-A22B', 'qwen3_moe-235b-a22b'],
    ['Qwen/Qwen3-235B-A22B-Instruct-2507', 'qwen3_moe-235b-a22b'],
    ['Qwen/Qwen3-235B-A22B-Thinking-2507', 'qwen3_moe-235b-a22b'],
    ['PrimeIntellect/glm4-moe-tiny', 'glm4_moe-tiny'],
  ];
  it.each(byName)('finds %s by HF id → %s', (name, id) => {
    expect(findModelByName(name)?.id).toBe(id);
  });

  it('HF id lookup is case-insensitive', () => {
    expect(findModelByName('primeintellect/intellect-3')?.id).toBe('glm4_moe-106b-a12b');
    expect(findModelByName('QWEN/QWEN3-30B-A3B-INSTRUCT-2507')?.id).toBe('qwen3_moe-30b-a3b');
    expect(findModelByName('qwen/qwen3-0.6b')?.id).toBe('qwen3-0.6b');
  });

  it('unknown names are not found', () => {
    expect(findModelByName('Qwen/Qwen3-8B')).toBeUndefined();
    expect(findModelByName('qwen3-0.6b')).toBeUndefined(); // a catalogue id is not an HF id
    expect(findModelByName('')).toBeUndefined();
  });

  it('max positions are variant-aware (2507 releases: 262144)', () => {
    expect(maxPositionsFor('Qwen/Qwen3-4B')).toBe(40960);
    expect(maxPositionsFor('Qwen/Qwen3-4B-Instruct-2507')).toBe(262144);
    expect(maxPositionsFor('qwen/qwen3-30b-a3b-thinking-2507')).toBe(262144);
    expect(maxPositionsFor('Qwen/Qwen3-235B-A22B')).toBe(40960);
    expect(maxPositionsFor('Qwen/Qwen3-235B-A22B-Instruct-2507')).toBe(262144);
    expect(maxPositionsFor('PrimeIntellect/INTELLECT-3')).toBe(131072);
    expect(maxPositionsFor('Qwen/Qwen3-0.6B')).toBe(40960);
    expect(maxPositionsFor('unknown/model')).toBeUndefined();
  });

  it('every override key is one of the entry\'s HF ids', () => {
    for (const m of MODELS) {
      for (const k of Object.keys(m.maxPositionsByHfId ?? {})) expect(m.hfIds, m.id).toContain(k);
    }
  });

  it('every entry is complete and consistent', () => {
    for (const m of MODELS) {
      expect(m.source.length, m.id).toBeGreaterThan(10);
      expect(m.hfIds.length, m.id).toBeGreaterThan(0);
      expect(['glm4_moe', 'qwen3', 'qwen3_moe'], m.id).toContain(m.modelType);
      for (const n of [m.layers, m.hidden, m.heads, m.kvHeads, m.headDim, m.vocab, m.maxPositions]) {
        expect(Number.isInteger(n) && n > 0, m.id).toBe(true);
      }
      expect(m.heads % m.kvHeads, m.id).toBe(0);
      expect(isMoe(m), m.id).toBe(m.modelType !== 'qwen3');
      if (isMoe(m)) {
        expect(m.moeIntermediate, m.id).toBeGreaterThan(0);
        expect(m.expertsPerToken, m.id).toBeGreaterThan(0);
        expect(m.expertsPerToken, m.id).toBeLessThanOrEqual(m.experts);
        expect(m.firstKDense, m.id).toBeLessThan(m.layers);
      } else {
        expect([m.moeIntermediate, m.experts, m.expertsPerToken, m.sharedExperts, m.firstKDense], m.id).toEqual([0, 0, 0, 0, 0]);
        expect(m.intermediate, m.id).toBeGreaterThan(0);
      }
    }
  });
});
