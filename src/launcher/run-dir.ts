/**
 * The run dir as the launcher sees it (docs/runtime.md): where it is, which attempts it holds, and the
 * state node.sh wrote. Reading only, except for creating a new attempt.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, symlinkSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';

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
  slurmJobId: string | undefined;
}

export function resolveRunDir(planDir: string, cwd = process.cwd()): string {
  return resolve(cwd, planDir);
}

export function attempts(runDir: string): number[] {
  const dir = join(runDir, 'state');
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .map((name) => /^attempt_(\d+)$/.exec(name)?.[1])
    .filter((n): n is string => n !== undefined)
    .map(Number)
    .sort((a, b) => a - b);
}

/** Creates the next attempt's folders (atomically: mkdir fails if another launcher took the number). */
export function createAttempt(runDir: string): number {
  mkdirSync(join(runDir, 'state'), { recursive: true });
  mkdirSync(join(runDir, 'logs'), { recursive: true });
  for (let n = (attempts(runDir).at(-1) ?? 0) + 1; ; n++) {
    try {
      mkdirSync(join(runDir, 'state', `attempt_${n}`));
    } catch {
      continue;
    }
    mkdirSync(join(runDir, 'logs', `attempt_${n}`), { recursive: true });
    for (const kind of ['state', 'logs']) {
      const link = join(runDir, kind, 'latest');
      rmSync(link, { force: true });
      symlinkSync(`attempt_${n}`, link);
    }
    return n;
  }
}

/** The run's id, kept across attempts (W&B resumes the same run). */
export function runId(runDir: string): string {
  const path = join(runDir, 'state', 'run_id');
  if (!existsSync(path)) {
    mkdirSync(join(runDir, 'state'), { recursive: true });
    writeFileSync(path, randomBytes(16).toString('hex'), { mode: 0o600, flag: 'wx' });
  }
  return readFileSync(path, 'utf8').trim();
}

function readJson<T>(path: string): T | undefined {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as T;
  } catch {
    return undefined;
  }
}

export function readAttempt(runDir: string, attempt = attempts(runDir).at(-1)): AttemptStatus | undefined {
  if (attempt === undefined) return undefined;
  const dir = join(runDir, 'state', `attempt_${attempt}`);
  const processDir = join(dir, 'processes');
  const processes = existsSync(processDir)
    ? readdirSync(processDir)
        .filter((f) => f.endsWith('.json'))
        .map((f) => readJson<ProcessState>(join(processDir, f)))
        .filter((p): p is ProcessState => p !== undefined)
        .sort((a, b) => a.node - b.node || a.name.localeCompare(b.name))
    : [];
  const nodeDir = join(dir, 'nodes');
  const nodeChecks = existsSync(nodeDir)
    ? readdirSync(nodeDir)
        .filter((f) => /^node-\d+$/.test(f))
        .map((f) => ({ node: Number(f.slice(5)), result: readFileSync(join(nodeDir, f), 'utf8').trim() }))
    : [];
  const jobFile = join(dir, 'slurm_job_id');
  return {
    runDir,
    attempt,
    run: readJson<RunState>(join(dir, 'run.json')),
    processes,
    nodeChecks,
    slurmJobId: existsSync(jobFile) ? readFileSync(jobFile, 'utf8').trim() : undefined,
  };
}

export function requestStop(runDir: string, attempt: number, reason: string): void {
  writeFileSync(join(runDir, 'state', `attempt_${attempt}`, 'STOP'), `${reason}\n`);
}

/** The last non-empty line of a process's log, for status. */
export function lastLogLine(runDir: string, attempt: number, name: string): string {
  const path = join(runDir, 'logs', `attempt_${attempt}`, `${name}.log`);
  if (!existsSync(path)) return '';
  const size = statSync(path).size;
  const text = readFileSync(path, 'utf8').slice(Math.max(0, size - 4096));
  return text.split('\n').filter((l) => l.trim()).at(-1)?.slice(0, 160) ?? '';
}
