/**
 * What every back end does before it starts anything: refuse a run dir that already holds a run (unless
 * resuming), check that every secret is in the launcher's environment, and compile the artifacts into
 * <run dir>/launcher. Nothing is started here.
 */
import { cpSync, existsSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import type { Code } from '../compiler/diagnostics/codes.js';
import { diagnostic, type Diagnostic, type DiagnosticInput } from '../compiler/diagnostics/diagnostic.js';
import { positionOf } from '../compiler/load/provenance.js';
import { renderArtifacts, type Artifact, type ArtifactsLocation } from '../compiler/emit/artifacts.js';
import type { PlanResult } from '../compiler/pipeline.js';
import type { LaunchPlan } from '../compiler/plan/types.js';
import { foreignContent, writeArtifacts } from './artifacts-dir.js';
import { attempts, ensureDir, isOwnRunDir, paths, resolveRunDir, runId, tookSteps } from './run-dir.js';

export type Planned = Extract<PlanResult, { ok: true }>;

/**
 * What a launch starts from: a plan, from a spec (with where each key is written, for diagnostics) or from
 * a compiled folder (`rlstack launch DIR`: the plan alone). The back ends read nothing else of the spec.
 */
export interface Launchable {
  plan: LaunchPlan;
  sources: Map<string, string>;
  resolved?: Pick<Planned['resolved'], 'provenance'>;
}

export interface Prepared {
  runDir: string;
  artifactsDir: string;
  /** Something the launch should say (a damaged launcher/ kept aside). */
  note?: string;
  secrets: Record<string, string>;
}

/** A launch-time problem with a spec key, pointed at where the key (or its nearest table) is written. */
export function specProblem(planned: Launchable, code: Code, input: DiagnosticInput & { path: string }): Diagnostic {
  return diagnostic(code, { ...input, at: planned.resolved ? positionOf(planned.resolved.provenance, input.path) : undefined });
}

export function readSecrets(planned: Launchable, env: NodeJS.ProcessEnv = process.env): { secrets: Record<string, string>; diagnostics: Diagnostic[] } {
  const secrets: Record<string, string> = {};
  const diagnostics: Diagnostic[] = [];
  for (const name of Object.keys(planned.plan.launch.secrets)) {
    const value = env[name];
    if (value === undefined || value === '') {
      diagnostics.push(specProblem(planned, 'RS4001', { message: `secret ${name} is not set in the launcher's environment`, path: `secrets.${name}`, hint: `export ${name}=… before rlstack launch (it is never written to a file)` }));
    } else secrets[name] = value;
  }
  return { secrets, diagnostics };
}

/**
 * Claims the run dir for a launch and compiles into `<run dir>/launcher`. rlstack launches only into a run
 * dir that is missing, empty or its own (state/run_id); a run that took steps (prime-rl wrote rollouts or
 * checkpoints) is launched again only to resume it — a start that failed before any step does not block
 * the next launch, which simply takes the next attempt. Throws RunDirError when the file system refuses.
 */
/**
 * The files a launch starts: compiled now into `<run dir>/launcher` (`render`), or a compiled folder
 * started where it is (`folder`, checked against its manifest: src/launcher/bundle.ts), whose files are
 * also kept in `<run dir>/launcher` as the record of what the run was launched with.
 */
export type LaunchFiles = { render: (location: ArtifactsLocation) => readonly Artifact[] } | { folder: string; artifacts: readonly Artifact[] };

/** A spec's files, compiled for where the launch puts them. */
export function filesOf(planned: Planned): LaunchFiles {
  return { render: (location) => renderArtifacts(planned.resolved, planned.derived, planned.plan, location).artifacts };
}

export function prepareRunDir(planned: Launchable, files: LaunchFiles, runDir = resolveRunDir(planned.plan.run.dir)): { prepared?: Omit<Prepared, 'secrets'>; diagnostics: Diagnostic[] } {
  if (!isOwnRunDir(runDir)) {
    return {
      diagnostics: [
        specProblem(planned, 'RS4010', {
          message: `${runDir} holds files rlstack did not make (it has no state/run_id): launching there could delete them`,
          path: 'run.name',
          hint: 'choose another run.name or run.output_dir, or move those files away',
        }),
      ],
    };
  }
  const previous = attempts(runDir);
  if (tookSteps(runDir) && !planned.plan.launch.resume) {
    return {
      diagnostics: [
        specProblem(planned, 'RS4002', {
          message: `${runDir} already holds a run that took steps (${previous.length} attempt${previous.length === 1 ? '' : 's'})`,
          path: 'run.resume',
          hint: 'set run.resume = true to resume it from its latest complete checkpoint, or choose another run.name',
        }),
      ],
    };
  }
  runId(runDir); // marks the dir as rlstack's before anything else is written into it
  // Slurm opens the job's output file under logs/ before the script runs: the folder must exist.
  ensureDir(paths.logs(runDir));
  const artifactsDir = paths.artifacts(runDir);
  // A later attempt keeps what each earlier attempt was launched with.
  const last = previous.at(-1);
  if (last !== undefined && existsSync(artifactsDir) && !existsSync(paths.launchedWith(runDir, last))) cpSync(artifactsDir, paths.launchedWith(runDir, last), { recursive: true });
  // launcher/ of a run dir that is rlstack's is rlstack's too: a damaged one (edited by hand, half copied)
  // is kept aside, never deleted, and never blocks the launch.
  let note: string | undefined;
  if (foreignContent(artifactsDir)) {
    const aside = join(paths.state(runDir), `launcher.damaged-${Date.now()}`);
    renameSync(artifactsDir, aside);
    note = `${artifactsDir} was not as rlstack wrote it (${foreignContent(aside) ?? 'damaged'}): kept as ${aside}`;
  }
  const refusal = writeArtifacts(artifactsDir, 'folder' in files ? files.artifacts : files.render({ runDir, artifactsDir }));
  if (refusal) return { diagnostics: [diagnostic('RS4003', { message: refusal, hint: 'the launcher folder of the run dir is rlstack\'s: move other files out of it' })] };
  return { prepared: { runDir, artifactsDir: 'folder' in files ? files.folder : artifactsDir, ...(note ? { note } : {}) }, diagnostics: [] };
}
