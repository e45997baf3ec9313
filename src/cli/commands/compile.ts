/** `rlstack compile SPEC -o DIR`: everything `plan` does, then every artifact into DIR (docs/runtime.md). */
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync, chmodSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { diagnostic } from '../../compiler/diagnostics/diagnostic.js';
import { renderArtifacts, type Artifact } from '../../compiler/emit/artifacts.js';
import { planSpec } from '../../compiler/pipeline.js';
import { EXIT } from '../exit-codes.js';
import type { Output } from '../output.js';

export function compileCommand(spec: string, options: { set: string[]; out: string; json: boolean }, io: Output): number {
  const result = planSpec(spec, { sets: options.set });
  if (!result.ok) {
    if (options.json) io.json({ ok: false, diagnostics: result.diagnostics });
    else io.diagnostics(result.diagnostics, result.sources);
    return EXIT.specErrors;
  }
  const { artifacts } = renderArtifacts(result.resolved, result.derived, result.plan);
  const outDir = resolve(options.out);
  const refusal = writeArtifacts(outDir, artifacts);
  if (refusal) {
    io.diagnostics([diagnostic('RS0005', { message: refusal, hint: 'compile into an empty folder, or one an earlier compile wrote (it has manifest.json)' })], result.sources);
    return EXIT.specErrors;
  }
  if (options.json) io.json({ ok: true, dir: outDir, files: artifacts.map((a) => a.path), diagnostics: result.diagnostics });
  else {
    io.diagnostics(result.diagnostics, result.sources);
    io.out(`wrote ${artifacts.length} files to ${options.out} (plan.json, ${artifacts.filter((a) => a.path.startsWith('configs/')).length} prime-rl configs, ${result.plan.nodes.length} node plans, node.sh${artifacts.some((a) => a.path === 'slurm/job.sbatch') ? ', slurm/job.sbatch' : ''}, manifest.json)`);
  }
  return EXIT.ok;
}

/**
 * Writes the artifacts into a folder that is empty or holds an earlier compile (its manifest lists what it
 * wrote; files it wrote that this compile no longer has are removed). Returns why it refused, if it did.
 */
export function writeArtifacts(outDir: string, artifacts: readonly Artifact[]): string | undefined {
  const manifestPath = join(outDir, 'manifest.json');
  let previous: string[] = [];
  if (existsSync(outDir) && readdirSync(outDir).length > 0) {
    if (!existsSync(manifestPath)) return `${outDir} is not empty and was not written by rlstack compile`;
    try {
      previous = (JSON.parse(readFileSync(manifestPath, 'utf8')) as { files: { path: string }[] }).files.map((f) => f.path);
    } catch {
      return `${manifestPath} is not an rlstack manifest`;
    }
  }
  const current = new Set(artifacts.map((a) => a.path));
  for (const path of previous) if (!current.has(path) && !path.includes('..')) rmSync(join(outDir, path), { force: true });
  for (const artifact of artifacts) {
    const target = join(outDir, artifact.path);
    mkdirSync(dirname(target), { recursive: true });
    const tmp = `${target}.tmp-${process.pid}`;
    writeFileSync(tmp, artifact.content, { mode: artifact.mode });
    chmodSync(tmp, artifact.mode);
    renameSync(tmp, target);
  }
  return undefined;
}
