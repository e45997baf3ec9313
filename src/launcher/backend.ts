/**
 * The one seam between the launcher and the places a run can run (TorchX's Scheduler, SkyPilot's persisted
 * ResourceHandle): `launch`, `stop`, `status` and `logs` work through a Backend and a Handle and never branch
 * on the back end. A back end checks the nodes, does a dry run, starts an attempt (persisting its handle in
 * the attempt's state dir, docs/runtime.md), says whether the run is still alive there, describes it for
 * status, cancels it, and sweeps what is left of it.
 */
import { join } from 'node:path';
import type { Diagnostic } from '../compiler/diagnostics/diagnostic.js';
import type { SourceTexts } from '../compiler/diagnostics/render.js';
import type { Launchable } from './prepare.js';
import { paths, readHandleFile, readHandleJson, RunDirError } from './run-dir.js';
import type { SshSettings } from './ssh/config.js';
import type { SlurmTarget } from './slurm.js';

export type BackendKind = 'local' | 'slurm' | 'ssh';

/** How an attempt is reached again, read back from its handle files. */
export type Handle =
  | { kind: 'local'; runDir: string; attempt: number; pid: number }
  | { kind: 'slurm'; runDir: string; attempt: number; jobId: string; target: SlurmTarget }
  /** `nodeSh`: the node.sh the nodes run (the run dir's launcher/, or a compiled folder launched as it is). */
  | { kind: 'ssh'; runDir: string; attempt: number; settings: SshSettings; hosts: string[]; nodeSh: string };

/** Where a back end reports while it works: lines for the human view, diagnostics for problems. */
export interface Reporter {
  line(text: string): void;
  diagnostics(list: readonly Diagnostic[], sources?: SourceTexts): void;
  /** The same news as a structured event for the JSON views (`{type: 'process' | 'check', …}`). */
  event?(event: { type: string } & Record<string, unknown>): void;
}

export interface StartContext {
  planned: Launchable;
  runDir: string;
  artifactsDir: string;
  secrets: Record<string, string>;
  report: Reporter;
  /** Aborted by Ctrl-C: a start in progress gives up and leaves the teardown to the caller. */
  signal: AbortSignal;
  /** Return once the scheduler took the job (Slurm `--detach`). */
  detach: boolean;
}

export type StartOutcome =
  | { kind: 'started'; handle: Handle; t0: number }
  /** Submitted and left to the scheduler (detach). */
  | { kind: 'submitted'; handle?: Handle }
  /** Nothing of the run runs (refused, unreachable): the diagnostics say why. */
  | { kind: 'refused'; diagnostics: Diagnostic[]; handle?: Handle };

export interface DryRunRequest {
  planned: Launchable;
  /** The run dir and artifacts folder a real launch would use: the commands shown name these. */
  runDir: string;
  artifactsDir: string;
  /** Where the dry run compiled the same files (what the scheduler is shown). */
  compiledDir: string;
  /** Names only: a dry run never holds a secret's value. */
  secretNames: string[];
}

export interface DryRunOutcome {
  /** Whether the scheduler was asked (`sbatch --test-only`): null when the back end has no scheduler. */
  schedulerAsked: boolean | null;
  /** What the scheduler answered, when it was asked. */
  schedulerAnswer?: string;
  ok: boolean;
  /** What the launcher would run to start the nodes (secrets by name only). */
  commands: string[];
  lines: string[];
  diagnostics: Diagnostic[];
}

export interface BackendView {
  /** One line for the human view (`Slurm job 12: RUNNING`, `ssh: node.sh running on 3 of 4 nodes`). */
  line: string;
  /** The back end's own view for `status --json`. */
  json: Record<string, unknown>;
  /** Why the run's processes cannot be running any more, per the back end (the job ended, node.sh is gone). */
  gone?: string;
}

export interface SweepOutcome {
  killed: { node: number; host: string; pid: number; args: string }[];
  left: { node: number; host: string; pid: number; args: string }[];
  unreachable: { node: number; host: string; why: string }[];
}

