/** `rlstack explain SPEC KEY`: the resolved value of a key and where it came from; derived values say how. */
import { diagnostic } from '../../compiler/diagnostics/diagnostic.js';
import { describeOrigin, isAtOrBelow } from '../../compiler/load/provenance.js';
import { planSpec } from '../../compiler/pipeline.js';
import type { Derived } from '../../compiler/plan/derive.js';
import { isPlainTable, joinPath, splitPath, type KeyPart } from '../../compiler/spec/key-path.js';
import { checkKnownPath, schemaAt } from '../../compiler/spec/schema-walk.js';
import { EXIT } from '../exit-codes.js';
import type { Output } from '../output.js';

interface Explained {
  key: string;
  value: unknown;
  origin: string;
  description?: string;
}

export function explainCommand(spec: string, key: string, options: { set: string[]; unset?: string[]; json: boolean }, io: Output): number {
  const parts = splitPath(key);
  const known = parts ? checkKnownPath(parts) : { known: false as const };
  if (!parts || !known.known) {
    io.diagnostics(
      [diagnostic('RS0201', { message: `unknown key ${key}`, path: key, hint: 'suggestion' in known && known.suggestion ? `did you mean ${known.suggestion}?` : 'rlstack schema lists every key' })],
      new Map(),
    );
    return EXIT.specErrors;
  }
  const result = planSpec(spec, { sets: options.set, unsets: options.unset ?? [] });
  const resolved = result.resolved;
  if (!resolved) {
    io.diagnostics(result.diagnostics, result.sources);
    return EXIT.specErrors;
  }
  const value = valueAt(resolved.spec, parts);
  const path = joinPath(parts);
  const rows: Explained[] = [];
  const describe = (p: KeyPart[]) => schemaAt(p)?.description;
  if (isPlainTable(value) || (Array.isArray(value) && value.some(isPlainTable))) {
    for (const [leafPath, leafValue] of leaves(value, parts)) {
      rows.push({ key: leafPath, value: leafValue, origin: describeOrigin(resolved.provenance.get(leafPath) ?? nearestOrigin(resolved.provenance, leafPath)) });
    }
  } else if (value === undefined) {
    const derivedValue = result.ok ? derivedExplanation(path, result.derived) : undefined;
    rows.push({ key: path, value: derivedValue?.value ?? null, origin: derivedValue?.how ?? 'not set', description: describe(parts) });
  } else {
    const resolvedAs = path === 'trainer.ep' && value === 'auto' && result.ok ? ` (resolves to ${result.derived.trainerParallelism.ep}, as prime-rl does)` : '';
    rows.push({ key: path, value, origin: describeOrigin(resolved.provenance.get(path)) + resolvedAs, description: describe(parts) });
  }
  if (options.json) io.result({ key: path, values: rows });
  else {
    for (const row of rows) {
      io.out(`${row.key} = ${formatValue(row.value)}`);
      io.out(`  from: ${row.origin}`);
      if (row.description) io.out(`  what: ${row.description}`);
    }
  }
  if (!result.ok) io.diagnostics(result.diagnostics, result.sources);
  return result.ok ? EXIT.ok : EXIT.specErrors;
}

function valueAt(root: unknown, parts: readonly KeyPart[]): unknown {
  let node = root;
  for (const part of parts) node = (node as Record<string | number, unknown> | undefined)?.[part];
  return node;
}

function leaves(value: unknown, prefix: KeyPart[]): [string, unknown][] {
  if (isPlainTable(value) && Object.keys(value).length) return Object.entries(value).flatMap(([k, v]) => leaves(v, [...prefix, k]));
  if (Array.isArray(value) && value.some(isPlainTable)) return value.flatMap((v, i) => leaves(v, [...prefix, i]));
  return [[joinPath(prefix), value]];
}

function nearestOrigin(provenance: Map<string, import('../../compiler/load/provenance.js').Origin>, path: string) {
  for (const [p, origin] of provenance) if (isAtOrBelow(path, p) && origin.source !== 'file') return origin;
  return undefined;
}

function formatValue(value: unknown): string {
  return JSON.stringify(value);
}

/** Keys without a default whose value the plan derives. */
function derivedExplanation(path: string, d: Derived): { value: unknown; how: string } | undefined {
  switch (path) {
    case 'trainer.nodes':
    case 'trainer.gpus':
    case 'inference.nodes':
    case 'inference.gpus': {
      const role = path.startsWith('trainer') ? d.trainer : d.inference;
      const how =
        role.mode === 'gpus'
          ? `derived: ${role.gpus} GPUs of a node shared with the other role`
          : `derived: ${role.nodes} whole nodes${path.startsWith('inference') ? " (the pool's nodes the other roles leave)" : ''}`;
      const asked = path.endsWith('nodes') ? 'nodes' : 'gpus';
      return { value: role.mode === asked ? (asked === 'nodes' ? role.nodes : role.gpus) : null, how };
    }
    case 'inference.max_model_len':
      return { value: d.maxModelLen, how: 'derived: = model.seq_len' };
    case 'orchestrator.max_tokens':
      return { value: d.maxTokens, how: 'derived: = inference.max_model_len' };
    default:
      return undefined;
  }
}
