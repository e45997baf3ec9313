/**
 * `rlstack preflight SPEC`: the SSH back end's node checks on their own — reachable, GPUs, shared run dir,
 * prime-rl, ports, disk, memory — as one table, starting nothing. `launch` runs the same checks first.
 */
import { existsSync, mkdirSync, readdirSync, rmdirSync } from 'node:fs';
import { planSpec } from '../../compiler/pipeline.js';
import { backendFor } from '../../launcher/backend.js';
import { specProblem } from '../../launcher/prepare.js';
import { resolveRunDir } from '../../launcher/run-dir.js';
import { EXIT } from '../exit-codes.js';
import { reporterOf, type Output } from '../output.js';

export async function preflightCommand(spec: string, options: { set: string[]; unset?: string[] }, io: Output): Promise<number> {
  const planned = planSpec(spec, { sets: options.set, unsets: options.unset ?? [] });
  io.diagnostics(planned.diagnostics, planned.sources);
  if (!planned.ok) return EXIT.specErrors;
  if (planned.resolved.spec.cluster.backend !== 'ssh') {
    io.diagnostics([specProblem(planned, 'RS4108', { message: `preflight checks nodes over SSH; this spec's cluster.backend is "${planned.resolved.spec.cluster.backend}"`, path: 'cluster.backend', hint: 'under Slurm, node.sh checks every node at the start of the job (rlstack launch --dry-run tests the request with sbatch --test-only)' })], planned.sources);
    return EXIT.specErrors;
  }
  // The shared-dir check needs the run dir; one made only for it is removed again.
  const runDir = resolveRunDir(planned.plan.run.dir);
  const made = !existsSync(runDir);
  if (made) mkdirSync(runDir, { recursive: true });
  const backend = await backendFor('ssh', process.env['RLSTACK_DEBUG'] ? (l) => io.err(`ssh: ${l}`) : undefined);
  const checks: Record<string, unknown>[] = [];
  const report = { ...reporterOf(io, planned.sources), event: (e: Record<string, unknown>) => void (e['type'] === 'check' && checks.push(e)) };
  try {
    const passed = await backend.check(planned, runDir, report);
    io.result({ nodes: planned.plan.nodes.length, checks: checks.map(({ type: _type, ...row }) => row) });
    return passed ? EXIT.ok : EXIT.backend;
  } finally {
    backend.close();
    if (made && readdirSync(runDir).length === 0) rmdirSync(runDir);
  }
}
