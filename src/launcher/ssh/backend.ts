/**
 * Back end `ssh`: the inventory (plan.nodes[].host, from cluster.ssh.hosts), starting node.sh detached on
 * every node (setsid nohup, secrets on the channel's stdin), the launcher's lease, node liveness, and the
 * check that nothing of a run is left on any node.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathPrefix, shQuote } from '../../runtime/shell.js';
import type { Launchable } from '../prepare.js';
import { onAll, SshError, SshPool } from './transport.js';
import type { SshSettings } from './config.js';
import { parseSweep, sweepScript, type Survivor } from '../sweep.js';
import { paths, readHandleFile } from '../run-dir.js';

export function sshSettingsOf(planned: Launchable): SshSettings {
  const settings = planned.plan.launch.ssh;
  if (!settings) throw new Error('the plan has no SSH settings (cluster.backend is not ssh, and no Slurm login node)');
  return settings;
}

/** Host of every plan node, or why there is none. */
export function inventory(planned: Launchable): { hosts?: string[]; problem?: string } {
  const missing = planned.plan.nodes.filter((n) => !n.host);
  if (missing.length) {
    return { problem: `no host for plan node${missing.length > 1 ? 's' : ''} ${missing.map((n) => `${n.index} (pool ${n.pool})`).join(', ')}: cluster.ssh.hosts (or cluster.pools.<name>.ssh.hosts) names fewer hosts than the pool's nodes` };
  }
  const hosts = planned.plan.nodes.map((n) => n.host!);
  const dup = hosts.find((h, i) => hosts.indexOf(h) !== i);
  if (dup) return { problem: `host ${dup} appears twice in the inventory: one node per host` };
  return { hosts };
}

const pid3 = (i: number) => String(i).padStart(3, '0');

/** What `status`/`stop` need later to reach the nodes again (no secrets): the attempt's SSH handle. */
export function writeSshState(runDir: string, attempt: number, settings: SshSettings, hosts: string[], nodeSh: string): void {
  writeFileSync(paths.sshState(runDir, attempt), `${JSON.stringify({ settings, hosts, node_sh: nodeSh }, null, 2)}\n`);
}

export interface StartResult {
  node: number;
  host: string;
  pid?: number;
  error?: string;
}

/** Starts node.sh detached from the SSH session (setsid nohup), its variables (secrets too) exported from stdin. */
export function startScript(o: { path: string[]; vars: Record<string, string>; nodeSh: string; out: string; pidFile: string }): string {
  return `set -e
${pathPrefix(o.path)}${Object.entries(o.vars).map(([k, v]) => `export ${k}=${shQuote(v)}`).join('\n')}
cd /
setsid nohup bash ${shQuote(o.nodeSh)} > ${shQuote(o.out)} 2>&1 < /dev/null &
echo $! > ${shQuote(o.pidFile)}
echo "started $!"
`;
}

interface NodeStart {
  settings: SshSettings;
  runDir: string;
  artifactsDir: string;
  attempt: number;
  runId: string;
  secrets: Record<string, string>;
  leaseFile: string;
}

/** The script that starts node.sh on node `i` — what `startNodes` sends, and what a dry run shows. */
export function nodeStartScript(o: NodeStart, i: number): string {
  const vars = {
    RLSTACK_NODE_INDEX: String(i),
    RLSTACK_ATTEMPT: String(o.attempt),
    RLSTACK_RUN_ID: o.runId,
    RLSTACK_LEASE_FILE: o.leaseFile,
    RLSTACK_LEASE_TIMEOUT_S: String(o.settings.lease_timeout_s),
    // node.sh's folder is <run dir>/launcher, or a compiled folder started as it is (rlstack launch DIR).
    RLSTACK_JOB_RUN_DIR: o.runDir,
    ...o.secrets,
  };
  return startScript({ path: o.settings.path, vars, nodeSh: join(o.artifactsDir, 'node.sh'), out: join(paths.attemptLogs(o.runDir, o.attempt), `node-${pid3(i)}.ssh.out`), pidFile: join(paths.nodePids(o.runDir, o.attempt), `node-${pid3(i)}`) });
}

