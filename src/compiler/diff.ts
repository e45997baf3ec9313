/**
 * diff: two compiled runs (a plan and its generated files) → what changes, as `+ ~ -` records grouped by
 * node and component, the way `terraform plan` shows a change. Pure: no files are read here (the CLI's
 * `rlstack diff` loads specs and compiled folders; `launch` compares a resumed run with the plan it was
 * launched with).
 *
 * Nodes are matched by pool and index within the pool; the processes of a node by kind (`trainer-N`,
 * `inference-N`, `router`, …) in order, so a node that keeps its job but whose process is renumbered shows
 * one `~`, not a `-` and a `+`. Consecutive nodes whose changes differ only in numbers are printed once,
 * the varying numbers written as ranges (`trainer-{1..15}`), so 1024 nodes read like 64.
 */
import { parse as parseToml } from 'smol-toml';
import { plainStyle, type Style } from './diagnostics/render.js';
import type { Artifact } from './emit/artifacts.js';
import { numberRanges } from './plan/hostlist.js';
import type { LaunchPlan, PlanNode, PlanProcess } from './plan/types.js';

/** A plan and the files compiled with it (path → text): what `compile -o DIR` writes, read back. */
export interface Compiled {
  plan: LaunchPlan;
  /** Every generated file the diff compares, by artifact path: `configs/**.toml`, node.sh, slurm/job.sbatch, ssh/hosts. */
  files: Record<string, string>;
}

export type Op = '+' | '~' | '-';
export type Component = 'placement' | 'processes' | 'ports' | 'plan' | 'memory' | 'configs' | 'artifacts' | 'diagnostics';
export const COMPONENTS: readonly Component[] = ['placement', 'processes', 'ports', 'plan', 'memory', 'configs', 'artifacts', 'diagnostics'];

export interface Change {
  op: Op;
  component: Component;
  /** Where: `node 3`, `cpu node 0` for node changes; the artifact path for file changes; else the component. */
  scope: string;
  /** The node, for placement, processes and ports. */
  node?: { pool: string; pool_index: number };
  /** What changed within the scope: `roles`, `trainer-0 command`, `model.seq_len`, … */
  key: string;
  before?: unknown;
  after?: unknown;
  /** A short remark: where a process moved from or to. */
  note?: string;
}

export interface PlanDiff {
  identical: boolean;
  changes: Change[];
  summary: { added: number; changed: number; removed: number; total: number; by_component: Partial<Record<Component, { added: number; changed: number; removed: number }>> };
}

/** The files of `compile -o DIR` the diff reads (plan.json separately): prime-rl configs and the launch scripts. */
export function isComparedArtifact(path: string): boolean {
  return (path.startsWith('configs/') && path.endsWith('.toml')) || path === 'node.sh' || path === 'slurm/job.sbatch' || path === 'ssh/hosts';
}

/** The Compiled form of freshly rendered artifacts: plan.json parsed back, as a compiled folder would give it. */
export function compiledFromArtifacts(artifacts: readonly Artifact[]): Compiled {
  const planFile = artifacts.find((a) => a.path === 'plan.json');
  if (!planFile) throw new Error('artifacts without plan.json');
  const files: Record<string, string> = {};
  for (const a of artifacts) if (isComparedArtifact(a.path)) files[a.path] = a.content;
  return { plan: JSON.parse(planFile.content) as LaunchPlan, files };
}

// ------------------------------------------------------------------------------------------------ diff

export function diffCompiled(a: Compiled, b: Compiled): PlanDiff {
  const changes: Change[] = [...diffNodes(a.plan, b.plan), ...diffPlanFields(a.plan, b.plan), ...diffMemory(a.plan, b.plan), ...diffFiles(a.files, b.files), ...diffDiagnostics(a.plan, b.plan)];
  return { identical: changes.length === 0, changes, summary: summarize(changes) };
}

function summarize(changes: readonly Change[]): PlanDiff['summary'] {
  const by: PlanDiff['summary']['by_component'] = {};
  const count = { added: 0, changed: 0, removed: 0 };
  for (const c of changes) {
    const field = c.op === '+' ? 'added' : c.op === '-' ? 'removed' : 'changed';
    count[field]++;
    const entry = (by[c.component] ??= { added: 0, changed: 0, removed: 0 });
    entry[field]++;
  }
  return { ...count, total: changes.length, by_component: by };
}

