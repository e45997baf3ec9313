/**
 * Back end `slurm`: submit job.sbatch with `sbatch --parsable` (locally, or on `cluster.slurm.login`
 * through rlstack's own SSH transport — the ssh back end's: ~/.ssh/config or cluster.ssh.config, host keys
 * verified, the script and its secrets on the channel's stdin, never on a command line), test a request
 * with `sbatch --test-only`, read a job's state, cancel it.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { readBounded, RunDirError } from './run-dir.js';
import { join } from 'node:path';
import { pathPrefix, shQuote } from '../runtime/shell.js';
import type { LaunchSettings } from '../compiler/plan/types.js';
import type { SshSettings } from './ssh/config.js';

type Exec = typeof import('execa').execa;
let execaFn: Exec | undefined;
async function run(): Promise<Exec> {
  execaFn ??= (await import('execa')).execa;
  return execaFn;
}

export interface SlurmTarget {
  /** user@host (or a ~/.ssh/config alias) of a login node, or '' for the local Slurm client. */
  login: string;
  /** How to reach the login node (the spec's [cluster.ssh]); needed when `login` is set. */
  ssh?: SshSettings;
}

export function slurmTargetOf(launch: LaunchSettings): SlurmTarget {
  const login = launch.slurm?.login ?? '';
  return login && launch.ssh ? { login, ssh: launch.ssh } : { login: '' };
}

interface SlurmResult {
  exitCode: number | undefined;
  stdout: string;
  stderr: string;
}

/**
 * What runs on the login node, sent on the channel's stdin (secrets included, so never on a command line):
 * cluster.ssh.path first on PATH, as for every remote command (sbatch hands that PATH to the job).
 */
export function loginScript(args: string[], secrets: Record<string, string>, path: string[], input?: string): string {
  // The command's own stdin, when it reads one, follows as a here-document whose end marker the text cannot contain.
  let marker = 'RLSTACK_INPUT';
  while (input !== undefined && input.split('\n').includes(marker)) marker += '_';
  const exec = `exec ${args.map(shQuote).join(' ')}${input === undefined ? '' : ` <<'${marker}'\n${input.endsWith('\n') ? input : `${input}\n`}${marker}`}`;
  return ['set -e', pathPrefix(path).trimEnd(), ...Object.entries(secrets).map(([k, v]) => `export ${k}=${shQuote(v)}`), exec, ''].join('\n');
}

async function slurm(target: SlurmTarget, args: string[], options: { secrets?: Record<string, string>; input?: string } = {}): Promise<SlurmResult> {
  if (!target.login) {
    const execa = await run();
    const r = await execa(args[0]!, args.slice(1), { reject: false, env: { ...process.env, ...(options.secrets ?? {}) }, extendEnv: false, timeout: 120_000, ...(options.input !== undefined ? { input: options.input } : {}) });
    return { exitCode: r.exitCode, stdout: String(r.stdout), stderr: String(r.stderr) };
  }
  if (!target.ssh) throw new Error(`no SSH settings to reach the Slurm login node ${target.login}`);
  const { SshPool, SshError } = await import('./ssh/transport.js');
  const script = loginScript(args, options.secrets ?? {}, target.ssh.path, options.input);
  const pool = new SshPool(target.ssh);
  try {
    const r = await pool.run(target.login, script, { timeoutMs: 120_000 });
    return { exitCode: r.code ?? undefined, stdout: r.stdout, stderr: r.stderr };
  } catch (e) {
    const why = e instanceof SshError ? `${e.message}${e.hint ? ` (${e.hint})` : ''}` : (e as Error).message;
    return { exitCode: 255, stdout: '', stderr: `cannot reach the Slurm login node ${target.login}: ${why}` };
  } finally {
    pool.close();
  }
}

/** Where status and stop find the login node of a run submitted through one (no secrets in it). */
export function rememberSlurmTarget(runDir: string, target: SlurmTarget): void {
  if (!target.login) return;
  mkdirSync(join(runDir, 'state'), { recursive: true });
  writeFileSync(join(runDir, 'state', 'slurm-target.json'), `${JSON.stringify(target, null, 2)}\n`);
}

