/**
 * plan: a checked spec → the LaunchPlan. Placement follows prime-rl: in each pool inference nodes first, then
 * trainer nodes, then the sandbox fleet; on a shared node inference takes the first GPUs and the trainer the
 * next. The orchestrator and unsandboxed env servers run on the first trainer node (or the last inference
 * node). Pure; assumes the spec passed check (no errors), and never assigns a GPU twice.
 */
import { countParameters } from '../catalog/models.js';
import type { Diagnostic } from '../diagnostics/diagnostic.js';
import type { ResolvedSpec } from '../resolve.js';
import { engineCommand, engineEnv } from '../../runtime/components/inference.js';
import { envServerCommand, envServerEnv, envServerName } from '../../runtime/components/env-server.js';
import { orchestratorCommand, orchestratorEnv } from '../../runtime/components/orchestrator.js';
import { routerCommand, routerEnv } from '../../runtime/components/router.js';
import { trainerCommand, trainerEnv } from '../../runtime/components/trainer.js';
import { secretsFor } from '../../runtime/components/common.js';
import { DEFAULT_POOL, type Derived } from './derive.js';
import { derivePorts } from './ports.js';
import { clusterSettings } from './settings.js';
import { boxDemand, slotsPerNode } from './sandbox-capacity.js';
import { environmentSources, type Source } from './sources.js';
import type { LaunchPlan, LaunchSettings, PlanNode, PlanProcess } from './types.js';
import type { Spec } from '../spec/schema.js';
import { lifecycleOf } from '../../runtime/components/lifecycle.js';
import { RLSTACK_VERSION } from '../../version.js';

interface Placement {
  node: PlanNode;
  gpus: number[];
}

