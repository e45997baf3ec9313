/**
 * Back end `slurm`: one job (heterogeneous across pools) runs node.sh on every node; job.sbatch creates the
 * attempt when the job starts and writes its handle (`slurm_job_id`); a login node, when set, is kept in
 * `state/slurm-target.json` so status and stop reach Slurm where the job was submitted.
 */
import { join } from 'node:path';
import { diagnostic } from '../../compiler/diagnostics/diagnostic.js';
import type { Backend, BackendView, DryRunOutcome, DryRunRequest, Handle, Reporter, StartContext, StartOutcome, SweepOutcome } from '../backend.js';
import type { Launchable } from '../prepare.js';
import { attempts, paths, readBounded, readHandleFile } from '../run-dir.js';
import { shQuote } from '../../runtime/shell.js';
import { cancel, jobState, rememberSlurmTarget, SLURM_ENDED, slurmAvailable, slurmTargetOf, submit, submitCommand, testOnly, type SlurmTarget } from '../slurm.js';

type SlurmHandle = Extract<Handle, { kind: 'slurm' }>;

/** Why the job is over, or undefined while it runs — or while Slurm cannot be asked (the next poll asks again). */
async function ended(target: SlurmTarget, jobId: string): Promise<string | undefined> {
  let state: string | undefined;
  try {
    state = await jobState(target, jobId);
  } catch {
    return undefined;
  }
  if (state === undefined) return `Slurm no longer knows job ${jobId}`;
  return SLURM_ENDED.has(state) ? `Slurm job ${jobId} ended: ${state}` : undefined;
}

export class SlurmBackend implements Backend {
  readonly kind = 'slurm' as const;

  async check(planned: Launchable, _runDir: string, report: Reporter): Promise<boolean> {
    const unavailable = await slurmAvailable(slurmTargetOf(planned.plan.launch));
    if (!unavailable) return true;
    report.diagnostics([diagnostic('RS4004', { message: unavailable, hint: 'run rlstack where sbatch works, or set cluster.slurm.login' })]);
    return false;
  }

  async dryRun(request: DryRunRequest): Promise<DryRunOutcome> {
    const target = slurmTargetOf(request.planned.plan.launch);
    const commands = [`${target.login ? `ssh ${target.login} ` : ''}${submitCommand(request.runDir, request.artifactsDir).map(shQuote).join(' ')}${request.secretNames.length ? `  # with ${request.secretNames.join(', ')} from the launcher's environment` : ''}`];
    const unavailable = await slurmAvailable(target);
    if (unavailable) {
      return {
        schedulerAsked: false,
        ok: false,
        commands,
        lines: [`Slurm was not asked: ${unavailable}`],
        diagnostics: [diagnostic('RS4004', { message: `the dry run could not ask Slurm (sbatch --test-only): ${unavailable}`, hint: 'run the dry run where sbatch works, or set cluster.slurm.login; the files and commands above are what a launch would use', severity: 'warning' })],
      };
    }
    const test = await testOnly(target, readBounded(join(request.compiledDir, 'slurm', 'job.sbatch'), 16 << 20));
    if (!test.ok) {
      return { schedulerAsked: true, schedulerAnswer: test.message, ok: false, commands, lines: [], diagnostics: [diagnostic('RS4005', { message: `Slurm refuses this request: ${test.message}`, hint: 'check nodes, partition, gres and time against the cluster (sinfo); nothing was submitted' })] };
    }
    return { schedulerAsked: true, schedulerAnswer: test.message, ok: true, commands, lines: [`sbatch --test-only: ${test.message}`], diagnostics: [] };
  }

  async start(ctx: StartContext): Promise<StartOutcome> {
    const target = slurmTargetOf(ctx.planned.plan.launch);
    const before = new Set(attempts(ctx.runDir));
    rememberSlurmTarget(ctx.runDir, target);
    const submitted = await submit(target, ctx.runDir, ctx.artifactsDir, ctx.secrets);
    if (!submitted.jobId) return { kind: 'refused', diagnostics: [diagnostic('RS4005', { message: `sbatch refused the job: ${submitted.error}`, hint: 'nothing was submitted' })] };
    const jobId = submitted.jobId;
    ctx.report.line(`submitted Slurm job ${jobId}`);
    if (ctx.detach) return { kind: 'submitted' };
    // The job creates its attempt when it starts: wait for it (a queue can take a while).
    ctx.report.line('  waiting for the allocation');
    for (;;) {
      const attempt = attempts(ctx.runDir).find((a) => !before.has(a) && readHandleFile(paths.slurmJobId(ctx.runDir, a)) === jobId);
      if (attempt !== undefined) {
        ctx.report.line(`  attempt ${attempt} started`);
        return { kind: 'started', handle: { kind: 'slurm', runDir: ctx.runDir, attempt, jobId, target }, t0: Date.now() };
      }
      const why = ctx.signal.aborted ? 'interrupted; the job was cancelled' : await ended(target, jobId);
      if (why) {
        await cancel(target, jobId);
        return { kind: 'refused', diagnostics: [diagnostic('RS4006', { message: `the run did not start: ${why}`, hint: `rlstack status ${ctx.runDir}` })] };
      }
      await new Promise((r) => setTimeout(r, 1000));
    }
  }

  async alive(handle: Handle): Promise<string | undefined> {
    const h = handle as SlurmHandle;
    return ended(h.target, h.jobId);
  }

  label(handle: Handle): { name: string; nothingLeft: string } {
    return { name: `Slurm job ${(handle as SlurmHandle).jobId}`, nothingLeft: 'running' };
  }

  async describe(handle: Handle): Promise<BackendView> {
    const h = handle as SlurmHandle;
    // Slurm forgets finished jobs after a while: the run dir's state files still answer.
    let state: string | undefined;
    let unreachable: string | undefined;
    try {
      state = await jobState(h.target, h.jobId);
    } catch (e) {
      unreachable = (e as Error).message;
    }
    if (unreachable) return { line: `Slurm job ${h.jobId}: state unknown (${unreachable})`, json: { kind: 'slurm', job: h.jobId, state: 'unknown', error: unreachable } };
    const shown = state ?? 'unknown to Slurm (purged)';
    const gone = state === undefined || SLURM_ENDED.has(state) ? `Slurm job ${h.jobId} ${state ? `ended: ${state}` : 'is no longer known to Slurm'}` : undefined;
    return { line: `Slurm job ${h.jobId}: ${shown}`, json: { kind: 'slurm', job: h.jobId, state: shown, ...(h.target.login ? { login: h.target.login } : {}) }, ...(gone ? { gone } : {}) };
  }

  async cancel(handle: Handle): Promise<void> {
    const h = handle as SlurmHandle;
    await cancel(h.target, h.jobId);
  }

  async sweep(handle: Handle): Promise<SweepOutcome> {
    // Slurm's cgroups end every process of a job that ended; a job still running is what is left.
    const h = handle as SlurmHandle;
    const why = await ended(h.target, h.jobId);
    const state = why ? undefined : await jobState(h.target, h.jobId).catch((e: Error) => `not known to have ended (${e.message})`);
    return { killed: [], left: [], unreachable: why ? [] : [{ node: -1, host: 'Slurm', why: `job ${h.jobId} is still ${state ?? 'known'}` }] };
  }

  release(): void {}
  close(): void {}
}
