/**
 * Preflight on every node, in parallel, before anything starts: reachable and authenticated (host key
 * verified); GPUs (`nvidia-smi -L`) match the pool's gpus_per_node and GPU type; the run dir is on a
 * filesystem really shared with the launcher and every node (a token written here is read back on each
 * node); the prime-rl checkout, its .venv and revision; the node's planned ports are free; free disk under
 * the run dir and host memory. One row per (node, check); any failure stops the launch.
 */
import { randomBytes } from 'node:crypto';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { HOST_CAPACITY_FUNCTIONS } from '../../runtime/host-capacity.js';
import { pathPrefix, shQuote } from '../../runtime/shell.js';
import type { Launchable } from '../prepare.js';
import { findGpu } from '../../compiler/catalog/gpus.js';
import { onAll, type SshPool } from './transport.js';

export interface PreflightRow {
  node: number;
  host: string;
  check: string;
  result: 'ok' | 'FAIL' | 'warn' | 'skipped';
  detail: string;
  /** For a node that could not be reached: why (hostkey, timeout, auth, unreachable, refused). */
  kind?: string;
}

/** The check script one node runs (on stdin): one tab-separated line per check. */
export function preflightScript(o: { runDir: string; token: string; tokenFile: string; primeRl: string; revision: string; ports: number[]; gpus: number; path: string[] }): string {
  // Values enter as assignments only (one quoting, by shQuote) and are used as "$VAR" below.
  return `${pathPrefix(o.path)}run_dir=${shQuote(o.runDir)}
token=${shQuote(o.token)}
token_file=${shQuote(o.tokenFile)}
pr=${shQuote(o.primeRl)}
want_rev=${shQuote(o.revision)}
gpus=${shQuote(String(o.gpus))}
ports=(${o.ports.map((p) => shQuote(String(p))).join(' ')})
emit() { printf '%s\\t%s\\t%s\\n' "$1" "$2" "$3"; }
${HOST_CAPACITY_FUNCTIONS}emit host ok "$(hostname)"
if (( gpus > 0 )); then
  if ! command -v nvidia-smi > /dev/null 2>&1; then
    emit gpus FAIL "nvidia-smi not found on PATH ($PATH)"
  elif ! list=$(nvidia-smi -L 2>&1); then
    emit gpus FAIL "nvidia-smi -L failed: $(head -c 200 <<< "$list" | tr '\\n' ' ')"
  else
    emit gpus ok "$(grep -c '^GPU ' <<< "$list")|$(grep -m1 '^GPU ' <<< "$list" | sed 's/^GPU [0-9]*: //; s/ (UUID.*//')"
  fi
fi
tok=$(cat "$token_file" 2>/dev/null)
if [[ $tok == "$token" ]]; then emit shared ok "read the launcher's token in $run_dir"
elif [[ -d $run_dir ]]; then emit shared FAIL "$run_dir exists here but does not hold the token the launcher wrote: not the same filesystem (a private mount?)"
else emit shared FAIL "$run_dir does not exist here: the run dir is not on a filesystem shared with the launcher"; fi
if [[ ! -d $pr ]]; then emit prime-rl FAIL "no prime-rl checkout at $pr"
elif [[ ! -d $pr/.venv ]]; then emit prime-rl FAIL "$pr has no .venv (uv sync it once)"
else
  rev=$(git -C "$pr" rev-parse HEAD 2>/dev/null) || rev=unknown
  if [[ $rev == "$want_rev"* ]]; then emit prime-rl ok "$pr at \${rev:0:12}"
  else emit prime-rl FAIL "$pr is at $rev, the configs target $want_rev"; fi
fi
busy=()
for p in "\${ports[@]}"; do
  # shellcheck disable=SC2016 # $1 is the inner shell's
  if timeout 1 bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$1"' _ "$p" 2>/dev/null; then busy+=("$p"); fi
done
if (( \${#busy[@]} )); then emit ports FAIL "in use: \${busy[*]}"
elif (( \${#ports[@]} )); then emit ports ok "\${ports[*]} free"
else emit ports ok "none planned"; fi
disk_kib=$(free_disk_kib "$run_dir")
emit disk ok "$(awk -v k="$disk_kib" 'BEGIN { if (k != "") printf "%.1f", k / 1048576 }')"
mem_kib=$(usable_memory_kib)
emit memory ok "$(awk -v k="$mem_kib" 'BEGIN { if (k != "") printf "%.1f", k / 1048576 }')"
`;
}

export interface PreflightOptions {
  planned: Launchable;
  runDir: string;
  hosts: string[];
  pool: SshPool;
}