export function assemblePlan(resolved: ResolvedSpec, derived: Derived, diagnostics: Diagnostic[]): LaunchPlan {
  const spec = resolved.spec;
  const ports = derivePorts(spec);

  const nodes: PlanNode[] = [];
  const firstNode = new Map<string, number>();
  for (const pool of derived.pools.values()) {
    firstNode.set(pool.name, nodes.length);
    for (let i = 0; i < pool.nodes; i++) {
      nodes.push({
        index: nodes.length,
        pool: pool.name,
        pool_index: i,
        host: pool.hosts?.[i] ?? null,
        roles: [],
        gpus: Array.from({ length: pool.gpusPerNode }, (_, g) => ({ index: g, role: null, process: null })),
        processes: [],
      });
    }
  }
  const cursors = new Map<string, { node: number; gpu: number }>();
  const cursor = (pool: string) => {
    if (!cursors.has(pool)) cursors.set(pool, { node: 0, gpu: 0 });
    return cursors.get(pool)!;
  };
  const nodeAt = (pool: string, poolIndex: number) => nodes[(firstNode.get(pool) ?? 0) + poolIndex]!;
  const takeNodes = (pool: string, count: number): PlanNode[] => {
    const c = cursor(pool);
    if (c.gpu > 0) {
      c.node++;
      c.gpu = 0;
    }
    const taken = Array.from({ length: count }, (_, i) => nodeAt(pool, c.node + i));
    c.node += count;
    return taken;
  };
  const takeGpus = (pool: string, count: number): Placement => {
    const c = cursor(pool);
    const placement = { node: nodeAt(pool, c.node), gpus: Array.from({ length: count }, (_, i) => c.gpu + i) };
    c.gpu += count;
    return placement;
  };
  const placeRole = (role: Derived['trainer']): Placement[] => {
    if (role.gpus === 0) return [];
    if (role.mode === 'gpus') return [takeGpus(role.pool, role.gpus)];
    const gpn = derived.pools.get(role.pool)!.gpusPerNode;
    return takeNodes(role.pool, role.nodes).map((node) => ({ node, gpus: Array.from({ length: gpn }, (_, g) => g) }));
  };

  const inferencePlacements = placeRole(derived.inference);
  const trainerPlacements = placeRole(derived.trainer);
  const fleetPool = spec.sandboxes.pool === '' ? DEFAULT_POOL : spec.sandboxes.pool;
  const fleetNodes = derived.sandboxNodes > 0 ? takeNodes(fleetPool, derived.sandboxNodes) : [];

  const processes: PlanProcess[] = [];
  const add = (p: Omit<PlanProcess, 'pool' | 'lifecycle'>, node: PlanNode, gpuRole: 'inference' | 'trainer' | null) => {
    const process: PlanProcess = { ...p, pool: node.pool, lifecycle: lifecycleOf(p.role, { dockerSandboxes: spec.sandboxes.provider === 'docker' }) };
    processes.push(process);
    node.processes.push(p.name);
    for (const g of p.gpus) {
      const slot = node.gpus[g]!;
      slot.role = gpuRole;
      slot.process = p.name;
    }
    return process;
  };

  // Inference engines (order 0) and the router (order 1) on the first inference node.
  const layout = derived.inferenceLayout;
  const engineNames: string[] = [];
  const engines: { node: number; port: number }[] = [];
  inferencePlacements.forEach((placement, i) => {
    for (let k = 0; k < layout.enginesPerNode; k++) {
      const gpus = placement.gpus.slice(k * layout.tp, (k + 1) * layout.tp);
      const name = `inference-${engineNames.length}`;
      engineNames.push(name);
      const slot = spec.inference.expert_parallel
        ? {
            port: ports.backend + k,
            dpGroup: {
              size: layout.nodesPerReplica * layout.enginesPerNode,
              rank: (i % layout.nodesPerReplica) * layout.enginesPerNode + k,
              rpcPort: ports.dataParallelRpc,
              headNode: inferencePlacements[i - (i % layout.nodesPerReplica)]!.node.index,
            },
          }
        : { port: ports.backend + k };
      add(
        {
          name,
          role: 'inference',
          node: placement.node.index,
          gpus,
          ports: slot.dpGroup && (i % layout.nodesPerReplica) === 0 && k === 0 ? [slot.port, ports.dataParallelRpc] : [slot.port],
          after: [],
          watch: [],
          ready: 'http /health',
          order: 0,
          command: engineCommand(slot),
          env: engineEnv(spec, gpus),
          secrets: secretsFor(spec, 'inference'),
        },
        placement.node,
        'inference',
      );
      engines.push({ node: placement.node.index, port: slot.port });
    }
  });
  const routerNode = inferencePlacements[0]?.node;
  if (routerNode) {
    add(
      {
        name: 'router',
        role: 'router',
        node: routerNode.index,
        gpus: [],
        ports: [ports.router, ports.routerMetrics],
        after: [],
        watch: [],
        ready: 'http /health',
        order: 1,
        command: routerCommand(spec, ports.router, ports.routerMetrics, engines),
        env: routerEnv(spec),
        secrets: secretsFor(spec, 'inference'),
      },
      routerNode,
      null,
    );
  }

  // Env servers (order 0): train sources first, then eval, as prime-rl numbers their ports.
  const orchestratorNode =
    spec.orchestrator.placement === 'inference' && inferencePlacements.length
      ? inferencePlacements[inferencePlacements.length - 1]!.node
      : trainerPlacements[0]?.node ?? nodes[0]!;
  const ordered = environmentSources(spec);
  const fleetAssignment = assignToFleet(ordered, fleetNodes, boxDemand(spec));
  const envServers: LaunchPlan['roles']['env_servers'] = [];
  ordered.forEach((env, i) => {
    const fleetNode = fleetAssignment.get(env.name);
    const node = fleetNode ?? orchestratorNode;
    const port = ports.envServerBase + i;
    const sandboxed = fleetNode !== undefined;
    add(
      {
        name: envServerName(env),
        role: 'env_server',
        node: node.index,
        gpus: [],
        ports: [port],
        after: [],
        watch: [],
        ready: 'tcp',
        order: 0,
        command: envServerCommand(env),
        env: envServerEnv(spec, env.environment.runtime === 'sandbox'),
        secrets: secretsFor(spec, 'env_servers'),
      },
      node,
      null,
    );
    envServers.push({ name: env.name, environment: env.environment.name, split: env.split, weight: env.weight, node: node.index, port, sandboxed });
  });

  const orchestrator = add(
    {
      name: 'orchestrator',
      role: 'orchestrator',
      node: orchestratorNode.index,
      gpus: [],
      ports: [ports.rollouts, ports.rolloutsReady],
      after: [...engineNames, ...(routerNode ? ['router'] : []), ...ordered.map(envServerName)],
      watch: [],
      // It binds the ZMQ rollout transport only once trainer rank 0 has joined the weight-broadcast group
      // through every engine (docs/prime-rl-mapping.md): so it starts together with the trainers.
      ready: 'tcp',
      order: 2,
      command: orchestratorCommand({
        ...(routerNode ? { router: { node: routerNode.index, port: ports.router } } : {}),
        engines,
        ...(derived.weightBroadcast === 'nccl' && trainerPlacements[0] ? { ncclMasterNode: trainerPlacements[0].node.index } : {}),
        remoteEnvServers: envServers.some((e) => e.node !== orchestratorNode.index),
      }),
      env: orchestratorEnv(spec),
      secrets: secretsFor(spec, 'orchestrator'),
    },
    orchestratorNode,
    null,
  );

  trainerPlacements.forEach((placement, rank) => {
    add(
      {
        name: `trainer-${rank}`,
        role: 'trainer',
        node: placement.node.index,
        gpus: placement.gpus,
        ports: rank === 0 ? [ports.rendezvous, ...(derived.weightBroadcast === 'nccl' ? [ports.weightBroadcast] : [])] : [],
        // prime-rl starts trainers with everything else; waiting for the orchestrator's port would deadlock.
        after: [],
        watch: [orchestrator.name],
        ready: 'process',
        order: 2,
        command: trainerCommand({
          nodes: trainerPlacements.length,
          gpusPerNode: placement.gpus.length,
          nodeRank: rank,
          rendezvousPort: ports.rendezvous,
          masterNode: trainerPlacements[0]!.node.index,
          orchestratorNode: orchestratorNode.index,
        }),
        env: trainerEnv(spec, placement.gpus),
        secrets: secretsFor(spec, 'trainer'),
      },
      placement.node,
      'trainer',
    );
  });

  const roleOf = new Map(processes.map((proc) => [proc.name, proc.role]));
  for (const node of nodes) {
    const roles = new Set<string>(node.processes.map((name) => roleOf.get(name)!));
    if (fleetNodes.includes(node)) roles.add('sandboxes');
    node.roles = [...roles].sort(roleOrder);
  }

  const range = (placements: { node: PlanNode }[] | PlanNode[]): [number, number] => {
    const list = placements.map((p) => ('node' in p ? p.node : p));
    return list.length ? [list[0]!.pool_index, list[list.length - 1]!.pool_index] : [0, -1];
  };
  const p = derived.trainerParallelism;
  const defaultPool = derived.pools.get(DEFAULT_POOL)!;
  const counts = derived.arch ? countParameters(derived.arch) : undefined;
  const fleetPoolInfo = derived.pools.get(fleetPool);
  const demand = [...boxDemand(spec).values()].reduce((a, b) => a + b, 0);

  return {
    rlstack_version: RLSTACK_VERSION,
    run: { name: spec.run.name, dir: joinRunDir(spec.run.output_dir, spec.run.name), max_steps: spec.run.max_steps },
    cluster: {
      nodes: defaultPool.nodes,
      gpus_per_node: defaultPool.gpusPerNode,
      gpu: defaultPool.gpu ? { id: defaultPool.gpu.id, name: defaultPool.gpu.name, memory_gib: defaultPool.gpu.memoryGib } : null,
      backend: spec.cluster.backend,
      pools: [...derived.pools.values()].map((pool) => ({
        name: pool.name,
        key: pool.path,
        nodes: pool.nodes,
        gpus_per_node: pool.gpusPerNode,
        gpu: pool.gpusPerNode > 0 ? pool.gpuId : null,
        first_node: firstNode.get(pool.name)!,
        host_memory_gib: pool.hostMemoryGib ?? null,
        disk_gib: pool.diskGib ?? null,
      })),
      settings: clusterSettings(spec, resolved.provenance),
    },
    model: {
      name: spec.model.name,
      arch: derived.arch?.id ?? null,
      seq_len: spec.model.seq_len,
      parameters: counts?.total ?? null,
      active_parameters: counts?.active ?? null,
    },
    nodes,
    processes,
    roles: {
      trainer: {
        pool: derived.trainer.pool,
        nodes: range(trainerPlacements),
        gpus: p.world,
        dp_replicate: p.dpReplicate,
        dp_shard: p.dpShard,
        ep: p.ep,
        cp: p.cp,
        micro_batches: spec.trainer.micro_batches,
        master_node: trainerPlacements[0]?.node.index ?? 0,
      },
      inference: inferencePlacements.length
        ? {
            pool: derived.inference.pool,
            nodes: range(inferencePlacements),
            gpus: derived.inference.gpus,
            replicas: layout.replicas,
            tp: layout.tp,
            engines: layout.engines,
            engines_per_node: layout.enginesPerNode,
            nodes_per_replica: layout.nodesPerReplica,
            world_size: layout.worldSize,
            router_node: routerNode!.index,
          }
        : null,
      orchestrator: { node: orchestratorNode.index, pool: orchestratorNode.pool },
      env_servers: envServers,
      sandboxes:
        spec.sandboxes.provider === 'none'
          ? null
          : {
              provider: spec.sandboxes.provider,
              pool: fleetPool,
              nodes: range(fleetNodes),
              slots: spec.sandboxes.provider === 'docker' && fleetPoolInfo ? slotsPerNode(spec, fleetPoolInfo).slots * fleetNodes.length : 0,
              demand,
            },
    },
    weights: { broadcast: derived.weightBroadcast, inference_world_size: derived.weightBroadcast === 'nccl' ? layout.worldSize : 0 },
    launch: launchSettings(spec),
    diagnostics,
  };
}

