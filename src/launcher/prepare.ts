/**
 * What every back end does before it starts anything: refuse a run dir that already holds a run (unless
 * resuming), check that every secret is in the launcher's environment, and compile the artifacts into
 * <run dir>/launcher. Nothing is started here.
 */
import { cpSync, existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Code } from '../compiler/diagnostics/codes.js';
import { diagnostic, type Diagnostic, type DiagnosticInput } from '../compiler/diagnostics/diagnostic.js';
import { positionOf } from '../compiler/load/provenance.js';
import { renderArtifacts } from '../compiler/emit/artifacts.js';
import type { PlanResult } from '../compiler/pipeline.js';
import { writeArtifacts } from '../cli/commands/compile.js';
import { attempts, resolveRunDir } from './run-dir.js';

export type Planned = Extract<PlanResult, { ok: true }>;

export interface Prepared {
  runDir: string;
  artifactsDir: string;
  secrets: Record<string, string>;
}

/** A launch-time problem with a spec key, pointed at where the key (or its nearest table) is written. */
export function specProblem(planned: Planned, code: Code, input: DiagnosticInput & { path: string }): Diagnostic {
  return diagnostic(code, { ...input, at: positionOf(planned.resolved.provenance, input.path) });
}

export function readSecrets(planned: Planned, env: NodeJS.ProcessEnv = process.env): { secrets: Record<string, string>; diagnostics: Diagnostic[] } {
  const secrets: Record<string, string> = {};
  const diagnostics: Diagnostic[] = [];
  for (const name of Object.keys(planned.resolved.spec.secrets)) {
    const value = env[name];
    if (value === undefined || value === '') {
      diagnostics.push(specProblem(planned, 'RS4001', { message: `secret ${name} is not set in the launcher's environment`, path: `secrets.${name}`, hint: `export ${name}=… before rlstack launch (it is never written to a file)` }));
    } else secrets[name] = value;
  }
  return { secrets, diagnostics };
}

export function prepareRunDir(planned: Planned, cwd = process.cwd()): { prepared?: Omit<Prepared, 'secrets'>; diagnostics: Diagnostic[] } {
  const runDir = resolveRunDir(planned.plan.run.dir, cwd);
  const previous = attempts(runDir);
  if (previous.length > 0 && !planned.resolved.spec.run.resume) {
    return {
      diagnostics: [
        specProblem(planned, 'RS4002', {
          message: `${runDir} already holds a run (${previous.length} attempt${previous.length === 1 ? '' : 's'})`,
          path: 'run.resume',
          hint: 'set run.resume = true to resume it from its latest complete checkpoint, or choose another run.name',
        }),
      ],
    };
  }
  const artifactsDir = join(runDir, 'launcher');
  // A resumed run keeps what each earlier attempt was launched with.
  if (previous.length > 0 && existsSync(artifactsDir)) {
    const keep = join(runDir, 'state', `attempt_${previous.at(-1)}`, 'launcher');
    if (!existsSync(keep)) cpSync(artifactsDir, keep, { recursive: true });
  }
  // Slurm opens the job's output file under logs/ before the script runs: the folder must exist.
  mkdirSync(join(runDir, 'logs'), { recursive: true });
  const { artifacts } = renderArtifacts(planned.resolved, planned.derived, planned.plan);
  const refusal = writeArtifacts(artifactsDir, artifacts);
  if (refusal) return { diagnostics: [diagnostic('RS4003', { message: refusal, hint: 'the launcher folder of the run dir is rlstack\'s: move other files out of it' })] };
  return { prepared: { runDir, artifactsDir }, diagnostics: [] };
}
