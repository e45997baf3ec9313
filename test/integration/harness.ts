/**
 * Shared by the integration suites: the running test cluster's facts, a fake prime-rl checkout on its shared
 * filesystem, the real CLI as a child process, and what is left running on the (namespaced) nodes.
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const STATE = join(ROOT, 'test', 'cluster', '.state');

export function cluster(): Record<string, string> {
  return JSON.parse(readFileSync(join(STATE, 'env.json'), 'utf8')) as Record<string, string>;
}

export interface FakePrimeRl {
  dir: string;
  revision: string;
}

/** A fresh fake prime-rl checkout (stand-ins for the GPU software) and a runs folder on the shared dir. */
export function workspaceOnShared(label: string): { primeRl: FakePrimeRl; runs: string; specs: string } {
  const shared = cluster()['RLSTACK_CLUSTER_SHARED_DIR']!;
  mkdirSync(shared, { recursive: true });
  const base = mkdtempSync(join(shared, `${label}-`));
  const dir = join(base, 'prime-rl');
  const revision = execFileSync(process.execPath, [join(ROOT, 'test', 'standins', 'make-prime-rl.mjs'), dir], { encoding: 'utf8' }).trim();
  const runs = join(base, 'runs');
  const specs = join(base, 'specs');
  mkdirSync(runs);
  mkdirSync(specs);
  return { primeRl: { dir, revision }, runs, specs };
}

export function writeSpec(dir: string, name: string, toml: string): string {
  const path = join(dir, `${name}.toml`);
  writeFileSync(path, toml);
  return path;
}

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

/** The real CLI, with the fake prime-rl's bin (uv, nvidia-smi) first on PATH and Slurm's config. */
export function rlstack(args: string[], options: { primeRl?: FakePrimeRl; env?: Record<string, string>; timeoutMs?: number } = {}): Promise<CliResult> {
  const started = Date.now();
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    NO_COLOR: '1',
    SLURM_CONF: cluster()['RLSTACK_CLUSTER_SLURM_CONF'],
    PATH: `${options.primeRl ? `${join(options.primeRl.dir, 'bin')}:` : ''}${process.env['PATH']}`,
    ...options.env,
  };
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [join(ROOT, 'bin', 'rlstack.js'), ...args], { env, cwd: ROOT });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 200_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, ms: Date.now() - started });
    });
  });
}

/** Polls `probe` (sync or async: a promise is awaited, never taken as the answer) until it gives a value. */
export async function waitFor<T>(what: string, probe: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs: number, everyMs = 500): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

export function slurmJobState(jobId: string): string | undefined {
  try {
    const out = execFileSync('scontrol', ['-o', 'show', 'job', jobId], { encoding: 'utf8', env: { ...process.env, SLURM_CONF: cluster()['RLSTACK_CLUSTER_SLURM_CONF'] } });
    return /JobState=(\S+)/.exec(out)?.[1];
  } catch {
    return undefined;
  }
}

export function squeueJobs(): string[] {
  const out = execFileSync('squeue', ['-h', '-o', '%i %T'], { encoding: 'utf8', env: { ...process.env, SLURM_CONF: cluster()['RLSTACK_CLUSTER_SLURM_CONF'] } });
  return out.split('\n').filter(Boolean);
}

/**
 * The pid on this machine of process `pid` as node `host` sees it: each cluster node has a PID namespace of
 * its own (test/cluster/cluster.sh), so the pids node.sh records there are not this machine's. A host that
 * is not a cluster node (localhost) shares this machine's pids.
 */
