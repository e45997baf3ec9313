/**
 * Back end `ssh`: preflight every node (one table; any failure stops the launch), a new attempt with its
 * hosts file, node.sh started detached on every node under the launcher's lease. Handle: `ssh.json` (SSH
 * settings without secrets, the hosts) and `pids/node-NNN` (node.sh on each node).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { diagnostic, type Diagnostic } from '../../compiler/diagnostics/diagnostic.js';
import type { Backend, BackendView, DryRunOutcome, DryRunRequest, Handle, Reporter, StartContext, StartOutcome, SweepOutcome } from '../backend.js';
import { specProblem, type Launchable } from '../prepare.js';
import { createAttempt, paths, readAttempt, RUN_ENDED, runId } from '../run-dir.js';
import { inventory, Lease, nodePids, nodesAlive, nodeStartScript, sshSettingsOf, startNodes, sweepRun, writeSshState } from '../ssh/backend.js';
import type { SshConfigResolver, SshSettings } from '../ssh/config.js';
import { CHECK_HINTS, preflight, preflightTable } from '../ssh/preflight.js';
import { SshPool } from '../ssh/transport.js';

type SshHandle = Extract<Handle, { kind: 'ssh' }>;

/** Inventory problems as a diagnostic; the hosts otherwise. */
export function hostsOrReport(planned: Launchable, report: Reporter): string[] | undefined {
  const inv = inventory(planned);
  if (!inv.hosts) report.diagnostics([specProblem(planned, 'RS4105', { message: inv.problem!, path: 'cluster.ssh.hosts', hint: 'list one host per node: a hostlist expression ("gpu-[001-064]") or an array' })], planned.sources);
  return inv.hosts;
}

const CHECK_ORDER = ['reachable', 'shared run dir', 'prime-rl', 'gpus', 'ports', 'disk', 'memory'];

/** Checks every node and prints the table; on failure, one diagnostic per failing node. True when all pass. */
export async function checkNodes(planned: Launchable, runDir: string, hosts: string[], pool: SshPool, report: Reporter): Promise<boolean> {
  const t0 = Date.now();
  report.line(`preflight on ${hosts.length} nodes over SSH`);
  const rows = await preflight({ planned, runDir, hosts, pool });
  for (const line of preflightTable(rows, hosts.length)) report.line(line);
  for (const r of rows) report.event?.({ type: 'check', node: r.node, host: r.host, check: r.check, result: r.result, detail: r.detail });
  const failed = rows.filter((r) => r.result === 'FAIL');
  if (failed.length === 0) {
    report.line(`preflight passed on ${hosts.length} nodes (${Date.now() - t0} ms)`);
    return true;
  }
  const byNode = new Map<number, typeof failed>();
  for (const r of failed) byNode.set(r.node, [...(byNode.get(r.node) ?? []), r]);
  report.diagnostics(
    [...byNode.values()].map((list) => {
      // The most fundamental failure first: its fix (a shared mount, the checkout) often clears the others.
      list.sort((a, b) => CHECK_ORDER.indexOf(a.check) - CHECK_ORDER.indexOf(b.check));
      const first = list[0]!;
      const code = first.kind === 'hostkey' ? 'RS4101' : first.kind === 'timeout' ? 'RS4104' : first.kind === 'cycle' ? 'RS4109' : first.kind === 'config' ? 'RS4110' : first.kind ? 'RS4102' : 'RS4103';
      // A check's detail is in the table already; the diagnostic names the node, what failed and the fix.
      const [message, hint] = first.kind ? first.detail.split(' — ') : [`failed ${list.map((r) => r.check).join(', ')} (the table above says why)`, undefined];
      return diagnostic(code, { message: `node ${first.node} (${first.host}): ${message}`, hint: hint || CHECK_HINTS[first.check] || 'fix the node, or leave it out of cluster.ssh.hosts' });
    }),
  );
  report.line(`preflight failed on ${byNode.size} of ${hosts.length} nodes: nothing was started`);
  return false;
}

