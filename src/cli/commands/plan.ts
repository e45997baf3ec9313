import { planSpec } from '../../compiler/pipeline.js';
import { EXIT } from '../exit-codes.js';
import type { Output } from '../output.js';
import { renderPlan } from '../render-plan.js';

export function planCommand(spec: string, options: { set: string[]; json: boolean }, io: Output): number {
  const result = planSpec(spec, { sets: options.set });
  if (options.json) {
    io.json(result.ok ? result.plan : { ok: false, diagnostics: result.diagnostics });
    return result.ok ? EXIT.ok : EXIT.specErrors;
  }
  io.diagnostics(result.diagnostics, result.sources);
  if (!result.ok) return EXIT.specErrors;
  io.out(renderPlan(result.plan, result.resolved.file, io.style));
  return EXIT.ok;
}