/** Starts node.sh on every node, detached (it survives the launcher and the SSH session). */
export async function startNodes(o: Omit<NodeStart, 'settings'> & { pool: SshPool; hosts: string[] }): Promise<StartResult[]> {
  const s = o.pool.settings;
  mkdirSync(paths.nodePids(o.runDir, o.attempt), { recursive: true });
  const results = await onAll(o.hosts, s.max_parallel, async (host, i) => {
    const script = nodeStartScript({ ...o, settings: s }, i);
    const r = await o.pool.run(host, script, { timeoutMs: 60_000 });
    const pid = /started (\d+)/.exec(r.stdout)?.[1];
    if (r.code !== 0 || !pid) throw new SshError(host, 'unreachable', `node.sh did not start on ${host} (exit ${r.code ?? r.signal}): ${r.stderr.trim().slice(0, 300)}`, '');
    return Number(pid);
  });
  return results.map((r, i) => (r.ok ? { node: i, host: o.hosts[i]!, pid: r.value } : { node: i, host: o.hosts[i]!, error: r.error.message }));
}

/** The launcher's lease: new content every 2 s until released (removed) once the run is ready. */
export class Lease {
  private timer: NodeJS.Timeout | undefined;
  private n = 0;
  constructor(readonly file: string) {}
  start(): void {
    const renew = () => writeFileSync(this.file, `${process.pid} ${++this.n}\n`);
    renew();
    this.timer = setInterval(renew, 2000);
    this.timer.unref();
  }
  release(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    rmSync(this.file, { force: true });
  }
}

/** node.sh pids recorded at start. */
export function nodePids(runDir: string, attempt: number, nodes: number): (number | undefined)[] {
  return Array.from({ length: nodes }, (_, i) => {
    const text = readHandleFile(join(paths.nodePids(runDir, attempt), `node-${pid3(i)}`));
    return text && /^[1-9]\d{0,9}$/.test(text) ? Number(text) : undefined;
  });
}

/**
 * Which node.sh are still running (by recorded pid, on its own node); unreachable nodes are reported. A node
 * whose pid was never recorded (the launcher was killed between starting node.sh and writing its pid file) is
 * looked up by node.sh's path: an unknown pid is not a dead node.sh.
 */
export async function nodesAlive(pool: SshPool, hosts: string[], pids: (number | undefined)[], nodeSh: string): Promise<{ alive: number[]; unreachable: { node: number; host: string; why: string }[] }> {
  const results = await onAll(hosts, pool.settings.max_parallel, async (host, i) => {
    const pid = pids[i];
    // "[b]ash …": the pattern must not match the remote shell that carries it on its own command line.
    const probe = pid ? `kill -0 ${pid} 2>/dev/null` : `pgrep -f -- ${shQuote(`[b]ash ${nodeSh.replace(/[.[\]*^$\\+?(){}|]/g, '\\$&')}`)} > /dev/null`;
    const r = await pool.run(host, `${probe} && echo alive || echo gone`, { timeoutMs: 15_000 });
    return r.stdout.includes('alive');
  });
  const alive: number[] = [];
  const unreachable: { node: number; host: string; why: string }[] = [];
  results.forEach((r, i) => {
    if (!r.ok) unreachable.push({ node: i, host: hosts[i]!, why: r.error.message });
    else if (r.value) alive.push(i);
  });
  return { alive, unreachable };
}

/**
 * Every process on each node that belongs to the run: its command line names the run's artifacts or logs
 * (`<run dir>/launcher/`, `<run dir>/logs/`), or it carries the run's RLSTACK_RUN_ID in its environment
 * (node.sh exports it, so every descendant — vLLM or torchrun workers included — inherits it). With `kill`,
 * TERM then KILL them first and report what was there. The script travels on stdin and skips itself.
 */
export async function sweepRun(pool: SshPool, hosts: string[], runDir: string, runIdValue: string, kill: boolean): Promise<{ survivors: Survivor[]; killed: Survivor[]; unreachable: { node: number; host: string; why: string }[] }> {
  const script = sweepScript(runDir, runIdValue, kill);
  const results = await onAll(hosts, pool.settings.max_parallel, async (host) => (await pool.run(host, script, { timeoutMs: 60_000 })).stdout);
  const survivors: Survivor[] = [];
  const killed: Survivor[] = [];
  const unreachable: { node: number; host: string; why: string }[] = [];
  results.forEach((r, i) => {
    if (!r.ok) {
      unreachable.push({ node: i, host: hosts[i]!, why: r.error.message });
      return;
    }
    const found = parseSweep(r.value, i, hosts[i]!);
    killed.push(...found.killed);
    survivors.push(...found.left);
  });
  return { survivors, killed, unreachable };
}

export { SshPool };
