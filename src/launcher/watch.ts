/**
 * Follows an attempt until every planned process is ready (or the run ends, or the deadline passes),
 * reporting each change of a process's state (progress.ts shows them).
 */
import type { LaunchPlan } from '../compiler/plan/types.js';
import { readAttempt, type AttemptStatus, type ProcessState } from './run-dir.js';
import { codePointOrder } from '../order.js';

export type WatchOutcome =
  | { kind: 'ready'; status: AttemptStatus }
  | { kind: 'ended'; status: AttemptStatus }
  | { kind: 'timeout'; status: AttemptStatus | undefined }
  | { kind: 'gone'; status: AttemptStatus | undefined; why: string };

export interface WatchOptions {
  deadlineMs: number;
  pollMs?: number;
  /** Called once per change of a process's state, in the order read. */
  onChange(p: ProcessState): void;
  /** Checked on every poll: the back end's own view (a Slurm job that ended, a local process that died). */
  alive?: () => Promise<string | undefined> | string | undefined;
  signal?: AbortSignal;
}

const ALIVE_EVERY_MS = 2000;

const RANK: Readonly<Record<string, number>> = { starting: 0, ready: 1, exited: 2, failed: 2, stopped: 2 };

/**
 * The changes of one poll in the order they happened: a state file is read only every so often, so a
 * process first seen ready was starting before (that line comes first), and of several changes read at
 * once, starts come before readiness and readiness before ends (then by time, node, name).
 */
export function changesSince(seen: ReadonlyMap<string, string>, processes: readonly ProcessState[]): ProcessState[] {
  const changes: ProcessState[] = [];
  for (const p of processes) {
    const before = seen.get(p.name);
    if (before === p.state) continue;
    if (before === undefined && p.state === 'ready') changes.push({ ...p, state: 'starting', reason: '' });
    changes.push(p);
  }
  return changes.sort((a, b) => (RANK[a.state] ?? 3) - (RANK[b.state] ?? 3) || codePointOrder(a.since, b.since) || a.node - b.node || codePointOrder(a.name, b.name));
}

export async function watchUntilReady(plan: LaunchPlan, runDir: string, attempt: number, options: WatchOptions): Promise<WatchOutcome> {
  const planned = new Set(plan.processes.map((p) => p.name));
  const seen = new Map<string, string>();
  const deadline = Date.now() + options.deadlineMs;
  let lastAliveCheck = 0;
  let status: AttemptStatus | undefined;
  for (;;) {
    status = readAttempt(runDir, attempt);
    for (const change of changesSince(seen, status?.processes ?? [])) {
      seen.set(change.name, change.state);
      options.onChange(change);
    }
    if (status?.run && ['completed', 'failed', 'stopped'].includes(status.run.state)) return { kind: 'ended', status };
    const ready = [...planned].every((name) => ['ready', 'exited'].includes(seen.get(name) ?? ''));
    if (ready && status) return { kind: 'ready', status };
    // The back end's view costs a round trip (SSH to every node, squeue): every few seconds, not every poll,
    // so a slow answer never holds back reading the state files.
    if (Date.now() - lastAliveCheck >= ALIVE_EVERY_MS) {
      lastAliveCheck = Date.now();
      const gone = await options.alive?.();
      if (gone) return { kind: 'gone', status: readAttempt(runDir, attempt), why: gone };
    }
    if (Date.now() > deadline) return { kind: 'timeout', status };
    if (options.signal?.aborted) return { kind: 'gone', status, why: 'interrupted' };
    await new Promise((r) => setTimeout(r, options.pollMs ?? 500));
  }
}