type NodeKey = string;
const nodeKey = (n: { pool: string; pool_index: number }): NodeKey => `${n.pool}\u0000${n.pool_index}`;

export function nodeLabel(pool: string, index: number | string): string {
  return pool === 'default' ? `node ${index}` : `${pool} node ${index}`;
}

function kindOf(name: string): string {
  return name.replace(/\d+$/, 'N');
}

function diffNodes(a: LaunchPlan, b: LaunchPlan): Change[] {
  const out: Change[] = [];
  const aNodes = new Map(a.nodes.map((n) => [nodeKey(n), n]));
  const bNodes = new Map(b.nodes.map((n) => [nodeKey(n), n]));
  const aProcs = new Map(a.processes.map((p) => [p.name, p]));
  const bProcs = new Map(b.processes.map((p) => [p.name, p]));
  const where = (plan: LaunchPlan, proc: PlanProcess | undefined) => {
    const n = proc && plan.nodes[proc.node];
    return n ? nodeLabel(n.pool, n.pool_index) : undefined;
  };
  // Pools in B's order, then pools only A has; nodes by index within the pool.
  const pools = [...new Set([...b.nodes.map((n) => n.pool), ...a.nodes.map((n) => n.pool)])];
  for (const pool of pools) {
    const size = Math.max(a.nodes.filter((n) => n.pool === pool).length, b.nodes.filter((n) => n.pool === pool).length);
    for (let i = 0; i < size; i++) {
      const key = nodeKey({ pool, pool_index: i });
      const na = aNodes.get(key);
      const nb = bNodes.get(key);
      const scope = nodeLabel(pool, i);
      const node = { pool, pool_index: i };
      const add = (c: Omit<Change, 'scope' | 'node'>) => out.push({ ...c, scope, node });
      if (!na && nb) {
        add({ op: '+', component: 'placement', key: 'node', after: describeNode(nb) });
        for (const name of nb.processes) add({ op: '+', component: 'processes', key: name, after: describeProcess(bProcs.get(name)!), ...moved('from', aProcs.get(name), a) });
        continue;
      }
      if (na && !nb) {
        add({ op: '-', component: 'placement', key: 'node', before: describeNode(na) });
        for (const name of na.processes) add({ op: '-', component: 'processes', key: name, before: describeProcess(aProcs.get(name)!), ...moved('to', bProcs.get(name), b) });
        continue;
      }
      if (!na || !nb) continue;
      // placement
      const rolesA = roleText(na);
      const rolesB = roleText(nb);
      if (rolesA !== rolesB) add({ op: '~', component: 'placement', key: 'roles', before: rolesA, after: rolesB });
      const gpusA = gpuText(na);
      const gpusB = gpuText(nb);
      if (gpusA !== gpusB) add({ op: '~', component: 'placement', key: 'gpus', before: gpusA, after: gpusB });
      if (na.host !== nb.host) add({ op: '~', component: 'placement', key: 'host', before: na.host, after: nb.host });
      // processes, paired by kind in order
      const pa = na.processes.map((n) => aProcs.get(n)!);
      const pb = nb.processes.map((n) => bProcs.get(n)!);
      const unmatchedB = new Set(pb);
      const pairs: [PlanProcess, PlanProcess][] = [];
      const removed: PlanProcess[] = [];
      for (const p of pa) {
        const same = pb.find((q) => unmatchedB.has(q) && q.name === p.name) ?? pb.find((q) => unmatchedB.has(q) && kindOf(q.name) === kindOf(p.name) && q.role === p.role);
        if (same) {
          unmatchedB.delete(same);
          pairs.push([p, same]);
        } else removed.push(p);
      }
      for (const p of removed) add({ op: '-', component: 'processes', key: p.name, before: describeProcess(p), ...moved('to', bProcs.get(p.name), b) });
      for (const q of pb.filter((x) => unmatchedB.has(x))) add({ op: '+', component: 'processes', key: q.name, after: describeProcess(q), ...moved('from', aProcs.get(q.name), a) });
      for (const [p, q] of pairs) for (const c of diffProcess(p, q)) add(c);
      // ports of the node
      const portsA = nodePorts(na, aProcs);
      const portsB = nodePorts(nb, bProcs);
      if (portsA !== portsB) add({ op: '~', component: 'ports', key: 'listening', before: portsA, after: portsB });
    }
  }
  return out;

  function moved(direction: 'from' | 'to', other: PlanProcess | undefined, otherPlan: LaunchPlan): { note?: string } {
    const w = where(otherPlan, other);
    return w ? { note: `${direction === 'from' ? 'moved from' : 'moves to'} ${w}` } : {};
  }
}

