/** `rlstack logs SPEC|RUN_DIR [--role R] [--node N] [-f]`: every process log of the latest attempt, prefixed. */
import { closeSync, existsSync, openSync, readdirSync, readSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { backendFor, readHandle } from '../../launcher/backend.js';
import { paths, readAttempt, RUN_ENDED } from '../../launcher/run-dir.js';
import { EXIT } from '../exit-codes.js';
import type { Output } from '../output.js';
import { openRun } from './run-target.js';

/** Logs are read in pieces of this size: a log of any size streams in bounded memory. */
const CHUNK = 1 << 20;

export async function logsCommand(target: string, options: { set: string[]; role?: string; node?: string; follow: boolean }, io: Output): Promise<number> {
  const opened = openRun(target, options.set, io);
  if (typeof opened === 'number') return opened;
  const { run: { runDir }, status } = opened;
  const dir = paths.attemptLogs(runDir, status.attempt);
  const wanted = (file: string) => {
    const name = file.replace(/\.log$/, '');
    const p = status.processes.find((x) => x.name === name);
    if (options.role && p?.role !== options.role && !(options.role === 'node' && name.startsWith('node-'))) return false;
    if (options.node !== undefined && (p ? String(p.node) !== options.node : name !== `node-${options.node.padStart(3, '0')}`)) return false;
    return true;
  };
  const offsets = new Map<string, number>();
  const partial = new Map<string, string>();
  const drain = () => {
    if (!existsSync(dir)) return;
    for (const file of readdirSync(dir).filter((f) => f.endsWith('.log')).sort()) {
      if (!wanted(file)) continue;
      const path = join(dir, file);
      const stat = statSync(path);
      if (!stat.isFile()) continue;
      const prefix = `[${file.replace(/\.log$/, '')}] `;
      const fd = openSync(path, 'r');
      try {
        for (let from = offsets.get(file) ?? 0; from < stat.size; ) {
          const buffer = Buffer.alloc(Math.min(CHUNK, stat.size - from));
          const n = readSync(fd, buffer, 0, buffer.length, from);
          if (n === 0) break;
          from += n;
          offsets.set(file, from);
          const lines = ((partial.get(file) ?? '') + buffer.subarray(0, n).toString('utf8')).split('\n');
          partial.set(file, lines.pop() ?? '');
          for (const line of lines) {
            if (io.view === 'json-lines') io.event({ type: 'log', source: file.replace(/\.log$/, ''), text: line });
            else io.out(prefix + line);
          }
        }
      } finally {
        closeSync(fd);
      }
    }
  };
  drain();
  if (!options.follow) return EXIT.ok;
  let stop = false;
  const onSignal = () => void (stop = true);
  process.on('SIGINT', onSignal);
  // The back end's view too: a run whose node.sh was killed never writes its end.
  const handle = readHandle(runDir, status.attempt);
  const backend = handle ? await backendFor(handle.kind) : undefined;
  let lastCheck = Date.now();
  try {
    while (!stop) {
      await new Promise((r) => setTimeout(r, 500));
      drain();
      const run = readAttempt(runDir, status.attempt)?.run;
      if (run && RUN_ENDED.has(run.state)) {
        await new Promise((r) => setTimeout(r, 1000));
        drain();
        io.out(`-- the run ${run.state}${run.reason ? `: ${run.reason}` : ''}`);
        io.result({ run_state: run.state, ...(run.reason ? { reason: run.reason } : {}) });
        break;
      }
      if (backend && handle && Date.now() - lastCheck > 3000) {
        lastCheck = Date.now();
        const gone = await backend.alive(handle);
        if (gone) {
          drain();
          io.out(`-- the run is no longer running: ${gone}`);
          io.result({ run_state: 'gone', reason: gone });
          break;
        }
      }
    }
  } finally {
    process.off('SIGINT', onSignal);
    backend?.close();
  }
  return EXIT.ok;
}