export function hostPid(host: string, pid: number): number {
  const initFile = join(cluster()['RLSTACK_CLUSTER_DIR']!, 'pids', `init-${host}`);
  if (!existsSync(initFile)) return pid;
  const ns = readlinkSync(`/proc/${readFileSync(initFile, 'utf8').split(' ')[0]}/ns/pid`);
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readlinkSync(`/proc/${entry}/ns/pid`) !== ns) continue;
      const ids = /^NSpid:\s+(.*)$/m.exec(readFileSync(`/proc/${entry}/status`, 'utf8'))?.[1]?.trim().split(/\s+/).map(Number);
      if (ids?.at(-1) === pid) return Number(entry);
    } catch {
      // the process ended while we looked
    }
  }
  throw new Error(`no process ${pid} on ${host}`);
}

/** Every process on the machine (this machine sees every node's processes) whose command line names `marker`. */
export function processesMentioning(marker: string): { pid: number; args: string }[] {
  const out: { pid: number; args: string }[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      const args = readFileSync(`/proc/${entry}/cmdline`, 'utf8').replace(/\0/g, ' ').trim();
      if (args.includes(marker) && !args.includes('vitest')) out.push({ pid: Number(entry), args });
    } catch {
      // the process ended while we looked
    }
  }
  return out;
}

export function commandLines(): string[] {
  const out: string[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      out.push(readFileSync(`/proc/${entry}/cmdline`, 'utf8').replace(/\0/g, ' '));
    } catch {
      // gone
    }
  }
  return out;
}

export function environOf(pid: number): Record<string, string> {
  const text = readFileSync(`/proc/${pid}/environ`, 'utf8');
  return Object.fromEntries(
    text
      .split('\0')
      .filter(Boolean)
      .map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]),
  );
}

export function statusJson(runDir: string, primeRl: FakePrimeRl): Promise<{ code: number | null; json: StatusJson }> {
  return rlstack(['status', runDir, '--json'], { primeRl }).then((r) => ({ code: r.code, json: JSON.parse(r.stdout || '{}') as StatusJson }));
}

export interface StatusJson {
  attempt: number;
  run: { state: string; reason: string; first_failure: string } | null;
  /** The back end's own view: `kind` and its fields (Slurm job and state; SSH nodes, running, unreachable). */
  backend: ({ kind: 'slurm'; job: string; state: string } | { kind: 'ssh'; nodes: number; running: string[]; unreachable: { node: number; host: string; why: string }[] } | { kind: 'local'; pid: number; running: boolean }) | null;
  node_checks: { node: number; result: string }[];
  processes: { name: string; role: string; node: number; host: string; state: string; pid: number | null; code: number | null; reason: string }[];
}

/** Files under a folder, recursively (for the secret search). */
export function filesUnder(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile()) out.push(p);
    }
  };
  walk(dir);
  return out;
}

/**
 * A Docker sandbox fleet of one CPU node (pool "cpu") serving a sandboxed "code" environment; `placement`
 * is the pool's back-end line (`slurm = { partition = "cpu" }` or `ssh = { hosts = "cpu01" }`). Needs
 * orchestrator.max_inflight ≤ 16 (the node's box slots).
 */
export function dockerFleetToml(placement: string): string {
  return `
[cluster.pools.cpu]
nodes = 1
gpus_per_node = 0
cpus_per_node = 8
host_memory_gib = 16
disk_gib = 70
${placement}

[[environments]]
name = "code"
taskset = "i3_code"
runtime = "sandbox"
episode_seconds = 5

[sandboxes]
provider = "docker"
pool = "cpu"
nodes = 1
cpus = 1
memory_gib = 1
disk_gib = 1
`;
}

/** `rlstack launch`, sampling every command line on the machine while it runs for a secret's value. */
export async function launchWatchingFor(secret: string, args: string[], options: Parameters<typeof rlstack>[1]): Promise<{ result: CliResult; sawSecret: boolean }> {
  const launched = rlstack(args, options);
  let sawSecret = false;
  while (!(await Promise.race([launched.then(() => true), new Promise<false>((ok) => setTimeout(() => ok(false), 200))]))) {
    if (commandLines().some((l) => l.includes(secret))) sawSecret = true;
  }
  return { result: await launched, sawSecret };
}
