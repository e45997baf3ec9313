/**
 * Issue 12, part 3: no error about a value nobody wrote. Capacities the spec does not declare are unknown
 * (the plan shows the need; each node checks it at start), derived defaults follow what the user set, and a
 * problem with an inherited or default value points at the user's file too.
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { renderPlan } from '../../src/cli/render-plan.js';
import { plainStyle, renderDiagnostic } from '../../src/compiler/diagnostics/render.js';
import { relateToUserFile } from '../../src/compiler/diagnostics/origins.js';
import { renderArtifacts } from '../../src/compiler/emit/artifacts.js';
import { planSpec } from '../../src/compiler/pipeline.js';
import { diskVerdict, memoryVerdict } from '../../src/launcher/ssh/preflight.js';
import { HOST_CAPACITY_FUNCTIONS } from '../../src/runtime/host-capacity.js';
import { workspace } from '../helpers.js';

const BARE = `[run]
name = "bare"
[cluster]
nodes = 1
gpus_per_node = 2
gpu = "a6000"
backend = "slurm"
[model]
name = "Qwen/Qwen3-0.6B"
seq_len = 2048
[trainer]
gpus = 1
[inference]
gpus = 1
[[environments]]
name = "reverse-text"
taskset = "reverse-text"
`;

describe('capacities nobody declared', () => {
  it('plan with no error; the report has the need and a null capacity; the text says who checks it', () => {
    const dir = workspace({ 'bare.toml': BARE });
    const r = planSpec(join(dir, 'bare.toml'));
    expect(r.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    if (!r.ok) return;
    const m = r.plan.memory!;
    expect(m.trainer.host_capacity_gib).toBeNull();
    expect(m.disk.capacity_gib).toBeNull();
    expect(m.trainer.host_gib).toBeGreaterThan(0);
    expect(r.plan.cluster.settings.filter((s) => s.origin === 'unknown').map((s) => s.key)).toEqual(['cluster.host_memory_gib', 'cluster.disk_gib']);
    const text = renderPlan(r.plan, 'bare.toml', plainStyle);
    expect(text).toContain('capacity  host RAM unknown (checked on each node at start), run dir disk unknown (checked on each node at start)');
    expect(text).toMatch(/trainer host\s+[\d.]+ \/ \? GiB\s+capacity not in the spec: checked at start/);
    expect(text).toContain('slurm     partition the cluster default (default), time limit 24:00:00 (default), warning USR1@900 (derived');
  });

  it('a shortfall against a declared capacity is still an error (RS2002, RS2003)', () => {
    const dir = workspace({ 'small.toml': `${BARE}\n`.replace('backend = "slurm"', 'backend = "slurm"\nhost_memory_gib = 4\ndisk_gib = 2') });
    const codes = planSpec(join(dir, 'small.toml')).diagnostics.map((d) => d.code);
    expect(codes).toEqual(expect.arrayContaining(['RS2002', 'RS2003']));
  });

  it('each node plan carries what the node check holds the node to: the trainer host need and the run dir need', () => {
    const dir = workspace({ 'bare.toml': BARE });
    const r = planSpec(join(dir, 'bare.toml'));
    if (!r.ok) throw new Error('plan failed');
    const { artifacts } = renderArtifacts(r.resolved, r.derived, r.plan);
    const node = artifacts.find((a) => a.path === 'nodes/node-000.sh')!.content;
    expect(node).toContain(`RLS_NODE_NEEDS_MEMORY_GIB=${Math.ceil(r.plan.memory!.trainer.host_gib)}\n`);
    expect(node).toContain(`RLS_NODE_NEEDS_DISK_GIB=${Math.ceil(r.plan.memory!.disk.run_dir_gib)}\n`);
  });
});

describe('the node check at start compares the need with what the node has', () => {
  const dir = workspace({ 'bare.toml': BARE });
  const r = planSpec(join(dir, 'bare.toml'));
  if (!r.ok) throw new Error('plan failed');
  const nodeSh = renderArtifacts(r.resolved, r.derived, r.plan).artifacts.find((a) => a.path === 'node.sh')!.content;
  const checkNode = nodeSh.slice(nodeSh.indexOf('\nusable_memory_kib() {') + 1, nodeSh.indexOf('\n}\n', nodeSh.indexOf('\ncheck_node() {')) + 3);
  const run = (needs: { memory: number; disk: number }, skip = '') => {
    const work = workspace({ 'prime-rl/.venv/bin/uv': '' });
    const script = `set -uo pipefail
${checkNode}
write_atomic() { printf '%s\\n' "$2" > "$1"; }
tcp_open() { return 1; }
SKIP_CHECKS=(${skip}); RLS_NODE_GPUS=0; RLS_NODE_PORTS=(); RLS_PROCS=(); PRIME_RL_DIR=${work}/prime-rl; PRIME_RL_REVISION=x
RLSTACK_RUN_DIR=${work}/run; STATE_DIR=${work}; NODE_ID=000; mkdir -p ${work}/nodes
RLS_NODE_NEEDS_MEMORY_GIB=${needs.memory}; RLS_NODE_NEEDS_DISK_GIB=${needs.disk}
check_node; cat ${work}/nodes/node-000`;
    return execFileSync('bash', ['-c', script], { encoding: 'utf8' });
  };

  it('fails a node with less RAM (cgroup limit included) or free run-dir space than the plan needs, naming both figures', () => {
    const out = run({ memory: 100_000, disk: 100_000 });
    expect(out).toMatch(/has [\d.]+ GiB of RAM \(its cgroup's limit included\), the plan estimates a trainer node needs 100000 GiB/);
    expect(out).toMatch(/[\d.]+ GiB free under \S+\/run, the run needs 100000 GiB there \(checkpoints kept, broadcasts, model cache\)/);
  });

  it('passes a node with enough, and cluster.skip_checks waives the memory and disk comparisons', () => {
    const enough = run({ memory: 1, disk: 1 });
    expect(enough).not.toMatch(/RAM|free under/);
    expect(run({ memory: 100_000, disk: 100_000 }, 'disk memory')).not.toMatch(/RAM|the run needs/);
  });

  it('measures memory and disk in KiB from /proc/meminfo, the cgroup and df', () => {
    const out = execFileSync('bash', ['-c', `${HOST_CAPACITY_FUNCTIONS}\nusable_memory_kib; free_disk_kib /nonexistent/deeper/path`], { encoding: 'utf8' }).trim().split('\n');
    const memTotal = Number(/MemTotal:\s+(\d+)/.exec(execFileSync('cat', ['/proc/meminfo'], { encoding: 'utf8' }))![1]);
    expect(Number(out[0])).toBeGreaterThan(0);
    expect(Number(out[0])).toBeLessThanOrEqual(memTotal);
    expect(Number(out[1])).toBeGreaterThan(0); // the nearest existing ancestor: /
  });
});

describe('preflight (SSH) against the need, the declared size only a hint', () => {
  it('disk: fails below the need, warns below a declared size that is wrong, reports plainly when nothing was declared', () => {
    expect(diskVerdict(40, undefined, 'cluster', 120.3)).toEqual(['FAIL', '40 GiB free under the run dir, the run needs 120.3 GiB (checkpoints kept, broadcasts, model cache)']);
    expect(diskVerdict(400, 1000, 'cluster', 120.3)).toEqual(['warn', '400 GiB free under the run dir, the spec says 1000; enough for the estimated 120.3 GiB']);
    expect(diskVerdict(400, undefined, 'cluster', 120.3)).toEqual(['ok', '400 GiB free under the run dir (the run needs 120.3)']);
    expect(diskVerdict(Number.NaN, undefined, 'cluster', 1)).toEqual(['FAIL', 'df failed under the run dir']);
  });

  it('memory: no declared size is no warning', () => {
    expect(memoryVerdict(23.4, undefined, 'cluster', 12)).toEqual(['ok', '23.4 GiB (the run needs 12)']);
    expect(memoryVerdict(23.4, undefined, 'cluster', 40)[0]).toBe('FAIL');
  });
});

describe('a problem with a value the user did not write points at their file', () => {
  it('an inherited preset value: the diagnostic stays at the preset line and notes where to override it', () => {
    const dir = workspace({ 'mine.toml': 'extends = "i3-mini"\n[model]\nname = "Qwen/Qwen3-4B"\n' });
    const file = join(dir, 'mine.toml');
    const r = planSpec(file);
    const ep = r.diagnostics.find((d) => d.code === 'RS1207')!;
    expect(ep.file).toMatch(/presets\/i3-mini\.toml$/);
    expect(ep.related).toEqual([{ message: expect.stringMatching(new RegExp(`^trainer\\.ep is set by preset i3-mini \\(.*i3-mini\\.toml\\):\\d+:\\d+, not by ${file.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: override it in `)), file }]);
    expect(renderDiagnostic(ep, r.sources)).toContain(`  note: ${file}: trainer.ep is set by preset i3-mini`);
  });

  it('a default: says it is rlstack\'s default and where to set it; values the user wrote get no note', () => {
    const provenance = new Map([
      ['a.b', { source: 'default' as const }],
      ['c.d', { source: 'file' as const, file: 'mine.toml', key: { file: 'mine.toml', line: 1, column: 1 }, value: { file: 'mine.toml', line: 1, column: 5 } }],
    ]);
    const [fromDefault, own, info] = relateToUserFile(
      [
        { code: 'RS1012', severity: 'error', message: 'x', path: 'a.b' },
        { code: 'RS1012', severity: 'error', message: 'y', path: 'c.d' },
        { code: 'RS1012', severity: 'info', message: 'z', path: 'a.b' },
      ],
      provenance,
      'mine.toml',
    );
    expect(fromDefault!.related).toEqual([{ message: "a.b is rlstack's default, written nowhere: set it in mine.toml", file: 'mine.toml' }]);
    expect(own!.related).toBeUndefined();
    expect(info!.related).toBeUndefined();
  });
});
