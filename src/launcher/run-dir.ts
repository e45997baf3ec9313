/**
 * The run-dir protocol (docs/runtime.md, "Run dir layout"): every path of a run dir, the attempts, the run
 * id, the back end's handle files, and the state node.sh writes — the one module that knows them on the
 * TypeScript side (node.sh and job.sbatch follow the same description). Every file the launcher reads is
 * bounded and validated: a damaged one is a RunDirError naming the file, never a crash.
 */
import { closeSync, constants, existsSync, fstatSync, lstatSync, mkdirSync, openSync, readdirSync, readSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { codePointOrder } from '../order.js';

export interface ProcessState {
  name: string;
  role: string;
  node: number;
  host: string;
  state: 'starting' | 'ready' | 'exited' | 'failed' | 'stopped';
  since: string;
  pid: number | null;
  code: number | null;
  reason: string;
}

export interface RunState {
  state: 'starting' | 'running' | 'completed' | 'failed' | 'stopped';
  since: string;
  reason: string;
  first_failure: string;
}

export interface AttemptStatus {
  runDir: string;
  attempt: number;
  run: RunState | undefined;
  processes: ProcessState[];
  nodeChecks: { node: number; result: string }[];
}

/** A file of the run dir that cannot be read as what it should be. */
export class RunDirError extends Error {
  constructor(readonly file: string, why: string) {
    super(`${file}: ${why}`);
  }
}

export const PROCESS_STATES: ReadonlySet<string> = new Set(['starting', 'ready', 'exited', 'failed', 'stopped']);
export const RUN_STATES: ReadonlySet<string> = new Set(['starting', 'running', 'completed', 'failed', 'stopped']);
export const RUN_ENDED: ReadonlySet<string> = new Set(['completed', 'failed', 'stopped']);
export const PROCESS_ENDED: ReadonlySet<string> = new Set(['exited', 'failed', 'stopped']);

/** Every path of the protocol. */
export const paths = {
  state: (runDir: string) => join(runDir, 'state'),
  logs: (runDir: string) => join(runDir, 'logs'),
  artifacts: (runDir: string) => join(runDir, 'launcher'),
  runId: (runDir: string) => join(runDir, 'state', 'run_id'),
  /** Where status and stop find the login node of a run submitted through one (run-level, no secrets). */
  slurmTarget: (runDir: string) => join(runDir, 'state', 'slurm-target.json'),
  /** Held by a launcher between its checks and the new attempt: one launch of a run at a time. */
  launchLock: (runDir: string) => join(runDir, 'state', 'launch.lock'),
  attempt: (runDir: string, n: number) => join(runDir, 'state', `attempt_${n}`),
  attemptLogs: (runDir: string, n: number) => join(runDir, 'logs', `attempt_${n}`),
  hosts: (runDir: string, n: number) => join(runDir, 'state', `attempt_${n}`, 'hosts'),
  stop: (runDir: string, n: number) => join(runDir, 'state', `attempt_${n}`, 'STOP'),
  runJson: (runDir: string, n: number) => join(runDir, 'state', `attempt_${n}`, 'run.json'),
  processes: (runDir: string, n: number) => join(runDir, 'state', `attempt_${n}`, 'processes'),
  nodeChecks: (runDir: string, n: number) => join(runDir, 'state', `attempt_${n}`, 'nodes'),
  /** What this attempt was launched with, kept when a later attempt recompiles launcher/. */
  launchedWith: (runDir: string, n: number) => join(runDir, 'state', `attempt_${n}`, 'launcher'),
  // Handle files: how the back end that runs the attempt is reached again (docs/runtime.md).
  slurmJobId: (runDir: string, n: number) => join(runDir, 'state', `attempt_${n}`, 'slurm_job_id'),
  localPid: (runDir: string, n: number) => join(runDir, 'state', `attempt_${n}`, 'local_pid'),
  sshState: (runDir: string, n: number) => join(runDir, 'state', `attempt_${n}`, 'ssh.json'),
  nodePids: (runDir: string, n: number) => join(runDir, 'state', `attempt_${n}`, 'pids'),
  lease: (runDir: string, n: number) => join(runDir, 'state', `attempt_${n}`, 'lease'),
} as const;

export function resolveRunDir(planDir: string, cwd = process.cwd()): string {
  return resolve(cwd, planDir);
}

/** Largest state file the launcher reads (they are a few hundred bytes; a log is read from its end). */
const STATE_FILE_LIMIT = 1 << 20;

/** A regular file's first `limit` bytes, whatever its size claims (/dev/zero, FIFOs and folders are refused). */
export function readBounded(path: string, limit = STATE_FILE_LIMIT): string {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOFOLLOW);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new RunDirError(path, code === 'ELOOP' ? 'is a symbolic link' : code === 'ENOENT' ? 'does not exist' : `cannot be read (${code ?? (e as Error).message})`);
  }
  try {
    if (!fstatSync(fd).isFile()) throw new RunDirError(path, 'is not a regular file');
    const buffer = Buffer.alloc(limit);
    let length = 0;
    for (;;) {
      const n = readSync(fd, buffer, length, limit - length, null);
      if (n === 0) break;
      length += n;
      if (length >= limit) throw new RunDirError(path, `is larger than ${limit} bytes`);
    }
    return buffer.subarray(0, length).toString('utf8');
  } finally {
    closeSync(fd);
  }
}

