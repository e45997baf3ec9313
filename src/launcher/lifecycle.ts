/**
 * A run's life through any back end, in one place: start and follow a launch, tear down a failed one, stop
 * a running one, describe one for status. Nothing here knows which back end it talks to (backend.ts).
 */
import { diagnostic } from '../compiler/diagnostics/diagnostic.js';
import { backendFor, readHandle, TEARDOWN, type Backend, type Handle, type Reporter, type SweepOutcome } from './backend.js';
import type { Launchable } from './prepare.js';
import { startProgress } from './progress.js';
import { lastLogLine, PROCESS_ENDED, readAttempt, requestStop, RUN_ENDED, type AttemptStatus, type ProcessState, type RunState } from './run-dir.js';
import { watchUntilReady, type WatchOutcome } from './watch.js';

/** ok: all ready (or completed, or submitted); failed: a back end or run failure (the report says which). */
export type LifecycleResult = 'ok' | 'failed';

export interface LaunchRequest {
  planned: Launchable;
  runDir: string;
  artifactsDir: string;
  secrets: Record<string, string>;
  detach: boolean;
  report: Reporter;
  /** Draw progress with listr2 (a terminal outside CI). */
  tty: boolean;
  debug?: (line: string) => void;
}

/** Ctrl-C and SIGTERM during a launch: abort the start, then tear down whatever started. */
function interruption(): { signal: AbortSignal; interrupted(): boolean; dispose(): void; onInterrupt(fn: () => void): void } {
  const controller = new AbortController();
  let hooks: (() => void)[] = [];
  const handler = () => {
    if (controller.signal.aborted) return;
    controller.abort();
    for (const fn of hooks) fn();
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  return {
    signal: controller.signal,
    interrupted: () => controller.signal.aborted,
    onInterrupt: (fn) => void (hooks = [...hooks, fn]),
    dispose: () => {
      process.off('SIGINT', handler);
      process.off('SIGTERM', handler);
    },
  };
}

/** Ready, or (a short run) already completed. */
function succeeded(outcome: WatchOutcome): boolean {
  return outcome.kind === 'ready' || (outcome.kind === 'ended' && outcome.status.run?.state === 'completed');
}

/** Why the start did not succeed, in the run's own words when it has them. */
function whyNot(outcome: WatchOutcome): string {
  return outcome.status?.run?.reason || (outcome.kind === 'gone' ? outcome.why : outcome.kind === 'timeout' ? 'not ready before run.ready_timeout_s' : 'the run ended');
}

/** Waits until the back end says the run is gone there; false at the deadline. */
async function untilGone(backend: Backend, handle: Handle, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await backend.alive(handle)) return true;
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 500));
  }
}

/**
 * The one teardown: the stop request every node acts on within seconds (ordered teardown on each), the
 * back end gone, the scheduler's cancel, then every node checked for anything of the run (killed if found).
 */
export async function tearDown(backend: Backend, handle: Handle, reason: string): Promise<{ clean: boolean; swept: SweepOutcome }> {
  requestStop(handle.runDir, handle.attempt, reason);
  let clean = await untilGone(backend, handle, TEARDOWN.stopWaitMs);
  await backend.cancel(handle);
  if (!clean) clean = await untilGone(backend, handle, TEARDOWN.cancelWaitMs);
  const swept = await backend.sweep(handle, true);
  backend.release(handle);
  return { clean: clean && swept.left.length === 0 && swept.unreachable.length === 0, swept };
}

function sweepDiagnostics(swept: SweepOutcome, survivors: readonly ProcessState[], clean: boolean) {
  const list = [];
  if (swept.killed.length) {
    list.push(diagnostic('RS4106', { message: `left after the ordered teardown, killed: ${swept.killed.map((s) => `${s.host} pid ${s.pid} (${s.args.slice(0, 80)})`).join('; ')}`, hint: 'rlstack logs shows why they did not stop' }));
  }
  if (!clean) {
    const what = [...swept.left.map((s) => `${s.host} pid ${s.pid} (${s.args.slice(0, 80)})`), ...swept.unreachable.map((u) => `${u.node >= 0 ? `node ${u.node} (${u.host})` : u.host}: ${u.why}`)];
    list.push(diagnostic('RS4008', { message: `still running after the stop: ${what.join('; ') || survivors.map((p) => `${p.name} (node ${p.node}, ${p.host})`).join(', ') || 'the back end'}`, hint: 'check these nodes by hand' }));
  }
  return list;
}

