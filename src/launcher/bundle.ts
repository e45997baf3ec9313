/**
 * A compiled folder as a launch source (`rlstack launch DIR`): what `compile -o DIR` or `launch --dry-run
 * --keep DIR` wrote, started exactly as compiled. Every file must match its manifest (an edited file is
 * refused: the plan and the scripts would disagree), and the folder must be where it was compiled to be
 * (the Slurm job script names it).
 */
import { createHash } from 'node:crypto';
import { lstatSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { diagnostic, type Diagnostic } from '../compiler/diagnostics/diagnostic.js';
import type { Artifact, Manifest } from '../compiler/emit/artifacts.js';
import type { LaunchPlan } from '../compiler/plan/types.js';
import { fileTree } from '../file-tree.js';
import { readBounded, RunDirError } from './run-dir.js';

export interface Bundle {
  dir: string;
  plan: LaunchPlan;
  runDir: string;
  artifacts: Artifact[];
}

/** Largest file of a bundle read (node plans and configs are kilobytes; plan.json of 4096 nodes is a few MiB). */
const FILE_LIMIT = 64 << 20;

export function isBundle(dir: string): boolean {
  try {
    return lstatSync(join(dir, 'manifest.json')).isFile() && lstatSync(join(dir, 'plan.json')).isFile();
  } catch {
    return false;
  }
}

export function openBundle(path: string): { bundle?: Bundle; diagnostics: Diagnostic[] } {
  const dir = resolve(path);
  const refuse = (message: string, hint: string) => ({ diagnostics: [diagnostic('RS4013', { message, hint })] });
  const again = `compile again: rlstack compile SPEC -o ${path}`;
  let manifest: Manifest;
  let plan: LaunchPlan;
  try {
    manifest = JSON.parse(readBounded(join(dir, 'manifest.json'), FILE_LIMIT)) as Manifest;
    plan = JSON.parse(readBounded(join(dir, 'plan.json'), FILE_LIMIT)) as LaunchPlan;
  } catch (e) {
    return refuse(`${path} is not a compiled folder: ${e instanceof RunDirError ? e.message : (e as Error).message}`, 'launch takes a spec, or a folder written by rlstack compile -o DIR');
  }
  if (!Array.isArray(manifest.files) || !plan?.launch || !Array.isArray(plan.nodes)) return refuse(`${path}: manifest.json or plan.json is not what rlstack compile writes (or an older rlstack wrote it)`, again);
  if (!manifest.location) return refuse(`${path} does not say where it was compiled to run (an older rlstack, or files copied by hand)`, again);
  if (manifest.location.artifacts_dir !== dir) return refuse(`${path} was compiled to run from ${manifest.location.artifacts_dir}; its job script names that folder`, `${again} (or move it back)`);
  const listed = new Set(manifest.files.map((f) => f.path));
  const artifacts: Artifact[] = [];
  for (const file of manifest.files) {
    let content: string;
    try {
      content = readBounded(join(dir, file.path), FILE_LIMIT);
    } catch (e) {
      return refuse(`${path}/${file.path}, listed in its manifest, cannot be read: ${(e as Error).message}`, again);
    }
    if (createHash('sha256').update(content).digest('hex') !== file.sha256) return refuse(`${path}/${file.path} was edited after compile (it no longer matches manifest.json)`, `${again}; to change a generated file, change the spec`);
    artifacts.push({ path: file.path, content, mode: lstatSync(join(dir, file.path)).mode & 0o777 });
  }
  const tree = fileTree(dir);
  const extra = [...tree.files, ...tree.others.map((o) => o.path)].find((f) => f !== 'manifest.json' && !listed.has(f));
  if (extra) return refuse(`${path}/${extra} is not listed in manifest.json: the folder holds files rlstack did not write`, again);
  artifacts.push({ path: 'manifest.json', content: readBounded(join(dir, 'manifest.json'), FILE_LIMIT), mode: 0o644 });
  return { bundle: { dir, plan, runDir: manifest.location.run_dir, artifacts }, diagnostics: [] };
}