export async function preflight({ planned, runDir, hosts, pool }: PreflightOptions): Promise<PreflightRow[]> {
  const { plan } = planned;
  const token = randomBytes(12).toString('hex');
  const tokenFile = join(runDir, `.rlstack-preflight-${token}`);
  writeFileSync(tokenFile, token);
  const settings = pool.settings;
  // Which key waived a check, to name it in the row.
  const skipped = new Map<string, string>(plan.launch.skip_checks.map((s) => [s.check, s.key]));
  try {
    const results = await onAll(hosts, settings.max_parallel, async (host, i) => {
      const node = plan.nodes[i]!;
      const p = plan.cluster.pools.find((x) => x.name === node.pool)!;
      const ports = plan.processes.filter((x) => x.node === i).flatMap((x) => x.ports);
      const r = await pool.run(host, preflightScript({ runDir, token, tokenFile, primeRl: plan.launch.prime_rl.dir, revision: plan.launch.prime_rl.revision, ports, gpus: p.gpus_per_node, path: settings.path }), { timeoutMs: 60_000 });
      return { r, p };
    });
    const rows: PreflightRow[] = [];
    results.forEach((res, i) => {
      const host = hosts[i]!;
      if (!res.ok) {
        rows.push({ node: i, host, check: 'reachable', result: 'FAIL', detail: `${res.error.message} — ${res.error.hint}`, kind: res.error.kind });
        return;
      }
      const { r, p } = res.value;
      const node = plan.nodes[i]!;
      const got = new Map<string, { result: string; detail: string }>();
      for (const line of r.stdout.split('\n')) {
        const [check, result, ...detail] = line.split('\t');
        if (check && result) got.set(check, { result, detail: detail.join('\t') });
      }
      rows.push({ node: i, host, check: 'reachable', result: 'ok', detail: `ssh as ${pool.endpoint(host).user}, hostname ${got.get('host')?.detail ?? '?'}` });
      if (!got.has('memory')) {
        rows.push({ node: i, host, check: 'preflight', result: 'FAIL', detail: `the check script did not finish (exit ${r.code ?? r.signal}): ${r.stderr.trim().split('\n').slice(-2).join(' ').slice(0, 300)}` });
        return;
      }
      const push = (check: string, result: PreflightRow['result'], detail: string) =>
        rows.push(skipped.has(check) ? { node: i, host, check, result: 'skipped', detail: `${skipped.get(check)} (would be: ${result}, ${detail})` } : { node: i, host, check, result, detail });
      if (p.gpus_per_node > 0 && p.gpu) {
        const g = got.get('gpus')!;
        if (g.result !== 'ok') push('gpus', 'FAIL', g.detail);
        else {
          const [count, name] = g.detail.split('|');
          const n = Number(count);
          if (n < p.gpus_per_node) push('gpus', 'FAIL', `${n} GPUs, the plan needs ${p.gpus_per_node} (${p.gpu})`);
          else if (findGpu(p.gpu) && !gpuNameMatches(p.gpu, name ?? '')) push('gpus', 'FAIL', `GPU type "${name}", the spec says ${p.gpu}`);
          else push('gpus', n === p.gpus_per_node ? 'ok' : 'warn', `${n} × ${name}${n === p.gpus_per_node ? '' : ` (the plan uses ${p.gpus_per_node})`}`);
        }
      }
      for (const check of ['shared', 'prime-rl', 'ports']) {
        const g = got.get(check)!;
        push(check === 'shared' ? 'shared run dir' : check, g.result === 'ok' ? 'ok' : 'FAIL', g.detail);
      }
      const measured = (check: string) => {
        const detail = got.get(check)?.detail;
        return detail ? Number(detail) : NaN;
      };
      push('disk', ...diskVerdict(measured('disk'), p.disk_gib ?? undefined, p.key, plan.memory?.disk.run_dir_gib));
      push('memory', ...memoryVerdict(measured('memory'), p.host_memory_gib ?? undefined, p.key, node.roles.includes('trainer') ? plan.memory?.trainer.host_gib : undefined));
    });
    return rows;
  } finally {
    rmSync(tokenFile, { force: true });
  }
}

/** What to do when a check fails on a node (the first failing check of the node picks the hint). */
export const CHECK_HINTS: Record<string, string> = {
  gpus: 'check `nvidia-smi -L` on the node (and cluster.gpu), or leave the node out of cluster.ssh.hosts',
  'shared run dir': 'run.output_dir must be on a filesystem the launcher and every node share (NFS, Lustre, …): run rlstack where it is mounted',
  'prime-rl': 'every node needs the prime-rl checkout at run.prime_rl_dir, at run.prime_rl_revision, with its .venv (uv sync)',
  ports: 'something else listens on a planned port: stop it, or move rlstack\'s ports with [ports] base',
  disk: 'free space under the run dir, or leave the node out of cluster.ssh.hosts',
  memory: 'use nodes with more RAM or lower the trainer\'s host need (rlstack plan shows it); cluster.skip_checks = ["memory"] waives the check where the node\'s figure is wrong',
};

