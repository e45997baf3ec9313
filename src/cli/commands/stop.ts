/**
 * `rlstack stop SPEC|RUN_DIR`: a stop request every node acts on within seconds (ordered teardown), then
 * the back end's own cancel (scancel) so the allocation is released; reports anything still running.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { diagnostic } from '../../compiler/diagnostics/diagnostic.js';
import { localAlive } from '../../launcher/local.js';
import { readAttempt, requestStop, runId } from '../../launcher/run-dir.js';
import { cancel, jobState, SLURM_ENDED } from '../../launcher/slurm.js';
import { nodePids, nodesAlive, readSshState, sweepRun } from '../../launcher/ssh/backend.js';
import type { SshSettings } from '../../launcher/ssh/config.js';
import { SshPool } from '../../launcher/ssh/transport.js';
import { EXIT } from '../exit-codes.js';
import type { Output } from '../output.js';
import { openRun } from './run-target.js';

const TERMINAL = new Set(['exited', 'failed', 'stopped']);

/** Waits until every process of the attempt is in a terminal state and the back end says it is gone. */
export async function waitForEnd(runDir: string, attempt: number, timeoutMs: number, stillRunning: () => boolean | Promise<boolean>): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const status = readAttempt(runDir, attempt);
    const live = status?.processes.filter((p) => !TERMINAL.has(p.state)) ?? [];
    if (live.length === 0 && !(await stillRunning())) return true;
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 500));
  }
}

export async function stopCommand(target: string, options: { set: string[]; json: boolean }, io: Output): Promise<number> {
  const opened = openRun(target, options.set, io);
  if (typeof opened === 'number') return opened;
  const { run: { runDir, slurm: slurmTarget }, status } = opened;
  const { attempt, slurmJobId } = status;
  const localPidFile = join(runDir, 'state', `attempt_${attempt}`, 'local_pid');
  const localPid = existsSync(localPidFile) ? Number(readFileSync(localPidFile, 'utf8')) : undefined;
  const backendRunning = async () => {
    if (slurmJobId) {
      const state = await jobState(slurmTarget, slurmJobId);
      return state !== undefined && !SLURM_ENDED.has(state);
    }
    return localPid !== undefined && localAlive(localPid) === undefined;
  };
  const ssh = readSshState(runDir, attempt);
  if (ssh) return stopSsh(runDir, attempt, ssh, options.json, io);
  requestStop(runDir, attempt, 'rlstack stop');
  io.out(`stop requested for attempt ${attempt} of ${runDir}`);
  let clean = await waitForEnd(runDir, attempt, 90_000, async () => (slurmJobId ? false : backendRunning()));
  if (slurmJobId) {
    await cancel(slurmTarget, slurmJobId);
    clean = (await waitForEnd(runDir, attempt, 60_000, backendRunning)) && clean;
    io.out(`Slurm job ${slurmJobId}: ${(await jobState(slurmTarget, slurmJobId)) ?? 'gone'}`);
  }
  const after = readAttempt(runDir, attempt);
  const survivors = after?.processes.filter((p) => !TERMINAL.has(p.state)) ?? [];
  if (options.json) io.json({ run_dir: runDir, attempt, stopped: survivors.length === 0 && clean, survivors });
  if (survivors.length || !clean) {
    io.diagnostics(
      [
        diagnostic('RS4008', {
          message: `still running after the stop: ${survivors.map((p) => `${p.name} (node ${p.node}, ${p.host}, pid ${p.pid})`).join(', ') || 'the back end'}`,
          hint: slurmJobId ? `scancel ${slurmJobId}; check the nodes for these pids` : 'kill these pids by hand',
        }),
      ],
      new Map(),
    );
    return EXIT.backend;
  }
  if (!options.json) io.out('stopped: nothing of the run is left running');
  return EXIT.ok;
}

/**
 * Back end ssh: the stop request every node acts on (ordered teardown), then over SSH on every node: node.sh
 * gone, and no process whose command line names the run dir (any such survivor is killed and reported).
 */
async function stopSsh(runDir: string, attempt: number, ssh: { settings: SshSettings; hosts: string[] }, json: boolean, io: Output): Promise<number> {
  const pool = new SshPool(ssh.settings);
  try {
    requestStop(runDir, attempt, 'rlstack stop');
    if (!json) io.out(`stop requested for attempt ${attempt} of ${runDir} (${ssh.hosts.length} nodes over SSH)`);
    const pids = nodePids(runDir, attempt, ssh.hosts.length);
    const clean = await waitForEnd(runDir, attempt, 90_000, async () => (await nodesAlive(pool, ssh.hosts, pids)).alive.length > 0);
    const swept = await sweepRun(pool, ssh.hosts, runDir, runId(runDir), true);
    const after = readAttempt(runDir, attempt);
    const survivors = after?.processes.filter((p) => !TERMINAL.has(p.state)) ?? [];
    if (json) io.json({ run_dir: runDir, attempt, stopped: clean && swept.survivors.length === 0 && swept.unreachable.length === 0, survivors, killed: swept.killed, left: swept.survivors, unreachable: swept.unreachable });
    if (swept.killed.length) {
      io.diagnostics([diagnostic('RS4106', { message: `left after the ordered teardown, killed: ${swept.killed.map((s) => `${s.host} pid ${s.pid} (${s.args.slice(0, 80)})`).join('; ')}`, hint: 'rlstack logs shows why they did not stop' })], new Map());
    }
    if (swept.survivors.length || swept.unreachable.length || !clean) {
      const what = [...swept.survivors.map((s) => `${s.host} pid ${s.pid} (${s.args.slice(0, 80)})`), ...swept.unreachable.map((u) => `node ${u.node} (${u.host}) unreachable: ${u.why}`)];
      io.diagnostics([diagnostic('RS4008', { message: `still running after the stop: ${what.join('; ') || survivors.map((p) => `${p.name} (node ${p.node}, ${p.host})`).join(', ') || 'node.sh'}`, hint: 'check these nodes by hand' })], new Map());
      return EXIT.backend;
    }
    if (!json) io.out(`stopped: nothing of the run is left on any of the ${ssh.hosts.length} nodes`);
    return EXIT.ok;
  } finally {
    pool.close();
  }
}
