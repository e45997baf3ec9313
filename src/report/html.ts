/**
 * `rlstack plan --html FILE`: the plan as one self-contained page (inline CSS and JS, no network, opens from
 * disk). Pure: the `plan --json` object (plus the resolved spec's provenance rows under `resolved`) in, HTML
 * text out, so the page can never disagree with `plan --json`. Every string that may come from the spec is
 * escaped here; the hover data is embedded as JSON and put on the page with textContent only.
 *
 * Light at scale: consecutive nodes doing the same thing are drawn once as a range (as the text node map
 * does); the every-node view is plain markup without per-cell attributes, and one delegated listener answers
 * hovers from a precomputed table, so 1024 nodes draw and answer at once.
 */
import { describeOrigin, parentPath, type Provenance } from '../compiler/load/provenance.js';
import { nameRanges } from '../compiler/diff.js';
import { UNKNOWN_CAPACITY } from '../compiler/memory/report.js';
import { numberRanges } from '../compiler/plan/hostlist.js';
import type { LaunchPlan, PlanNode, PlanProcess } from '../compiler/plan/types.js';
import { isPlainTable, joinPath, type KeyPart } from '../compiler/spec/key-path.js';
import { accuracyText } from '../compiler/throughput/accuracy.js';
import { bottleneckText, rateText, secondsText } from '../compiler/throughput/describe.js';
import { stepTimeline, type Phase, type PhaseKind } from '../compiler/throughput/timeline.js';

/** One resolved spec value and where it came from (as `rlstack explain` says it). */
export interface ResolvedRow {
  key: string;
  value: unknown;
  origin: string;
}

/** The page's one input: the plan JSON, the resolved rows, and the spec file's name for the title. */
export type HtmlPlan = LaunchPlan & { resolved?: ResolvedRow[]; spec_file?: string };

/** Every leaf of the resolved spec with its origin (file:line, preset, --set, default). */
export function resolvedRows(spec: unknown, provenance: Provenance): ResolvedRow[] {
  const rows: ResolvedRow[] = [];
  const walk = (value: unknown, parts: KeyPart[]) => {
    if (isPlainTable(value) && Object.keys(value).length) {
      for (const [k, v] of Object.entries(value)) walk(v, [...parts, k]);
      return;
    }
    if (Array.isArray(value) && value.some(isPlainTable)) {
      value.forEach((v, i) => walk(v, [...parts, i]));
      return;
    }
    const key = joinPath(parts);
    let origin = provenance.get(key);
    for (let p = parentPath(key); !origin && p !== undefined; p = parentPath(p)) origin = provenance.get(p);
    rows.push({ key, value, origin: describeOrigin(origin) });
  };
  walk(spec, []);
  return rows;
}