function readJson(path: string): unknown {
  const text = readBounded(path);
  try {
    return JSON.parse(text);
  } catch {
    throw new RunDirError(path, 'is not valid JSON');
  }
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function processState(path: string, value: unknown): ProcessState {
  const ok =
    isObject(value) &&
    typeof value['name'] === 'string' &&
    typeof value['node'] === 'number' &&
    typeof value['state'] === 'string' &&
    PROCESS_STATES.has(value['state']) &&
    (value['pid'] === null || typeof value['pid'] === 'number') &&
    (value['code'] === null || typeof value['code'] === 'number');
  if (!ok) throw new RunDirError(path, 'is not a process state written by node.sh (name, node, state, pid, code)');
  const v = value as Record<string, unknown>;
  const str = (k: string) => (typeof v[k] === 'string' ? (v[k] as string) : '');
  return { name: str('name'), role: str('role'), node: v['node'] as number, host: str('host'), state: v['state'] as ProcessState['state'], since: str('since'), pid: v['pid'] as number | null, code: v['code'] as number | null, reason: str('reason') };
}

function runState(path: string, value: unknown): RunState {
  if (!isObject(value) || typeof value['state'] !== 'string' || !RUN_STATES.has(value['state'])) throw new RunDirError(path, 'is not a run state written by node.sh');
  const str = (k: string) => (typeof value[k] === 'string' ? (value[k] as string) : '');
  return { state: value['state'] as RunState['state'], since: str('since'), reason: str('reason'), first_failure: str('first_failure') };
}

export function attempts(runDir: string): number[] {
  const dir = paths.state(runDir);
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .map((name) => /^attempt_([1-9]\d{0,8})$/.exec(name)?.[1])
    .filter((n): n is string => n !== undefined)
    .map(Number)
    .sort((a, b) => a - b);
}

/**
 * Creates the next attempt's folders. `mkdir` of `attempt_N` is the claim: of two launchers, one gets each
 * number. Any error but "already there" is the file system's answer (full disk, permissions) and ends it.
 */
export function createAttempt(runDir: string): number {
  ensureDir(paths.state(runDir));
  ensureDir(paths.logs(runDir));
  for (let n = (attempts(runDir).at(-1) ?? 0) + 1; ; n++) {
    try {
      mkdirSync(paths.attempt(runDir, n));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EEXIST') continue;
      throw new RunDirError(paths.attempt(runDir, n), `cannot be created (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
    }
    ensureDir(paths.attemptLogs(runDir, n));
    for (const kind of ['state', 'logs'] as const) {
      const link = join(runDir, kind, 'latest');
      rmSync(link, { force: true });
      symlinkSync(`attempt_${n}`, link);
    }
    return n;
  }
}

export function ensureDir(path: string): void {
  try {
    mkdirSync(path, { recursive: true });
  } catch (e) {
    throw new RunDirError(path, `cannot be created (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
}

/** The run's id, kept across attempts (W&B resumes the same run); its file marks the run dir as rlstack's. */
export function runId(runDir: string): string {
  const path = paths.runId(runDir);
  if (!existsSync(path)) {
    ensureDir(paths.state(runDir));
    try {
      writeFileSync(path, randomBytes(16).toString('hex'), { mode: 0o600, flag: 'wx' });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw new RunDirError(path, `cannot be written (${(e as NodeJS.ErrnoException).code})`);
    }
  }
  const id = readBounded(path).trim();
  if (!/^[0-9a-f]{32}$/.test(id)) throw new RunDirError(path, 'is not a run id written by rlstack (32 hex digits)');
  return id;
}

/** True when the run dir is missing, empty, or marked as rlstack's (state/run_id): anything else is not ours. */
export function isOwnRunDir(runDir: string): boolean {
  if (!existsSync(runDir)) return true;
  if (!lstatSync(runDir).isDirectory()) return false;
  if (existsSync(paths.runId(runDir))) return true;
  // Empty, or holding only the claim of the launch that is about to mark it.
  const entries = readdirSync(runDir);
  return entries.length === 0 || (entries.length === 1 && entries[0] === 'state' && readdirSync(paths.state(runDir)).every((f) => f === 'launch.lock'));
}

/** The run took steps (prime-rl wrote rollouts or checkpoints): only then does a new launch need resume. */
export function tookSteps(runDir: string): boolean {
  return ['rollouts', 'checkpoints'].some((d) => {
    const dir = join(runDir, d);
    return existsSync(dir) && readdirSync(dir).some((f) => /^step_\d+$/.test(f));
  });
}

export function readAttempt(runDir: string, attempt = attempts(runDir).at(-1)): AttemptStatus | undefined {
  if (attempt === undefined) return undefined;
  const processDir = paths.processes(runDir, attempt);
  const processes = existsSync(processDir)
    ? readdirSync(processDir)
        .filter((f) => f.endsWith('.json'))
        .map((f) => processState(join(processDir, f), readJson(join(processDir, f))))
        .sort((a, b) => a.node - b.node || codePointOrder(a.name, b.name))
    : [];
  const nodeDir = paths.nodeChecks(runDir, attempt);
  const nodeChecks = existsSync(nodeDir)
    ? readdirSync(nodeDir)
        .filter((f) => /^node-\d+$/.test(f))
        .map((f) => ({ node: Number(f.slice(5)), result: readBounded(join(nodeDir, f), 64 * 1024).trim() }))
    : [];
  const runFile = paths.runJson(runDir, attempt);
  return { runDir, attempt, run: existsSync(runFile) ? runState(runFile, readJson(runFile)) : undefined, processes, nodeChecks };
}

export function requestStop(runDir: string, attempt: number, reason: string): void {
  const path = paths.stop(runDir, attempt);
  try {
    writeFileSync(path, `${reason}\n`);
  } catch (e) {
    throw new RunDirError(path, `cannot be written (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
}

/** A handle file's text (small, validated by its reader), or undefined when the back end wrote none. */
export function readHandleFile(path: string): string | undefined {
  return existsSync(path) ? readBounded(path, 64 * 1024).trim() : undefined;
}

export function readHandleJson(path: string): unknown {
  return existsSync(path) ? readJson(path) : undefined;
}

/** The last non-empty line of a process's log, for status: read from the end, whatever the log's size. */
export function lastLogLine(runDir: string, attempt: number, name: string): string {
  const path = join(paths.attemptLogs(runDir, attempt), `${name}.log`);
  if (!existsSync(path)) return '';
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch {
    return '';
  }
  try {
    const stat = fstatSync(fd);
    if (!stat.isFile()) return '';
    const length = Math.min(stat.size, 4096);
    const buffer = Buffer.alloc(length);
    readSync(fd, buffer, 0, length, stat.size - length);
    return buffer.toString('utf8').split('\n').filter((l) => l.trim()).at(-1)?.slice(0, 160) ?? '';
  } finally {
    closeSync(fd);
  }
}

/**
 * One launch of a run at a time: `mkdir state/launch.lock` is the claim (atomic), holding the launcher's
 * pid; a claim whose launcher is gone is taken over. Returns a release function, or the holder's pid.
 */
export function claimLaunch(runDir: string): { release(): void } | { heldBy: number } {
  const lock = paths.launchLock(runDir);
  ensureDir(paths.state(runDir));
  for (let tries = 0; tries < 3; tries++) {
    try {
      mkdirSync(lock);
      writeFileSync(join(lock, 'pid'), String(process.pid));
      return { release: () => rmSync(lock, { recursive: true, force: true }) };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw new RunDirError(lock, `cannot be created (${(e as NodeJS.ErrnoException).code})`);
    }
    const pidText = readHandleFile(join(lock, 'pid'));
    // A claim made a moment ago may not hold its pid yet: it is held.
    if (pidText === undefined && Date.now() - lstatSync(lock).mtimeMs < 10_000) return { heldBy: 0 };
    const holder = Number(pidText ?? 0);
    let alive = false;
    try {
      if (holder > 0) process.kill(holder, 0);
      alive = holder > 0;
    } catch {
      alive = false;
    }
    if (alive) return { heldBy: holder };
    rmSync(lock, { recursive: true, force: true });
  }
  return { heldBy: 0 };
}