/**
 * A node with less RAM than the memory model says it needs fails (the run would be OOM-killed hours in).
 * A declared size only feeds the estimate: a node with less than declared but enough for the need is a
 * warning; without a declared size the measured one is simply reported.
 */
export function memoryVerdict(measuredGib: number, declaredGib: number | undefined, poolPath: string, neededGib: number | undefined): [PreflightRow['result'], string] {
  if (!Number.isFinite(measuredGib)) return ['FAIL', 'cannot read /proc/meminfo'];
  return capacityVerdict(measuredGib, declaredGib, neededGib, {
    measured: `${measuredGib} GiB`,
    short: (need) => `${measuredGib} GiB, a trainer node needs ${need} GiB (optimizer state, offloaded activations, ranks)`,
    fix: `${poolPath}.host_memory_gib`,
  });
}

/** Free space of the run dir's filesystem against what the run writes there (checkpoints, broadcasts, model cache). */
export function diskVerdict(measuredGib: number, declaredGib: number | undefined, poolPath: string, neededGib: number | undefined): [PreflightRow['result'], string] {
  if (!Number.isFinite(measuredGib)) return ['FAIL', 'df failed under the run dir'];
  return capacityVerdict(measuredGib, declaredGib, neededGib, {
    measured: `${measuredGib} GiB free under the run dir`,
    short: (need) => `${measuredGib} GiB free under the run dir, the run needs ${need} GiB (checkpoints kept, broadcasts, model cache)`,
    fix: `${poolPath}.disk_gib`,
  });
}

function capacityVerdict(
  measuredGib: number,
  declaredGib: number | undefined,
  neededGib: number | undefined,
  say: { measured: string; short: (need: number) => string; fix: string },
): [PreflightRow['result'], string] {
  const need = neededGib === undefined ? undefined : Math.round(neededGib * 10) / 10;
  if (need !== undefined && measuredGib < need) return ['FAIL', say.short(need)];
  const needs = need !== undefined ? ` (the run needs ${need})` : '';
  if (declaredGib === undefined) return ['ok', `${say.measured}${needs}`];
  const said = `${say.measured}, the spec says ${declaredGib}`;
  if (measuredGib >= declaredGib * 0.9) return ['ok', `${said}${needs}`];
  return ['warn', need !== undefined ? `${said}; enough for the estimated ${need} GiB` : `${said}: set ${say.fix} to what the nodes have`];
}

/**
 * Whether nvidia-smi's name is the catalogue's GPU: every part of the id is a word of the name ("h100-nvl":
 * H100 and NVL; "a100-80g": A100 and 80GB), so an h20 is not an H200 nor an H100 NVL an H100 SXM. A GPU
 * the spec describes inline has a name of the user's choosing: only its count is checked.
 */
export function gpuNameMatches(id: string, name: string): boolean {
  const words = name.toUpperCase().split(/[^A-Z0-9]+/).filter(Boolean);
  return id
    .toUpperCase()
    .split('-')
    .every((part) => words.some((w) => w === part || (/^\d+G$/.test(part) && w === `${part}B`)));
}

/** One table: every row for a small cluster; failures (and a count of clean nodes) for a large one. */
export function preflightTable(rows: PreflightRow[], nodes: number): string[] {
  const failing = new Set(rows.filter((r) => r.result === 'FAIL' || r.result === 'warn').map((r) => r.node));
  const shown = nodes <= 16 ? rows : rows.filter((r) => failing.has(r.node) && (r.result === 'FAIL' || r.result === 'warn'));
  // A connection failure is told once, by its diagnostic below the table (message and fix).
  const cells = [['node', 'check', 'result', 'detail'], ...shown.map((r) => [`${r.node} ${r.host}`, r.check, r.result, r.kind ? 'cannot connect: see below' : r.detail])];
  const w = [0, 1, 2].map((c) => Math.max(...cells.map((row) => row[c]!.length)));
  const lines = cells.map((row) => `  ${row.slice(0, 3).map((c, i) => c.padEnd(w[i]!)).join('  ')}  ${row[3]}`);
  if (nodes > 16) lines.push(`  ${nodes - failing.size} of ${nodes} nodes passed every check`);
  return lines;
}
