/** `rlstack logs SPEC|RUN_DIR [--role R] [--node N] [-f]`: every process log of the latest attempt, prefixed. */
import { closeSync, existsSync, openSync, readdirSync, readSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { readAttempt } from '../../launcher/run-dir.js';
import { EXIT } from '../exit-codes.js';
import type { Output } from '../output.js';
import { openRun } from './run-target.js';

export async function logsCommand(target: string, options: { set: string[]; role?: string; node?: string; follow: boolean }, io: Output): Promise<number> {
  const opened = openRun(target, options.set, io);
  if (typeof opened === 'number') return opened;
  const { run: { runDir }, status } = opened;
  const dir = join(runDir, 'logs', `attempt_${status.attempt}`);
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
      const size = statSync(path).size;
      const from = offsets.get(file) ?? 0;
      if (size <= from) continue;
      const fd = openSync(path, 'r');
      const buffer = Buffer.alloc(size - from);
      readSync(fd, buffer, 0, buffer.length, from);
      closeSync(fd);
      offsets.set(file, size);
      const text = (partial.get(file) ?? '') + buffer.toString('utf8');
      const lines = text.split('\n');
      partial.set(file, lines.pop() ?? '');
      const prefix = `[${file.replace(/\.log$/, '')}] `;
      for (const line of lines) io.out(prefix + line);
    }
  };
  drain();
  if (!options.follow) return EXIT.ok;
  let stop = false;
  const onSignal = () => void (stop = true);
  process.on('SIGINT', onSignal);
  while (!stop) {
    await new Promise((r) => setTimeout(r, 500));
    drain();
    const run = readAttempt(runDir, status.attempt)?.run;
    if (run && ['completed', 'failed', 'stopped'].includes(run.state)) {
      await new Promise((r) => setTimeout(r, 1000));
      drain();
      io.out(`-- the run ${run.state}${run.reason ? `: ${run.reason}` : ''}`);
      break;
    }
  }
  process.off('SIGINT', onSignal);
  return EXIT.ok;
}