function roleText(n: PlanNode): string {
  return n.roles.length ? n.roles.join('+') : 'unused';
}

/** `0-3 inference-0, 4-7 inference-1`; idle GPUs as `idle`; `-` for a CPU node. */
function gpuText(n: PlanNode): string {
  if (!n.gpus.length) return '-';
  const runs: { first: number; last: number; what: string }[] = [];
  for (const g of n.gpus) {
    const what = g.process ?? (g.role ? g.role : 'idle');
    const last = runs[runs.length - 1];
    if (last && last.what === what && last.last === g.index - 1) last.last = g.index;
    else runs.push({ first: g.index, last: g.index, what });
  }
  return runs.map((r) => `${r.first === r.last ? r.first : `${r.first}-${r.last}`} ${r.what}`).join(', ');
}

function nodePorts(n: PlanNode, procs: Map<string, PlanProcess>): string {
  const ports = n.processes.flatMap((name) => procs.get(name)?.ports ?? []).sort((x, y) => x - y);
  return ports.length ? ports.join(' ') : '-';
}

function describeNode(n: PlanNode): string {
  return `${roleText(n)}; GPUs ${gpuText(n)}`;
}

function describeProcess(p: PlanProcess): string {
  const parts: string[] = [p.role];
  if (p.gpus.length) parts.push(`GPUs ${numberRanges(p.gpus)}`);
  if (p.ports.length) parts.push(`ports ${p.ports.join(' ')}`);
  return parts.join(', ');
}

function diffProcess(p: PlanProcess, q: PlanProcess): Omit<Change, 'scope' | 'node'>[] {
  const out: Omit<Change, 'scope' | 'node'>[] = [];
  const change = (what: string, before: unknown, after: unknown, op: Op = '~') => out.push({ op, component: 'processes', key: `${q.name} ${what}`, before, after });
  if (p.name !== q.name) change('name', p.name, q.name);
  if (p.role !== q.role) change('role', p.role, q.role);
  if (p.gpus.join(',') !== q.gpus.join(',')) change('gpus', numberRanges(p.gpus) || '-', numberRanges(q.gpus) || '-');
  if (p.ports.join(',') !== q.ports.join(',')) change('ports', p.ports.join(' ') || '-', q.ports.join(' ') || '-');
  if (p.ready !== q.ready) change('ready', p.ready, q.ready);
  if (p.order !== q.order) change('order', p.order, q.order);
  const afterA = new Set(p.after);
  const afterB = new Set(q.after);
  const lost = p.after.filter((x) => !afterB.has(x));
  const gained = q.after.filter((x) => !afterA.has(x));
  if (gained.length) change('after', undefined, nameRanges(gained), '+');
  if (lost.length) change('after', nameRanges(lost), undefined, '-');
  const secretsA = [...p.secrets].sort().join(' ');
  const secretsB = [...q.secrets].sort().join(' ');
  if (secretsA !== secretsB) change('secrets', secretsA || '-', secretsB || '-');
  for (const key of [...new Set([...Object.keys(p.env), ...Object.keys(q.env)])].sort()) {
    const x = p.env[key];
    const y = q.env[key];
    if (x === y) continue;
    if (x === undefined) change(`env ${key}`, undefined, y, '+');
    else if (y === undefined) change(`env ${key}`, x, undefined, '-');
    else change(`env ${key}`, x, y);
  }
  for (const h of wordHunks(p.command, q.command)) {
    if (!h.before.length) change('command', undefined, argvText(h.after), '+');
    else if (!h.after.length) change('command', argvText(h.before), undefined, '-');
    else change('command', argvText(h.before), argvText(h.after));
  }
  return out;
}

