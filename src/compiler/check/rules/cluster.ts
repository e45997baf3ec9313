/** Pools, backends and role sizes: does every role have a place, and can the back end reach it? */
import { GPUS } from '../../catalog/gpus.js';
import type { Diagnostic } from '../../diagnostics/diagnostic.js';
import { didYouMean } from '../../diagnostics/did-you-mean.js';
import { DEFAULT_POOL } from '../../plan/derive.js';
import { expandHostlist } from '../../plan/hostlist.js';
import { defaultSlurmSignal, slurmTimeSeconds } from '../../plan/slurm-time.js';
import { derivePorts } from '../../plan/ports.js';
import { joinPath } from '../../spec/key-path.js';
import { plural, report, type Rule, type RuleContext } from '../context.js';

export const poolsExist: Rule = (ctx) => {
  const out: Diagnostic[] = [];
  const names = [...ctx.derived.pools.keys()].filter((n) => n !== DEFAULT_POOL);
  const check = (path: string, name: string) => {
    if (name === '' || ctx.derived.pools.has(name)) return;
    const guess = didYouMean(name, names);
    out.push(
      report(ctx, 'RS1001', path, {
        message: `${path} = "${name}" names no pool`,
        hint: guess ? `did you mean "${guess}"?` : names.length ? `pools: ${names.join(', ')}; "" is the default pool` : 'define it under [cluster.pools.<name>], or leave it empty for the default pool',
      }),
    );
  };
  check('trainer.pool', ctx.spec.trainer.pool);
  check('inference.pool', ctx.spec.inference.pool);
  if (ctx.spec.sandboxes.provider === 'docker') check('sandboxes.pool', ctx.spec.sandboxes.pool);
  return out;
};

export const gpuTypesKnown: Rule = (ctx) => {
  const out: Diagnostic[] = [];
  for (const pool of ctx.derived.pools.values()) {
    if (pool.gpusPerNode === 0 || pool.gpu) continue;
    const path = pool.name === DEFAULT_POOL || ctx.spec.cluster.pools[pool.name]?.gpu === undefined ? 'cluster.gpu' : `${pool.path}.gpu`;
    const ids = GPUS.map((g) => g.id);
    const guess = didYouMean(pool.gpuId, ids);
    const inline = `${path === 'cluster.gpu' ? 'cluster' : pool.path}.gpu_spec`;
    out.push(
      report(ctx, 'RS1007', path, {
        message: `unknown GPU type "${pool.gpuId}"`,
        hint: `${guess ? `did you mean "${guess}"? ` : ''}known GPUs: ${ids.join(', ')}; or describe it: [${inline}] memory_gib, bf16_tflops, bandwidth_tbs (docs/catalogues.md)`,
      }),
    );
  }
  return out;
};

export const roleSizesGiven: Rule = (ctx) => {
  const out: Diagnostic[] = [];
  for (const role of ['trainer', 'inference'] as const) {
    const r = ctx.spec[role];
    if (r.nodes !== undefined && r.gpus !== undefined) {
      out.push(report(ctx, 'RS1003', `${role}.gpus`, { message: `${role} sets both nodes and gpus`, hint: 'use nodes for whole nodes, gpus to share one node with the other role' }));
    }
  }
  const trainer = ctx.derived.trainer;
  if (trainer.gpus === 0 && ctx.spec.trainer.nodes === undefined && ctx.spec.trainer.gpus === undefined) {
    const pool = ctx.derived.pools.get(trainer.pool);
    out.push(
      report(ctx, 'RS1003', 'trainer', {
        message: `the trainer has no size: ${pool ? `the ${trainer.pool} pool has ${plural(pool.nodes, 'node')}` : 'its pool is unknown'}`,
        hint: 'set trainer.nodes (whole nodes) or trainer.gpus (on a node shared with inference)',
      }),
    );
  }
  return out;
};

