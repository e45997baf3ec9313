/**
 * `rlstack launch SPEC [--backend slurm|local] [--dry-run] [--detach]`: compile into the run dir, start,
 * and follow the start until every process is ready. A failed start leaves nothing running and says what
 * happened (exit 3); Ctrl-C during the start tears down what was started.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { diagnostic } from '../../compiler/diagnostics/diagnostic.js';
import { renderArtifacts } from '../../compiler/emit/artifacts.js';
import { planSpec } from '../../compiler/pipeline.js';
import { startLocal } from '../../launcher/local.js';
import { prepareRunDir, readSecrets, specProblem, type Planned } from '../../launcher/prepare.js';
import { attempts, createAttempt, readAttempt, requestStop, resolveRunDir, runId } from '../../launcher/run-dir.js';
import { cancel, jobState, rememberSlurmTarget, SLURM_ENDED, slurmAvailable, slurmTargetOf, submit, testOnly } from '../../launcher/slurm.js';
import { watchUntilReady, type WatchOptions, type WatchOutcome } from '../../launcher/watch.js';
import { startProgress } from '../../launcher/progress.js';
import { inventory, Lease, nodePids, nodesAlive, sshSettingsOf, startNodes, sweepRun, writeSshState } from '../../launcher/ssh/backend.js';
import { writeArtifacts } from './compile.js';
import { compareWithLaunched } from './diff.js';
import { checkNodes, hostsOrReport, sshPool } from './preflight.js';
import { EXIT } from '../exit-codes.js';
import type { Output } from '../output.js';
import { waitForEnd } from './stop.js';

export interface LaunchOptions {
  set: string[];
  backend?: string;
  dryRun: boolean;
  detach: boolean;
  /** Resume even across changes prime-rl cannot resume from. */
  force?: boolean;
}

export async function launchCommand(spec: string, options: LaunchOptions, io: Output): Promise<number> {
  const sets = options.backend ? [...options.set, `cluster.backend="${options.backend}"`] : options.set;
  const result = planSpec(spec, { sets });
  if (!result.ok) {
    io.diagnostics(result.diagnostics, result.sources);
    return EXIT.specErrors;
  }
  io.diagnostics(result.diagnostics, result.sources);
  const backend = result.resolved.spec.cluster.backend;
  if (backend === 'ssh' && !hostsOrReport(result, io)) return EXIT.specErrors;
  const { secrets, diagnostics: secretProblems } = readSecrets(result);
  if (options.dryRun) return dryRun(result, backend, secretProblems.length, io);
  if (secretProblems.length) {
    io.diagnostics(secretProblems, result.sources);
    return EXIT.specErrors;
  }
  if (result.resolved.spec.run.resume) {
    // Show what changes against what the run was launched with, and refuse what prime-rl cannot resume from.
    const launched = compareWithLaunched(join(resolveRunDir(result.plan.run.dir), 'launcher'), renderArtifacts(result.resolved, result.derived, result.plan).artifacts);
    if (launched && !launched.diff.identical) io.out(launched.text(io.style));
    if (launched?.conflicts.length && !options.force) {
      io.diagnostics(
        [
          specProblem(result, 'RS4009', {
            message: `cannot resume ${result.plan.run.dir}: ${launched.conflicts.join('; ')}`,
            path: 'run.resume',
            hint: 'undo these changes, or launch with --force to start from the checkpoint anyway',
          }),
        ],
        result.sources,
      );
      return EXIT.specErrors;
    }
  }
  const prepared = prepareRunDir(result);
  if (!prepared.prepared) {
    io.diagnostics(prepared.diagnostics, result.sources);
    return EXIT.specErrors;
  }
  const { runDir, artifactsDir } = prepared.prepared;
  io.out(`run dir ${runDir}`);
  if (backend === 'ssh') return launchSsh(result, runDir, artifactsDir, secrets, io);
  return backend === 'local' ? launchLocal(result, runDir, artifactsDir, secrets, io) : launchSlurm(result, runDir, artifactsDir, secrets, options.detach, io);
}