function launchSettings(spec: Spec): LaunchSettings {
  const { hosts: _hosts, skip_checks: sshSkips, ...ssh } = spec.cluster.ssh;
  const skips = [...sshSkips.map((check) => ({ check, key: 'cluster.ssh.skip_checks' })), ...spec.cluster.skip_checks.map((check) => ({ check, key: 'cluster.skip_checks' }))];
  const backend = spec.cluster.backend;
  return {
    backend,
    ready_timeout_s: spec.run.ready_timeout_s,
    resume: spec.run.resume,
    prime_rl: { dir: spec.run.prime_rl_dir, revision: spec.run.prime_rl_revision },
    secrets: Object.fromEntries(Object.entries(spec.secrets).map(([name, roles]) => [name, [...roles]])),
    skip_checks: skips.filter((s, i) => skips.findIndex((t) => t.check === s.check) === i),
    ssh: backend === 'ssh' || (backend === 'slurm' && spec.cluster.slurm.login) ? ssh : null,
    slurm: backend === 'slurm' ? { login: spec.cluster.slurm.login } : null,
  };
}

const ROLE_ORDER = ['inference', 'router', 'trainer', 'orchestrator', 'env_server', 'sandboxes'];
function roleOrder(a: string, b: string): number {
  return ROLE_ORDER.indexOf(a) - ROLE_ORDER.indexOf(b);
}

function joinRunDir(outputDir: string, name: string): string {
  return `${outputDir.replace(/\/+$/, '')}/${name}`;
}

/**
 * One sandboxed source's env server lives on one fleet node: assign the largest demand first to the node
 * with the least demand so far (shards of one environment thus spread over nodes).
 */
function assignToFleet(sources: Source[], fleet: PlanNode[], demand: Map<string, number>): Map<string, PlanNode> {
  const assignment = new Map<string, PlanNode>();
  if (fleet.length === 0) return assignment;
  const load = fleet.map(() => 0);
  const sandboxed = sources.filter((s) => s.environment.runtime === 'sandbox');
  const byDemand = [...sandboxed].sort((a, b) => (demand.get(b.name) ?? 0) - (demand.get(a.name) ?? 0));
  for (const env of byDemand) {
    let best = 0;
    for (let i = 1; i < fleet.length; i++) if (load[i]! < load[best]!) best = i;
    load[best] = load[best]! + (demand.get(env.name) ?? 0);
    assignment.set(env.name, fleet[best]!);
  }
  return assignment;
}