function argvText(words: readonly string[]): string {
  return words.map((w) => (w === '' || /[\s"'\\]/.test(w) ? JSON.stringify(w) : w)).join(' ');
}

/** Process names compressed by kind: `inference-0..47, router`. */
export function nameRanges(names: readonly string[]): string {
  const byPrefix = new Map<string, number[]>();
  const plain: string[] = [];
  for (const name of names) {
    const m = /^(.*-)(\d+)$/.exec(name);
    const prefix = m?.[1];
    const digits = m?.[2];
    if (prefix !== undefined && digits !== undefined && (digits === '0' || !digits.startsWith('0'))) byPrefix.set(prefix, [...(byPrefix.get(prefix) ?? []), Number(digits)]);
    else plain.push(name);
  }
  const parts = [...byPrefix].map(([prefix, numbers]) => {
    const sorted = [...numbers].sort((x, y) => x - y);
    return sorted.length === 1 ? `${prefix}${sorted[0]}` : `${prefix}{${numberRanges(sorted).replace(/-/g, '..')}}`;
  });
  return [...parts, ...plain].join(', ');
}

interface Hunk {
  before: string[];
  after: string[];
  /** Where the hunk starts in the second list (0-based). */
  at: number;
}

/** Changed runs between two word lists (LCS over the middle that differs; one replacement when that is huge). */
export function wordHunks(a: readonly string[], b: readonly string[]): Hunk[] {
  let start = 0;
  while (start < a.length && start < b.length && a[start] === b[start]) start++;
  let endA = a.length;
  let endB = b.length;
  while (endA > start && endB > start && a[endA - 1] === b[endB - 1]) {
    endA--;
    endB--;
  }
  const x = a.slice(start, endA);
  const y = b.slice(start, endB);
  if (!x.length && !y.length) return [];
  if (!x.length || !y.length || x.length * y.length > 4_000_000) return [{ before: x, after: y, at: start }];
  // LCS table from the end, then walk forward collecting runs that differ.
  const w = y.length + 1;
  const lcs = new Uint32Array((x.length + 1) * w);
  for (let i = x.length - 1; i >= 0; i--) {
    for (let j = y.length - 1; j >= 0; j--) {
      lcs[i * w + j] = x[i] === y[j] ? lcs[(i + 1) * w + j + 1]! + 1 : Math.max(lcs[(i + 1) * w + j]!, lcs[i * w + j + 1]!);
    }
  }
  const hunks: Hunk[] = [];
  let current: Hunk | undefined;
  let i = 0;
  let j = 0;
  const flush = () => {
    if (current) hunks.push(current);
    current = undefined;
  };
  while (i < x.length || j < y.length) {
    if (i < x.length && j < y.length && x[i] === y[j]) {
      flush();
      i++;
      j++;
    } else if (j < y.length && (i === x.length || lcs[i * w + j + 1]! >= lcs[(i + 1) * w + j]!)) {
      (current ??= { before: [], after: [], at: start + j }).after.push(y[j++]!);
    } else {
      (current ??= { before: [], after: [], at: start + j }).before.push(x[i++]!);
    }
  }
  flush();
  return hunks;
}

// ------------------------------------------------------------------------------------------------ fields

type Leaf = [string, unknown];

/** Leaves of a JSON value: tables by key, arrays of named tables by name, other arrays whole. */
export function leaves(value: unknown, prefix = ''): Leaf[] {
  const join = (key: string) => (prefix ? `${prefix}.${key}` : key);
  if (Array.isArray(value)) {
    const keyOf = arrayKey(value);
    if (keyOf) return value.flatMap((item) => leaves(item, `${prefix}[${keyOf(item)}]`));
    return [[prefix, value]];
  }
  if (value && typeof value === 'object' && !(value instanceof Date)) {
    const entries = Object.entries(value as Record<string, unknown>);
    if (!entries.length) return prefix ? [[prefix, value]] : [];
    return entries.flatMap(([k, v]) => leaves(v, join(/^[A-Za-z0-9_-]+$/.test(k) ? k : JSON.stringify(k))));
  }
  return [[prefix, value]];
}

/** How the items of an array of tables are told apart: by `name`, by `environments`, else by position. */
function arrayKey(items: unknown[]): ((item: unknown) => string) | undefined {
  if (!items.length || !items.every((v) => v && typeof v === 'object' && !Array.isArray(v))) return undefined;
  const tables = items as Record<string, unknown>[];
  const unique = (f: (t: Record<string, unknown>) => unknown) => {
    const keys = tables.map(f);
    return keys.every((k) => typeof k === 'string' && k !== '') && new Set(keys).size === keys.length;
  };
  if (unique((t) => t['name'])) return (t) => `name=${String((t as Record<string, unknown>)['name'])}`;
  if (unique((t) => (Array.isArray(t['environments']) ? (t['environments'] as unknown[]).join('+') : undefined))) {
    return (t) => `environments=${((t as Record<string, unknown>)['environments'] as unknown[]).join('+')}`;
  }
  const indexOf = new Map(items.map((t, i) => [t, i]));
  return (t) => String(indexOf.get(t));
}

function diffLeaves(before: unknown, after: unknown, make: (op: Op, key: string, b?: unknown, a?: unknown) => Change): Change[] {
  const a = new Map(leaves(before));
  const b = new Map(leaves(after));
  const out: Change[] = [];
  for (const [key, value] of a) {
    if (!b.has(key)) out.push(make('-', key, value));
    else if (!sameValue(value, b.get(key))) out.push(make('~', key, value, b.get(key)));
  }
  for (const [key, value] of b) if (!a.has(key)) out.push(make('+', key, undefined, value));
  return out;
}

function sameValue(x: unknown, y: unknown): boolean {
  return JSON.stringify(x) === JSON.stringify(y);
}

function diffPlanFields(a: LaunchPlan, b: LaunchPlan): Change[] {
  const pick = (p: LaunchPlan) => ({ rlstack_version: p.rlstack_version, run: p.run, cluster: p.cluster, model: p.model, roles: p.roles, weights: p.weights });
  return diffLeaves(pick(a), pick(b), (op, key, before, after) => ({ op, component: 'plan', scope: 'plan', key, before, after }));
}

function diffMemory(a: LaunchPlan, b: LaunchPlan): Change[] {
  return diffLeaves(a.memory ?? {}, b.memory ?? {}, (op, key, before, after) => ({ op, component: 'memory', scope: 'memory', key, before, after }));
}

function diffFiles(a: Record<string, string>, b: Record<string, string>): Change[] {
  const out: Change[] = [];
  const paths = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort(configOrder);
  for (const path of paths) {
    const x = a[path];
    const y = b[path];
    if (x === y) continue;
    const isConfig = path.endsWith('.toml');
    const component: Component = isConfig ? 'configs' : 'artifacts';
    if (x === undefined || y === undefined) {
      const text = (x ?? y)!;
      out.push({ op: x === undefined ? '+' : '-', component, scope: path, key: 'file', [x === undefined ? 'after' : 'before']: isConfig ? `${leaves(tomlOf(text)).length} keys` : `${text.split('\n').length - 1} lines` });
      if (isConfig) out.push(...diffLeaves(x === undefined ? {} : tomlOf(x), y === undefined ? {} : tomlOf(y), (op, key, before, after) => ({ op, component, scope: path, key, before, after })));
      continue;
    }
    if (isConfig) {
      out.push(...diffLeaves(tomlOf(x), tomlOf(y), (op, key, before, after) => ({ op, component, scope: path, key, before, after })));
      continue;
    }
    // Other artifacts: changed lines, comments and blank lines included (they are generated too).
    const la = x.split('\n');
    const lb = y.split('\n');
    for (const h of wordHunks(la, lb)) {
      const key = `line ${h.at + 1}`;
      if (!h.before.length) out.push({ op: '+', component, scope: path, key, after: h.after.join('\n') });
      else if (!h.after.length) out.push({ op: '-', component, scope: path, key, before: h.before.join('\n') });
      else out.push({ op: '~', component, scope: path, key, before: h.before.join('\n'), after: h.after.join('\n') });
    }
  }
  return out;
}

/** trainer, orchestrator, inference first, then environment configs, then the rest. */
function configOrder(x: string, y: string): number {
  const rank = (p: string) => (p === 'configs/trainer.toml' ? 0 : p === 'configs/orchestrator.toml' ? 1 : p === 'configs/inference.toml' ? 2 : p.startsWith('configs/') ? 3 : 4);
  return rank(x) - rank(y) || x.localeCompare(y, 'en', { numeric: true });
}

function tomlOf(text: string): Record<string, unknown> {
  return parseToml(text) as Record<string, unknown>;
}

function diffDiagnostics(a: LaunchPlan, b: LaunchPlan): Change[] {
  const text = (d: LaunchPlan['diagnostics'][number]) => `${d.severity} ${d.code}${d.path ? ` ${d.path}` : ''}: ${d.message}`;
  const x = new Set(a.diagnostics.map(text));
  const y = new Set(b.diagnostics.map(text));
  return [
    ...[...x].filter((t) => !y.has(t)).map((t): Change => ({ op: '-', component: 'diagnostics', scope: 'diagnostics', key: t })),
    ...[...y].filter((t) => !x.has(t)).map((t): Change => ({ op: '+', component: 'diagnostics', scope: 'diagnostics', key: t })),
  ];
}

// ------------------------------------------------------------------------------------------------ text

function valueText(v: unknown): string {
  if (v === undefined) return '';
  if (typeof v === 'string') return v;
  return JSON.stringify(v);
}

/** One change as text without its scope: `~ model.seq_len  32768 → 65536`. */
export function changeLine(c: Change): string {
  const note = c.note ? `  (${c.note})` : '';
  const multi = (s: string) => s.replace(/\n/g, '⏎');
  if (c.op === '~') return `~ ${c.key}  ${multi(valueText(c.before))} → ${multi(valueText(c.after))}${note}`;
  const v = c.op === '+' ? c.after : c.before;
  return `${c.op} ${c.key}${v === undefined ? '' : `  ${multi(valueText(v))}`}${note}`;
}

interface NodeBlock {
  pool: string;
  indices: number[];
  /** Lines per component, in component order; equal across the block after number folding. */
  lines: [Component, string[]][];
}

/** The whole diff as text: node blocks (grouped), then plan, memory, each file, diagnostics, and the summary. */
export function renderDiff(diff: PlanDiff, labels: { a: string; b: string }, style: Style = plainStyle): string {
  const out: string[] = [];
  out.push(style.bold(`rlstack diff`) + `  ${labels.a} → ${labels.b}`);
  if (diff.identical) {
    out.push('', 'no changes: both compile to the same plan, configs and launch scripts.');
    return out.join('\n');
  }
  const colour = (line: string) => (line.startsWith('+') ? style.cyan(line) : line.startsWith('-') ? style.red(line) : style.yellow(line));
  // The count first: a reader (or `| head -3`) knows the size of the change before its 200 lines.
  out.push(summaryLine(diff));

  for (const block of nodeBlocks(diff.changes)) {
    out.push('');
    const first = block.indices[0]!;
    const last = block.indices[block.indices.length - 1]!;
    out.push(style.bold(block.indices.length === 1 ? nodeLabel(block.pool, first) : `${block.pool === 'default' ? 'nodes' : `${block.pool} nodes`} ${first}-${last} (${block.indices.length})`));
    for (const [component, lines] of block.lines) {
      out.push(`  ${style.dim(component)}`);
      for (const line of lines) out.push(`    ${colour(line)}`);
    }
  }
  const scoped = new Map<string, Change[]>();
  for (const c of diff.changes) {
    if (c.node) continue;
    scoped.set(c.scope, [...(scoped.get(c.scope) ?? []), c]);
  }
  for (const [scope, changes] of scoped) {
    out.push('', style.bold(scope));
    for (const line of foldRuns(changes.map(changeLine))) out.push(`  ${colour(line)}`);
  }
  return out.join('\n');
}

export function summaryLine(diff: PlanDiff): string {
  const s = diff.summary;
  const nodes = new Set(diff.changes.filter((c) => c.node).map((c) => nodeKey(c.node!))).size;
  const files = new Set(diff.changes.filter((c) => c.component === 'configs' || c.component === 'artifacts').map((c) => c.scope)).size;
  const parts = COMPONENTS.filter((c) => s.by_component[c]).map((c) => {
    const e = s.by_component[c]!;
    return `${c} ${[e.added && `+${e.added}`, e.changed && `~${e.changed}`, e.removed && `-${e.removed}`].filter(Boolean).join(' ')}`;
  });
  const where = [nodes ? `on ${nodes} node${nodes === 1 ? '' : 's'}` : '', files ? `in ${files} file${files === 1 ? '' : 's'}` : ''].filter(Boolean).join(' and ');
  return `${s.total} change${s.total === 1 ? '' : 's'} (${s.added} to add, ${s.changed} to change, ${s.removed} to remove)${where ? ` ${where}` : ''}: ${parts.join(', ')}`;
}

function nodeBlocks(changes: readonly Change[]): NodeBlock[] {
  const perNode = new Map<NodeKey, { pool: string; index: number; changes: Change[] }>();
  for (const c of changes) {
    if (!c.node) continue;
    const key = nodeKey(c.node);
    const entry = perNode.get(key) ?? { pool: c.node.pool, index: c.node.pool_index, changes: [] };
    entry.changes.push(c);
    perNode.set(key, entry);
  }
  const nodes = [...perNode.values()];
  const blocks: { pool: string; indices: number[]; texts: [Component, string[]][][]; shape: string }[] = [];
  for (const n of nodes) {
    const byComponent: [Component, string[]][] = COMPONENTS.map((comp): [Component, string[]] => [comp, foldRuns(n.changes.filter((c) => c.component === comp).map(changeLine))]).filter(([, l]) => l.length > 0);
    const shape = JSON.stringify(byComponent.map(([comp, lines]) => [comp, lines.map(shapeOf)]));
    const last = blocks[blocks.length - 1];
    if (last && last.pool === n.pool && last.shape === shape && last.indices[last.indices.length - 1] === n.index - 1) {
      last.indices.push(n.index);
      last.texts.push(byComponent);
    } else blocks.push({ pool: n.pool, indices: [n.index], texts: [byComponent], shape });
  }
  return blocks.map((b) => ({
    pool: b.pool,
    indices: b.indices,
    lines: b.texts[0]!.map(([comp, lines], ci) => [comp, lines.map((_, li) => foldNumbers(b.texts.map((t) => t[ci]![1][li]!)))]),
  }));
}

const shapeOf = (line: string) => line.replace(/\d+/g, '#');

/** Runs of consecutive lines that differ only in numbers (48 router URLs added) → one folded line each. */
export function foldRuns(lines: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < lines.length; ) {
    let j = i + 1;
    while (j < lines.length && shapeOf(lines[j]!) === shapeOf(lines[i]!)) j++;
    out.push(foldNumbers(lines.slice(i, j)));
    i = j;
  }
  return out;
}

/**
 * Lines equal but for their numbers → one line, each varying number as a range over the nodes in order:
 * `{1..15}` (steps of 1), `{0..94..2}` (another constant step), else the list `{3,8,9}`. Exact: every
 * node's value can be read back.
 */
export function foldNumbers(lines: readonly string[]): string {
  if (lines.length === 1) return lines[0]!;
  const split = lines.map((l) => l.split(/(\d+)/));
  const first = split[0]!;
  return first
    .map((part, i) => {
      if (i % 2 === 0) return part;
      const values = split.map((s) => s[i]!);
      if (values.every((v) => v === part)) return part;
      const padded = values.some((v) => v.length > 1 && v.startsWith('0'));
      const numbers = values.map(Number);
      const step = numbers[1]! - numbers[0]!;
      if (!padded && step > 0 && numbers.every((v, k) => v === numbers[0]! + k * step)) {
        return `{${numbers[0]}..${numbers[numbers.length - 1]}${step === 1 ? '' : `..${step}`}}`;
      }
      return `{${values.join(',')}}`;
    })
    .join('');
}

// ------------------------------------------------------------------------------------------------ resume

type PlanOrCompiled = LaunchPlan | Compiled;

function asCompiled(x: PlanOrCompiled): { plan: LaunchPlan; files?: Record<string, string> } {
  return 'plan' in x && 'files' in x ? x : { plan: x as LaunchPlan };
}

/**
 * The changes between the plan a run was launched with and the plan it is resumed with that prime-rl cannot
 * resume from: its trainer checkpoint (torch DCP: model, optimizer, scheduler and dataloader state) must
 * load into the new trainer. DCP reshards, so node counts, dp_replicate/dp_shard, EP, CP, offload and
 * micro batches may change; the tensors themselves may not. Refused:
 * - model.name or the architecture (the weights' names and shapes),
 * - LoRA on/off, its rank and target modules (the adapter's shapes; the checkpoint then holds other tensors),
 * - the optimizer type (its state dict: Muon's momentum vs AdamW's two moments),
 * - the checkpoint folder (the new run would not find the checkpoint and start from step 0).
 * Needs the configs (a Compiled) for LoRA, optimizer and checkpoint folder; with plans alone only the model
 * is checked. Returns one sentence per conflict; empty when the resume is safe.
 */
export function resumeConflicts(before: PlanOrCompiled, after: PlanOrCompiled): string[] {
  const a = asCompiled(before);
  const b = asCompiled(after);
  const out: string[] = [];
  if (a.plan.model.name !== b.plan.model.name) {
    out.push(`model.name changes from ${a.plan.model.name} to ${b.plan.model.name}: the checkpoint holds the weights of ${a.plan.model.name}`);
  } else if ((a.plan.model.arch ?? '') !== (b.plan.model.arch ?? '') || a.plan.model.parameters !== b.plan.model.parameters) {
    out.push(`the model architecture changes (${a.plan.model.arch ?? 'inline'}, ${a.plan.model.parameters ?? '?'} parameters → ${b.plan.model.arch ?? 'inline'}, ${b.plan.model.parameters ?? '?'} parameters): the checkpoint's tensors would not fit the new model`);
  }
  const ta = a.files?.['configs/trainer.toml'];
  const tb = b.files?.['configs/trainer.toml'];
  if (ta !== undefined && tb !== undefined) {
    const x = tomlOf(ta);
    const y = tomlOf(tb);
    const get = (t: Record<string, unknown>, path: string) => path.split('.').reduce<unknown>((v, k) => (v && typeof v === 'object' ? (v as Record<string, unknown>)[k] : undefined), t);
    const loraA = get(x, 'model.lora');
    const loraB = get(y, 'model.lora');
    if ((loraA === undefined) !== (loraB === undefined)) {
      out.push(loraA === undefined ? 'LoRA is turned on (trainer.lora_rank): the checkpoint holds full weights, not an adapter' : 'LoRA is turned off (trainer.lora_rank = 0): the checkpoint holds an adapter, not full weights');
    } else if (loraA !== undefined) {
      const rankA = get(x, 'model.lora.rank');
      const rankB = get(y, 'model.lora.rank');
      if (rankA !== rankB) out.push(`trainer.lora_rank changes from ${String(rankA)} to ${String(rankB)}: the checkpoint's adapter has rank ${String(rankA)}`);
      const modsA = JSON.stringify(get(x, 'model.lora.target_modules') ?? null);
      const modsB = JSON.stringify(get(y, 'model.lora.target_modules') ?? null);
      if (modsA !== modsB) out.push(`the LoRA target modules change (${modsA} → ${modsB}): the checkpoint's adapter covers other layers`);
    }
    const optA = String(get(x, 'optim.type') ?? 'adamw');
    const optB = String(get(y, 'optim.type') ?? 'adamw');
    if (optA !== optB) out.push(`trainer.optimizer.type changes from ${optA} to ${optB}: the checkpoint holds ${optA} optimizer state`);
    const dirA = get(x, 'ckpt.output_dir') ?? get(x, 'output_dir');
    const dirB = get(y, 'ckpt.output_dir') ?? get(y, 'output_dir');
    if (dirA !== dirB) out.push(`the checkpoint folder changes from ${String(dirA)} to ${String(dirB)} (checkpoint.dir): the resumed trainer would not find the checkpoint`);
  }
  return out;
}
