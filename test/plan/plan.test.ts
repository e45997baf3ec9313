import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { listPresets, presetPath } from '../../src/compiler/load/compose.js';
import { planSpec } from '../../src/compiler/pipeline.js';
import { renderArtifacts } from '../../src/compiler/emit/artifacts.js';
import { derive } from '../../src/compiler/plan/derive.js';
import { defaultSlurmSignal } from '../../src/compiler/plan/slurm-time.js';
import { resolveSpec } from '../../src/compiler/resolve.js';
import type { LaunchPlan } from '../../src/compiler/plan/types.js';
import { nodeMap } from '../../src/cli/render-plan.js';
import { workspace } from '../helpers.js';

function derivedOf(path: string, sets: string[] = []) {
  const result = resolveSpec(path, { sets });
  if (!result.ok) throw new Error(result.diagnostics.map((d) => `${d.code} ${d.message}`).join('\n'));
  return derive(result.resolved.spec);
}

function planOf(path: string, sets: string[] = []): LaunchPlan {
  const result = planSpec(path, { sets });
  if (!result.ok) throw new Error(result.diagnostics.map((d) => `${d.code} ${d.message}`).join('\n'));
  return result.plan;
}

describe('the intellect3 preset', () => {
  const plan = planOf(presetPath('intellect3'));

  it('pins the derived figures', () => {
    expect(plan.cluster).toMatchObject({ nodes: 64, gpus_per_node: 8, gpu: { id: 'h200', memory_gib: 139.8 } });
    expect(plan.roles.inference).toMatchObject({ pool: 'default', nodes: [0, 47], gpus: 384, replicas: 48, tp: 8, engines: 48, engines_per_node: 1, world_size: 384, router_node: 0 });
    expect(plan.roles.trainer).toMatchObject({ pool: 'default', nodes: [48, 63], gpus: 128, dp_replicate: 2, dp_shard: 32, cp: 2, ep: 8, master_node: 48 });
    expect(plan.roles.orchestrator).toEqual({ node: 48, pool: 'default' });
    expect(plan.roles.sandboxes).toMatchObject({ provider: 'docker', pool: 'cpu', nodes: [0, 29] });
    // prime-rl's NCCL weight broadcast group: every inference GPU plus trainer rank 0.
    expect(plan.weights).toEqual({ broadcast: 'nccl', inference_world_size: 384 });
    expect(plan.model).toMatchObject({ arch: 'glm4_moe-106b-a12b', seq_len: 73728 });
  });

  it('starts components in prime-rl order with the planned ports', () => {
    const byName = new Map(plan.processes.map((p) => [p.name, p]));
    expect(byName.get('inference-0')).toMatchObject({ node: 0, gpus: [0, 1, 2, 3, 4, 5, 6, 7], ports: [8100], ready: 'http /health', order: 0 });
    expect(byName.get('router')).toMatchObject({ node: 0, ports: [8000, 29000], order: 1 });
    const orchestrator = byName.get('orchestrator')!;
    expect(orchestrator.node).toBe(48);
    expect(orchestrator.after).toContain('inference-43');
    expect(orchestrator.after).toContain('router');
    expect(orchestrator.after).toContain('env-train-swe-28');
    // prime-rl starts the trainers with the orchestrator (entrypoints/rl.py): the orchestrator binds its
    // rollout port only after trainer rank 0 joined the broadcast group, so a trainer waiting for that
    // port would deadlock. The trainers watch the orchestrator once it is ready.
    expect(byName.get('trainer-0')).toMatchObject({ node: 48, ports: [29500, 29501], after: [], watch: ['orchestrator'], order: orchestrator.order });
    for (const p of plan.processes.filter((q) => q.role === 'trainer')) expect(p.after).toEqual([]);
    expect(byName.get('trainer-15')!.command).toContain('--node-rank=15');
    expect(byName.get('trainer-15')!.command).toContain('--nnodes=16');
    expect(byName.get('env-train-math')).toMatchObject({ node: 48, ports: [5000] });
    // sandboxed environments run on fleet nodes (the CPU pool: global nodes 64-93), next to their Docker;
    // the 29 shards of swe each get a node of their own
    const fleetNodes = ['env-train-code', ...Array.from({ length: 29 }, (_, k) => `env-train-swe-${k}`)].map((n) => byName.get(n)!.node);
    for (const node of fleetNodes) expect(plan.nodes[node]!.pool).toBe('cpu');
    expect(new Set(fleetNodes).size).toBe(30);
  });

  it('never passes a secret value, and gives secrets only to the roles that are named', () => {
    const byName = new Map(plan.processes.map((p) => [p.name, p]));
    expect(byName.get('trainer-0')!.secrets).toEqual(['HF_TOKEN', 'WANDB_API_KEY']);
    expect(byName.get('orchestrator')!.secrets).toEqual(['WANDB_API_KEY']);
    expect(byName.get('inference-0')!.secrets).toEqual(['HF_TOKEN']);
    expect(byName.get('env-train-math')!.secrets).toEqual([]);
    for (const p of plan.processes) expect(Object.keys(p.env)).not.toContain('WANDB_API_KEY');
  });
});

