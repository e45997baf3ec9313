/**
 * Back end `slurm`: submit job.sbatch with `sbatch --parsable` (locally, or on `cluster.slurm.login` over
 * SSH with the secrets on the channel's stdin, never on a command line), test a request with
 * `sbatch --test-only`, read a job's state, cancel it.
 */
import { join } from 'node:path';
import { shQuote } from '../runtime/shell.js';

type Exec = typeof import('execa').execa;
let execaFn: Exec | undefined;
async function run(): Promise<Exec> {
  execaFn ??= (await import('execa')).execa;
  return execaFn;
}

export interface SlurmTarget {
  /** user@host of a login node, or '' for the local Slurm client. */
  login: string;
}

async function slurm(target: SlurmTarget, args: string[], options: { secrets?: Record<string, string>; env?: NodeJS.ProcessEnv } = {}) {
  const execa = await run();
  if (!target.login) {
    return execa(args[0]!, args.slice(1), { reject: false, env: { ...(options.env ?? process.env), ...(options.secrets ?? {}) }, extendEnv: false, timeout: 120_000 });
  }
  // Over SSH: a script on stdin reads the secrets line by line, exports them, then runs the command.
  const names = Object.keys(options.secrets ?? {});
  const script = [
    'set -e',
    ...names.map((n) => `IFS= read -r ${n}; export ${n}`),
    `exec ${args.map(shQuote).join(' ')}`,
  ].join('\n');
  const input = `${names.map((n) => options.secrets![n]).join('\n')}${names.length ? '\n' : ''}`;
  return execa('ssh', ['-o', 'BatchMode=yes', target.login, `bash -c ${shQuote(script)}`], { input, reject: false, timeout: 120_000 });
}

export async function slurmAvailable(target: SlurmTarget): Promise<string | undefined> {
  const r = await slurm(target, ['sbatch', '--version']).catch((e: Error) => ({ exitCode: 127, stderr: e.message, stdout: '' }));
  return r.exitCode === 0 ? undefined : `sbatch is not reachable${target.login ? ` on ${target.login}` : ' here'}: ${String(r.stderr || r.stdout).trim().split('\n')[0] ?? ''}`;
}

export async function submit(target: SlurmTarget, runDir: string, artifactsDir: string, secrets: Record<string, string>): Promise<{ jobId?: string; error?: string }> {
  const r = await slurm(target, ['sbatch', '--parsable', `--output=${join(runDir, 'logs', 'slurm-%j.out')}`, join(artifactsDir, 'slurm', 'job.sbatch')], { secrets });
  const out = String(r.stdout).trim();
  if (r.exitCode !== 0 || !/^\d+/.test(out)) return { error: String(r.stderr || r.stdout).trim() || `sbatch exited ${r.exitCode}` };
  return { jobId: out.split(';')[0]! };
}

export async function testOnly(target: SlurmTarget, scriptPath: string): Promise<{ ok: boolean; message: string }> {
  const r = await slurm(target, ['sbatch', '--test-only', scriptPath]);
  const message = String(r.stderr || r.stdout).trim();
  return { ok: r.exitCode === 0, message };
}

/** The job's state (RUNNING, PENDING, COMPLETED, FAILED, CANCELLED, …), or undefined once Slurm forgot it. */
export async function jobState(target: SlurmTarget, jobId: string): Promise<string | undefined> {
  const r = await slurm(target, ['scontrol', '-o', 'show', 'job', jobId]);
  if (r.exitCode !== 0) return undefined;
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
