/**
 * The CLI's one view of the terminal: colour on a TTY unless NO_COLOR or --no-color (chalk alone ignores
 * NO_COLOR), stdout for results, stderr for diagnostics.
 */
import { Chalk } from 'chalk';
import type { Diagnostic } from '../compiler/diagnostics/diagnostic.js';
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
  return {
    style,
    out: (text) => process.stdout.write(text.endsWith('\n') ? text : `${text}\n`),
    err: (text) => process.stderr.write(text.endsWith('\n') ? text : `${text}\n`),
    json: (value) => process.stdout.write(`${JSON.stringify(value, null, 2)}\n`),
    diagnostics(list, sources) {
      if (list.length) this.err(renderDiagnostics(list, sources, errStyle));
    },
  };
}
