/**
 * The compiler's front door: spec path → resolved spec → checked → LaunchPlan. Each phase's diagnostics are
 * kept; a phase with errors stops the pipeline so later phases only ever see input they can trust.
 */
import { checkPlan, checkSpec } from './check/check.js';
import { hasErrors, sortDiagnostics, type Diagnostic } from './diagnostics/diagnostic.js';
import { relateToUserFile } from './diagnostics/origins.js';
import { derive, type Derived } from './plan/derive.js';
import { estimateMemory } from './memory/report.js';
import { assemblePlan } from './plan/plan.js';
import type { LaunchPlan } from './plan/types.js';
import { resolveSpec, type ResolvedSpec } from './resolve.js';
import { throughputOf } from './throughput/index.js';
import { throughputInputFromPlan } from './throughput/from-plan.js';
import { throughputSummary } from './throughput/summary.js';

export interface PlanOptions {
  /** `--unset KEY`: inherited keys removed before the `--set`s apply. */
  unsets?: readonly string[];
  sets?: readonly string[];
  cwd?: string;
}

export type PlanResult =
  | { ok: true; plan: LaunchPlan; resolved: ResolvedSpec; derived: Derived; diagnostics: Diagnostic[]; sources: Map<string, string> }
  /** `plan` is present when placement succeeded but something does not fit: the report still helps. */
  | { ok: false; diagnostics: Diagnostic[]; sources: Map<string, string>; resolved?: ResolvedSpec; plan?: LaunchPlan };

export function planSpec(specPath: string, options: PlanOptions = {}): PlanResult {
  const result = resolveSpec(specPath, options);
  if (!result.ok) return { ok: false, diagnostics: sortDiagnostics(result.diagnostics), sources: result.sources };
  return planResolved(result.resolved, result.diagnostics);
}

/**
 * check → place → memory → throughput for a spec already resolved (in memory: `plan --auto` plans its
 * candidates here without reading files again). `loadDiagnostics` are the resolve phase's warnings.
 */
export function planResolved(resolved: ResolvedSpec, loadDiagnostics: readonly Diagnostic[] = []): PlanResult {
  const derived = derive(resolved.spec);
  const related = (list: Diagnostic[]) => relateToUserFile(list, resolved.provenance, resolved.file);
  const diagnostics = sortDiagnostics(related([...loadDiagnostics, ...checkSpec({ spec: resolved.spec, provenance: resolved.provenance, derived })]));
  if (hasErrors(diagnostics)) return { ok: false, diagnostics, sources: resolved.sources, resolved };
  const plan = assemblePlan(resolved, derived, diagnostics);
  const planProblems = checkPlan({ spec: resolved.spec, provenance: resolved.provenance, derived }, plan);
  // A plan whose processes cannot start (ports taken twice, an environment beyond execve's limit) is a spec error.
  if (hasErrors(planProblems)) return { ok: false, diagnostics: sortDiagnostics([...diagnostics, ...related(planProblems)]), sources: resolved.sources, resolved };
  diagnostics.push(...related(planProblems));
  const memory = estimateMemory({ spec: resolved.spec, derived, provenance: resolved.provenance }, plan);
  if (memory.report) plan.memory = memory.report;
  const throughputInput = throughputInputFromPlan(resolved.spec, derived);
  if (throughputInput) plan.throughput = throughputSummary(throughputOf(throughputInput));
  const all = sortDiagnostics([...diagnostics, ...related(memory.diagnostics)]);
  plan.diagnostics = all;
  if (hasErrors(all)) return { ok: false, diagnostics: all, sources: resolved.sources, resolved, plan };
  return { ok: true, plan, resolved, derived, diagnostics: all, sources: resolved.sources };
}
