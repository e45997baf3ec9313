/** `rlstack status SPEC|RUN_DIR`: the run, its back end, and per process: node, state, since, last log line. */
import { lastLogLine } from '../../launcher/run-dir.js';
import { jobState } from '../../launcher/slurm.js';
import { nodePids, nodesAlive, readSshState } from '../../launcher/ssh/backend.js';
import { SshPool } from '../../launcher/ssh/transport.js';
import { EXIT } from '../exit-codes.js';
import type { Output } from '../output.js';
import { openRun } from './run-target.js';

export async function statusCommand(target: string, options: { set: string[]; json: boolean }, io: Output): Promise<number> {
  const opened = openRun(target, options.set, io);
  if (typeof opened === 'number') return opened;
  const { run: { runDir, slurm: slurmTarget }, status } = opened;
  // Slurm forgets finished jobs after a while: the run dir's state files still answer.
  const slurm = status.slurmJobId ? { job: status.slurmJobId, state: (await jobState(slurmTarget, status.slurmJobId).catch(() => undefined)) ?? 'unknown to Slurm (purged)' } : undefined;
  const ssh = await sshView(runDir, status.attempt);
  const processes = status.processes.map((p) => ({ ...p, last_log: lastLogLine(runDir, status.attempt, p.name) }));
  if (options.json) {
    io.json({ run_dir: runDir, attempt: status.attempt, run: status.run ?? null, slurm: slurm ?? null, ssh: ssh ?? null, node_checks: status.nodeChecks, processes });
    return EXIT.ok;
  }
  // While it runs, node 0's "starting" says less than the processes themselves.
  const ready = status.processes.filter((p) => p.state === 'ready').length;
  const reason = status.run?.state === 'running' ? `${ready} of ${status.processes.length} processes ready` : status.run?.reason;
  io.out(`run ${runDir}, attempt ${status.attempt}: ${status.run?.state ?? 'starting'}${reason ? ` (${reason})` : ''}`);
  if (status.run?.first_failure) io.out(`first failure: ${status.run.first_failure}`);
  if (slurm) io.out(`Slurm job ${slurm.job}: ${slurm.state}`);
  if (ssh) io.out(`ssh: node.sh running on ${ssh.running.length} of ${ssh.nodes} nodes${ssh.unreachable.map((u) => `; node ${u.node} (${u.host}) unreachable: ${u.why}`).join('')}`);
  const failedChecks = status.nodeChecks.filter((c) => c.result !== 'ok');
  for (const c of failedChecks) io.out(`node ${c.node} check: ${c.result}`);
  const rows = processes.map((p) => [p.name, `node ${p.node}`, p.host, p.state + (p.code !== null && p.code !== 0 ? ` (${p.code})` : ''), p.since, p.reason || p.last_log]);
  const widths = [0, 1, 2, 3, 4].map((i) => Math.max(...rows.map((r) => r[i]!.length), 0));
  for (const r of rows) io.out(`  ${r.slice(0, 5).map((c, i) => c.padEnd(widths[i]!)).join('  ')}  ${r[5]}`);
  return EXIT.ok;
}

/** Under the ssh back end, the back end's own view (as Slurm's job state is under Slurm): which node.sh still run. */
async function sshView(runDir: string, attempt: number): Promise<{ nodes: number; running: string[]; unreachable: { node: number; host: string; why: string }[] } | undefined> {
  const state = readSshState(runDir, attempt);
  if (!state) return undefined;
  const pool = new SshPool(state.settings);
  try {
    const { alive, unreachable } = await nodesAlive(pool, state.hosts, nodePids(runDir, attempt, state.hosts.length));
    return { nodes: state.hosts.length, running: alive.map((i) => state.hosts[i]!), unreachable };
  } finally {
    pool.close();
  }
}
