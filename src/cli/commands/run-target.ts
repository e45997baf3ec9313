/** `status`, `logs` and `stop` take a spec, a run dir or a compiled folder: find the run dir each way. */
import { existsSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { diagnostic, type Diagnostic } from '../../compiler/diagnostics/diagnostic.js';
import { planSpec } from '../../compiler/pipeline.js';
import { isBundle } from '../../launcher/bundle.js';
import { readAttempt, readBounded, resolveRunDir, type AttemptStatus } from '../../launcher/run-dir.js';
import { EXIT } from '../exit-codes.js';
import { runDirProblem, type Output } from '../output.js';

export interface RunTarget {
  runDir: string;
}

export function findRun(target: string, sets: string[] = []): { run?: RunTarget; diagnostics: Diagnostic[]; sources: Map<string, string> } {
  const path = resolve(target);
  if (existsSync(path) && statSync(path).isDirectory()) {
    if (existsSync(join(path, 'state')) || existsSync(join(path, 'launcher'))) return { run: { runDir: path }, diagnostics: [], sources: new Map() };
    // A compiled folder knows the run dir it was compiled for.
    const compiledFor = bundleRunDir(path);
    if (compiledFor) return { run: { runDir: compiledFor }, diagnostics: [], sources: new Map() };
    return { diagnostics: [diagnostic('RS4007', { message: `${target} is a folder but not an rlstack run dir (no state/ or launcher/)`, hint: 'pass the spec, or the run dir (output_dir/name)' })], sources: new Map() };
  }
  const result = planSpec(target, { sets });
  if (!result.resolved) return { diagnostics: result.diagnostics, sources: result.sources };
  const plan = result.ok ? result.plan : result.plan;
  const dir = plan?.run.dir ?? `${result.resolved.spec.run.output_dir}/${result.resolved.spec.run.name}`;
  return { run: { runDir: resolveRunDir(dir) }, diagnostics: [], sources: result.sources };
}

function bundleRunDir(dir: string): string | undefined {
  if (!isBundle(dir)) return undefined;
  try {
    const manifest = JSON.parse(readBounded(join(dir, 'manifest.json'), 64 << 20)) as { location?: { run_dir?: unknown } };
    return typeof manifest.location?.run_dir === 'string' ? manifest.location.run_dir : undefined;
  } catch {
    return undefined;
  }
}

/** The run and its latest attempt, or the exit code after saying why there is none. */
export function openRun(target: string, sets: string[], io: Output): { run: RunTarget; status: AttemptStatus } | number {
  const found = findRun(target, sets);
  if (!found.run) {
    io.diagnostics(found.diagnostics, found.sources);
    return EXIT.specErrors;
  }
  let status: AttemptStatus | undefined;
  try {
    status = readAttempt(found.run.runDir);
  } catch (e) {
    const problem = runDirProblem(e);
    if (!problem) throw e;
    io.diagnostics([problem], new Map());
    return EXIT.backend;
  }
  if (!status) {
    io.diagnostics([diagnostic('RS4007', { message: `no run in ${found.run.runDir}`, hint: 'rlstack launch starts one' })], new Map());
    return EXIT.specErrors;
  }
  return { run: found.run, status };
}
