/**
 * The CLI's one view of the terminal (Terraform's command/views are the model): a command reports through
 * this interface and never decides how its report looks.
 *  - human: results on stdout, diagnostics on stderr, colour on a TTY unless NO_COLOR or --no-color (chalk
 *    alone ignores NO_COLOR);
 *  - json: one envelope `{ ok, diagnostics, …result }` on stdout when the command ends, on success and on
 *    failure alike; progress lines go to stderr, so stdout holds nothing but the envelope;
 *  - json-lines (`launch`, `logs`): one JSON object per line with a `type` — `line` (a progress line),
 *    `process` (a state change), `log` (a log line), `diagnostic` — and last `result`, the envelope.
 * docs/json-output.md describes every command's envelope; src/cli/json-shapes.ts holds them as schemas.
 */
import { Chalk } from 'chalk';
import { diagnostic, type Diagnostic } from '../compiler/diagnostics/diagnostic.js';
import type { Reporter } from '../launcher/backend.js';
import { RunDirError } from '../launcher/run-dir.js';
import { plainStyle, renderDiagnostics, type SourceTexts, type Style } from '../compiler/diagnostics/render.js';
import { EXIT } from './exit-codes.js';

export type ViewKind = 'human' | 'json' | 'json-lines';

/** A structured event of the json-lines view. */
export type ViewEvent = { type: string } & Record<string, unknown>;

export interface Output {
  readonly view: ViewKind;
  style: Style;
  /** A human line: stdout in the human view, stderr in the JSON view, a `line` event in json-lines. */
  out(text: string): void;
  err(text: string): void;
  /** A document that is its own format (the JSON Schema): written as is, in every view. */
  json(value: unknown): void;
  /** The command's result: the envelope's fields in the JSON views; the human view prints its own text. */
  result(fields: Record<string, unknown>): void;
  /** A structured event: written at once in json-lines; the other views ignore it. */
  event(event: ViewEvent): void;
  diagnostics(list: readonly Diagnostic[], sources: SourceTexts): void;
  /** The command ended with this exit code: the JSON views write their envelope. */
  finish(code: number): void;
}

/** The envelope's `ok`: the command did what it was asked (a diff that finds changes did). */
export function succeeded(code: number): boolean {
  return code === EXIT.ok || code === EXIT.differs;
}

export function createOutput(options: { color: boolean; view?: ViewKind }): Output {
  const view = options.view ?? 'human';
  const noColorEnv = (process.env['NO_COLOR'] ?? '') !== '';
  const styleFor = (stream: NodeJS.WriteStream): Style => {
    if (!options.color || noColorEnv || !stream.isTTY) return plainStyle;
    const chalk = new Chalk({ level: 1 });
    return { red: chalk.red, yellow: chalk.yellow, cyan: chalk.cyan, dim: chalk.dim, bold: chalk.bold };
  };
  const style = view === 'human' ? styleFor(process.stdout) : plainStyle;
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
  const line = (value: unknown) => write('stdout', JSON.stringify(value));
  const collected: Diagnostic[] = [];
  const fields: Record<string, unknown> = {};
  let finished = false;
  return {
    view,
    style,
    out: (text) => {
      if (view === 'human') write('stdout', text);
      else if (view === 'json') write('stderr', text);
      else line({ type: 'line', text });
    },
    err: (text) => write('stderr', text),
    json: (value) => write('stdout', `${JSON.stringify(value, null, 2)}\n`),
    result: (more) => {
      for (const [key, value] of Object.entries(more)) if (key !== 'ok' && key !== 'diagnostics') fields[key] = value;
    },
    event: (event) => {
      if (view === 'json-lines') line(event);
    },
    diagnostics(list, sources) {
      if (view === 'human') {
        if (list.length) write('stderr', renderDiagnostics(list, sources, errStyle));
        return;
      }
      collected.push(...list);
      if (view === 'json-lines') for (const d of list) line({ type: 'diagnostic', ...d });
    },
    finish(code) {
      if (view === 'human' || finished) return;
      finished = true;
      const envelope = { ok: succeeded(code) && !collected.some((d) => d.severity === 'error'), diagnostics: collected, ...fields };
      if (view === 'json') write('stdout', `${JSON.stringify(envelope, null, 2)}\n`);
      else line({ type: 'result', exit_code: code, ...envelope });
    },
  };
}

/** The launcher's reporter on this output: lines, diagnostics and structured events. */
export function reporterOf(io: Output, sources: SourceTexts = new Map()): Reporter {
  return { line: (text) => io.out(text), diagnostics: (list, s) => io.diagnostics(list, s ?? sources), event: (e) => io.event(e) };
}

/** A damaged or inaccessible file of a run dir (or the file system refusing) as a diagnostic naming it. */
export function runDirProblem(error: unknown): Diagnostic | undefined {
  if (!(error instanceof RunDirError)) return undefined;
  return diagnostic('RS4011', { message: error.message, hint: `check ${error.file} (permissions, free space); a damaged state file can be moved away` });
}
