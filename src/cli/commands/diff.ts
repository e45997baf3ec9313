/**
 * `rlstack diff A B [--json]`: what changes between two specs or compiled artifact folders (SPEC §2). A spec
 * is planned and compiled in memory; a folder is what `compile -o DIR` (or a run dir's `launcher/`) holds:
 * manifest.json, plan.json and the generated files. Exit 0 when identical, 4 when they differ, 1 on errors.
 */
import { createHash } from 'node:crypto';
import { existsSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { diagnostic, type Diagnostic } from '../../compiler/diagnostics/diagnostic.js';
import { compiledFromArtifacts, diffCompiled, isComparedArtifact, renderDiff, resumeConflicts, type Compiled, type PlanDiff } from '../../compiler/diff.js';
import { renderArtifacts, type Artifact } from '../../compiler/emit/artifacts.js';
import { planSpec } from '../../compiler/pipeline.js';
import type { LaunchPlan } from '../../compiler/plan/types.js';
import { readBounded, resolveRunDir } from '../../launcher/run-dir.js';
import { fileTree } from '../../file-tree.js';
import { EXIT } from '../exit-codes.js';
import type { Output } from '../output.js';

export interface Side {
  kind: 'spec' | 'folder';
  path: string;
  compiled: Compiled;
  /** Files of a folder whose content no longer matches its manifest (edited after compile). */
  edited: string[];
}

export type Loaded = { ok: true; side: Side; sources: Map<string, string> } | { ok: false; diagnostics: Diagnostic[]; sources: Map<string, string> };

export function diffCommand(a: string, b: string, options: { json: boolean }, io: Output): number {
  // A spec is compiled as if into the folder it is compared with (the job script names its folder), or else
  // into the run dir's launcher/, as launch would.
  const folderOf = (path: string) => (existsSync(path) && statSync(path).isDirectory() ? resolve(path) : undefined);
  const left = loadSide(a, folderOf(b));
  const right = loadSide(b, folderOf(a));
  const failed = [left, right].filter((s): s is Extract<Loaded, { ok: false }> => !s.ok);
  if (failed.length) {
    for (const f of failed) io.diagnostics(f.diagnostics, f.sources);
    return EXIT.specErrors;
  }
  const [x, y] = [left, right] as Extract<Loaded, { ok: true }>[];
  const diff = diffCompiled(x!.side.compiled, y!.side.compiled);
  const describe = (s: Side) => ({ path: s.path, kind: s.kind, rlstack_version: s.compiled.plan.rlstack_version, ...(s.edited.length ? { edited: s.edited } : {}) });
  if (options.json) io.result({ a: describe(x!.side), b: describe(y!.side), ...diff });
  else {
    for (const s of [x!.side, y!.side]) {
      if (s.edited.length) io.err(`note: ${s.path}: ${s.edited.join(', ')} no longer match${s.edited.length === 1 ? 'es' : ''} manifest.json (edited after compile); the diff reads the files as they are`);
    }
    io.out(renderDiff(diff, { a: label(x!.side), b: label(y!.side) }, io.style));
  }
  return diff.identical ? EXIT.ok : EXIT.differs;
}

function label(s: Side): string {
  return s.kind === 'folder' ? `${s.path}/` : s.path;
}

/** A spec file (planned and compiled in memory) or a compiled folder. */
export function loadSide(path: string, artifactsDir?: string): Loaded {
  if (!existsSync(path)) {
    return { ok: false, diagnostics: [diagnostic('RS0001', { message: `${path} does not exist`, hint: 'diff takes two spec files or two folders written by rlstack compile (or a run dir\'s launcher/ folder)' })], sources: new Map() };
  }
  if (statSync(path).isDirectory()) {
    const folder = loadCompiledFolder(path);
    return folder.ok ? { ok: true, side: { kind: 'folder', path, compiled: folder.compiled, edited: folder.edited }, sources: new Map() } : { ok: false, diagnostics: folder.diagnostics, sources: new Map() };
  }
  const result = planSpec(path);
  if (!result.ok) return { ok: false, diagnostics: result.diagnostics, sources: result.sources };
  const runDir = resolveRunDir(result.plan.run.dir);
  const { artifacts } = renderArtifacts(result.resolved, result.derived, result.plan, { runDir, artifactsDir: artifactsDir ?? join(runDir, 'launcher') });
  return { ok: true, side: { kind: 'spec', path, compiled: compiledFromArtifacts(artifacts), edited: [] }, sources: result.sources };
}

/** A compiled file is kilobytes (plan.json of 4096 nodes a few MiB): a larger one is not rlstack's. */
const FOLDER_FILE_LIMIT = 64 << 20;

/** Reads what `compile -o DIR` wrote: plan.json and the compared files, checked against manifest.json. */
export function loadCompiledFolder(dir: string): { ok: true; compiled: Compiled; edited: string[] } | { ok: false; diagnostics: Diagnostic[] } {
  const fail = (message: string, hint = 'a compiled folder is what rlstack compile -o DIR writes: manifest.json, plan.json, configs/ …') => ({ ok: false as const, diagnostics: [diagnostic('RS0001', { message, hint })] });
  const manifestPath = join(dir, 'manifest.json');
  const planPath = join(dir, 'plan.json');
  if (!existsSync(manifestPath) || !existsSync(planPath)) return fail(`${dir} is a folder without ${existsSync(manifestPath) ? 'plan.json' : 'manifest.json'}: not a compiled artifact folder`);
  let manifest: { files: { path: string; sha256: string }[] };
  let plan: LaunchPlan;
  try {
    manifest = JSON.parse(readBounded(manifestPath, FOLDER_FILE_LIMIT)) as typeof manifest;
    if (!Array.isArray(manifest.files)) throw new Error('no file list');
  } catch (error) {
    return fail(`${manifestPath} is not an rlstack manifest (${(error as Error).message})`);
  }
  try {
    plan = JSON.parse(readBounded(planPath, FOLDER_FILE_LIMIT)) as LaunchPlan;
    if (!plan || !Array.isArray(plan.nodes) || !Array.isArray(plan.processes)) throw new Error('no nodes or processes');
  } catch (error) {
    return fail(`${planPath} is not an rlstack plan (${(error as Error).message})`);
  }
  const files: Record<string, string> = {};
  try {
    for (const path of fileTree(dir).files) if (isComparedArtifact(path)) files[path] = readBounded(join(dir, path), FOLDER_FILE_LIMIT);
  } catch (error) {
    return fail(`${dir}: ${(error as Error).message}`);
  }
  const hashes = new Map(manifest.files.map((f) => [f.path, f.sha256]));
  const edited = ['plan.json', ...Object.keys(files)].filter((path) => {
    const expected = hashes.get(path);
    const text = path === 'plan.json' ? readBounded(planPath, FOLDER_FILE_LIMIT) : files[path]!;
    return expected !== undefined && createHash('sha256').update(text).digest('hex') !== expected;
  });
  // A listed file that is gone, or no longer a regular file (a link is never followed), was changed too.
  for (const path of hashes.keys()) if (isComparedArtifact(path) && !(path in files)) edited.push(path);
  return { ok: true, compiled: { plan, files }, edited };
}

/**
 * For `launch` into an existing run (resume): the artifacts about to be launched against what the run was
 * last launched with (`<run dir>/launcher/`, read before it is overwritten). `undefined` when that folder
 * holds no earlier compile; `conflicts` lists what prime-rl cannot resume from (see resumeConflicts).
 */
export function compareWithLaunched(launcherDir: string, artifacts: readonly Artifact[]): { diff: PlanDiff; conflicts: string[]; text: (style?: Output['style']) => string } | undefined {
  if (!existsSync(join(launcherDir, 'plan.json'))) return undefined;
  const before = loadCompiledFolder(launcherDir);
  if (!before.ok) return undefined;
  const after = compiledFromArtifacts(artifacts);
  const diff = diffCompiled(before.compiled, after);
  return { diff, conflicts: resumeConflicts(before.compiled, after), text: (style) => renderDiff(diff, { a: `${launcherDir}/ (launched)`, b: 'this launch' }, style) };
}