export function rememberedSlurmTarget(runDir: string): SlurmTarget {
  const file = join(runDir, 'state', 'slurm-target.json');
  if (!existsSync(file)) return { login: '' };
  let target: SlurmTarget;
  try {
    target = JSON.parse(readBounded(file)) as SlurmTarget;
  } catch (e) {
    throw e instanceof RunDirError ? e : new RunDirError(file, 'is not valid JSON (damaged)');
  }
  if (typeof target?.login !== 'string') throw new RunDirError(file, 'does not name a login node (damaged)');
  return target;
}

export async function slurmAvailable(target: SlurmTarget): Promise<string | undefined> {
  const r = await slurm(target, ['sbatch', '--version']).catch((e: Error): SlurmResult => ({ exitCode: 127, stderr: e.message, stdout: '' }));
  return r.exitCode === 0 ? undefined : `sbatch is not reachable${target.login ? ` on ${target.login}` : ' here'}: ${String(r.stderr || r.stdout).trim().split('\n')[0] ?? ''}`;
}

/** The submission, as `launch` runs it and a dry run shows it. */
export function submitCommand(runDir: string, artifactsDir: string): string[] {
  return ['sbatch', '--parsable', `--output=${join(runDir, 'logs', 'slurm-%j.out')}`, join(artifactsDir, 'slurm', 'job.sbatch')];
}

export async function submit(target: SlurmTarget, runDir: string, artifactsDir: string, secrets: Record<string, string>): Promise<{ jobId?: string; error?: string }> {
  const r = await slurm(target, submitCommand(runDir, artifactsDir), { secrets });
  const out = String(r.stdout).trim();
  if (r.exitCode !== 0 || !/^\d+/.test(out)) return { error: String(r.stderr || r.stdout).trim() || `sbatch exited ${r.exitCode}` };
  return { jobId: out.split(';')[0]! };
}

/** The job script goes on sbatch's stdin: a login node need not see the folder a dry run compiled into. */
export async function testOnly(target: SlurmTarget, script: string): Promise<{ ok: boolean; message: string }> {
  const r = await slurm(target, ['sbatch', '--test-only'], { input: script });
  const message = String(r.stderr || r.stdout).trim();
  return { ok: r.exitCode === 0, message };
}

/**
 * The job's state (RUNNING, PENDING, COMPLETED, FAILED, CANCELLED, …), or undefined once Slurm forgot it.
 * Throws when Slurm could not be asked (slurmctld busy or down, the login node unreachable): that says
 * nothing about the job, and must not read as "the job is gone".
 */
export async function jobState(target: SlurmTarget, jobId: string): Promise<string | undefined> {
  const r = await slurm(target, ['scontrol', '-o', 'show', 'job', jobId]);
  if (r.exitCode !== 0) {
    if (/invalid job id/i.test(`${r.stderr} ${r.stdout}`)) return undefined;
    throw new Error(`scontrol show job ${jobId} failed (exit ${r.exitCode ?? 'none'}): ${`${r.stderr}`.trim().slice(0, 200)}`);
  }
  const states = [...String(r.stdout).matchAll(/JobState=(\S+)/g)].map((m) => m[1]!);
  if (states.length === 0) return undefined;
  // A heterogeneous job has one line per component: the job is as bad as its worst one.
  for (const bad of ['FAILED', 'NODE_FAIL', 'TIMEOUT', 'OUT_OF_MEMORY', 'CANCELLED', 'PREEMPTED']) if (states.includes(bad)) return bad;
  return states[0];
}

export async function cancel(target: SlurmTarget, jobId: string): Promise<void> {
  await slurm(target, ['scancel', jobId]);
}

export const SLURM_ENDED = new Set(['COMPLETED', 'FAILED', 'CANCELLED', 'TIMEOUT', 'NODE_FAIL', 'OUT_OF_MEMORY', 'PREEMPTED', 'BOOT_FAIL', 'DEADLINE']);
