/**
 * The CLI's one view of the terminal: colour on a TTY unless NO_COLOR or --no-color (chalk alone ignores
 * NO_COLOR), stdout for results, stderr for diagnostics.
 */
import { Chalk } from 'chalk';
import { diagnostic, type Diagnostic } from '../compiler/diagnostics/diagnostic.js';
import type { Reporter } from '../launcher/backend.js';
import { RunDirError } from '../launcher/run-dir.js';
import { plainStyle, renderDiagnostics, type SourceTexts, type Style } from '../compiler/diagnostics/render.js';

export interface Output {
  style: Style;
  out(text: string): void;
  err(text: string): void;
  json(value: unknown): void;
  diagnostics(list: readonly Diagnostic[], sources: SourceTexts): void;
}

export function createOutput(options: { color: boolean }): Output {
  const noColorEnv = (process.env['NO_COLOR'] ?? '') !== '';
  const styleFor = (stream: NodeJS.WriteStream): Style => {
    if (!options.color || noColorEnv || !stream.isTTY) return plainStyle;
    const chalk = new Chalk({ level: 1 });
    return { red: chalk.red, yellow: chalk.yellow, cyan: chalk.cyan, dim: chalk.dim, bold: chalk.bold };
  };
  const style = styleFor(process.stdout);
  const errStyle = styleFor(process.stderr);
  // A reader that goes away (`| head -1`) closes the pipe: the command still ends with its own exit code,
  // quietly, writing nothing more there.
  const closed = { stdout: false, stderr: false };
  const onError = (stream: 'stdout' | 'stderr') => (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE' || error.code === 'ERR_STREAM_DESTROYED') closed[stream] = true;
    else throw error;
  };
  process.stdout.on('error', onError('stdout'));
  process.stderr.on('error', onError('stderr'));
  const write = (stream: 'stdout' | 'stderr', text: string) => {
    if (!closed[stream]) process[stream].write(text.endsWith('\n') ? text : `${text}\n`);
  };
  return {
    style,
    out: (text) => write('stdout', text),
    err: (text) => write('stderr', text),
    json: (value) => write('stdout', `${JSON.stringify(value, null, 2)}\n`),
    diagnostics(list, sources) {
      if (list.length) this.err(renderDiagnostics(list, sources, errStyle));
    },
  };
}

/** The launcher's reporter on this output: lines to stdout, diagnostics to stderr. */
export function reporterOf(io: Output, sources: SourceTexts = new Map()): Reporter {
  return { line: (text) => io.out(text), diagnostics: (list, s) => io.diagnostics(list, s ?? sources) };
}

/** A damaged or inaccessible file of a run dir (or the file system refusing) as a diagnostic naming it. */
export function runDirProblem(error: unknown): Diagnostic | undefined {
  if (!(error instanceof RunDirError)) return undefined;
  return diagnostic('RS4011', { message: error.message, hint: `check ${error.file} (permissions, free space); a damaged state file can be moved away` });
}
