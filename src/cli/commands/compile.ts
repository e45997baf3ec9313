/** `rlstack compile SPEC -o DIR`: everything `plan` does, then every artifact into DIR (docs/runtime.md). */
import { join, resolve } from 'node:path';
import { diagnostic } from '../../compiler/diagnostics/diagnostic.js';
import { renderArtifacts } from '../../compiler/emit/artifacts.js';
import { planSpec } from '../../compiler/pipeline.js';
import { EXIT } from '../exit-codes.js';
import { writeArtifacts } from '../../launcher/artifacts-dir.js';
import { resolveRunDir } from '../../launcher/run-dir.js';
import { runDirProblem, type Output } from '../output.js';

export function compileCommand(spec: string, options: { set: string[]; unset?: string[]; out: string; json: boolean }, io: Output): number {
  const result = planSpec(spec, { sets: options.set, unsets: options.unset ?? [] });
  if (!result.ok) {
    io.diagnostics(result.diagnostics, result.sources);
    return EXIT.specErrors;
  }
  const outDir = resolve(options.out);
  // A bundle that runs by hand from where it was written (sbatch DIR/slurm/job.sbatch; docs/runtime.md).
  const { artifacts } = renderArtifacts(result.resolved, result.derived, result.plan, { runDir: resolveRunDir(result.plan.run.dir), artifactsDir: outDir });
  let refusal: string | undefined;
  try {
    refusal = writeArtifacts(outDir, artifacts);
  } catch (e) {
    const problem = runDirProblem(e);
    if (!problem) throw e;
    io.diagnostics([problem], result.sources);
    return EXIT.specErrors;
  }
  if (refusal) {
    io.diagnostics([diagnostic('RS0005', { message: refusal, hint: 'compile into an empty folder, or one an earlier compile wrote (it has manifest.json)' })], result.sources);
    return EXIT.specErrors;
  }
  io.diagnostics(result.diagnostics, result.sources);
  if (options.json) io.result({ dir: outDir, files: artifacts.map((a) => a.path) });
  else {
    const starter = artifacts.find((a) => a.path === 'slurm/job.sbatch' || a.path === 'ssh/start.sh')?.path;
    io.out(`wrote ${artifacts.length} files to ${options.out} (plan.json, ${artifacts.filter((a) => a.path.startsWith('configs/')).length} prime-rl configs, ${result.plan.nodes.length} node plans, node.sh${starter ? `, ${starter}` : ''}, manifest.json)`);
    // The bundle runs by hand (docs/runtime.md "A compiled bundle"); rlstack launch does the same with checks first.
    if (starter === 'slurm/job.sbatch') io.out(`submit it by hand: sbatch ${join(outDir, starter)}`);
    if (starter === 'ssh/start.sh') io.out(`start it by hand: bash ${join(outDir, starter)}`);
  }
  return EXIT.ok;
}

