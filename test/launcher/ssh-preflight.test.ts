import { describe, expect, it } from 'vitest';
import { memoryVerdict, preflightTable, type PreflightRow } from '../../src/launcher/ssh/preflight.js';

describe('preflight: host memory', () => {
  it('fails a trainer node with less RAM than the model needs, even when the spec declared more', () => {
    const [result, detail] = memoryVerdict(23.4, 64, 'cluster', 40.5);
    expect(result).toBe('FAIL');
    expect(detail).toBe('23.4 GiB, a trainer node needs 40.5 GiB (optimizer state, offloaded activations, ranks)');
  });

  it('warns when a node has less than declared but enough for the need, and names the key to correct', () => {
    expect(memoryVerdict(23.4, 64, 'cluster', 12.1)).toEqual(['warn', '23.4 GiB, the spec says 64; enough for the estimated 12.1 GiB']);
    expect(memoryVerdict(23.4, 64, 'cluster.pools.sandbox', undefined)).toEqual(['warn', '23.4 GiB, the spec says 64: set cluster.pools.sandbox.host_memory_gib to what the nodes have']);
  });

  it('passes at the declared size (within 10 %: MemTotal excludes firmware reservations) and fails when unreadable', () => {
    expect(memoryVerdict(2015.6, 2048, 'cluster', 218.6)[0]).toBe('ok');
    expect(memoryVerdict(60, 64, 'cluster', undefined)).toEqual(['ok', '60 GiB, the spec says 64']);
    expect(memoryVerdict(Number.NaN, 64, 'cluster', undefined)).toEqual(['FAIL', 'cannot read /proc/meminfo']);
  });
});

describe('preflight table', () => {
  const row = (node: number, check: string, result: PreflightRow['result'], detail: string): PreflightRow => ({ node, host: `gpu-${node}`, check, result, detail });

  it('shows every row for a small cluster, aligned', () => {
    const lines = preflightTable([row(0, 'reachable', 'ok', 'ssh as root'), row(1, 'disk', 'FAIL', '3 GiB free')], 2);
    expect(lines).toEqual(['  node     check      result  detail', '  0 gpu-0  reachable  ok      ssh as root', '  1 gpu-1  disk       FAIL    3 GiB free']);
  });

  it('shows only failing rows and a count of clean nodes for a large cluster', () => {
    const rows = Array.from({ length: 64 }, (_, i) => row(i, 'gpus', i === 17 ? 'FAIL' : 'ok', i === 17 ? '4 GPUs, the plan needs 8 (h200)' : '8 × H200'));
    const lines = preflightTable(rows, 64);
    expect(lines).toHaveLength(3);
    expect(lines[1]).toContain('17 gpu-17');
    expect(lines[2]).toBe('  63 of 64 nodes passed every check');
  });
});
