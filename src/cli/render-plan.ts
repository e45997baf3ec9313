/**
 * The human view of a LaunchPlan: a summary per role and a node map that groups consecutive nodes doing
 * the same thing into ranges, so 64 and 1024 nodes read the same. Pure: plan in, text out.
 */
import type { Style } from '../compiler/diagnostics/render.js';
import { numberRanges } from '../compiler/plan/hostlist.js';
import type { LaunchPlan, PlanNode } from '../compiler/plan/types.js';
import { throughputLines } from './render-throughput.js';

const GPU_MARK: Record<string, string> = { inference: 'I', trainer: 'T' };

export function renderPlan(plan: LaunchPlan, specFile: string, style: Style): string {
  const out: string[] = [];
  const c = plan.cluster;
  out.push(style.bold(`rlstack plan — run ${plan.run.name}`) + style.dim(` (${specFile}, rlstack ${plan.rlstack_version})`));
  out.push(`  run dir   ${plan.run.dir}  (${plan.run.max_steps} steps)`);
  out.push(`  cluster   ${describePools(plan)}; backend ${c.backend}`);
  for (const line of settingLines(plan, style)) out.push(`  ${line}`);
  const secrets = secretLine(plan);
  if (secrets) out.push(`  secrets   ${secrets}`);
  const m = plan.model;
  const params = m.parameters ? ` ${billions(m.parameters)} params${m.active_parameters !== m.parameters && m.active_parameters ? `, ${billions(m.active_parameters)} active` : ''}` : '';
  out.push(`  model     ${m.name} (${m.arch ?? 'inline architecture'},${params}), seq_len ${m.seq_len}`);
  out.push('');
  out.push(style.bold('roles'));
  for (const line of roleLines(plan)) out.push(`  ${line}`);
  if (plan.memory) {
    out.push('');
    out.push(style.bold('memory') + style.dim(' (estimates; docs/memory-model.md)'));
    for (const line of memoryLines(plan, style)) out.push(`  ${line}`);
  }
  out.push('');
  for (const line of throughputLines(plan, style)) out.push(line);
  out.push('');
  out.push(style.bold('node map') + style.dim('  (GPUs: I inference, T trainer, . idle)'));
  for (const line of nodeMap(plan)) out.push(`  ${line}`);
  return out.join('\n');
}

/** Capacities (unknown when not declared) and the Slurm job's limits, defaults marked as such. */
function settingLines(plan: LaunchPlan, style: Style): string[] {
  const shown = (key: string, label: string, unit = ''): string | undefined => {
    const s = plan.cluster.settings.find((x) => x.key === key);
    if (!s) return undefined;
    if (s.value === null) return `${label} ${style.dim('unknown (checked on each node at start)')}`;
    const value = s.value === '' ? 'the cluster default' : `${s.value}${unit}`;
    const mark = s.origin === 'default' ? ' (default)' : s.origin === 'derived' ? ` (derived: a tenth of the time limit, at most 900 s)` : '';
    return `${label} ${value}${style.dim(mark)}`;
  };
  const capacity = [shown('cluster.host_memory_gib', 'host RAM', ' GiB'), shown('cluster.disk_gib', 'run dir disk', ' GiB')].filter(Boolean);
  const slurm = [shown('cluster.slurm.partition', 'partition'), shown('cluster.slurm.time', 'time limit'), shown('cluster.slurm.signal', 'warning')].filter(Boolean);
  return [...(capacity.length ? [`capacity  ${capacity.join(', ')}`] : []), ...(slurm.length ? [`slurm     ${slurm.join(', ')}`] : [])];
}

