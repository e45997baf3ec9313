/**
 * The human view of a LaunchPlan: a summary per role and a node map that groups consecutive nodes doing
 * the same thing into ranges, so 64 and 1024 nodes read the same. Pure: plan in, text out.
 */
import type { Style } from '../compiler/diagnostics/render.js';
import { numberRanges } from '../compiler/plan/hostlist.js';
import type { LaunchPlan, PlanNode } from '../compiler/plan/types.js';

const GPU_MARK: Record<string, string> = { inference: 'I', trainer: 'T' };

export function renderPlan(plan: LaunchPlan, specFile: string, style: Style): string {
  const out: string[] = [];
  const c = plan.cluster;
  out.push(style.bold(`rlstack plan — run ${plan.run.name}`) + style.dim(` (${specFile}, rlstack ${plan.rlstack_version})`));
  out.push(`  run dir   ${plan.run.dir}  (${plan.run.max_steps} steps)`);
  out.push(`  cluster   ${describePools(plan)}; backend ${c.backend}`);
  const m = plan.model;
  const params = m.parameters ? ` ${billions(m.parameters)} params${m.active_parameters !== m.parameters && m.active_parameters ? `, ${billions(m.active_parameters)} active` : ''}` : '';
  out.push(`  model     ${m.name} (${m.arch ?? 'inline architecture'},${params}), seq_len ${m.seq_len}`);
  out.push('');
  out.push(style.bold('roles'));
  for (const line of roleLines(plan)) out.push(`  ${line}`);
  out.push('');
  out.push(style.bold('node map') + style.dim('  (GPUs: I inference, T trainer, . idle)'));
  for (const line of nodeMap(plan)) out.push(`  ${line}`);
  return out.join('\n');
}

function describePools(plan: LaunchPlan): string {
  return plan.cluster.pools
    .map((p) => {
      const gpu = p.gpus_per_node > 0 ? `${p.gpus_per_node} × ${p.gpu}` : 'CPU only';
      return `${p.name === 'default' ? '' : `pool ${p.name}: `}${p.nodes} node${p.nodes === 1 ? '' : 's'} × ${gpu}`;
    })
    .join('; ');
}

function billions(n: number): string {
  return n >= 1e9 ? `${(n / 1e9).toFixed(1)}B` : `${(n / 1e6).toFixed(0)}M`;
}

function nodeRange(pool: string, [first, last]: [number, number]): string {
  const span = first === last ? `node ${first}` : `nodes ${first}-${last} (${last - first + 1})`;
  return pool === 'default' ? span : `${pool} ${span}`;
}

function roleLines(plan: LaunchPlan): string[] {
  const r = plan.roles;
  const rows: [string, string, string][] = [];
  if (r.inference) {
    const i = r.inference;
    rows.push([
      'inference',
      nodeRange(i.pool, i.nodes),
      `${i.gpus} GPU${i.gpus === 1 ? '' : 's'}: ${i.engines} engine${i.engines === 1 ? '' : 's'} × tp ${i.tp} (${i.engines_per_node}/node), ${i.replicas} replica${i.replicas === 1 ? '' : 's'}${i.nodes_per_replica > 1 ? ` of ${i.nodes_per_replica} nodes` : ''}; router on node ${i.router_node}`,
    ]);
  } else rows.push(['inference', '-', 'none (trainer-only run)']);
  const t = r.trainer;
  rows.push([
    'trainer',
    nodeRange(t.pool, t.nodes),
    `${t.gpus} GPU${t.gpus === 1 ? '' : 's'}: dp_replicate ${t.dp_replicate} × dp_shard ${t.dp_shard}, cp ${t.cp}, ep ${t.ep}; rendezvous on node ${t.master_node}`,
  ]);
  rows.push(['orchestrator', `node ${r.orchestrator.node}`, plan.processes.find((p) => p.name === 'orchestrator')!.ports.map((p) => `:${p}`).join(' ')]);
  if (r.env_servers.length) {
    const byNode = new Map<number, string[]>();
    for (const e of r.env_servers) byNode.set(e.node, [...(byNode.get(e.node) ?? []), `${e.name}${e.split === 'eval' ? ' (eval)' : ''} :${e.port}`]);
    const parts = [...byNode].map(([node, names]) => `node ${node}: ${names.join(', ')}`);
    rows.push(['env servers', `${r.env_servers.length}`, parts.join('; ')]);
  }
  if (r.sandboxes) {
    const s = r.sandboxes;
    rows.push([
      'sandboxes',
      s.provider === 'docker' ? nodeRange(s.pool, s.nodes) : s.provider,
      s.provider === 'docker' ? `${s.slots} box slots for ~${s.demand} live boxes at max_inflight` : `hosted; ~${s.demand} live boxes at max_inflight`,
    ]);
  }
  rows.push(['weights', plan.weights.broadcast, plan.weights.broadcast === 'nccl' ? `NCCL group of ${plan.weights.inference_world_size} inference GPU${plan.weights.inference_world_size === 1 ? '' : 's'} + trainer rank 0` : 'trainer writes, engines load from the run dir']);
  const w0 = Math.max(...rows.map((row) => row[0].length));
  const w1 = Math.max(...rows.map((row) => row[1].length));
  return rows.map(([a, b, c]) => `${a.padEnd(w0)}  ${b.padEnd(w1)}  ${c}`);
}