/**
 * What the client configuration alone rules out, before any connection: an unusable cluster.ssh.config
 * (a device, a FIFO, too large: RS4110) and ProxyJump cycles (RS4109, each cycle once, naming it).
 */
export function sshConfigProblems(resolver: SshConfigResolver, hosts: string[]): Diagnostic[] {
  if (resolver.problem) return [diagnostic('RS4110', { message: resolver.problem.message, path: 'cluster.ssh.config', at: { file: resolver.problem.file, line: 0, column: 0 }, hint: resolver.problem.hint })].map(fileLevel);
  const out: Diagnostic[] = [];
  const seen = new Set<string>();
  for (const host of hosts) {
    const cycle = resolver.cycleError(host);
    if (!cycle) continue;
    const loop = cycle.cycle!.slice(cycle.cycle!.indexOf(cycle.cycle!.at(-1)!)).join(' → ');
    if (seen.has(loop)) continue;
    seen.add(loop);
    const d = diagnostic('RS4109', { message: `${cycle.message} (the loop ${loop} never ends)`, at: { file: cycle.file, line: cycle.line ?? 0, column: 1 }, hint: cycle.hint });
    out.push(cycle.line === undefined ? fileLevel(d) : d);
  }
  return out;
}

/** A problem with a whole file: its name, no line. */
function fileLevel(d: Diagnostic): Diagnostic {
  delete d.line;
  delete d.column;
  return d;
}

export class SshBackend implements Backend {
  readonly kind = 'ssh' as const;
  private pools = new Map<string, SshPool>();
  private leases = new Map<string, Lease>();
  private lastAlive = new Map<string, { at: number; why: string | undefined }>();

  constructor(private readonly debug?: (line: string) => void) {}

  private pool(settings: SshSettings): SshPool {
    const key = JSON.stringify(settings);
    let pool = this.pools.get(key);
    if (!pool) {
      pool = new SshPool(settings, { debug: this.debug });
      this.pools.set(key, pool);
    }
    return pool;
  }

  async check(planned: Launchable, runDir: string, report: Reporter): Promise<boolean> {
    const hosts = hostsOrReport(planned, report);
    if (!hosts) return false;
    const pool = this.pool(sshSettingsOf(planned));
    const problems = sshConfigProblems(pool.resolver, hosts);
    if (problems.length) {
      report.diagnostics(problems);
      return false;
    }
    return checkNodes(planned, runDir, hosts, pool, report);
  }

  async dryRun(request: DryRunRequest): Promise<DryRunOutcome> {
    const hosts = inventory(request.planned).hosts ?? [];
    const settings = sshSettingsOf(request.planned);
    // The attempt and run id are made by the launch itself; secrets stand in by name.
    const start = {
      settings,
      runDir: request.runDir,
      artifactsDir: request.artifactsDir,
      attempt: 0,
      runId: '<run id>',
      secrets: Object.fromEntries(request.secretNames.map((name) => [name, `<${name} from the launcher environment>`])),
      leaseFile: paths.lease(request.runDir, 0),
    };
    return {
      schedulerAsked: null,
      ok: true,
      commands: hosts.map((host, i) => `ssh ${host} bash -s   # node ${i}: the start script below with RLSTACK_NODE_INDEX=${i}`),
      lines: [
        `no scheduler to ask: a launch first checks the ${hosts.length} nodes (rlstack preflight does it alone), then starts node.sh on each over SSH`,
        'start script (node 0; "0" stands for the attempt a launch takes):',
        ...nodeStartScript(start, 0).trimEnd().split('\n').map((l) => `  ${l}`),
      ],
      diagnostics: [],
    };
  }