/** Each secret by name with the roles that receive it (values never reach a plan). */
function secretLine(plan: LaunchPlan): string {
  const roles = new Map<string, Set<string>>();
  for (const p of plan.processes) for (const name of p.secrets) (roles.get(name) ?? roles.set(name, new Set()).get(name)!).add(p.role);
  return [...roles.keys()]
    .sort()
    .map((name) => `${name} (${[...roles.get(name)!].sort().join(', ')})`)
    .join(', ');
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
  if (r.env_servers.length) rows.push(['env servers', `${r.env_servers.length}`, describeEnvServers(plan)]);
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

/** Environments by where their servers run; shards of one environment collapse into one entry. */
function describeEnvServers(plan: LaunchPlan): string {
  const where = (node: number) => {
    const n = plan.nodes[node]!;
    return n.pool === 'default' ? `node ${n.pool_index}` : `${n.pool} node ${n.pool_index}`;
  };
  const byEnvironment = new Map<string, { split: string; nodes: number[]; ports: number[] }>();
  for (const e of plan.roles.env_servers) {
    const entry = byEnvironment.get(e.environment) ?? { split: e.split, nodes: [], ports: [] };
    entry.nodes.push(e.node);
    entry.ports.push(e.port);
    byEnvironment.set(e.environment, entry);
  }
  const groups = new Map<string, string[]>();
  for (const [name, e] of byEnvironment) {
    const label = `${name}${e.split === 'eval' ? ' (eval)' : ''}${e.nodes.length > 1 ? ` ×${e.nodes.length}` : ''}`;
    const first = plan.nodes[e.nodes[0]!]!;
    const place =
      e.nodes.length === 1
        ? where(e.nodes[0]!)
        : `${first.pool === 'default' ? 'nodes' : `${first.pool} nodes`} ${numberRanges(e.nodes.map((n) => plan.nodes[n]!.pool_index))}`;
    groups.set(place, [...(groups.get(place) ?? []), label]);
  }
  return [...groups].map(([place, names]) => `${names.join(', ')} on ${place}`).join('; ');
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

const BAR_WIDTH = 20;

function bar(used: number, capacity: number | null, style: Style): string {
  if (capacity === null) return style.dim('capacity not in the spec: checked at start'.padEnd(BAR_WIDTH + 7));
  const share = capacity > 0 ? used / capacity : 1;
  const filled = Math.min(BAR_WIDTH, Math.round(share * BAR_WIDTH));
  const text = `[${'█'.repeat(filled)}${'░'.repeat(BAR_WIDTH - filled)}] ${String(Math.round(share * 100)).padStart(3)}%`;
  return share > 1 ? style.red(text) : share > 0.92 ? style.yellow(text) : text;
}

function capacityText(capacity: number | null): string {
  return capacity === null ? '? GiB' : `${n(capacity)} GiB`;
}

function n(v: number): string {
  return v >= 1000 ? v.toFixed(0) : v.toFixed(1);
}

function tokens(v: number): string {
  return v >= 1e6 ? `${(v / 1e6).toFixed(2)}M` : v >= 1e3 ? `${(v / 1e3).toFixed(0)}k` : String(v);
}

function memoryLines(plan: LaunchPlan, style: Style): string[] {
  const m = plan.memory!;
  const rows: [string, string, string, string][] = [];
  const t = m.trainer;
  const b = t.breakdown_gib;
  rows.push([
    'trainer GPU',
    `${n(t.fit_gib)} / ${n(t.capacity_gib)} GiB`,
    bar(t.fit_gib, t.capacity_gib, style),
    `params ${n(b['params']!)} · grads ${n(b['grads']!)} · optimizer ${n(b['optimizer']!)} · activations ${n(b['activations']!)} · logits ${n(b['logits']!)} · buffers ${n(b['buffers']!)} · reserve ${n(b['reserve']!)} · context/NCCL ${n(t.fit_gib - t.peak_gib)}; upper bound ${n(t.fit_upper_gib)} (+${Math.round(t.upper_margin * 100)} %)${t.extrapolated.length ? ` (extrapolated: ${t.extrapolated.join(', ')})` : ''}`,
  ]);
  const h = t.host_breakdown_gib;
  rows.push([
    'trainer host',
    `${n(t.host_gib)} / ${capacityText(t.host_capacity_gib)}`,
    bar(t.host_gib, t.host_capacity_gib, style),
    `processes ${n(h['processes']!)} · offloaded optimizer ${n(h['optimizer']!)} · offloaded activations ${n(h['activations']!)} · orchestrator + env servers ${n(h['orchestrator']!)}`,
  ]);
  if (m.inference) {
    const i = m.inference;
    // vLLM gives the KV cache whatever the budget leaves: the bar shows what the weights and the engine take.
    rows.push([
      'inference GPU',
      `${n(i.weights_gib + i.overhead_gib)} / ${n(i.budget_gib)} GiB`,
      bar(i.weights_gib + i.overhead_gib, i.budget_gib, style),
      `weights ${n(i.weights_gib)} · activation peak ${n(i.activation_gib.peak)} · non-torch ${n(i.non_torch_gib)} (vLLM ${i.vllm_version}, ${i.max_num_seqs} seqs, ${i.max_num_batched_tokens} batched tokens); the rest, ${n(i.kv_cache_gib)}, is KV cache (${(i.kv_bytes_per_token_per_gpu / 1024).toFixed(1)} KiB/token/GPU${i.kv_cache_dtype === 'fp8' ? ', fp8' : ''}); outside the budget ${n(i.outside_budget_gib.total)} of ${n(i.outside_budget_gib.headroom)}`,
    ]);
    rows.push([
      'KV per replica',
      `${tokens(i.inflight_tokens_per_replica)} / ${tokens(i.kv_tokens_per_replica)} tok`,
      bar(i.inflight_tokens_per_replica, i.kv_tokens_per_replica, style),
      `${n(i.inflight_per_replica)} rollouts in flight × ${tokens(i.mean_rollout_tokens)} tokens; ${i.full_length_seqs_per_replica} full-length sequences fit`,
    ]);
  }
  const d = m.disk;
  rows.push([
    'run dir disk',
    `${n(d.run_dir_gib)} / ${capacityText(d.capacity_gib)}`,
    bar(d.run_dir_gib, d.capacity_gib, style),
    `${d.checkpoints_kept} checkpoints × ${n(d.checkpoint_gib)} · broadcasts ${n(d.broadcasts_gib)} · model cache ${n(d.model_cache_gib)}`,
  ]);
  if (m.sandboxes.length) {
    const slots = m.sandboxes.reduce((a, s) => a + s.slots, 0);
    const demand = m.sandboxes.reduce((a, s) => a + s.demand, 0);
    const busiest = m.sandboxes.reduce((a, s) => (s.demand / s.slots > a.demand / a.slots ? s : a));
    rows.push([
      'sandbox boxes',
      `${demand} / ${slots}`,
      bar(busiest.demand, busiest.slots, style),
      `busiest fleet node: ${busiest.demand} / ${busiest.slots} (${busiest.environments.join(', ')})`,
    ]);
  }
  const w0 = Math.max(...rows.map((r) => r[0].length));
  const w1 = Math.max(...rows.map((r) => r[1].length));
  return rows.map(([a, b2, c, dd]) => `${a.padEnd(w0)}  ${b2.padStart(w1)}  ${c}  ${dd}`);
}
