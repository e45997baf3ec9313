/**
 * `rlstack stop SPEC|RUN_DIR`: the run's back end's teardown (src/launcher/lifecycle.ts): a stop request
 * every node acts on within seconds (ordered teardown), the scheduler's cancel, then every node checked for
 * anything of the run; reports anything still running.
 */
import { stopRun } from '../../launcher/lifecycle.js';
import { EXIT } from '../exit-codes.js';
import { reporterOf, runDirProblem, type Output } from '../output.js';
import { openRun } from './run-target.js';

export async function stopCommand(target: string, options: { set: string[]; json: boolean }, io: Output): Promise<number> {
  const opened = openRun(target, options.set, io);
  if (typeof opened === 'number') return opened;
  const { run: { runDir }, status } = opened;
  try {
    // In the JSON view the progress lines go to stderr: stdout holds the envelope alone.
    const r = await stopRun(runDir, status, reporterOf(io));
    if (options.json) io.result({ run_dir: runDir, attempt: r.attempt, backend: r.backend, stopped: r.stopped, survivors: r.survivors, killed: r.swept.killed, left: r.swept.left, unreachable: r.swept.unreachable });
    return r.result === 'ok' ? EXIT.ok : EXIT.backend;
  } catch (e) {
    const problem = runDirProblem(e);
    if (!problem) throw e;
    io.diagnostics([problem], new Map());
    return EXIT.backend;
  }
}