/** What a node does, independent of its index: consecutive nodes with equal signatures share one line. */
function signature(node: PlanNode): string {
  const kinds = node.processes.map((p) => p.replace(/-\d+$/, '-N'));
  return `${node.pool}|${node.roles.join(',')}|${node.gpus.map((g) => g.role ?? '').join(',')}|${kinds.join(',')}`;
}

export function nodeMap(plan: LaunchPlan): string[] {
  const groups: PlanNode[][] = [];
  for (const node of plan.nodes) {
    const last = groups[groups.length - 1];
    if (last && signature(last[0]!) === signature(node) && last[last.length - 1]!.index === node.index - 1) last.push(node);
    else groups.push([node]);
  }
  const rows = groups.map((group) => {
    const first = group[0]!;
    const indices = numberRanges(group.map((n) => n.pool_index));
    const where = `${first.pool === 'default' ? '' : `${first.pool} `}${group.length === 1 ? indices : `${indices} (${group.length})`}`;
    const gpus = first.gpus.length ? first.gpus.map((g) => (g.role ? GPU_MARK[g.role] : '.')).join('') : '-';
    const roles = first.roles.length ? first.roles.join('+') : 'unused';
    return [where, gpus, roles, describeProcesses(group)] as const;
  });
  const w0 = Math.max(...rows.map((r) => r[0].length));
  const w1 = Math.max(...rows.map((r) => r[1].length));
  const w2 = Math.max(...rows.map((r) => r[2].length));
  return rows.map(([a, b, c, d]) => `${a.padEnd(w0)}  ${b.padEnd(w1)}  ${c.padEnd(w2)}  ${d}`.trimEnd());
}

function describeProcesses(group: PlanNode[]): string {
  const first = group[0]!;
  const last = group[group.length - 1]!;
  const names = first.processes;
  if (names.length === 0) return '';
  const numbered = new Map<string, [string, string]>();
  const plain: string[] = [];
  names.forEach((name, i) => {
    const match = /^(.*)-(\d+)$/.exec(name);
    if (!match) return plain.push(name);
    const prefix = match[1]!;
    const lastName = last.processes[i] ?? name;
    const existing = numbered.get(prefix);
    numbered.set(prefix, [existing?.[0] ?? name, lastName]);
  });
  const parts = [...numbered].map(([prefix, [a, b]]) => (a === b ? a : `${prefix}-${a.slice(prefix.length + 1)}..${b.slice(prefix.length + 1)}`));
  const shown = [...parts, ...plain];
  const text = shown.join(', ');
  return text.length > 90 ? `${text.slice(0, 87)}...` : text;
}
