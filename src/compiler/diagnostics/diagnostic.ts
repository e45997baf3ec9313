/**
 * The record every user-facing problem becomes, whatever the phase. A diagnostic points at the value that
 * caused it (file, line, column from the loader's locator) so the CLI can show the source line.
 */
import { CODES, type Code, type Severity } from './codes.js';
import { codePointOrder as codePointCompare } from '../../order.js';

export interface SourcePosition {
  file: string;
  line: number;
  column: number;
}

export interface Diagnostic {
  code: Code;
  severity: Severity;
  message: string;
  path?: string;
  file?: string;
  line?: number;
  column?: number;
  hint?: string;
  /** Other places that matter (TypeScript's related information): e.g. the user's file, where an inherited value is overridden. */
  related?: { message: string; file: string; line?: number; column?: number }[];
}

export interface DiagnosticInput {
  message: string;
  path?: string;
  at?: SourcePosition | undefined;
  hint?: string | undefined;
  severity?: Severity;
}

export function diagnostic(code: Code, input: DiagnosticInput): Diagnostic {
  const d: Diagnostic = { code, severity: input.severity ?? CODES[code].severity, message: input.message };
  if (input.path !== undefined) d.path = input.path;
  if (input.at) {
    d.file = input.at.file;
    d.line = input.at.line;
    d.column = input.at.column;
  }
  if (input.hint) d.hint = input.hint;
  return d;
}

export function hasErrors(diagnostics: readonly Diagnostic[]): boolean {
  return diagnostics.some((d) => d.severity === 'error');
}

const SEVERITY_ORDER: Record<Severity, number> = { error: 0, warning: 1, info: 2 };

/** Errors first, then by file and line, so the first thing a user reads is the first thing to fix. */
export function sortDiagnostics(diagnostics: readonly Diagnostic[]): Diagnostic[] {
  return [...diagnostics].sort(
    (a, b) =>
      SEVERITY_ORDER[a.severity] - SEVERITY_ORDER[b.severity] ||
      codePointCompare(a.file ?? '', b.file ?? '') ||
      (a.line ?? 0) - (b.line ?? 0) ||
      (a.column ?? 0) - (b.column ?? 0),
  );
}

/** Thrown by phases that cannot continue; carries the diagnostics that explain why. */
export class DiagnosticError extends Error {
  constructor(readonly diagnostics: Diagnostic[]) {
    super(diagnostics.map((d) => `${d.code} ${d.message}`).join('\n'));
    this.name = 'DiagnosticError';
  }
}