export const rolesFitTheirPools: Rule = (ctx) => {
  const out: Diagnostic[] = [];
  for (const role of [ctx.derived.trainer, ctx.derived.inference]) {
    const pool = ctx.derived.pools.get(role.pool);
    if (!pool) continue;
    const name = role === ctx.derived.trainer ? 'trainer' : 'inference';
    if ((role.gpus > 0 || role.nodes > 0) && pool.gpusPerNode === 0) {
      out.push(report(ctx, 'RS1009', `${name}.pool`, { message: `the ${name} needs GPUs but pool ${pool.name} has none`, hint: 'put GPU roles on a pool with gpus_per_node > 0' }));
      continue;
    }
    if (role.mode === 'gpus' && role.gpus > pool.gpusPerNode) {
      out.push(
        report(ctx, 'RS1002', role.path, {
          message: `${name} wants ${plural(role.gpus, 'GPU')} on one node, but nodes of pool ${pool.name} have ${pool.gpusPerNode}`,
          hint: `use ${name}.nodes for more than one node`,
        }),
      );
    }
    if (role.mode === 'nodes' && role.nodes > pool.nodes) {
      out.push(
        report(ctx, 'RS1002', role.path, {
          message: `${name} wants ${plural(role.nodes, 'node')}, but pool ${pool.name} has ${pool.nodes}`,
          hint: `at most ${pool.nodes}; or add nodes to ${pool.path}.nodes`,
        }),
      );
    }
  }
  const fleet = ctx.spec.sandboxes;
  if (fleet.provider === 'docker') {
    const pool = ctx.derived.pools.get(fleet.pool === '' ? DEFAULT_POOL : fleet.pool);
    if (pool && fleet.nodes > pool.nodes) {
      out.push(report(ctx, 'RS1002', 'sandboxes.nodes', { message: `the sandbox fleet wants ${plural(fleet.nodes, 'node')}, but pool ${pool.name} has ${pool.nodes}`, hint: `at most ${pool.nodes}` }));
    }
  }
  return out;
};

export const localBackendIsOneNode: Rule = (ctx) => {
  if (ctx.spec.cluster.backend !== 'local') return [];
  const total = [...ctx.derived.pools.values()].reduce((n, p) => n + p.nodes, 0);
  if (total <= 1) return [];
  return [
    report(ctx, 'RS1004', 'cluster.backend', {
      message: `backend "local" runs on this machine, but the spec has ${total} nodes`,
      hint: 'use backend = "slurm" or "ssh" for several nodes, or cluster.nodes = 1',
    }),
  ];
};

export const sshHostsMatchNodes: Rule = (ctx) => {
  if (ctx.spec.cluster.backend !== 'ssh') return [];
  const out: Diagnostic[] = [];
  const check = (path: string, value: string | string[] | undefined, nodes: number, poolLabel: string) => {
    if (value === undefined || value === '' || (Array.isArray(value) && value.length === 0)) {
      out.push(report(ctx, 'RS1005', path, { message: `the ssh backend needs the hosts of ${poolLabel}`, hint: `set ${path} = "gpu-[001-${String(nodes).padStart(3, '0')}]" or a list of host names` }));
      return;
    }
    const hosts = Array.isArray(value) ? value : expandHostlist(value);
    if (!Array.isArray(hosts)) {
      out.push(report(ctx, 'RS1006', path, { message: `${path}: ${hosts.error} (at column ${hosts.column} of the expression)`, hint: 'hostlist syntax: gpu-[001-064], a[1-3],b7' }));
      return;
    }
    // A host becomes a line of the hosts file and an ssh destination: "a\nb" would be two nodes, "-oX" an option.
    const bad = hosts.map((h, i) => ({ h, i })).filter(({ h }) => !SSH_HOST.test(h));
    for (const { h, i } of bad.slice(0, 3)) {
      const at = Array.isArray(value) ? `${path}[${i}]` : path;
      out.push(report(ctx, 'RS1013', at, { message: `${at}${Array.isArray(value) ? '' : ` (host ${i + 1})`} = ${JSON.stringify(h)} is not a host name${h === '' ? ' (it is empty)' : /^-/.test(h) ? ' (it starts with "-", which ssh would take as an option)' : /\s/.test(h) ? ' (it contains white space)' : ''}`, hint: SSH_HOST_HINT }));
    }
    if (bad.length) return;
    const duplicates = hosts.filter((h, i) => hosts.indexOf(h) !== i);
    if (duplicates.length) out.push(report(ctx, 'RS1005', path, { message: `${path} names ${duplicates[0]} twice`, hint: 'each node is one host' }));
    if (hosts.length !== nodes) {
      out.push(report(ctx, 'RS1005', path, { message: `${path} has ${plural(hosts.length, 'host')} but ${poolLabel} has ${plural(nodes, 'node')}`, hint: 'one host per node, in node-index order' }));
    }
  };
  check('cluster.ssh.hosts', ctx.spec.cluster.ssh.hosts, ctx.spec.cluster.nodes, 'the default pool');
  for (const [name, pool] of Object.entries(ctx.spec.cluster.pools)) check(joinPath(['cluster', 'pools', name, 'ssh', 'hosts']), pool.ssh?.hosts, pool.nodes, `pool ${name}`);
  return out;
};