export interface Backend {
  readonly kind: BackendKind;
  /** Checks every node before anything starts; false (after reporting why) stops the launch. */
  check(planned: Launchable, runDir: string, report: Reporter): Promise<boolean>;
  dryRun(request: DryRunRequest): Promise<DryRunOutcome>;
  start(ctx: StartContext): Promise<StartOutcome>;
  /** Why the run is gone per the back end, or undefined while it may run. Cheap enough to poll. */
  alive(handle: Handle): Promise<string | undefined>;
  describe(handle: Handle): Promise<BackendView>;
  /** How the human view names the run's place (`Slurm job 12`, `4 nodes over SSH`) and where nothing is left. */
  label(handle: Handle): { name: string; nothingLeft: string };
  /** The scheduler's own stop (scancel); the ordered teardown (STOP) comes first. */
  cancel(handle: Handle): Promise<void>;
  /** What of the run is left on its nodes, checked on each node itself; with `kill`, TERM then KILL it first. */
  sweep(handle: Handle, kill: boolean): Promise<SweepOutcome>;
  /** The start is over (ready or torn down): release what the launch held (the SSH lease). */
  release(handle: Handle): void;
  close(): void;
}

/** One policy for every back end: how long a stop and a failed start wait before they check by force. */
export const TEARDOWN = {
  /** After STOP: every process ended and the back end gone (node.sh's own grace is 30 s, checkpoints aside). */
  stopWaitMs: 90_000,
  /** After the scheduler's cancel. */
  cancelWaitMs: 60_000,
  /** Added to run.ready_timeout_s while following a start (allocation, node checks, model download). */
  startGraceMs: 60_000,
} as const;

/** The handle of an attempt, from the files its back end wrote; undefined when none did (nothing started). */
export function readHandle(runDir: string, attempt: number): Handle | undefined {
  const jobId = readHandleFile(paths.slurmJobId(runDir, attempt));
  if (jobId !== undefined) {
    if (!/^\d+(_\d+)?$/.test(jobId)) throw new RunDirError(paths.slurmJobId(runDir, attempt), `holds "${jobId.slice(0, 40)}", not a Slurm job id`);
    const target = readHandleJson(paths.slurmTarget(runDir)) ?? { login: '' };
    if (!isTarget(target)) throw new RunDirError(paths.slurmTarget(runDir), 'is not a Slurm login target written by rlstack');
    return { kind: 'slurm', runDir, attempt, jobId, target };
  }
  const ssh = readHandleJson(paths.sshState(runDir, attempt));
  if (ssh !== undefined) {
    const ok = typeof ssh === 'object' && ssh !== null && Array.isArray((ssh as { hosts?: unknown }).hosts) && (ssh as { hosts: unknown[] }).hosts.every((h) => typeof h === 'string') && typeof (ssh as { settings?: unknown }).settings === 'object';
    if (!ok) throw new RunDirError(paths.sshState(runDir, attempt), 'is not an SSH handle written by rlstack (settings, hosts)');
    const s = ssh as { settings: SshSettings; hosts: string[]; node_sh?: unknown };
    return { kind: 'ssh', runDir, attempt, settings: s.settings, hosts: s.hosts, nodeSh: typeof s.node_sh === 'string' ? s.node_sh : join(paths.artifacts(runDir), 'node.sh') };
  }
  const pid = readHandleFile(paths.localPid(runDir, attempt));
  if (pid !== undefined) {
    if (!/^[1-9]\d{0,9}$/.test(pid)) throw new RunDirError(paths.localPid(runDir, attempt), `holds "${pid.slice(0, 40)}", not a process id`);
    return { kind: 'local', runDir, attempt, pid: Number(pid) };
  }
  return undefined;
}

function isTarget(v: unknown): v is SlurmTarget {
  return typeof v === 'object' && v !== null && typeof (v as { login?: unknown }).login === 'string';
}

/** The back end of a kind (imported when needed: `plan` never loads ssh2 or execa). */
export async function backendFor(kind: BackendKind, debug?: (line: string) => void): Promise<Backend> {
  switch (kind) {
    case 'local':
      return new (await import('./backends/local.js')).LocalBackend();
    case 'slurm':
      return new (await import('./backends/slurm.js')).SlurmBackend();
    case 'ssh':
      return new (await import('./backends/ssh.js')).SshBackend(debug);
  }
}