// ------------------------------------------------------------------------------------------------ helpers

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function esc(value: unknown): string {
  return String(value).replace(/[&<>"']/g, (c) => ESCAPES[c]!);
}

/** The number format of the text plan: one decimal below 1000. */
export function gibText(v: number): string {
  return v >= 1000 ? v.toFixed(0) : v.toFixed(1);
}

export function tokensText(v: number): string {
  return v >= 1e6 ? `${(v / 1e6).toFixed(2)}M` : v >= 1e3 ? `${(v / 1e3).toFixed(0)}k` : String(v);
}

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}

function pct(used: number, capacity: number): string {
  return capacity > 0 ? `${Math.round((used / capacity) * 100)} %` : '–';
}

const ROLE_CLASS: Record<string, string> = { inference: 'I', trainer: 'T', router: 'R', orchestrator: 'O', env_server: 'E', sandboxes: 'S' };
const ROLE_NAME: Record<string, string> = { inference: 'inference', trainer: 'trainer', router: 'router', orchestrator: 'orchestrator', env_server: 'env server', sandboxes: 'sandbox fleet' };

function nodeName(n: PlanNode): string {
  return n.pool === 'default' ? `node ${n.pool_index}` : `${n.pool} node ${n.pool_index}`;
}

/** One cell per GPU, coloured by role; a gap where the next process (another engine) begins. */
function gpuCells(n: PlanNode): string {
  return n.gpus
    .map((g, i) => {
      const cls = g.role === 'inference' ? 'gi' : g.role === 'trainer' ? 'gt' : 'g0';
      return i > 0 && g.process !== n.gpus[i - 1]!.process ? `<i class="${cls} b"></i>` : `<i class=${cls}></i>`;
    })
    .join('');
}

function chips(roles: readonly string[]): string {
  return roles.filter((r) => r !== 'inference' && r !== 'trainer').map((r) => `<s class=c${ROLE_CLASS[r] ?? 'X'} title="${esc(ROLE_NAME[r] ?? r)}"></s>`).join('');
}

// ------------------------------------------------------------------------------------------------ hover data

/** Who a process talks to: what it waits for, what waits for it, and the hosts its command line names. */
function peerTable(plan: LaunchPlan): Map<string, Set<string>> {
  const peers = new Map(plan.processes.map((p) => [p.name, new Set<string>()]));
  const link = (a: string, b: string) => {
    if (a === b) return;
    peers.get(a)?.add(b);
    peers.get(b)?.add(a);
  };
  const byNodePort = new Map<string, string>();
  for (const p of plan.processes) for (const port of p.ports) byNodePort.set(`${p.node}:${port}`, p.name);
  for (const p of plan.processes) {
    for (const dep of p.after) link(p.name, dep);
    for (const word of p.command) {
      for (const m of word.matchAll(/\$\{RLSTACK_HOST:(\d+)\}(?::(\d+))?/g)) {
        const target = m[2] ? byNodePort.get(`${m[1]}:${m[2]}`) : undefined;
        if (target) link(p.name, target);
        else if (Number(m[1]) !== p.node) peers.get(p.name)?.add(`@${m[1]}`);
      }
    }
  }
  return peers;
}

function peerText(plan: LaunchPlan, set: Set<string> | undefined, procs: Map<string, PlanProcess>): string {
  if (!set || !set.size) return 'none';
  const named = [...set].filter((s) => !s.startsWith('@'));
  const onNodes = new Set(named.map((n) => procs.get(n)?.node));
  const hosts = [...set].filter((s) => s.startsWith('@')).map((s) => Number(s.slice(1))).filter((n) => !onNodes.has(n));
  const byKind = new Map<string, string[]>();
  for (const name of named) {
    const kind = name.replace(/\d+$/, '');
    byKind.set(kind, [...(byKind.get(kind) ?? []), name]);
  }
  const parts = [...byKind.values()].map((names) => {
    const nodes = [...new Set(names.map((n) => procs.get(n)!.node))];
    const first = plan.nodes[nodes[0]!]!;
    const where = nodes.length === 1 ? nodeName(first) : `${first.pool === 'default' ? 'nodes' : `${first.pool} nodes`} ${numberRanges(nodes.map((i) => plan.nodes[i]!.pool_index))}`;
    return `${nameRanges(names)} (${where})`;
  });
  if (hosts.length) parts.push(`the host of ${hosts.map((h) => nodeName(plan.nodes[h]!)).join(', ')}`);
  return parts.join('; ');
}

interface HoverData {
  /** [label, pool, host, roles, process index per GPU (-1 idle), process indices] */
  nodes: [string, string, string | null, string, number[], number[]][];
  /** [name, role, node label, GPUs, ports, ready, starts after, peers] */
  procs: [string, string, string, string, string, string, string, string][];
}

function hoverData(plan: LaunchPlan): HoverData {
  const index = new Map(plan.processes.map((p, i) => [p.name, i]));
  const procs = new Map(plan.processes.map((p) => [p.name, p]));
  const peers = peerTable(plan);
  return {
    nodes: plan.nodes.map((n) => [nodeName(n), n.pool, n.host, n.roles.join(', ') || 'unused', n.gpus.map((g) => (g.process ? (index.get(g.process) ?? -1) : -1)), n.processes.map((p) => index.get(p) ?? -1)]),
    procs: plan.processes.map((p) => [
      p.name,
      p.role,
      nodeName(plan.nodes[p.node]!),
      p.gpus.length ? numberRanges(p.gpus) : 'none',
      p.ports.length ? p.ports.join(', ') : 'none',
      p.ready,
      p.after.length ? nameRanges(p.after) : 'nothing',
      peerText(plan, peers.get(p.name), procs),
    ]),
  };
}

// ------------------------------------------------------------------------------------------------ sections

/** The same grouping as the text node map (render-plan.ts): what a node does, independent of its index. */
function signature(node: PlanNode): string {
  const kinds = node.processes.map((p) => p.replace(/-\d+$/, '-N'));
  return `${node.pool}|${node.roles.join(',')}|${node.gpus.map((g) => g.role ?? '').join(',')}|${kinds.join(',')}`;
}

function groups(plan: LaunchPlan): PlanNode[][] {
  const out: PlanNode[][] = [];
  for (const node of plan.nodes) {
    const last = out[out.length - 1];
    if (last && signature(last[0]!) === signature(node) && last[last.length - 1]!.index === node.index - 1) last.push(node);
    else out.push([node]);
  }
  return out;
}

function processSummary(group: PlanNode[]): string {
  const first = group[0]!;
  const last = group[group.length - 1]!;
  const parts: string[] = [];
  first.processes.forEach((name, i) => {
    const m = /^(.*)-(\d+)$/.exec(name);
    const lastName = last.processes[i] ?? name;
    if (m && lastName !== name) parts.push(`${m[1]}-${m[2]}..${lastName.slice(m[1]!.length + 1)}`);
    else parts.push(name);
  });
  const text = parts.join(', ');
  return text.length > 110 ? `${text.slice(0, 107)}…` : text;
}

function groupedView(plan: LaunchPlan): string {
  const rows = groups(plan).map((g) => {
    const first = g[0]!;
    const last = g[g.length - 1]!;
    const indices = g.length === 1 ? String(first.pool_index) : `${first.pool_index}-${last.pool_index}`;
    const where = `${esc(`${first.pool === 'default' ? '' : `${first.pool} `}${indices}`)}${g.length > 1 ? ` <small>(${g.length})</small>` : ''}`;
    const gpus = first.gpus.length ? `<span class=gs>${gpuCells(first)}</span>` : `<span class=gs><em class=e${first.roles.includes('sandboxes') ? 'S' : first.roles.length ? 'E' : '0'}></em></span>`;
    return `<div class=grp data-n=${first.index} data-last=${last.index} data-count=${g.length}><span class=w>${where}</span>${gpus}<span class=ch>${chips(first.roles)}</span><span class=rl>${esc(first.roles.join(' + ') || 'unused')}</span><span class=ps>${esc(processSummary(g))}</span></div>`;
  });
  return `<div id=grouped class=grouped>${rows.join('')}</div>`;
}

function everyNodeView(plan: LaunchPlan): string {
  const pools = plan.cluster.pools.map((pool) => {
    const nodes = plan.nodes.filter((n) => n.pool === pool.name);
    const tiles = nodes.map((n) => {
      const body = n.gpus.length ? `<span class=gs>${gpuCells(n)}</span>` : `<span class=gs><em class=e${n.roles.includes('sandboxes') ? 'S' : n.roles.length ? 'E' : '0'}></em></span>`;
      return `<div class=node data-n=${n.index}><b>${n.pool_index}</b>${body}${chips(n.roles) ? `<span class=ch>${chips(n.roles)}</span>` : ''}</div>`;
    });
    const what = pool.gpus_per_node > 0 ? `${pool.nodes} node${pool.nodes === 1 ? '' : 's'} × ${pool.gpus_per_node} ${esc(pool.gpu ?? '')}` : `${pool.nodes} CPU node${pool.nodes === 1 ? '' : 's'}`;
    const digits = String(Math.max(0, pool.nodes - 1)).length;
    return `<h3>${pool.name === 'default' ? 'default pool' : `pool ${esc(pool.name)}`} <small>${what}</small></h3><div class=tiles data-pool="${esc(pool.name)}" style="--lw:${digits + 0.5}ch">${tiles.join('')}</div>`;
  });
  return `<div id=every hidden>${pools.join('')}</div>`;
}

function roleRows(plan: LaunchPlan): string {
  const r = plan.roles;
  const range = (pool: string, [a, b]: [number, number]) => `${pool === 'default' ? '' : `${pool} `}${a === b ? `node ${a}` : `nodes ${a}-${b} (${b - a + 1})`}`;
  const rows: [string, string, string][] = [];
  if (r.inference) {
    const i = r.inference;
    rows.push(['inference', range(i.pool, i.nodes), `${plural(i.gpus, 'GPU')}: ${plural(i.engines, 'engine')} × TP ${i.tp} (${i.engines_per_node}/node), ${plural(i.replicas, 'replica')}${i.nodes_per_replica > 1 ? ` of ${i.nodes_per_replica} nodes` : ''}; router on node ${i.router_node}`]);
  } else rows.push(['inference', '–', 'none (trainer-only run)']);
  const t = r.trainer;
  rows.push(['trainer', range(t.pool, t.nodes), `${plural(t.gpus, 'GPU')}: dp_replicate ${t.dp_replicate} × dp_shard ${t.dp_shard}, CP ${t.cp}, EP ${t.ep}; rendezvous on node ${t.master_node}`]);
  const orchestrator = plan.processes.find((p) => p.role === 'orchestrator');
  rows.push(['orchestrator', nodeName(plan.nodes[r.orchestrator.node]!), orchestrator ? `ports ${orchestrator.ports.join(', ')}` : '']);
  if (r.env_servers.length) {
    const envs = [...new Set(r.env_servers.map((e) => e.environment))];
    rows.push(['env servers', `${r.env_servers.length}`, envs.map((e) => `${e}${r.env_servers.filter((x) => x.environment === e).length > 1 ? ` ×${r.env_servers.filter((x) => x.environment === e).length}` : ''}`).join(', ')]);
  }
  if (r.sandboxes) {
    const s = r.sandboxes;
    rows.push(['sandboxes', s.provider === 'docker' ? range(s.pool, s.nodes) : s.provider, s.provider === 'docker' ? `${s.slots} box slots for ~${s.demand} live boxes at max_inflight` : `hosted; ~${s.demand} live boxes at max_inflight`]);
  }
  rows.push(['weights', plan.weights.broadcast, plan.weights.broadcast === 'nccl' ? `NCCL group of ${plural(plan.weights.inference_world_size, 'inference GPU')} + trainer rank 0` : 'trainer writes, engines load from the run dir']);
  const marks: Record<string, string> = { inference: 'I', trainer: 'T', orchestrator: 'O', 'env servers': 'E', sandboxes: 'S' };
  const swatch = (role: string) => (marks[role] ? `<s class=c${marks[role]}></s> ` : '');
  return `<table class=roles>${rows.map(([a, b, c]) => `<tr><th>${swatch(a)}${esc(a)}</th><td>${esc(b)}</td><td>${esc(c)}</td></tr>`).join('')}</table>`;
}

interface Segment {
  label: string;
  value: number;
}

const SEGMENT_COLOURS = ['#4e79a7', '#f28e2b', '#e15759', '#76b7b2', '#59a14f', '#edc948', '#b07aa1', '#ff9da7', '#9c755f', '#bab0ac'];

/** One stacked bar against a capacity; the figures are also data attributes for tools and tests. */
function bar(id: string, title: string, segments: Segment[], used: number, capacityOrUnknown: number | null, figure: string, noteText: string): string {
  // A capacity the spec does not declare: the need fills the bar, and the page says who checks it.
  const unknown = capacityOrUnknown === null;
  const capacity = capacityOrUnknown ?? used;
  const note = unknown ? (noteText ? `${noteText}; ${UNKNOWN_CAPACITY}` : UNKNOWN_CAPACITY) : noteText;
  const scale = Math.max(used, capacity, 1e-9);
  const share = capacity > 0 ? used / capacity : 1;
  const state = unknown ? 'unknown' : share > 1 ? 'over' : share > 0.92 ? 'tight' : 'ok';
  const parts = segments
    .filter((s) => s.value > 0)
    .map((s, i) => `<span style="width:${((s.value / scale) * 100).toFixed(3)}%;background:${SEGMENT_COLOURS[i % SEGMENT_COLOURS.length]}" title="${esc(`${s.label}: ${s.value}`)}"></span>`)
    .join('');
  const cap = used > capacity && capacity > 0 ? `<i class=cap style="left:${((capacity / scale) * 100).toFixed(3)}%"></i>` : '';
  const legend = segments
    .filter((s) => s.value > 0)
    .map((s, i) => `<span><s style="background:${SEGMENT_COLOURS[i % SEGMENT_COLOURS.length]}"></s>${esc(s.label)} ${esc(s.value >= 1e4 ? tokensText(s.value) : gibText(s.value))}</span>`)
    .join('');
  return `<div class="mem ${state}" id=mem-${id} data-used="${used}" data-capacity="${unknown ? '' : capacity}"><div class=mh><b>${esc(title)}</b><span class=fig>${esc(figure)}</span><span class=pc>${unknown ? '?' : pct(used, capacity)}</span></div><div class=bar>${parts}${cap}</div><div class=sl>${legend}</div>${note ? `<div class=note>${esc(note)}</div>` : ''}</div>`;
}

function memorySection(plan: LaunchPlan): string {
  const m = plan.memory;
  if (!m) return '<p class=none>No memory estimate: the model\'s shape or the GPU type is unknown (see the diagnostics).</p>';
  const out: string[] = [];
  const t = m.trainer;
  const b = t.breakdown_gib;
  const label: Record<string, string> = { params: 'params', grads: 'grads', optimizer: 'optimizer', activations: 'activations', logits: 'logits', buffers: 'buffers', reserve: 'reserve' };
  const trainerSegments: Segment[] = Object.entries(b).map(([k, v]) => ({ label: label[k] ?? k, value: v }));
  trainerSegments.push({ label: 'CUDA context / NCCL', value: Math.round((t.fit_gib - t.peak_gib) * 100) / 100 });
  out.push(bar('trainer-gpu', 'trainer GPU (busiest rank)', trainerSegments, t.fit_gib, t.capacity_gib, `${gibText(t.fit_gib)} / ${gibText(t.capacity_gib)} GiB`, `peak ${gibText(t.peak_gib)} GiB reserved in ${t.peak_phase}; upper bound ${gibText(t.fit_upper_gib)} GiB (+${Math.round(t.upper_margin * 100)} %, the model's largest under-prediction on measured runs)${t.extrapolated.length ? `; extrapolated beyond the measured runs: ${t.extrapolated.join(', ')}` : ''}`));
  const h = t.host_breakdown_gib;
  const hostLabel: Record<string, string> = { processes: 'processes', optimizer: 'offloaded optimizer', activations: 'offloaded activations', orchestrator: 'orchestrator + env servers' };
  out.push(bar('trainer-host', 'trainer node host RAM', Object.entries(h).map(([k, v]) => ({ label: hostLabel[k] ?? k, value: v })), t.host_gib, t.host_capacity_gib, `${gibText(t.host_gib)} / ${t.host_capacity_gib === null ? '?' : gibText(t.host_capacity_gib)} GiB`, ''));
  if (m.inference) {
    const i = m.inference;
    // As the text report: the share of vLLM's budget that weights and the engine take; the KV cache gets the rest.
    const taken = Math.round((i.weights_gib + i.overhead_gib) * 100) / 100;
    out.push(
      bar(
        'inference-gpu',
        'inference GPU',
        [
          { label: 'weights', value: i.weights_gib },
          { label: 'activation peak', value: i.activation_gib.peak },
          { label: 'non-torch', value: i.non_torch_gib },
        ],
        taken,
        i.budget_gib,
        `weights ${gibText(i.weights_gib)} + engine ${gibText(i.overhead_gib)} = ${gibText(taken)} / ${gibText(i.budget_gib)} GiB; KV cache ${gibText(i.kv_cache_gib)}`,
        `vLLM ${i.vllm_version} takes gpu_memory_utilization of the GPU (${gibText(i.budget_gib)} GiB) and gives the KV cache what weights, its profile's activation peak (${i.max_num_seqs} seqs, ${i.max_num_batched_tokens} batched tokens) and non-torch memory leave; ${(i.kv_bytes_per_token_per_gpu / 1024).toFixed(1)} KiB per token per GPU; CUDA graphs, context and sampler warm-up (${gibText(i.outside_budget_gib.total)} GiB) live outside the budget`,
      ),
    );
    out.push(
      bar(
        'kv',
        'KV cache per replica',
        [{ label: `rollouts in flight (${gibText(i.inflight_per_replica)} × ${tokensText(i.mean_rollout_tokens)} tokens)`, value: i.inflight_tokens_per_replica }],
        i.inflight_tokens_per_replica,
        i.kv_tokens_per_replica,
        `${tokensText(i.inflight_tokens_per_replica)} / ${tokensText(i.kv_tokens_per_replica)} tokens`,
        `${i.full_length_seqs_per_replica} full-length sequences fit in one replica's KV cache`,
      ),
    );
  }
  const d = m.disk;
  out.push(
    bar(
      'disk',
      'run dir disk',
      [
        { label: `checkpoints (${d.checkpoints_kept} × ${gibText(d.checkpoint_gib)})`, value: Math.round(d.checkpoints_kept * d.checkpoint_gib * 100) / 100 },
        { label: 'weight broadcasts', value: d.broadcasts_gib },
        { label: 'model cache', value: d.model_cache_gib },
      ],
      d.run_dir_gib,
      d.capacity_gib,
      `${gibText(d.run_dir_gib)} / ${d.capacity_gib === null ? '?' : gibText(d.capacity_gib)} GiB`,
      '',
    ),
  );
  const s = plan.roles.sandboxes;
  if (m.sandboxes.length) {
    const slots = m.sandboxes.reduce((a, x) => a + x.slots, 0);
    const demand = m.sandboxes.reduce((a, x) => a + x.demand, 0);
    const busiest = m.sandboxes.reduce((a, x) => (x.demand / x.slots > a.demand / a.slots ? x : a));
    out.push(bar('sandboxes', 'sandbox slots (fleet)', [{ label: 'live boxes at max_inflight', value: demand }], demand, slots, `${demand} / ${slots} boxes`, `busiest fleet node: ${nodeName(plan.nodes[busiest.node]!)} with ${busiest.demand} / ${busiest.slots} (${busiest.environments.join(', ')})`));
    const rows = m.sandboxes.map((x) => `<tr class=${x.demand > x.slots ? 'over' : ''}><td>${esc(nodeName(plan.nodes[x.node]!))}</td><td>${esc(x.environments.join(', '))}</td><td class=num>${x.demand}</td><td class=num>${x.slots}</td></tr>`);
    out.push(`<details class=fleet><summary>per fleet node (${m.sandboxes.length})</summary><table><tr><th>node</th><th>environments</th><th>demand</th><th>slots</th></tr>${rows.join('')}</table></details>`);
  } else if (s && s.provider !== 'docker') {
    out.push(`<div class=mem id=mem-sandboxes data-used="${s.demand}" data-capacity="0"><div class=mh><b>sandboxes (hosted: ${esc(s.provider)})</b><span class=fig>~${s.demand} live boxes at max_inflight</span></div></div>`);
  }
  return out.join('');
}

const PHASE_TEXT: Record<PhaseKind, string> = { generate: 'generating rollouts', train: 'training', transfer: 'sending the weights', paused: 'paused for the weights', wait: 'waiting for the other side' };

/** Round numbers of seconds for the time axis: about four ticks across the step. */
function ticks(step: number): number[] {
  const raw = step / 4;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const unit = [1, 2, 2.5, 5, 10].map((m) => m * magnitude).find((u) => u >= raw) ?? 10 * magnitude;
  const out: number[] = [];
  for (let x = 0; x <= step * (1 + 1e-9); x += unit) out.push(Math.round(x * 1e6) / 1e6);
  return out;
}

function lane(id: string, title: string, figure: string, phases: Phase[], step: number): string {
  const at = (x: number) => ((x / step) * 100).toFixed(3);
  const parts = phases
    .map((p) => `<span class="ph ${p.kind}" data-kind=${p.kind} data-start="${p.startS}" data-end="${p.endS}" style="left:${at(p.startS)}%;width:${at(p.endS - p.startS)}%" title="${esc(`${PHASE_TEXT[p.kind]}: ${secondsText(p.endS - p.startS)} (${secondsText(p.startS)} – ${secondsText(p.endS)})`)}"></span>`)
    .join('');
  return `<div class=lane id=lane-${id}><div class=lh><b>${esc(title)}</b><span class=fig>${esc(figure)}</span></div><div class=track>${parts}</div></div>`;
}

/**
 * One RL step as a timeline (timeline.ts lays it out from plan.throughput): the inference pool, the trainer
 * and the weight transfer on one time axis, so which side waits, and how long, is seen at a glance.
 */
function throughputSection(plan: LaunchPlan): string {
  const t = plan.throughput;
  if (!t) return `<p class=none>No throughput estimate: ${plan.memory ? 'the inference pool has no KV-cache estimate to size its batch' : "the model's shape or a GPU type is unknown, as for the memory report (see the diagnostics)"}.</p>`;
  if (![t.step_time_s, t.generation_s, t.trainer_s, t.weight_transfer_s].every(Number.isFinite) || t.step_time_s <= 0) return '<p class=none>No throughput estimate: the inference pool completes no rollout (no decode capacity for the rollouts in flight).</p>';
  const line = stepTimeline(t);
  const step = t.step_time_s;
  const pctText = (x: number) => `${Math.round(x * 100)} %`;
  const lanes: string[] = [];
  if (line.mode !== 'trainer-only') lanes.push(lane('inference', 'inference (generation)', `${secondsText(t.generation_s)} · busy ${pctText(t.inference_busy)}`, line.inference, step));
  lanes.push(lane('trainer', 'trainer', `${secondsText(t.trainer_s)} · busy ${pctText(t.trainer_busy)}`, line.trainer, step));
  const transfer = line.trainer.filter((p) => p.kind === 'transfer');
  lanes.push(lane('transfer', 'weight transfer', `${secondsText(t.weight_transfer_s)} · ${plan.weights.broadcast === 'nccl' ? 'NCCL broadcast: trainer blocked, engines paused' : 'filesystem: trainer writes, engines load'}`, transfer, step));
  const axis = ticks(step)
    .map((x) => `<i${x > step * 0.95 ? ' class=e' : ''} style="left:${((x / step) * 100).toFixed(3)}%">${Number(x.toPrecision(6))} s</i>`)
    .join('');
  const kinds: PhaseKind[] = ['generate', 'train', 'transfer', 'paused', 'wait'];
  const used = new Set([...line.inference, ...line.trainer].map((p) => p.kind));
  const key = kinds
    .filter((k) => used.has(k))
    .map((k) => `<span><s class="ph ${k}"></s>${esc(PHASE_TEXT[k])}</span>`)
    .join('');
  const sure = accuracyText();
  return (
    `<div class=tp id=timeline data-step="${step}" data-bottleneck="${esc(t.bottleneck)}" data-mode=${line.mode}>` +
    `<div class=mh><b>step ${esc(secondsText(step))}</b><span class=fig id=bottleneck>${esc(bottleneckText(t, line))}</span></div>` +
    `${lanes.join('')}<div class=axis>${axis}</div><div class="sl key">${key}</div>` +
    `<p class=rate id=rate>${esc(rateText(t))}</p>` +
    `<div class=note>How sure: ${esc(sure.trainer)}; ${esc(sure.inference)}. Inference busy is the share of the step the pool would need at its full batch; trainer busy is training ÷ step.</div></div>`
  );
}

function diagnosticsSection(plan: LaunchPlan): string {
  if (!plan.diagnostics.length) return '<p class=none>No diagnostics.</p>';
  const rows = plan.diagnostics.map((d) => {
    const at = d.file ? `${d.file}${d.line ? `:${d.line}${d.column ? `:${d.column}` : ''}` : ''}` : '';
    return `<tr class=${d.severity}><td><span class=sev>${esc(d.severity)}</span></td><td>${esc(d.code)}</td><td>${esc(d.path ?? '')}</td><td>${esc(d.message)}${d.hint ? `<div class=hint>hint: ${esc(d.hint)}</div>` : ''}</td><td class=at>${esc(at)}</td></tr>`;
  });
  return `<table class=diag><tr><th>severity</th><th>code</th><th>key</th><th>message</th><th>where</th></tr>${rows.join('')}</table>`;
}

function resolvedSection(rows: readonly ResolvedRow[] | undefined): string {
  if (!rows || !rows.length) return '<p class=none>The resolved spec was not passed to the page.</p>';
  const body = rows.map((r) => `<tr><td>${esc(r.key)}</td><td>${esc(JSON.stringify(r.value) ?? 'null')}</td><td>${esc(r.origin)}</td></tr>`).join('');
  return `<details id=resolved-spec><summary>${rows.length} values</summary><p><input id=filter type=search placeholder="filter: key, value or file" aria-label="filter the resolved spec"></p><table class=spec><thead><tr><th>key</th><th>value</th><th>from</th></tr></thead><tbody>${body}</tbody></table></details>`;
}

function legend(plan: LaunchPlan): string {
  const m = plan.memory;
  const items = [
    ['gi', 'inference GPU'],
    ['gt', 'trainer GPU'],
    ['g0', 'idle GPU'],
  ]
    .map(([c, t]) => `<span><i class=${c}></i>${t}</span>`)
    .join('');
  const marks = ['router', 'orchestrator', 'env_server', 'sandboxes'].map((r) => `<span><s class=c${ROLE_CLASS[r]}></s>${ROLE_NAME[r]}</span>`).join('');
  const fill = m ? ` GPU cells fill to the estimated memory use of their role (trainer ${pct(m.trainer.fit_gib, m.trainer.capacity_gib)}${m.inference ? `, inference ${gpuFillText(plan)}` : ''}).` : '';
  return `<div class=legend>${items}${marks}<span class=cpu><em class=eS></em>CPU node (fleet)</span></div><p class=hintline>Hover a GPU or a node for its process, ports and peers.${fill}</p>`;
}

function gpuFill(plan: LaunchPlan): { trainer?: number; inference?: number } {
  const m = plan.memory;
  if (!m) return {};
  const out: { trainer?: number; inference?: number } = { trainer: Math.min(1, m.trainer.fit_gib / m.trainer.capacity_gib) };
  if (m.inference && plan.roles.inference && plan.cluster.gpu) {
    const pool = plan.cluster.pools.find((p) => p.name === plan.roles.inference!.pool);
    if (pool?.gpu === plan.cluster.gpu.id) out.inference = Math.min(1, (m.inference.weights_gib + m.inference.overhead_gib + m.inference.kv_cache_gib) / plan.cluster.gpu.memory_gib);
  }
  return out;
}

function gpuFillText(plan: LaunchPlan): string {
  const f = gpuFill(plan).inference;
  return f === undefined ? 'gpu_memory_utilization' : `${Math.round(f * 100)} %`;
}

// ------------------------------------------------------------------------------------------------ page

const CSS = `
:root{--I:#4e79a7;--I2:#c9d8ea;--T:#f28e2b;--T2:#fbdcba;--G0:#dadde2;--R:#76b7b2;--O:#e15759;--E:#59a14f;--S:#b07aa1;--fg:#1f2328;--mut:#656d76;--line:#d0d7de;--bg:#fff}
[hidden]{display:none!important}*{box-sizing:border-box}body{margin:0;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--fg);background:var(--bg)}
header{padding:18px 24px 10px;border-bottom:1px solid var(--line)}h1{font-size:20px;margin:0 0 4px}h1 small{font-weight:400;color:var(--mut);font-size:14px}
.facts{display:flex;flex-wrap:wrap;gap:4px 22px;color:var(--mut);font-size:13px}.facts b{color:var(--fg);font-weight:600}
main{padding:6px 24px 30px}section{margin-top:18px}h2{font-size:15px;margin:0 0 8px;border-bottom:1px solid var(--line);padding-bottom:4px}h3{font-size:13px;margin:12px 0 6px}small{color:var(--mut);font-weight:400}
.legend{display:flex;flex-wrap:wrap;gap:6px 16px;font-size:12.5px;align-items:center}.legend span{display:inline-flex;align-items:center;gap:5px}.hintline{color:var(--mut);font-size:12.5px;margin:6px 0 0}
table{border-collapse:collapse;font-size:13px}td,th{padding:3px 10px 3px 0;text-align:left;vertical-align:top}th{font-weight:600}.roles th{white-space:nowrap}.roles td:nth-child(2){white-space:nowrap;color:var(--mut)}
.gs{display:inline-flex;gap:2px}.gs .b{margin-left:4px}.gs i{display:inline-block;width:12px;height:18px;border-radius:2px}
.gi{background:linear-gradient(to top,var(--I) var(--fi,100%),var(--I2) var(--fi,100%))}.gt{background:linear-gradient(to top,var(--T) var(--ft,100%),var(--T2) var(--ft,100%))}.g0{background:var(--G0)}
.legend i{display:inline-block;width:12px;height:18px;border-radius:2px}
em{display:inline-block;width:48px;height:18px;border-radius:2px;font-style:normal}.eS{background:repeating-linear-gradient(135deg,var(--S),var(--S) 4px,#d6b9cf 4px,#d6b9cf 8px)}.eE{background:var(--E)}.e0{background:var(--G0)}
s{display:inline-block;width:9px;height:9px;border-radius:50%;text-decoration:none}.cR{background:var(--R)}.cO{background:var(--O)}.cE{background:var(--E)}.cS{background:var(--S)}.cI{background:var(--I)}.cT{background:var(--T)}.cX{background:#999}
.bar-tools{display:flex;gap:12px;align-items:center;margin-bottom:8px}button{font:inherit;font-size:12.5px;padding:3px 10px;border:1px solid var(--line);border-radius:6px;background:#f6f8fa;cursor:pointer}button:hover{background:#eef1f4}
.grouped{display:grid;grid-template-columns:max-content max-content max-content max-content 1fr;gap:5px 14px;align-items:center}.grp{display:contents}.grp>span{cursor:default}.grp .w{font-variant-numeric:tabular-nums;white-space:nowrap}.grp .rl{color:var(--mut);white-space:nowrap}.grp .ps{color:var(--mut);font-size:12.5px;overflow:hidden;text-overflow:ellipsis;white-space:nowrap}.grp .ch{display:inline-flex;gap:3px;min-width:12px}
.grp:hover>span{background:#f3f6fa}
.tiles{display:flex;flex-wrap:wrap;gap:4px}.node{display:inline-flex;align-items:center;gap:4px;border:1px solid var(--line);border-radius:4px;padding:2px 4px;background:#fff}.node b{font-size:10.5px;font-weight:500;color:var(--mut);min-width:var(--lw,2ch);text-align:right;font-variant-numeric:tabular-nums}.node .gs i{width:7px;height:14px}.node em{width:28px;height:14px}.node .ch{display:inline-flex;flex-direction:column;gap:1px}.node s{width:6px;height:6px}.node:hover{border-color:#888}
.mem{margin:0 0 14px;max-width:980px}.mh{display:flex;gap:14px;align-items:baseline}.mh .fig{font-variant-numeric:tabular-nums}.mh .pc{margin-left:auto;font-variant-numeric:tabular-nums;color:var(--mut)}
.bar{position:relative;display:flex;height:18px;background:#eef0f3;border-radius:3px;overflow:hidden;margin:3px 0}.bar span{height:100%}.bar .cap{position:absolute;top:0;bottom:0;width:2px;background:#000}
.mem.over .pc{color:#c62828;font-weight:600}.mem.unknown .pc{color:var(--mut)}.mem.tight .pc{color:#b26a00;font-weight:600}.sl{display:flex;flex-wrap:wrap;gap:2px 14px;font-size:12px;color:var(--mut)}.sl s{border-radius:2px;margin-right:4px}.note{font-size:12px;color:var(--mut)}
.fleet{font-size:12.5px;margin:-6px 0 14px}.num{text-align:right;font-variant-numeric:tabular-nums}tr.over td{color:#c62828}
.tp{max-width:980px}.tp .mh{margin-bottom:6px}.lane{margin:0 0 6px}.lh{display:flex;gap:14px;align-items:baseline;font-size:13px}.lh .fig{color:var(--mut);font-variant-numeric:tabular-nums}
.track{position:relative;height:18px;background:#eef0f3;border-radius:3px;overflow:hidden;margin:2px 0}.ph{position:absolute;top:0;bottom:0;min-width:2px}s.ph{position:static;display:inline-block;width:12px;height:10px;border-radius:2px;margin-right:4px}
.ph.generate{background:var(--I)}.ph.train{background:var(--T)}.ph.transfer{background:var(--O)}.ph.paused{background:repeating-linear-gradient(135deg,var(--O),var(--O) 3px,#f3b6b7 3px,#f3b6b7 6px)}.ph.wait{background:#d6dae0}
.axis{position:relative;height:16px;border-top:1px solid #888;font-size:11px;color:var(--mut);margin-bottom:4px}.axis i{position:absolute;top:0;font-style:normal;transform:translateX(-50%);padding-top:1px;white-space:nowrap}.axis i:first-child{transform:none}.axis i.e{transform:translateX(-100%)}.key{margin:6px 0 2px}.rate{margin:4px 0;font-variant-numeric:tabular-nums}
.diag td{border-top:1px solid #eaeef2}.sev{font-size:11.5px;padding:1px 6px;border-radius:8px;background:#eaeef2}.error .sev{background:#ffebe9;color:#c62828}.warning .sev{background:#fff4d6;color:#8a5a00}.info .sev{background:#ddf4ff;color:#0a5a8a}.hint{color:var(--mut);font-size:12.5px}.at{color:var(--mut);white-space:nowrap}
.spec td{border-top:1px solid #eaeef2;font-family:ui-monospace,SFMono-Regular,Menlo,monospace;font-size:12px}.spec td:nth-child(2){max-width:520px;overflow-wrap:anywhere}.spec td:nth-child(3){color:var(--mut)}summary{cursor:pointer;color:var(--mut)}#filter{font:inherit;font-size:12.5px;margin-left:6px;padding:1px 6px;width:220px}
.none{color:var(--mut)}footer{padding:10px 24px 24px;color:var(--mut);font-size:12px}
#tip{position:fixed;z-index:10;max-width:560px;background:#1f2328;color:#f6f8fa;border-radius:6px;padding:8px 10px;font-size:12.5px;pointer-events:none;box-shadow:0 4px 14px rgba(0,0,0,.25)}#tip .t{font-weight:600;margin-bottom:4px}#tip table{font-size:12px;color:#f6f8fa}#tip td{padding:1px 10px 1px 0}#tip td:first-child{color:#9aa4ae;white-space:nowrap}#tip .p{margin-top:5px;border-top:1px solid #444c56;padding-top:4px}
`;

/** The page's script: toggles, filter and the hover card, all built with textContent. */
const JS = `
(function(){
var D=JSON.parse(document.getElementById('plan-data').textContent);
var tip=document.getElementById('tip');
function el(tag,cls,text){var e=document.createElement(tag);if(cls)e.className=cls;if(text!=null)e.textContent=text;return e;}
function rows(t,pairs){for(var i=0;i<pairs.length;i++){var tr=el('tr');tr.appendChild(el('td',null,pairs[i][0]));tr.appendChild(el('td',null,pairs[i][1]));t.appendChild(tr);}return t;}
function proc(k){var p=D.procs[k];return [['process',p[0]+' ('+p[1]+')'],['GPUs',p[3]],['ports',p[4]],['ready',p[5]],['starts after',p[6]],['peers',p[7]]];}
function nodeCard(n,extra){var d=D.nodes[n];var box=el('div');box.appendChild(el('div','t',(extra?extra+' — ':'')+d[0]+' ('+d[1]+' pool)'));
rows(box.appendChild(el('table')),[['host',d[2]==null?'known at run time':d[2]],['roles',d[3]]]);
var ps=d[5];if(!ps.length)box.appendChild(el('div','p','no processes'));
for(var i=0;i<ps.length&&i<8;i++){var p=D.procs[ps[i]];var s=el('div','p');s.appendChild(el('b',null,p[0]));rows(s.appendChild(el('table')),[['ports',p[4]],['peers',p[7]]]);box.appendChild(s);}
if(ps.length>8)box.appendChild(el('div','p','… and '+(ps.length-8)+' more processes'));return box;}
function gpuCard(n,g,extra){var d=D.nodes[n];var k=d[4][g];var box=el('div');
box.appendChild(el('div','t',(extra?extra+' — ':'')+d[0]+' · GPU '+g+' · '+(k<0?'idle':D.procs[k][1])));
if(k>=0)rows(box.appendChild(el('table')),proc(k));else box.appendChild(el('div',null,'no process uses this GPU'));return box;}
function place(e){var x=e.clientX+14,y=e.clientY+14,w=tip.offsetWidth,h=tip.offsetHeight;if(x+w>innerWidth-8)x=Math.max(8,e.clientX-w-14);if(y+h>innerHeight-8)y=Math.max(8,e.clientY-h-14);tip.style.left=x+'px';tip.style.top=y+'px';}
document.addEventListener('mouseover',function(e){var t=e.target;var host=t.closest?t.closest('[data-n]'):null;if(!host){tip.hidden=true;return;}
var n=+host.getAttribute('data-n');var count=+(host.getAttribute('data-count')||1);var extra=count>1?count+' nodes like this, shown for the first':'';
var card;if(t.tagName==='I'&&t.parentNode.className==='gs'){card=gpuCard(n,Array.prototype.indexOf.call(t.parentNode.children,t),extra);}else card=nodeCard(n,extra);
tip.replaceChildren(card);tip.hidden=false;place(e);});
document.addEventListener('mousemove',function(e){if(!tip.hidden)place(e);});
var btn=document.getElementById('toggle');btn.addEventListener('click',function(){var g=document.getElementById('grouped'),a=document.getElementById('every');var all=a.hidden;a.hidden=!all;g.hidden=all;btn.textContent=all?'group identical nodes':'show every node';btn.setAttribute('aria-pressed',String(all));});
var f=document.getElementById('filter');if(f){f.addEventListener('input',function(){var q=f.value.toLowerCase();var rs=document.querySelectorAll('.spec tbody tr');for(var i=0;i<rs.length;i++)rs[i].hidden=q!==''&&rs[i].textContent.toLowerCase().indexOf(q)<0;});}
})();
`;

export function renderPlanHtml(plan: HtmlPlan): string {
  const m = plan.model;
  const fill = gpuFill(plan);
  const fillVars = `${fill.trainer !== undefined ? `--ft:${(fill.trainer * 100).toFixed(1)}%;` : ''}${fill.inference !== undefined ? `--fi:${(fill.inference * 100).toFixed(1)}%;` : ''}`;
  const pools = plan.cluster.pools.map((p) => `${p.name === 'default' ? '' : `${p.name}: `}${p.nodes} × ${p.gpus_per_node > 0 ? `${p.gpus_per_node} ${p.gpu ?? ''}` : 'CPU'}`).join('; ');
  const gpus = plan.nodes.reduce((a, n) => a + n.gpus.length, 0);
  const params = m.parameters ? `, ${(m.parameters / 1e9).toFixed(1)}B params${m.active_parameters && m.active_parameters !== m.parameters ? ` (${(m.active_parameters / 1e9).toFixed(1)}B active)` : ''}` : '';
  const errors = plan.diagnostics.filter((d) => d.severity === 'error').length;
  const warnings = plan.diagnostics.filter((d) => d.severity === 'warning').length;
  const infos = plan.diagnostics.length - errors - warnings;
  const data = JSON.stringify(hoverData(plan)).replace(/</g, '\\u003c');
  return `<!doctype html>
<html lang=en>
<head>
<meta charset=utf-8>
<meta name=viewport content="width=device-width,initial-scale=1">
<meta name=generator content="rlstack ${esc(plan.rlstack_version)}">
<title>rlstack plan — ${esc(plan.run.name)}</title>
<style>${CSS}</style>
</head>
<body style="${fillVars}">
<header>
<h1>rlstack plan — run ${esc(plan.run.name)} <small>rlstack ${esc(plan.rlstack_version)}${plan.spec_file ? ` · ${esc(plan.spec_file)}` : ''}</small></h1>
<div class=facts><span>run dir <b>${esc(plan.run.dir)}</b> (${plan.run.max_steps} steps)</span><span>cluster <b id=cluster-size data-nodes=${plan.nodes.length} data-gpus=${gpus}>${esc(pools)}</b> · ${esc(plan.cluster.backend)}</span><span>model <b>${esc(m.name)}</b> (${esc(m.arch ?? 'inline architecture')}${esc(params)}), seq_len ${m.seq_len}</span><span>diagnostics <b id=diagnostic-counts>${errors} error${errors === 1 ? '' : 's'}, ${warnings} warning${warnings === 1 ? '' : 's'}, ${infos} info${infos === 1 ? '' : 's'}</b></span></div>
</header>
<main>
<section id=legend><h2>Legend</h2>${legend(plan)}</section>
<section id=roles><h2>Roles</h2>${roleRows(plan)}</section>
<section id=cluster><h2>Cluster <small>${plan.nodes.length} nodes, ${gpus} GPUs</small></h2><div class=bar-tools><button id=toggle type=button aria-pressed=false>show every node</button><small>grouped: consecutive nodes that do the same thing share one row</small></div>${groupedView(plan)}${everyNodeView(plan)}</section>
<section id=memory><h2>Memory <small>estimates; docs/memory-model.md</small></h2>${memorySection(plan)}</section>
<section id=throughput><h2>Throughput <small>one RL step at steady state, estimates; docs/throughput-model.md</small></h2>${throughputSection(plan)}</section>
<section id=diagnostics><h2>Diagnostics</h2>${diagnosticsSection(plan)}</section>
<section id=resolved><h2>Resolved spec <small>every value and where it came from</small></h2>${resolvedSection(plan.resolved)}</section>
</main>
<footer>Generated by rlstack ${esc(plan.rlstack_version)} from the plan of <code>rlstack plan${plan.spec_file ? ` ${esc(plan.spec_file)}` : ''} --json</code>; a self-contained page (no network).</footer>
<div id=tip role=tooltip hidden></div>
<script type="application/json" id=plan-data>${data}</script>
<script>${JS}</script>
</body>
</html>
`;
}
