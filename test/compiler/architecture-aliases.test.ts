/** [model.architecture] takes config.json as it is: each family's name for the expert count and width. */
import { describe, expect, it } from 'vitest';
import { architectureFromSpec, expertCountOf, expertWidthOf } from '../../src/compiler/plan/derive.js';
import type { Spec } from '../../src/compiler/spec/schema.js';

type Architecture = NonNullable<Spec['model']['architecture']>;
const base: Architecture = { num_hidden_layers: 62, hidden_size: 3072, intermediate_size: 1536, num_attention_heads: 48, vocab_size: 200064, num_experts_per_tok: 8 };

describe('expert count and width under config.json names', () => {
  it("Mixtral/MiniMax naming (num_local_experts, intermediate_size = the expert width) is Qwen's num_experts + moe_intermediate_size", () => {
    const minimax = architectureFromSpec({ ...base, num_local_experts: 256 }, 'm');
    const qwenStyle = architectureFromSpec({ ...base, intermediate_size: 9999, num_experts: 256, moe_intermediate_size: 1536 }, 'm');
    expect(minimax.experts).toBe(256);
    expect(minimax.moeIntermediate).toBe(1536);
    expect(minimax.modelType).toBe('moe');
    expect({ ...minimax, intermediate: 0 }).toEqual({ ...qwenStyle, intermediate: 0 });
  });

  it('each name counts; moe_intermediate_size wins over intermediate_size; a dense model has no expert width', () => {
    expect(expertCountOf({ ...base, n_routed_experts: 64 })).toBe(64);
    expect(expertCountOf(base)).toBe(0);
    expect(expertWidthOf({ ...base, num_local_experts: 8, moe_intermediate_size: 512 })).toBe(512);
    expect(expertWidthOf({ ...base, num_experts: 8 })).toBeUndefined();
    expect(architectureFromSpec(base, 'd').modelType).toBe('dense');
  });
});