/** An inventory entry: a host name, a ~/.ssh/config alias or an IP address ([…] for IPv6), optionally user@ and :port. */
const SSH_HOST = /^(?:[A-Za-z0-9_][A-Za-z0-9._-]*@)?(?:[A-Za-z0-9_][A-Za-z0-9._-]*|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$/;
const SSH_HOST_HINT = 'a host name, an alias of the ssh config or an IP address ([fe80::1] for IPv6), optionally user@ and :port; no white space, control characters or quotes, not empty, not starting with "-"';

/**
 * run.prime_rl_dir on the ssh back end: a relative path has no one meaning there (preflight, run by ssh in
 * the login directory, looked in ~/<dir>; node.sh, started in /, in /<dir>), so it must be absolute. A "~"
 * is never expanded (the path is quoted) on any back end.
 */
export const primeRlDirUsable: Rule = (ctx) => {
  const dir = ctx.spec.run.prime_rl_dir;
  if (dir.startsWith('~')) {
    return [report(ctx, 'RS1014', 'run.prime_rl_dir', { message: `run.prime_rl_dir = ${JSON.stringify(dir)}: "~" is not expanded, the path would be taken literally`, hint: `write the absolute path, e.g. "/home/<user>${dir.slice(1).replace(/^[^/]*/, '')}"` })];
  }
  if (ctx.spec.cluster.backend === 'ssh' && !dir.startsWith('/')) {
    return [
      report(ctx, 'RS1014', 'run.prime_rl_dir', {
        message: `run.prime_rl_dir = ${JSON.stringify(dir)} is relative, which on the ssh back end means no one place (the preflight would look in the login directory of each node, node.sh in /)`,
        hint: `give the absolute path of the checkout on the nodes, e.g. run.prime_rl_dir = "/home/<user>/${dir.replace(/^\.\//, '') || 'prime-rl'}"`,
      }),
    ];
  }
  return [];
};

/** #SBATCH lines are read by sbatch, not a shell: such values are checked against strict patterns instead of quoted. */
const SLURM_PATTERNS: Record<string, { pattern: RegExp; example: string }> = {
  partition: { pattern: /^[A-Za-z0-9_.,-]*$/, example: 'gpu' },
  account: { pattern: /^[A-Za-z0-9_.-]*$/, example: 'ml-team' },
  qos: { pattern: /^[A-Za-z0-9_.-]*$/, example: 'high' },
  constraint: { pattern: /^[A-Za-z0-9_.&|!,()[\]*:-]*$/, example: 'h200&ib' },
  exclude: { pattern: /^[A-Za-z0-9_.,[\]-]*$/, example: 'gpu-[007,012]' },
  time: { pattern: /^(\d+-)?\d+(:\d{1,2}){0,2}$|^$/, example: '72:00:00 or 3-00:00:00' },
};

export const slurmValuesSafe: Rule = (ctx) => {
  const out: Diagnostic[] = [];
  const check = (prefix: string, table: Record<string, unknown> | undefined) => {
    if (!table) return;
    for (const [key, { pattern, example }] of Object.entries(SLURM_PATTERNS)) {
      const value = table[key];
      if (typeof value === 'string' && !pattern.test(value)) {
        out.push(report(ctx, 'RS1010', `${prefix}.${key}`, { message: `${prefix}.${key} = ${JSON.stringify(value)} is not a valid Slurm ${key}`, hint: `e.g. ${example}` }));
      }
    }
    const extra = table['extra_sbatch'];
    if (Array.isArray(extra)) {
      extra.forEach((option, i) => {
        if (typeof option === 'string' && !/^--?[A-Za-z][A-Za-z0-9-]*(=[^\n\r]*)?$/.test(option)) {
          out.push(report(ctx, 'RS1010', `${prefix}.extra_sbatch[${i}]`, { message: `extra_sbatch entry ${JSON.stringify(option)} is not an sbatch option`, hint: 'write options as "--name=value", one per entry, without "#SBATCH"' }));
        }
      });
    }
  };
  if (ctx.spec.cluster.backend === 'slurm') {
    check('cluster.slurm', ctx.spec.cluster.slurm as unknown as Record<string, unknown>);
    for (const [name, pool] of Object.entries(ctx.spec.cluster.pools)) check(joinPath(['cluster', 'pools', name, 'slurm']), pool.slurm as Record<string, unknown> | undefined);
  }
  return out;
};

/** The highest port of each kind rlstack derives, with the key that moves it. */
function portCeilings(ctx: RuleContext): { port: number; key: string }[] {
  const ports = derivePorts(ctx.spec);
  const engines = Math.max(ctx.derived.inferenceLayout.enginesPerNode, 1);
  return [
    { port: ports.routerMetrics, key: 'inference.port' },
    { port: ports.backend + engines - 1, key: 'inference.port' },
    { port: ports.weightBroadcast, key: 'weights.port' },
    { port: ports.rendezvous, key: 'ports.base' },
    { port: ports.envServerBase + ctx.spec.environments.length, key: 'ports.base' },
  ];
}

export const portsInRange: Rule = (ctx) => {
  const over = portCeilings(ctx).filter((c) => c.port > 65535);
  if (over.length === 0) return [];
  const worst = over.reduce((a, b) => (b.port > a.port ? b : a));
  const base = ctx.spec.ports.base;
  // Blame ports.base only when the port would fit without it.
  const key = base > 0 && worst.port - base <= 65535 ? 'ports.base' : worst.key;
  const room = 65535 - (worst.port - (key === 'ports.base' ? base : 0));
  const hint =
    key === 'ports.base'
      ? `ports.base ≤ ${room}`
      : key === 'inference.port'
        ? `the router's metrics port is inference.port + 21000: inference.port ≤ ${65535 - 21000 - base}`
        : `${key} ≤ ${65535 - base}`;
  return [report(ctx, 'RS1011', key, { message: `${key} = ${valueOf(ctx, key)} puts a derived port at ${worst.port}, beyond 65535`, hint })];
};

function valueOf(ctx: RuleContext, key: string): number {
  return key === 'ports.base' ? ctx.spec.ports.base : key === 'inference.port' ? ctx.spec.inference.port : ctx.spec.weights.port;
}

export const unusedNodes: Rule = (ctx) => {
  const out: Diagnostic[] = [];
  for (const pool of ctx.derived.pools.values()) {
    let used = 0;
    for (const role of [ctx.derived.trainer, ctx.derived.inference]) if (role.pool === pool.name) used += role.mode === 'nodes' ? role.nodes : 0;
    const splitNode = [ctx.derived.trainer, ctx.derived.inference].some((r) => r.pool === pool.name && r.mode === 'gpus');
    if (splitNode) used += 1;
    const fleetPool = ctx.spec.sandboxes.pool === '' ? DEFAULT_POOL : ctx.spec.sandboxes.pool;
    if (ctx.spec.sandboxes.provider === 'docker' && fleetPool === pool.name) used += ctx.spec.sandboxes.nodes;
    if (used > 0 && used < pool.nodes) {
      out.push(report(ctx, 'RS1008', pool.path === 'cluster' ? 'cluster.nodes' : `${pool.path}.nodes`, { message: `${plural(pool.nodes - used, 'node')} of pool ${pool.name} are not used by any role`, hint: 'give them to a role or lower the node count' }));
    }
    if (used === 0 && pool.name !== DEFAULT_POOL) {
      out.push(report(ctx, 'RS1008', `${pool.path}.nodes`, { message: `pool ${pool.name} is not used by any role`, hint: 'name it in trainer.pool, inference.pool or sandboxes.pool, or remove it' }));
    }
  }
  return out;
};

export const poolsNotOversubscribed: Rule = (ctx) => {
  const out: Diagnostic[] = [];
  const { trainer, inference } = ctx.derived;
  for (const pool of ctx.derived.pools.values()) {
    const parts: string[] = [];
    let demand = 0;
    const split = [inference, trainer].filter((r) => r.pool === pool.name && r.mode === 'gpus');
    if (split.length) {
      demand += 1;
      parts.push('1 shared node');
      const gpus = split.reduce((n, r) => n + r.gpus, 0);
      if (gpus > pool.gpusPerNode) {
        out.push(
          report(ctx, 'RS1902', split[split.length - 1]!.path, {
            message: `the shared node needs ${gpus} GPUs (${split.map((r) => `${r === trainer ? 'trainer' : 'inference'} ${r.gpus}`).join(' + ')}) but has ${pool.gpusPerNode}`,
            hint: `inference.gpus + trainer.gpus ≤ ${pool.gpusPerNode}`,
          }),
        );
      }
    }
    for (const [name, role] of [['inference', inference], ['trainer', trainer]] as const) {
      if (role.pool === pool.name && role.mode === 'nodes' && role.nodes > 0) {
        demand += role.nodes;
        parts.push(`${name} ${role.nodes}`);
      }
    }
    const fleetPool = ctx.spec.sandboxes.pool === '' ? DEFAULT_POOL : ctx.spec.sandboxes.pool;
    if (ctx.spec.sandboxes.provider === 'docker' && fleetPool === pool.name && ctx.spec.sandboxes.nodes > 0) {
      demand += ctx.spec.sandboxes.nodes;
      parts.push(`sandboxes ${ctx.spec.sandboxes.nodes}`);
    }
    if (demand > pool.nodes && parts.length > 1) {
      out.push(
        report(ctx, 'RS1901', pool.path === 'cluster' ? 'cluster.nodes' : `${pool.path}.nodes`, {
          message: `pool ${pool.name} has ${plural(pool.nodes, 'node')} but its roles need ${demand} (${parts.join(' + ')})`,
          hint: `raise the pool to ${demand} nodes or shrink a role`,
        }),
      );
    }
  }
  return out;
};

/** The warning signal must come well before the limit; otherwise it stops the run at once. */
export const signalBeforeTimeLimit: Rule = (ctx) => {
  const slurm = ctx.spec.cluster.slurm;
  // An unset signal is derived from the limit (plan/slurm-time.ts): only a written one can be wrong.
  if (ctx.spec.cluster.backend !== 'slurm' || slurm.time === '' || slurm.signal === '') return [];
  const limit = slurmTimeSeconds(slurm.time);
  const lead = Number(/@(\d+)$/.exec(slurm.signal)?.[1]);
  if (limit === undefined || !Number.isFinite(lead) || lead < limit / 2) return [];
  return [
    report(ctx, 'RS1012', 'cluster.slurm.signal', {
      message: `cluster.slurm.signal = "${slurm.signal}" warns ${lead} s before a time limit of ${slurm.time} (${limit} s): the run would checkpoint and stop ${lead >= limit ? 'as soon as it starts' : 'before half of its time'}`,
      hint: `a lead time well below the limit, e.g. "${defaultSlurmSignal(slurm.time)}" (what rlstack uses when cluster.slurm.signal is not set)`,
    }),
  ];
};
