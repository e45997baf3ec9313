/**
 * `rlstack launch SPEC [--backend slurm|ssh|local] [--dry-run] [--detach] [--force]`: compile into the run
 * dir, check, start and follow the start until every process is ready — through the run's back end
 * (src/launcher/lifecycle.ts). A failed start leaves nothing running and says what happened (exit 3).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { renderArtifacts } from '../../compiler/emit/artifacts.js';
import { planSpec } from '../../compiler/pipeline.js';
import { writeArtifacts } from '../../launcher/artifacts-dir.js';
import { backendFor, readHandle } from '../../launcher/backend.js';
import { launchRun } from '../../launcher/lifecycle.js';
import { prepareRunDir, readSecrets, specProblem, type Planned } from '../../launcher/prepare.js';
import { attempts, claimLaunch, paths, resolveRunDir } from '../../launcher/run-dir.js';
import { compareWithLaunched } from './diff.js';
import { EXIT } from '../exit-codes.js';
import { reporterOf, runDirProblem, type Output } from '../output.js';

export interface LaunchOptions {
  set: string[];
  unset?: string[];
  backend?: string;
  dryRun: boolean;
  detach: boolean;
  /** Resume even across changes prime-rl cannot resume from. */
  force?: boolean;
}

export async function launchCommand(spec: string, options: LaunchOptions, io: Output): Promise<number> {
  const sets = options.backend ? [...options.set, `cluster.backend="${options.backend}"`] : options.set;
  const result = planSpec(spec, { sets, unsets: options.unset ?? [] });
  io.diagnostics(result.diagnostics, result.sources);
  if (!result.ok) return EXIT.specErrors;
  const { secrets, diagnostics: secretProblems } = readSecrets(result);
  if (options.dryRun) return dryRun(result, secretProblems.length, io);
  if (secretProblems.length) {
    io.diagnostics(secretProblems, result.sources);
    return EXIT.specErrors;
  }
  try {
    return await launch(result, secrets, options, io);
  } catch (e) {
    const problem = runDirProblem(e);
    if (!problem) throw e;
    io.diagnostics([problem], new Map());
    return EXIT.backend;
  }
}

async function launch(planned: Planned, secrets: Record<string, string>, options: LaunchOptions, io: Output): Promise<number> {
  const runDir = resolveRunDir(planned.plan.run.dir);
  const claim = claimLaunch(runDir);
  if ('heldBy' in claim) {
    io.diagnostics([diagnostic4012(planned, `another rlstack launch of ${runDir} is in progress${claim.heldBy ? ` (pid ${claim.heldBy})` : ''}`)], planned.sources);
    return EXIT.specErrors;
  }
  try {
    // A resume of a run that still runs would start a second copy beside it.
    const last = attempts(runDir).at(-1);
    const handle = last !== undefined ? readHandle(runDir, last) : undefined;
    if (handle) {
      const backend = await backendFor(handle.kind);
      const gone = await backend.alive(handle).finally(() => backend.close());
      if (!gone) {
        io.diagnostics([diagnostic4012(planned, `attempt ${handle.attempt} of ${runDir} is still running`)], planned.sources);
        return EXIT.specErrors;
      }
    }
    if (planned.resolved.spec.run.resume) {
      // Show what changes against what the run was launched with, and refuse what prime-rl cannot resume from.
      const launched = compareWithLaunched(paths.artifacts(runDir), renderArtifacts(planned.resolved, planned.derived, planned.plan).artifacts);
      if (launched && !launched.diff.identical) io.out(launched.text(io.style));
      if (launched?.conflicts.length && !options.force) {
        io.diagnostics(
          [specProblem(planned, 'RS4009', { message: `cannot resume ${runDir}: ${launched.conflicts.join('; ')}`, path: 'run.resume', hint: 'undo these changes, or launch with --force to start from the checkpoint anyway' })],
          planned.sources,
        );
        return EXIT.specErrors;
      }
    }
    const prepared = prepareRunDir(planned);
    if (!prepared.prepared) {
      io.diagnostics(prepared.diagnostics, planned.sources);
      return EXIT.specErrors;
    }
    io.out(`run dir ${prepared.prepared.runDir}`);
    if (prepared.prepared.note) io.out(`note: ${prepared.prepared.note}`);
    const result = await launchRun({
      planned,
      runDir: prepared.prepared.runDir,
      artifactsDir: prepared.prepared.artifactsDir,
      secrets,
      detach: options.detach,
      report: reporterOf(io, planned.sources),
      tty: Boolean(process.stdout.isTTY) && !process.env['CI'],
      ...(process.env['RLSTACK_DEBUG'] ? { debug: (l: string) => io.err(`ssh: ${l}`) } : {}),
    });
    return result === 'ok' ? EXIT.ok : EXIT.backend;
  } finally {
    claim.release();
  }
}

function diagnostic4012(planned: Planned, message: string) {
  return specProblem(planned, 'RS4012', { message, path: 'run.name', hint: 'rlstack status shows it; rlstack stop ends it before a new launch' });
}

async function dryRun(planned: Planned, missingSecrets: number, io: Output): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'rlstack-dry-run-'));
  try {
    const { artifacts } = renderArtifacts(planned.resolved, planned.derived, planned.plan);
    writeArtifacts(join(dir, 'launcher'), artifacts);
    io.out(`dry run: compiled ${artifacts.length} files; nothing was started`);
    if (missingSecrets) io.out(`note: ${missingSecrets} secret(s) missing from the environment would stop a real launch`);
    const backend = await backendFor(planned.resolved.spec.cluster.backend);
    try {
      const outcome = await backend.dryRun(planned, join(dir, 'launcher'));
      for (const line of outcome.lines) io.out(line);
      io.diagnostics(outcome.diagnostics, planned.sources);
      return outcome.ok ? EXIT.ok : EXIT.specErrors;
    } finally {
      backend.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