async function dryRun(planned: Planned, backend: string, missingSecrets: number, io: Output): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'rlstack-dry-run-'));
  const { artifacts } = renderArtifacts(planned.resolved, planned.derived, planned.plan);
  writeArtifacts(dir, artifacts);
  io.out(`dry run: compiled ${artifacts.length} files into ${dir}; nothing was started`);
  if (missingSecrets) io.out(`note: ${missingSecrets} secret(s) missing from the environment would stop a real launch`);
  if (backend === 'ssh') {
    const hosts = inventory(planned).hosts ?? [];
    io.out(`would preflight ${hosts.length} hosts over SSH, then start node.sh on each: ${hosts.join(' ')}`);
    return EXIT.ok;
  }
  if (backend !== 'slurm') {
    io.out(`would start node.sh of node 0 on this machine (backend ${backend})`);
    return EXIT.ok;
  }
  const target = slurmTargetOf(planned.resolved.spec);
  const script = join(dir, 'slurm', 'job.sbatch');
  io.out(`would submit: sbatch --parsable ${script}`);
  const unavailable = await slurmAvailable(target);
  if (unavailable) {
    io.out(`${unavailable}; skipped sbatch --test-only`);
    return EXIT.ok;
  }
  const test = await testOnly(target, script);
  if (!test.ok) {
    io.diagnostics([diagnostic('RS4005', { message: `Slurm refuses this request: ${test.message}`, hint: 'check nodes, partition, gres and time against the cluster (sinfo); nothing was submitted' })], planned.sources);
    return EXIT.specErrors;
  }
  io.out(`sbatch --test-only: ${test.message}`);
  return EXIT.ok;
}

