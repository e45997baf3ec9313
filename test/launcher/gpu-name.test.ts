/** The SSH preflight's GPU type check: nvidia-smi's name against the catalogue id, word by word. */
import { describe, expect, it } from 'vitest';
import { gpuNameMatches } from '../../src/launcher/ssh/preflight.js';

describe('gpuNameMatches', () => {
  it('accepts the names nvidia-smi prints for each catalogue part', () => {
    const seen: [string, string][] = [
      ['a100-80g', 'NVIDIA A100-SXM4-80GB'],
      ['a100-80g', 'NVIDIA A100 80GB PCIe'],
      ['a100-40g', 'NVIDIA A100-SXM4-40GB'],
      ['h100', 'NVIDIA H100 80GB HBM3'],
      ['h100-nvl', 'NVIDIA H100 NVL'],
      ['h200', 'NVIDIA H200'],
      ['h20', 'NVIDIA H20'],
      ['gh200', 'NVIDIA GH200 480GB'],
      ['b200', 'NVIDIA B200'],
      ['b300', 'NVIDIA B300 SXM6 AC'],
      ['l40s', 'NVIDIA L40S'],
      ['a6000', 'NVIDIA RTX A6000'],
    ];
    for (const [id, name] of seen) expect(gpuNameMatches(id, name), `${id} on ${name}`).toBe(true);
  });

  it('refuses a part whose id is only a prefix of the name (the old check passed these)', () => {
    expect(gpuNameMatches('h20', 'NVIDIA H200')).toBe(false);
    expect(gpuNameMatches('h100-nvl', 'NVIDIA H100 80GB HBM3')).toBe(false);
    expect(gpuNameMatches('a100-80g', 'NVIDIA A100-SXM4-40GB')).toBe(false);
    expect(gpuNameMatches('h200', 'NVIDIA GH200 480GB')).toBe(false);
    expect(gpuNameMatches('l40s', 'NVIDIA L40')).toBe(false);
  });
});
