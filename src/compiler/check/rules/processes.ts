/**
 * Rules on the assembled plan: what each process of a node binds and what it is started with. They need the
 * plan (which process lands on which node, with which ports, environment and command), so they run after
 * placement (check.ts: PLAN_RULES).
 */
import type { Diagnostic } from '../../diagnostics/diagnostic.js';
import { derivePorts, type Ports } from '../../plan/ports.js';
import type { LaunchPlan, PlanProcess } from '../../plan/types.js';
import { joinPath } from '../../spec/key-path.js';
import { plural, report, type RuleContext } from '../context.js';

export type PlanRule = (ctx: RuleContext, plan: LaunchPlan) => Diagnostic[];

// ---------------------------------------------------------------------------------------------- ports

interface PortUse {
  process: string;
  /** What the port is for, as a user reads it. */
  what: string;
  /** The spec key that moves it. */
  key: 'inference.port' | 'weights.port' | 'ports.base';
}

/** What port `index` of a process is, and the key that sets it (plan.ts assigns them in this order). */
function portUse(p: PlanProcess, index: number, ports: Ports): PortUse {
  const port = p.ports[index]!;
  const use = (what: string, key: PortUse['key']): PortUse => ({ process: p.name, what, key });
  switch (p.role) {
    case 'router':
      return index === 0 ? use('router port (inference.port)', 'inference.port') : use('router metrics port (inference.port + 21000)', 'inference.port');
    case 'inference':
      return index > 0 && port === ports.dataParallelRpc ? use('data-parallel RPC port (13345 + ports.base)', 'ports.base') : use(`engine port (inference.port + ${port - ports.router})`, 'inference.port');
    case 'trainer':
      return index === 0 ? use('torch rendezvous port (29500 + ports.base)', 'ports.base') : use('NCCL weight broadcast port (weights.port)', 'weights.port');
    case 'orchestrator':
      return index === 0 ? use('rollout port (5555 + ports.base)', 'ports.base') : use('rollout-ready port (5556 + ports.base)', 'ports.base');
    case 'env_server':
      return use(`env server port (5000 + ${port - ports.envServerBase} + ports.base)`, 'ports.base');
  }
}

