import { describe, expect, it } from 'vitest';
import { kvCheck } from '../../src/compiler/memory/vllm-kv.js';
import { activationPeak, kvTokens, nonTorchGib, parseVllmVersion, samplerBeta } from '../../src/compiler/memory/inference.js';
import { readFileSync } from 'node:fs';

const rows = kvCheck();

describe('vLLM KV accounting against the public measurements (reference/vllm-kv-measurements.json)', () => {
  it('the copy in src/ agrees with the reference file', () => {
    const ref = JSON.parse(readFileSync('../shared/reference/vllm-kv-measurements.json', 'utf8').toString());
    const copy = JSON.parse(readFileSync('src/compiler/memory/vllm-kv-measurements.json', 'utf8'));
    expect(copy).toEqual(ref);
  });

  it('KV tokens within 2 % on every row but the multimodal one', () => {
    if (process.env.RLSTACK_PRINT) for (const r of rows) console.log(r.label.padEnd(64), r.activationGib.toFixed(2), r.m.activation_peak_gib ?? r.m.activation_plus_non_torch_gib, r.tokens, r.m.kv_tokens, `${(r.error * 100).toFixed(2)} %`, r.multimodal ? 'multimodal' : '');
    const text = rows.filter((r) => !r.multimodal);
    expect(text.length).toBe(24);
    expect(rows.filter((r) => r.multimodal).map((r) => r.m.id)).toEqual([23]);
    for (const r of text) expect(Math.abs(r.error), r.label).toBeLessThanOrEqual(0.02);
  });

  it('fp8 KV doubles the tokens of the same pool; tokens come in whole blocks', () => {
    expect(kvTokens(10 * 2 ** 30, 28672 / 2).tokens).toBeGreaterThan(kvTokens(10 * 2 ** 30, 28672).tokens * 2 - 32);
    expect(kvTokens(10 * 2 ** 30, 131072).tokens % 16).toBe(0);
    expect(kvTokens(10 * 2 ** 30, 131072, 128).tokens % 128).toBe(0);
  });

  it('the sampler coefficient steps at vLLM 0.11 and 0.17; non-torch memory follows TP and version', () => {
    expect([samplerBeta('0.10.1'), samplerBeta('0.11.0'), samplerBeta('0.16.2'), samplerBeta('0.17.0'), samplerBeta('0.26.0')]).toEqual([14, 37, 37, 14, 14]);
    expect(nonTorchGib('0.26.0', 1)).toBe(0.25);
    expect(nonTorchGib('0.26.0', 8)).toBe(2.1);
    expect(nonTorchGib('0.11.0', 2)).toBe(0.55);
    expect(parseVllmVersion('v0.10.1.1')).toEqual([0, 10, 1]);
    expect(parseVllmVersion('latest')).toBeUndefined();
  });

  it('a large max_num_batched_tokens makes the forward pass the activation peak', () => {
    const base = { vocab: 151936, hidden: 4096, mlpWidth: 12288, tp: 1, moe: false, maxNumSeqs: 1024, version: '0.26.0' };
    const small = activationPeak({ ...base, maxNumBatchedTokens: 8192 });
    const large = activationPeak({ ...base, maxNumBatchedTokens: 65536 });
    expect(small.peak).toBe(small.sampler);
    expect(large.peak).toBe(large.forward);
    expect(large.peak).toBeGreaterThan(small.peak * 2.5);
  });
});
