/**
 * load + schema check + defaults: a spec path and `--set` overrides → the typed spec with provenance for
 * every value. Semantic rules run afterwards (check/), on a spec that is known to be well-typed.
 */
import { hasErrors, type Diagnostic } from './diagnostics/diagnostic.js';
import { loadSpec, type LoadOptions } from './load/compose.js';
import type { Provenance } from './load/provenance.js';
import { applyDefaults, checkKnownPath } from './spec/schema-walk.js';
import type { Spec } from './spec/schema.js';
import { validateSchema } from './spec/validate.js';

export interface ResolvedSpec {
  file: string;
  spec: Spec;
  provenance: Provenance;
  sources: Map<string, string>;
}

export type ResolveResult =
  | { ok: true; resolved: ResolvedSpec; diagnostics: Diagnostic[] }
  | { ok: false; diagnostics: Diagnostic[]; sources: Map<string, string>; file: string };

export function resolveSpec(specPath: string, options: Omit<LoadOptions, 'isKnownPath'> = {}): ResolveResult {
  const loaded = loadSpec(specPath, { ...options, isKnownPath: checkKnownPath });
  const diagnostics = [...loaded.diagnostics];
  if (hasErrors(diagnostics)) return { ok: false, diagnostics, sources: loaded.sources, file: loaded.file };
  diagnostics.push(...validateSchema(loaded.raw, loaded.provenance));
  if (hasErrors(diagnostics)) return { ok: false, diagnostics, sources: loaded.sources, file: loaded.file };
  const raw = structuredClone(loaded.raw);
  applyDefaults(raw, (path) => loaded.provenance.set(path, { source: 'default' }));
  return {
    ok: true,
    resolved: { file: loaded.file, spec: raw as unknown as Spec, provenance: loaded.provenance, sources: loaded.sources },
    diagnostics,
  };
}
