import { planSpec } from '../../compiler/pipeline.js';
import { EXIT } from '../exit-codes.js';
import type { Output } from '../output.js';
import { renderPlan } from '../render-plan.js';

export function planCommand(spec: string, options: { set: string[]; json: boolean }, io: Output): number {
  const result = planSpec(spec, { sets: options.set });
  if (options.json) {
    io.json(result.ok ? result.plan : { ok: false, diagnostics: result.diagnostics, ...(result.plan ? { plan: result.plan } : {}) });
    return result.ok ? EXIT.ok : EXIT.specErrors;
  }
  // Errors that leave a placement (it does not fit) still show it: the memory report is the explanation.
  if (result.plan && result.resolved) io.out(renderPlan(result.plan, result.resolved.file, io.style));
  io.diagnostics(result.diagnostics, result.sources);
  return result.ok ? EXIT.ok : EXIT.specErrors;
}
