/**
 * Where every resolved value came from: a file (user spec or preset), a `--set`, a default, the plan, or
 * `plan --auto` (a candidate's override: no position of its own, so a diagnostic points at the nearest
 * written ancestor).
 */
import type { SourcePosition } from '../diagnostics/diagnostic.js';

export type Origin =
  | { source: 'file'; file: string; preset?: string; key: SourcePosition; value: SourcePosition }
  | { source: 'set'; argument: string; value: SourcePosition }
  | { source: 'default' }
  | { source: 'auto' };

export type Provenance = Map<string, Origin>;

/** True when `path` is `prefix` itself or lies below it (`a.b` and `a.b.c`, `a.b[0]`; not `a.bc`). */
export function isAtOrBelow(path: string, prefix: string): boolean {
  if (!path.startsWith(prefix)) return false;
  const next = path[prefix.length];
  return next === undefined || next === '.' || next === '[';
}

export function dropBelow(provenance: Provenance, prefix: string): void {
  for (const path of provenance.keys()) if (isAtOrBelow(path, prefix)) provenance.delete(path);
}

/** The position to show for a path: the value itself, else the nearest ancestor with one. */
export function positionOf(provenance: Provenance, path: string, which: 'key' | 'value' = 'value'): SourcePosition | undefined {
  let current: string | undefined = path;
  while (current !== undefined) {
    const origin = provenance.get(current);
    if (origin && origin.source !== 'default' && origin.source !== 'auto') {
      if (origin.source === 'set') return origin.value;
      return which === 'key' || current !== path ? origin.key : origin.value;
    }
    current = parentPath(current);
  }
  return undefined;
}

export function parentPath(path: string): string | undefined {
  const cut = Math.max(path.lastIndexOf('.'), path.lastIndexOf('['));
  return cut > 0 ? path.slice(0, cut) : undefined;
}

export function describeOrigin(origin: Origin | undefined): string {
  if (!origin) return 'derived by the plan';
  switch (origin.source) {
    case 'default':
      return 'default';
    case 'set':
      return origin.argument;
    case 'auto':
      return 'plan --auto';
    case 'file':
      return `${origin.preset ? `preset ${origin.preset} (${origin.file})` : origin.file}:${origin.value.line}:${origin.value.column}`;
  }
}