export async function launchRun(req: LaunchRequest): Promise<LifecycleResult> {
  const { planned, runDir, report } = req;
  const backend = await backendFor(planned.plan.launch.backend, req.debug);
  const stop = interruption();
  let handle: Handle | undefined;
  stop.onInterrupt(() => {
    if (handle) requestStop(handle.runDir, handle.attempt, 'interrupted during launch');
  });
  try {
    const t0 = Date.now();
    if (!(await backend.check(planned, runDir, report))) return 'failed';
    const started = await backend.start({ planned, runDir, artifactsDir: req.artifactsDir, secrets: req.secrets, report, signal: stop.signal, detach: req.detach });
    if (started.kind === 'submitted') {
      report.line(`follow it: rlstack status ${runDir}; rlstack logs ${runDir} -f`);
      return 'ok';
    }
    handle = started.handle;
    let outcome: WatchOutcome | undefined;
    if (started.kind === 'started' && !stop.interrupted()) {
      const progress = startProgress(planned.plan, { tty: req.tty, out: (line) => report.line(line) });
      const h = started.handle;
      outcome = await watchUntilReady(planned.plan, runDir, h.attempt, {
        deadlineMs: planned.plan.launch.ready_timeout_s * 1000 + TEARDOWN.startGraceMs,
        onChange: (p) => {
          progress.update(p);
          report.event?.({ type: 'process', ...p });
        },
        alive: () => backend.alive(h),
        signal: stop.signal,
      }).catch(async (error: unknown) => {
        await progress.end('failed', error instanceof Error ? error.message : String(error));
        throw error;
      });
      await progress.end(succeeded(outcome) ? 'ready' : 'failed', whyNot(outcome));
      if (succeeded(outcome)) {
        backend.release(h);
        if (outcome.kind === 'ready') {
          report.line(`all ready in ${Date.now() - t0} ms from the node checks`);
          report.line(`all ${outcome.status.processes.length} processes are ready`);
          report.line(`follow it: rlstack logs ${runDir} -f; stop it: rlstack stop ${runDir}`);
        } else report.line('the run completed');
        return 'ok';
      }
    }
    if (handle) {
      report.line('  stopping every node');
      const { clean, swept } = await tearDown(backend, handle, stop.interrupted() ? 'interrupted during launch' : 'the launch failed');
      if (swept.killed.length) report.line(`  killed ${swept.killed.length} leftover process(es): ${swept.killed.map((s) => `${s.host}:${s.pid}`).join(' ')}`);
      if (!clean) report.diagnostics(sweepDiagnostics(swept, [], clean));
    }
    if (started.kind === 'refused') report.diagnostics(started.diagnostics);
    else if (stop.interrupted()) report.line('interrupted: every node was stopped');
    else if (outcome) report.diagnostics([diagnostic('RS4006', { message: `the run did not start: ${whyNot(outcome)}`, hint: 'rlstack status and rlstack logs show every process; nothing of the run is left running' })]);
    return 'failed';
  } finally {
    stop.dispose();
    backend.close();
  }
}

export interface StopResult {
  result: LifecycleResult;
  attempt: number;
  stopped: boolean;
  survivors: ProcessState[];
  swept: SweepOutcome;
  backend: string;
}

/** Stops the latest attempt: the same teardown a failed launch gets. */
export async function stopRun(runDir: string, status: AttemptStatus, report: Reporter): Promise<StopResult> {
  const handle = readHandle(runDir, status.attempt);
  const empty: SweepOutcome = { killed: [], left: [], unreachable: [] };
  if (!handle) {
    // Nothing was started for this attempt (a launch that stopped at its checks): nothing to stop.
    report.line(`attempt ${status.attempt} of ${runDir} never started on any node: nothing to stop`);
    return { result: 'ok', attempt: status.attempt, stopped: true, survivors: [], swept: empty, backend: 'none' };
  }
  const backend = await backendFor(handle.kind);
  try {
    const label = backend.label(handle);
    report.line(`stop requested for attempt ${status.attempt} of ${runDir} (${label.name})`);
    const { clean, swept } = await tearDown(backend, handle, 'rlstack stop');
    const after = readAttempt(runDir, status.attempt);
    const survivors = clean ? [] : (after?.processes.filter((p) => !PROCESS_ENDED.has(p.state)) ?? []);
    const problems = sweepDiagnostics(swept, survivors, clean);
    if (problems.length) report.diagnostics(problems);
    else report.line(`stopped: nothing of the run is left ${label.nothingLeft}`);
    return { result: clean ? 'ok' : 'failed', attempt: status.attempt, stopped: clean, survivors, swept, backend: handle.kind };
  } finally {
    backend.close();
  }
}

export interface RunView {
  runDir: string;
  attempt: number;
  run: RunState | null;
  backend: Record<string, unknown> | null;
  backendLine: string | undefined;
  nodeChecks: { node: number; result: string }[];
  processes: (ProcessState & { last_log: string })[];
}

/**
 * The run as status shows it: the state files, reconciled with the back end — once the back end says the
 * run is gone (the job ended, node.sh is dead), a process still marked starting or ready did not survive
 * it and a run still marked running did not end by itself: both say so.
 */
export async function describeRun(runDir: string, status: AttemptStatus): Promise<RunView> {
  const handle = readHandle(runDir, status.attempt);
  let view: Awaited<ReturnType<Backend['describe']>> | undefined;
  if (handle) {
    const backend = await backendFor(handle.kind);
    try {
      view = await backend.describe(handle);
    } finally {
      backend.close();
    }
  }
  let run = status.run ?? null;
  let processes = status.processes;
  if (view?.gone) {
    const gone = view.gone;
    processes = processes.map((p) => (PROCESS_ENDED.has(p.state) ? p : { ...p, state: 'stopped', reason: `not running: ${gone}` }));
    if (!run || !RUN_ENDED.has(run.state)) run = { state: 'failed', since: run?.since ?? '', reason: `the run ended without a word from its nodes: ${gone}`, first_failure: run?.first_failure ?? '' };
  }
  return {
    runDir,
    attempt: status.attempt,
    run,
    backend: view?.json ?? null,
    backendLine: view?.line,
    nodeChecks: status.nodeChecks,
    processes: processes.map((p) => ({ ...p, last_log: lastLogLine(runDir, status.attempt, p.name) })),
  };
}
