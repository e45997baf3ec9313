/**
 * Renders diagnostics for people (with the source line, a caret and the hint) or as JSON. Pure: the caller
 * passes the source texts it loaded and a style (colour or plain).
 */
import type { Diagnostic } from './diagnostic.js';

export interface Style {
  red(s: string): string;
  yellow(s: string): string;
  cyan(s: string): string;
  dim(s: string): string;
  bold(s: string): string;
}

export const plainStyle: Style = {
  red: (s) => s,
  yellow: (s) => s,
  cyan: (s) => s,
  dim: (s) => s,
  bold: (s) => s,
};

/** file name → its text, for code frames. */
export type SourceTexts = ReadonlyMap<string, string>;

export function renderDiagnostic(d: Diagnostic, sources: SourceTexts, style: Style = plainStyle): string {
  const where = d.file ? `${d.file}${d.line ? `:${d.line}:${d.column ?? 1}` : ''} ` : '';
  const colour = d.severity === 'error' ? style.red : d.severity === 'warning' ? style.yellow : style.cyan;
  const lines = [`${where}${colour(`${d.severity} ${d.code}`)} ${style.bold(d.message)}`];
  const frame = d.file && d.line ? codeFrame(sources.get(d.file), d.line, d.column ?? 1, style) : undefined;
  if (frame) lines.push(frame);
  if (d.hint) lines.push(`  ${style.cyan('hint:')} ${d.hint}`);
  for (const r of d.related ?? []) lines.push(`  ${style.cyan('note:')} ${r.file}${r.line ? `:${r.line}:${r.column ?? 1}` : ''}: ${r.message}`);
  return lines.join('\n');
}

function codeFrame(text: string | undefined, line: number, column: number, style: Style): string | undefined {
  if (text === undefined) return undefined;
  const source = text.split(/\r?\n/)[line - 1];
  if (source === undefined) return undefined;
  const gutter = String(line);
  const shown = source.length > 160 ? `${source.slice(0, 157)}...` : source;
  const caretAt = Math.min(Math.max(column - 1, 0), shown.length);
  const pad = shown.slice(0, caretAt).replace(/[^\t]/g, ' ');
  return [
    `  ${style.dim(`${gutter} |`)} ${shown}`,
    `  ${' '.repeat(gutter.length)} ${style.dim('|')} ${pad}${style.red('^')}`,
  ].join('\n');
}

export function renderDiagnostics(diagnostics: readonly Diagnostic[], sources: SourceTexts, style: Style = plainStyle): string {
  if (diagnostics.length === 0) return '';
  const body = diagnostics.map((d) => renderDiagnostic(d, sources, style)).join('\n\n');
  const errors = diagnostics.filter((d) => d.severity === 'error').length;
  const warnings = diagnostics.filter((d) => d.severity === 'warning').length;
  const summary = [errors ? `${errors} error${errors > 1 ? 's' : ''}` : '', warnings ? `${warnings} warning${warnings > 1 ? 's' : ''}` : '']
    .filter(Boolean)
    .join(', ');
  return summary ? `${body}\n\n${summary}` : body;
}
