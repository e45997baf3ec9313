/** What every semantic rule sees: the typed spec, where its values came from, and the derived facts. */
import { diagnostic, type Diagnostic, type DiagnosticInput } from '../diagnostics/diagnostic.js';
import type { Code } from '../diagnostics/codes.js';
import { positionOf, type Provenance } from '../load/provenance.js';
import type { Derived } from '../plan/derive.js';
import type { Spec } from '../spec/schema.js';

export interface RuleContext {
  spec: Spec;
  provenance: Provenance;
  derived: Derived;
}

export type Rule = (ctx: RuleContext) => Diagnostic[];

/** A diagnostic located at `path` (or its nearest located ancestor). */
export function report(ctx: RuleContext, code: Code, path: string, input: Omit<DiagnosticInput, 'path' | 'at'>, pointAt: 'key' | 'value' = 'value'): Diagnostic {
  return diagnostic(code, { ...input, path, at: positionOf(ctx.provenance, path, pointAt) });
}

/** Divisors of n, for hints that list the valid values. */
export function divisors(n: number): number[] {
  const out: number[] = [];
  for (let d = 1; d <= n; d++) if (n % d === 0) out.push(d);
  return out;
}

export function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}