describe('every preset', () => {
  for (const name of listPresets()) {
    it(`${name}: plans without errors, every GPU is accounted for once`, async () => {
      const result = planSpec(presetPath(name));
      expect(result.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
      expect(result.ok).toBe(true);
      if (!result.ok) return;
      assertPlanInvariants(result.plan);
      const text = nodeMap(result.plan).join('\n');
      await expect(`${text}\n`).toMatchFileSnapshot(join('..', 'golden', `node-map-${name}.txt`));
    });
  }
});

export function assertPlanInvariants(plan: LaunchPlan): void {
  const byName = new Map(plan.processes.map((p) => [p.name, p]));
  expect(byName.size).toBe(plan.processes.length);
  const claimed = new Set<string>();
  for (const p of plan.processes) {
    const node = plan.nodes[p.node]!;
    expect(node.index).toBe(p.node);
    expect(node.processes).toContain(p.name);
    for (const g of p.gpus) {
      const key = `${p.node}:${g}`;
      expect(claimed.has(key), `GPU ${key} assigned twice`).toBe(false);
      claimed.add(key);
      expect(node.gpus[g]!.process).toBe(p.name);
    }
    for (const dep of p.after) expect(byName.has(dep)).toBe(true);
    for (const dep of p.after) expect(byName.get(dep)!.order).toBeLessThan(p.order);
  }
  for (const node of plan.nodes) {
    const gpn = plan.cluster.pools.find((pool) => pool.name === node.pool)!.gpus_per_node;
    expect(node.gpus.map((g) => g.index)).toEqual(Array.from({ length: gpn }, (_, i) => i));
    for (const g of node.gpus) if (g.process) expect(claimed.has(`${node.index}:${g.index}`)).toBe(true);
    const ports = plan.processes.filter((p) => p.node === node.index).flatMap((p) => p.ports);
    expect(new Set(ports).size, `ports clash on node ${node.index}`).toBe(ports.length);
  }
}

describe('placement', () => {
  it('puts inference first, then the trainer, then the fleet; the orchestrator on the last inference node when asked', () => {
    const plan = planOf(presetPath('intellect3'), ['orchestrator.placement=inference']);
    expect(plan.roles.orchestrator.node).toBe(47);
    expect(plan.processes.find((p) => p.name === 'env-train-math')!.node).toBe(47);
    assertPlanInvariants(plan);
  });

  it('splits one node: inference takes the first GPUs, the trainer the next', () => {
    const plan = planOf(presetPath('single-node'), ['inference.gpus=6', 'trainer.gpus=2', 'inference.tp=2']);
    expect(plan.nodes[0]!.gpus.map((g) => g.role)).toEqual(['inference', 'inference', 'inference', 'inference', 'inference', 'inference', 'trainer', 'trainer']);
    expect(plan.processes.filter((p) => p.role === 'inference').map((p) => p.gpus)).toEqual([[0, 1], [2, 3], [4, 5]]);
    expect(plan.processes.find((p) => p.name === 'trainer-0')!.env['CUDA_VISIBLE_DEVICES']).toBe('6,7');
    assertPlanInvariants(plan);
  });

  it('splits a one-node pool in half when no sizes are given', () => {
    const dir = workspace({ 'spec.toml': '[[environments]]\nname = "m"\ntaskset = "t"\n' });
    const plan = planOf(join(dir, 'spec.toml'));
    expect(plan.roles.inference!.gpus).toBe(4);
    expect(plan.roles.trainer.gpus).toBe(4);
  });

  it('gives inference the nodes the trainer leaves, and places pools after the default pool', () => {
    const dir = workspace({
      'spec.toml': `
[cluster]
nodes = 6
backend = "slurm"
[cluster.pools.cpu]
nodes = 2
gpus_per_node = 0
cpus_per_node = 128
[model]
name = "Qwen/Qwen3-4B"
[trainer]
nodes = 2
[inference]
tp = 2
[orchestrator]
max_inflight = 64
[[environments]]
name = "code"
taskset = "i3_code"
runtime = "sandbox"
[sandboxes]
provider = "docker"
pool = "cpu"
nodes = 2
`,
    });
    const plan = planOf(join(dir, 'spec.toml'));
    expect(plan.roles.inference).toMatchObject({ nodes: [0, 3], gpus: 32, engines: 16, engines_per_node: 4 });
    expect(plan.roles.trainer.nodes).toEqual([4, 5]);
    expect(plan.nodes).toHaveLength(8);
    expect(plan.nodes[6]).toMatchObject({ pool: 'cpu', pool_index: 0, gpus: [], roles: ['env_server', 'sandboxes'] });
    expect(plan.processes.find((p) => p.name === 'inference-5')).toMatchObject({ node: 1, gpus: [2, 3], ports: [8101] });
    assertPlanInvariants(plan);
  });

  it('shifts every port by ports.base', () => {
    const a = planOf(presetPath('tiny'));
    const b = planOf(presetPath('tiny'), ['ports.base=1000']);
    expect(b.processes.map((p) => p.ports)).toEqual(a.processes.map((p) => p.ports.map((port) => port + 1000)));
  });

  it('uses the ssh inventory for host names', () => {
    const plan = planOf(presetPath('i3-mini'), ['cluster.backend=ssh', 'cluster.ssh.hosts="gpu-[07-08]"']);
    expect(plan.nodes.map((n) => n.host)).toEqual(['gpu-07', 'gpu-08']);
  });

  it('resolves ep = "auto" as prime-rl does: min(world / dp_replicate, 8)', () => {
    expect(derivedOf(presetPath('intellect3'), ['trainer.ep="auto"']).trainerParallelism.ep).toBe(8);
    const replicated = derivedOf(presetPath('i3-mini'), ['trainer.ep="auto"', 'trainer.cp=1', 'trainer.dp_replicate=4']);
    expect(replicated.trainerParallelism.ep).toBe(2);
    expect(derivedOf(presetPath('single-node')).trainerParallelism.ep).toBe(1); // dense model
  });
});

describe('scale', () => {
  for (const nodes of [64, 1024]) {
    it(`draws the node map of ${nodes} nodes in at most 40 lines`, () => {
      const trainer = nodes / 4;
      const plan = planOf(presetPath('intellect3'), [`cluster.nodes=${nodes}`, `trainer.nodes=${trainer}`, `inference.nodes=${nodes - trainer}`]);
      const lines = nodeMap(plan);
      expect(lines.length).toBeLessThanOrEqual(40);
      expect(plan.nodes).toHaveLength(nodes + 30);
      // every node appears in exactly one line: single indices count 1, ranges say how many they hold
      const covered = lines.reduce((sum, line) => sum + Number(/^(?:cpu )?\S+ \((\d+)\)/.exec(line)?.[1] ?? 1), 0);
      expect(covered).toBe(nodes + 30);
    });
  }
});

describe('hosted sandboxes', () => {
  it('need the Prime API key delivered to the env servers', () => {
    const r = planSpec(presetPath('i3-mini'), { sets: ['secrets={ HF_TOKEN = ["trainer", "inference"] }'] });
    const d = r.diagnostics.find((x) => x.code === 'RS1704');
    expect(d?.severity).toBe('error');
    expect(d?.hint).toContain('PRIME_API_KEY = ["env_servers"]');
    expect(planSpec(presetPath('i3-mini')).diagnostics.map((x) => x.code)).not.toContain('RS1704');
  });
});

describe('the Slurm time-limit warning', () => {
  it('parses every Slurm time format', async () => {
    const { slurmTimeSeconds } = await import('../../src/compiler/plan/slurm-time.js');
    expect(slurmTimeSeconds('90')).toBe(5400);
    expect(slurmTimeSeconds('10:30')).toBe(630);
    expect(slurmTimeSeconds('72:00:00')).toBe(259200);
    expect(slurmTimeSeconds('1-12')).toBe(129600);
    expect(slurmTimeSeconds('2-00:30')).toBe(174600);
    expect(slurmTimeSeconds('1-00:00:10')).toBe(86410);
    expect(slurmTimeSeconds('soon')).toBeUndefined();
  });

  it('a written signal must come well before the limit, or the run stops as soon as it starts', () => {
    const r = planSpec(presetPath('i3-mini'), { sets: ['cluster.slurm.time="00:10:00"', 'cluster.slurm.signal="USR1@900"'] });
    const d = r.diagnostics.find((x) => x.code === 'RS1012');
    expect(d?.message).toContain('as soon as it starts');
    expect(d?.hint).toContain('"USR1@60" (what rlstack uses when cluster.slurm.signal is not set)');
    expect(planSpec(presetPath('i3-mini')).diagnostics.map((x) => x.code)).not.toContain('RS1012');
  });

  it('an unset signal is derived from the limit: a tenth of it ahead, at most 900 s — a 10-minute job plans with no error', () => {
    expect(defaultSlurmSignal('00:10:00')).toBe('USR1@60');
    expect(defaultSlurmSignal('72:00:00')).toBe('USR1@900');
    expect(defaultSlurmSignal('2')).toBe('USR1@12');
    expect(defaultSlurmSignal('not a time')).toBe('USR1@900');
    const r = planSpec(presetPath('i3-mini'), { sets: ['cluster.slurm.time="00:10:00"'] });
    expect(r.diagnostics.filter((x) => x.severity === 'error')).toEqual([]);
    expect(r.ok && r.plan.cluster.settings.find((s) => s.key === 'cluster.slurm.signal')).toEqual({ key: 'cluster.slurm.signal', value: 'USR1@60', origin: 'derived' });
    if (!r.ok) return;
    const { artifacts } = renderArtifacts(r.resolved, r.derived, r.plan);
    expect(artifacts.find((a) => a.path === 'slurm/job.sbatch')!.content).toContain('#SBATCH --signal=B:USR1@60\n');
  });
});