function interruption(onInterrupt: () => Promise<void>): { signal: AbortSignal; dispose(): void; interrupted(): boolean } {
  const controller = new AbortController();
  let hit = false;
  const handler = () => {
    if (hit) return;
    hit = true;
    controller.abort();
    void onInterrupt();
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  return { signal: controller.signal, interrupted: () => hit, dispose: () => { process.off('SIGINT', handler); process.off('SIGTERM', handler); } };
}

/** Ready, or (a short run) already completed. */
function succeeded(outcome: WatchOutcome): boolean {
  return outcome.kind === 'ready' || (outcome.kind === 'ended' && outcome.status.run?.state === 'completed');
}

/** Why the start did not succeed, in the run's own words when it has them. */
function whyNot(outcome: WatchOutcome): string {
  return outcome.status?.run?.reason || (outcome.kind === 'gone' ? outcome.why : outcome.kind === 'timeout' ? 'not ready before run.ready_timeout_s' : 'the run ended');
}

/** The last lines of a launch and its exit code. */
function report(outcome: WatchOutcome, runDir: string, io: Output): number {
  if (outcome.kind === 'ready') {
    io.out(`all ${outcome.status.processes.length} processes are ready`);
    io.out(`follow it: rlstack logs ${runDir} -f; stop it: rlstack stop ${runDir}`);
    return EXIT.ok;
  }
  if (succeeded(outcome)) {
    io.out('the run completed');
    return EXIT.ok;
  }
  io.diagnostics([diagnostic('RS4006', { message: `the run did not start: ${whyNot(outcome)}`, hint: 'rlstack status and rlstack logs show every process; nothing of the run is left running' })], new Map());
  return EXIT.backend;
}

/**
 * Follows the attempt until all ready (or the end, or the deadline: ready_timeout_s + `graceMs`), showing
 * progress per role — listr2 on a terminal, plain lines in CI logs and pipes — closed before any report line.
 */
async function follow(planned: Planned, runDir: string, attempt: number, io: Output, o: { graceMs: number; alive: WatchOptions['alive']; signal: AbortSignal }): Promise<WatchOutcome> {
  const progress = startProgress(planned.plan, { tty: Boolean(process.stdout.isTTY) && !process.env['CI'], out: (line) => io.out(line) });
  const outcome = await watchUntilReady(planned.plan, runDir, attempt, {
    deadlineMs: planned.resolved.spec.run.ready_timeout_s * 1000 + o.graceMs,
    onChange: (p) => progress.update(p),
    alive: o.alive,
    signal: o.signal,
  }).catch(async (error: unknown) => {
    await progress.end('failed', error instanceof Error ? error.message : String(error));
    throw error;
  });
  await progress.end(succeeded(outcome) ? 'ready' : 'failed', whyNot(outcome));
  return outcome;
}

async function launchLocal(planned: Planned, runDir: string, artifactsDir: string, secrets: Record<string, string>, io: Output): Promise<number> {
  const { attempt, pid, gone } = startLocal(runDir, artifactsDir, secrets);
  io.out(`attempt ${attempt}: node.sh started (pid ${pid})`);
  const stop = interruption(async () => requestStop(runDir, attempt, 'interrupted during launch'));
  const outcome = await follow(planned, runDir, attempt, io, { graceMs: 60_000, alive: gone, signal: stop.signal });
  if (outcome.kind !== 'ready') {
    requestStop(runDir, attempt, stop.interrupted() ? 'interrupted during launch' : 'the launch failed');
    await waitForEnd(runDir, attempt, 60_000, () => gone() === undefined);
  }
  stop.dispose();
  if (stop.interrupted()) return EXIT.backend;
  return report(outcome, runDir, io);
}

async function launchSlurm(planned: Planned, runDir: string, artifactsDir: string, secrets: Record<string, string>, detach: boolean, io: Output): Promise<number> {
  const target = slurmTargetOf(planned.resolved.spec);
  const unavailable = await slurmAvailable(target);
  if (unavailable) {
    io.diagnostics([diagnostic('RS4004', { message: unavailable, hint: 'run rlstack where sbatch works, or set cluster.slurm.login' })], planned.sources);
    return EXIT.backend;
  }
  const before = new Set(attempts(runDir));
  rememberSlurmTarget(runDir, target);
  const submitted = await submit(target, runDir, artifactsDir, secrets);
  if (!submitted.jobId) {
    io.diagnostics([diagnostic('RS4005', { message: `sbatch refused the job: ${submitted.error}`, hint: 'nothing was submitted' })], planned.sources);
    return EXIT.backend;
  }
  const jobId = submitted.jobId;
  io.out(`submitted Slurm job ${jobId}`);
  if (detach) {
    io.out(`follow it: rlstack status ${runDir}; rlstack logs ${runDir} -f`);
    return EXIT.ok;
  }
  const stop = interruption(async () => cancel(target, jobId));
  const gone = async () => {
    const state = await jobState(target, jobId);
    return state && SLURM_ENDED.has(state) ? `Slurm job ${jobId} ended: ${state}` : undefined;
  };
  // The job creates its attempt when it starts: wait for it (a queue can take a while).
  let attempt: number | undefined;
  io.out('  waiting for the allocation');
  while (attempt === undefined) {
    attempt = attempts(runDir).find((a) => !before.has(a) && readAttempt(runDir, a)?.slurmJobId === jobId);
    if (attempt !== undefined) break;
    const why = await gone();
    if (why || stop.interrupted()) {
      stop.dispose();
      io.diagnostics([diagnostic('RS4006', { message: `the run did not start: ${why ?? 'interrupted; the job was cancelled'}`, hint: `rlstack status ${runDir}` })], new Map());
      return EXIT.backend;
    }
    await new Promise((r) => setTimeout(r, 1000));
  }
  io.out(`  attempt ${attempt} started`);
  const outcome = await follow(planned, runDir, attempt, io, { graceMs: 120_000, alive: gone, signal: stop.signal });
  if (!succeeded(outcome)) {
    requestStop(runDir, attempt, 'the launch failed');
    await waitForEnd(runDir, attempt, 30_000, async () => !(await gone()));
    await cancel(target, jobId);
  }
  stop.dispose();
  return report(outcome, runDir, io);
}

/**
 * Back end ssh: preflight every node (one table; any failure → exit 3, nothing started), then a new attempt
 * with its hosts file, node.sh started detached on every node under the launcher's lease, progress until
 * all ready; a failure or Ctrl-C tears down every node and checks that nothing of the run is left.
 */
async function launchSsh(planned: Planned, runDir: string, artifactsDir: string, secrets: Record<string, string>, io: Output): Promise<number> {
  const hosts = inventory(planned).hosts!;
  const settings = sshSettingsOf(planned);
  const pool = sshPool(planned, io);
  try {
    const t0 = Date.now();
    if (!(await checkNodes(planned, runDir, hosts, pool, io))) return EXIT.backend;

    const attempt = createAttempt(runDir);
    const state = join(runDir, 'state', `attempt_${attempt}`);
    writeFileSync(join(state, 'hosts'), `${hosts.join('\n')}\n`);
    writeSshState(runDir, attempt, settings, hosts);
    const lease = new Lease(join(state, 'lease'));
    lease.start();
    const stop = interruption(async () => requestStop(runDir, attempt, 'interrupted during launch'));
    const started = await startNodes({ pool, hosts, runDir, artifactsDir, attempt, runId: runId(runDir), secrets, leaseFile: join(state, 'lease') });
    const notStarted = started.filter((r) => r.error);
    io.out(`attempt ${attempt}: node.sh started on ${started.length - notStarted.length} of ${hosts.length} nodes`);
    let outcome: WatchOutcome | undefined;
    if (notStarted.length === 0 && !stop.interrupted()) {
      let lastCheck = 0;
      outcome = await follow(planned, runDir, attempt, io, {
        graceMs: 60_000,
        alive: async () => {
          if (Date.now() - lastCheck < 3000) return undefined;
          lastCheck = Date.now();
          const { alive, unreachable } = await nodesAlive(pool, hosts, nodePids(runDir, attempt, hosts.length));
          if (unreachable.length) return `node ${unreachable[0]!.node} (${unreachable[0]!.host}) became unreachable: ${unreachable[0]!.why}`;
          const dead = hosts.map((_, i) => i).filter((i) => !alive.includes(i));
          const run = readAttempt(runDir, attempt)?.run;
          if (dead.length && !(run && ['completed', 'failed', 'stopped'].includes(run.state))) return `node.sh is gone on node ${dead[0]} (${hosts[dead[0]!]})`;
          return undefined;
        },
        signal: stop.signal,
      });
    }
    if (outcome && succeeded(outcome)) {
      lease.release();
      stop.dispose();
      io.out(`all ready in ${Date.now() - t0} ms from preflight`);
      return report(outcome, runDir, io);
    }
    // Whole-run teardown: the stop request (every node acts on it within seconds), then make sure over SSH.
    requestStop(runDir, attempt, stop.interrupted() ? 'interrupted during launch' : 'the launch failed');
    io.out('  stopping every node');
    await waitForEnd(runDir, attempt, 30_000, async () => (await nodesAlive(pool, hosts, nodePids(runDir, attempt, hosts.length))).alive.length > 0);
    const swept = await sweepRun(pool, hosts, runDir, runId(runDir), true);
    lease.release();
    stop.dispose();
    if (swept.killed.length) io.out(`  killed ${swept.killed.length} leftover process(es): ${swept.killed.map((s) => `${s.host}:${s.pid}`).join(' ')}`);
    if (notStarted.length) {
      io.diagnostics(notStarted.map((r) => diagnostic('RS4107', { message: `node ${r.node} (${r.host}): ${r.error}`, hint: 'the nodes that did start were stopped' })), new Map());
      return EXIT.backend;
    }
    if (stop.interrupted()) {
      io.out('interrupted: every node was stopped');
      return EXIT.backend;
    }
    return report(outcome!, runDir, io);
  } finally {
    pool.close();
  }
}
