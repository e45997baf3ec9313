import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { planWithAdvice } from '../../compiler/advise.js';
import { renderPlanHtml, resolvedRows } from '../../report/html.js';
import { EXIT } from '../exit-codes.js';
import type { Output } from '../output.js';
import { renderPlan } from '../render-plan.js';

export function planCommand(spec: string, options: { set: string[]; unset?: string[]; json: boolean; html?: string }, io: Output): number {
  const result = planWithAdvice(spec, { sets: options.set, unsets: options.unset ?? [] });
  let wrote = '';
  // --html FILE: the same plan object as --json (plus where each value came from) as one self-contained page.
  if (options.html && result.plan && result.resolved) {
    const page = renderPlanHtml({ ...result.plan, resolved: resolvedRows(result.resolved.spec, result.resolved.provenance), spec_file: result.resolved.file });
    try {
      mkdirSync(dirname(options.html), { recursive: true });
      writeFileSync(options.html, page);
    } catch (error) {
      io.err(`rlstack: cannot write ${options.html}: ${(error as Error).message}`);
      return EXIT.specErrors;
    }
    wrote = `wrote ${options.html} (${Math.round(Buffer.byteLength(page) / 1024)} KiB)`;
  }
  if (options.json) {
    if (wrote) io.err(wrote);
    // The plan's own fields sit beside ok and diagnostics; a spec that does not fit still has its placement.
    if (result.plan) io.result({ ...result.plan, ...(options.html ? { html: options.html } : {}) });
    io.diagnostics(result.diagnostics, result.sources);
    return result.ok ? EXIT.ok : EXIT.specErrors;
  }
  // Errors that leave a placement (it does not fit) still show it: the memory report is the explanation.
  if (result.plan && result.resolved) io.out(renderPlan(result.plan, result.resolved.file, io.style));
  io.diagnostics(result.diagnostics, result.sources);
  if (wrote) io.out(wrote);
  return result.ok ? EXIT.ok : EXIT.specErrors;
}