/** Two processes of one node (or two uses within one process) on the same port: the second cannot bind it. */
export const portsDistinctPerNode: PlanRule = (ctx, plan) => {
  const ports = derivePorts(ctx.spec);
  const userSet = (key: string) => {
    const origin = ctx.provenance.get(key);
    return origin !== undefined && origin.source !== 'default';
  };
  const value = (key: PortUse['key']) => (key === 'inference.port' ? ctx.spec.inference.port : key === 'weights.port' ? ctx.spec.weights.port : ctx.spec.ports.base);
  const found = new Map<string, { a: PortUse; b: PortUse; port: number; nodes: number[]; inUse: number[] }>();
  // Per node: the ports each key moves, for the suggestion of a free value.
  const perNode: { port: number; key: PortUse['key'] }[][] = [];
  for (const node of plan.nodes) {
    perNode.push(plan.processes.filter((x) => x.node === node.index).flatMap((p) => p.ports.map((port, i) => ({ port, key: portUse(p, i, ports).key }))));
  }
  /** The nearest value above the current one at which the key's ports meet no other port on any node. */
  const freeValue = (key: PortUse['key']): number | undefined => {
    if (key === 'ports.base') return undefined; // it moves every port together
    for (let shift = 1; shift <= 1000; shift++) {
      const ok = perNode.every((uses) => {
        const fixed = new Set(uses.filter((u) => u.key !== key).map((u) => u.port));
        return uses.filter((u) => u.key === key).every((u) => u.port + shift <= 65535 && !fixed.has(u.port + shift));
      });
      if (ok) return value(key) + shift;
    }
    return undefined;
  };
  for (const node of plan.nodes) {
    const byPort = new Map<number, PortUse[]>();
    for (const p of plan.processes.filter((x) => x.node === node.index)) {
      p.ports.forEach((port, i) => byPort.set(port, [...(byPort.get(port) ?? []), portUse(p, i, ports)]));
    }
    for (const [port, uses] of byPort) {
      if (uses.length < 2) continue;
      const [a, b] = uses as [PortUse, PortUse];
      const signature = `${a.process}/${a.what}|${b.process}/${b.what}`.replace(/-\d+\//g, '/');
      const seen = found.get(signature);
      if (seen) seen.nodes.push(node.index);
      else found.set(signature, { a, b, port, nodes: [node.index], inUse: [...byPort.keys()].sort((x, y) => x - y) });
    }
  }
  const out: Diagnostic[] = [];
  for (const { a, b, port, nodes, inUse } of found.values()) {
    // Blame the key the user set (ports.base moves everything, so it comes last).
    const keys = [b.key, a.key].sort((x, y) => Number(x === 'ports.base') - Number(y === 'ports.base'));
    const key = keys.find(userSet) ?? keys[0]!;
    const where = nodes.length === 1 ? `node ${nodes[0]}` : `nodes ${nodes.join(', ')}`;
    const who = (u: PortUse) => `${u.process}'s ${u.what}`;
    const other = key === a.key ? b : a;
    out.push(
      report(ctx, 'RS1903', key, {
        message: `${who(a)} and ${a.process === b.process ? `its ${b.what}` : who(b)} are both ${port} on ${where}: the second cannot bind it (${key} = ${value(key)})`,
        hint: `${freeValue(key) !== undefined ? `e.g. ${key} = ${freeValue(key)}; ` : ''}move ${key} so that no port it sets meets the ${other.what.replace(/ \(.*\)$/, '')} (${port}); ports in use on ${nodes.length === 1 ? 'that node' : `node ${nodes[0]}`}: ${inUse.join(', ')}`,
      }),
    );
  }
  return out;
};

// ---------------------------------------------------------------------------------------------- argument limit

/** Linux: one argument or environment string ("NAME=value" with its NUL) is at most MAX_ARG_STRLEN = 32 pages. */
export const MAX_ARG_STRLEN = 128 * 1024;
/** Linux: argv + envp (strings and pointers) within ARG_MAX, a quarter of the 8 MiB default stack: 2 MiB. */
export const ARG_MAX = 2 * 1024 * 1024;
/** What node.sh, the back end and the node's own environment add to each process (PATH, SLURM_*, NCCL_*, …). */
export const RUNTIME_ENV_RESERVE = 128 * 1024;

const POINTER = 8;

/** The spec tables that feed a process's environment, last (winning) first. */
function envTablesOf(ctx: RuleContext, p: PlanProcess): { path: string; table: Record<string, unknown> }[] {
  const s = ctx.spec;
  const env = { path: 'env', table: s.env };
  switch (p.role) {
    case 'inference':
    case 'router':
      return [{ path: 'inference.env', table: s.inference.env }, env];
    case 'trainer':
      return [{ path: 'trainer.env', table: s.trainer.env }, env];
    case 'orchestrator':
      return [{ path: 'orchestrator.env', table: s.orchestrator.env }, env];
    case 'env_server':
      return [{ path: 'sandboxes.env', table: s.sandboxes.env }, { path: 'orchestrator.env', table: s.orchestrator.env }, env];
  }
}

/** The spec key a process's variable comes from (undefined for rlstack's own defaults). */
function keyOf(ctx: RuleContext, p: PlanProcess, name: string): string | undefined {
  const table = envTablesOf(ctx, p).find((t) => Object.hasOwn(t.table, name));
  return table ? joinPath([...table.path.split('.'), name]) : undefined;
}

const bytes = (text: string) => Buffer.byteLength(text, 'utf8') + 1;
const kib = (n: number) => `${Math.ceil(n / 1024)} KiB`;

/**
 * A process whose environment + command exceeds what execve takes never starts (E2BIG: node.sh sees exit
 * 126). One string over MAX_ARG_STRLEN, or the whole over ARG_MAX less what the runtime adds, is an error at
 * the spec key responsible (the largest one, for the total).
 */
export const environmentWithinArgLimit: PlanRule = (ctx, plan) => {
  const out: Diagnostic[] = [];
  const reported = new Set<string>();
  const overTotal = new Map<string, { p: PlanProcess; total: number; largest: number; fromSpec: number; others: number }>();
  for (const p of plan.processes) {
    const vars = Object.entries(p.env).map(([name, value]) => ({ name, size: bytes(`${name}=${value}`), key: keyOf(ctx, p, name) }));
    for (const v of vars) {
      if (v.size <= MAX_ARG_STRLEN || !v.key || reported.has(v.key)) continue;
      reported.add(v.key);
      const processes = plan.processes.filter((q) => q.env[v.name] !== undefined && keyOf(ctx, q, v.name) === v.key).length;
      out.push(
        report(ctx, 'RS1806', v.key, {
          message: `${v.key} makes the variable ${v.size} bytes long ("${v.name}=…" with its NUL): Linux takes at most ${MAX_ARG_STRLEN} bytes (MAX_ARG_STRLEN) per variable, so ${plural(processes, 'process')} (${p.name}${processes > 1 ? ', …' : ''}) would fail to start (exit 126)`,
          hint: 'pass large data through a file and put its path in the variable',
        }),
      );
    }
    p.command.forEach((arg, i) => {
      const size = bytes(arg);
      const path = p.role === 'env_server' ? 'environments' : p.role === 'router' ? 'inference' : p.role;
      if (size <= MAX_ARG_STRLEN || reported.has(`${p.name}#${i}`)) return;
      reported.add(`${p.name}#${i}`);
      out.push(report(ctx, 'RS1806', path, { message: `argument ${i} of ${p.name}'s command is ${size} bytes: Linux takes at most ${MAX_ARG_STRLEN} bytes (MAX_ARG_STRLEN) per argument`, hint: 'shorten the value that makes it (environment args, extra tables)' }));
    });
    const total = vars.reduce((n, v) => n + v.size + POINTER, POINTER) + p.command.reduce((n, a) => n + bytes(a) + POINTER, POINTER);
    const budget = ARG_MAX - RUNTIME_ENV_RESERVE;
    if (total <= budget) continue;
    const largest = vars.filter((v) => v.key).sort((a, b) => b.size - a.size)[0];
    const key = largest?.key ?? 'env';
    const seen = overTotal.get(key);
    if (seen) seen.others++;
    else overTotal.set(key, { p, total, largest: largest?.size ?? 0, fromSpec: vars.filter((v) => v.key).reduce((n, v) => n + v.size, 0), others: 0 });
  }
  for (const [key, { p, total, largest, fromSpec, others }] of overTotal) {
    out.push(
      report(ctx, 'RS1806', key, {
        message: `${p.name}'s environment and command come to ${kib(total)} (${kib(fromSpec)} from the spec's env tables; the largest, ${key}, ${kib(largest)}): with the ${kib(RUNTIME_ENV_RESERVE)} the runtime adds, beyond Linux's ${kib(ARG_MAX)} ARG_MAX, so it${others ? ` and ${others} other process${others === 1 ? '' : 'es'}` : ''} would fail to start (exit 126)`,
        hint: `keep a process's variables under ${kib(ARG_MAX - RUNTIME_ENV_RESERVE)} in all; pass large data through a file and put its path in the variable`,
      }),
    );
  }
  return out;
};