  async start(ctx: StartContext): Promise<StartOutcome> {
    const hosts = inventory(ctx.planned).hosts!;
    const settings = sshSettingsOf(ctx.planned);
    const attempt = createAttempt(ctx.runDir);
    writeFileSync(paths.hosts(ctx.runDir, attempt), `${hosts.join('\n')}\n`);
    const nodeSh = join(ctx.artifactsDir, 'node.sh');
    writeSshState(ctx.runDir, attempt, settings, hosts, nodeSh);
    const handle: SshHandle = { kind: 'ssh', runDir: ctx.runDir, attempt, settings, hosts, nodeSh };
    const lease = new Lease(paths.lease(ctx.runDir, attempt));
    lease.start();
    this.leases.set(ctx.runDir, lease);
    const started = await startNodes({ pool: this.pool(settings), hosts, runDir: ctx.runDir, artifactsDir: ctx.artifactsDir, attempt, runId: runId(ctx.runDir), secrets: ctx.secrets, leaseFile: paths.lease(ctx.runDir, attempt) });
    const notStarted = started.filter((r) => r.error);
    ctx.report.line(`attempt ${attempt}: node.sh started on ${started.length - notStarted.length} of ${hosts.length} nodes`);
    if (notStarted.length) {
      return { kind: 'refused', handle, diagnostics: notStarted.map((r) => diagnostic('RS4107', { message: `node ${r.node} (${r.host}): ${r.error}`, hint: 'the nodes that did start were stopped' })) };
    }
    return { kind: 'started', handle, t0: Date.now() };
  }

  async alive(handle: Handle): Promise<string | undefined> {
    const h = handle as SshHandle;
    // A poll every few seconds is enough: node.sh's own peer watch is what fails a run quickly.
    const cached = this.lastAlive.get(h.runDir);
    if (cached && Date.now() - cached.at < 3000) return cached.why;
    const { alive, unreachable } = await nodesAlive(this.pool(h.settings), h.hosts, nodePids(h.runDir, h.attempt, h.hosts.length), h.nodeSh);
    let why: string | undefined;
    if (unreachable.length) why = `node ${unreachable[0]!.node} (${unreachable[0]!.host}) became unreachable: ${unreachable[0]!.why}`;
    else {
      const dead = h.hosts.map((_, i) => i).filter((i) => !alive.includes(i));
      if (dead.length === h.hosts.length) why = 'node.sh is gone on every node';
      else if (dead.length) {
        const run = readAttempt(h.runDir, h.attempt)?.run;
        if (!(run && RUN_ENDED.has(run.state))) why = `node.sh is gone on node ${dead[0]} (${h.hosts[dead[0]!]})`;
      }
    }
    this.lastAlive.set(h.runDir, { at: Date.now(), why });
    return why;
  }

  label(handle: Handle): { name: string; nothingLeft: string } {
    const n = (handle as SshHandle).hosts.length;
    return { name: `${n} nodes over SSH`, nothingLeft: `on any of the ${n} nodes` };
  }

  async describe(handle: Handle): Promise<BackendView> {
    const h = handle as SshHandle;
    const { alive, unreachable } = await nodesAlive(this.pool(h.settings), h.hosts, nodePids(h.runDir, h.attempt, h.hosts.length), h.nodeSh);
    const running = alive.map((i) => h.hosts[i]!);
    const line = `ssh: node.sh running on ${running.length} of ${h.hosts.length} nodes${unreachable.map((u) => `; node ${u.node} (${u.host}) unreachable: ${u.why}`).join('')}`;
    return { line, json: { kind: 'ssh', nodes: h.hosts.length, running, unreachable }, ...(running.length === 0 && unreachable.length === 0 ? { gone: 'node.sh is gone on every node' } : {}) };
  }

  async cancel(): Promise<void> {
    // No scheduler: the ordered teardown (STOP) and the sweep are the whole stop.
  }

  async sweep(handle: Handle, kill: boolean): Promise<SweepOutcome> {
    const h = handle as SshHandle;
    const swept = await sweepRun(this.pool(h.settings), h.hosts, h.runDir, runId(h.runDir), kill);
    return { killed: swept.killed, left: swept.survivors, unreachable: swept.unreachable };
  }

  release(handle: Handle): void {
    this.leases.get(handle.runDir)?.release();
    this.leases.delete(handle.runDir);
  }

  close(): void {
    for (const lease of this.leases.values()) lease.release();
    for (const pool of this.pools.values()) pool.close();
    this.pools.clear();
  }
}
