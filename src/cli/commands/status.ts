/** `rlstack status SPEC|RUN_DIR`: the run, its back end, and per process: node, state, since, last log line. */
import { describeRun } from '../../launcher/lifecycle.js';
import { EXIT } from '../exit-codes.js';
import { runDirProblem, type Output } from '../output.js';
import { openRun } from './run-target.js';

export async function statusCommand(target: string, options: { set: string[]; json: boolean }, io: Output): Promise<number> {
  const opened = openRun(target, options.set, io);
  if (typeof opened === 'number') return opened;
  let view;
  try {
    view = await describeRun(opened.run.runDir, opened.status);
  } catch (e) {
    const problem = runDirProblem(e);
    if (!problem) throw e;
    io.diagnostics([problem], new Map());
    return EXIT.backend;
  }
  const backend = view.backend;
  if (options.json) {
    io.result({
      run_dir: view.runDir,
      attempt: view.attempt,
      run: view.run,
      // The back end's own view (kind, and its fields: Slurm job and state, SSH nodes running, local pid).
      backend,
      node_checks: view.nodeChecks,
      processes: view.processes,
    });
    return EXIT.ok;
  }
  // While it runs, node 0's "starting" says less than the processes themselves.
  const ready = view.processes.filter((p) => p.state === 'ready').length;
  const reason = view.run?.state === 'running' ? `${ready} of ${view.processes.length} processes ready` : view.run?.reason;
  io.out(`run ${view.runDir}, attempt ${view.attempt}: ${view.run?.state ?? 'starting'}${reason ? ` (${reason})` : ''}`);
  if (view.run?.first_failure) io.out(`first failure: ${view.run.first_failure}`);
  if (view.backendLine) io.out(view.backendLine);
  for (const c of view.nodeChecks.filter((x) => x.result !== 'ok')) io.out(`node ${c.node} check: ${c.result}`);
  const rows = view.processes.map((p) => [p.name, `node ${p.node}`, p.host, p.state + (p.code !== null && p.code !== 0 ? ` (${p.code})` : ''), p.since, p.reason || p.last_log]);
  const widths = [0, 1, 2, 3, 4].map((i) => Math.max(...rows.map((r) => r[i]!.length), 0));
  for (const r of rows) io.out(`  ${r.slice(0, 5).map((c, i) => c.padEnd(widths[i]!)).join('  ')}  ${r[5]}`);
  return EXIT.ok;
}
