/**
 * npm run bench (second part) — prints figures, asserts nothing: `plan --auto`'s search (in process, from
 * the resolved spec) on presets/intellect3.toml at 64 nodes as written and scaled to 1024 nodes with its
 * split scaled (256 trainer + 768 inference), with how many candidates were evaluated by the throughput
 * model and how many planned in full. Targets (issue 14): < 5 s at 64 nodes, < 30 s at 1024.
 */
import { presetPath } from '../src/compiler/load/compose.js';
import { resolveSpec } from '../src/compiler/resolve.js';
import { bestSplit, searchAuto } from '../src/compiler/auto/index.js';

function resolved(nodes: number) {
  const sets = nodes === 64 ? [] : [`cluster.nodes=${nodes}`, `trainer.nodes=${nodes / 4}`, `inference.nodes=${(nodes * 3) / 4}`];
  const r = resolveSpec(presetPath('intellect3'), { sets });
  if (!r.ok) throw new Error(r.diagnostics.map((d) => d.message).join('; '));
  return r.resolved;
}

const overrides = (o: Record<string, unknown>) => Object.entries(o).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(' ') || '(as written)';

console.log('plan --auto search (in process; presets/intellect3.toml, objective samples/s)');
for (const nodes of [64, 1024]) {
  const spec = resolved(nodes);
  const t0 = performance.now();
  const split = bestSplit(spec);
  const splitS = (performance.now() - t0) / 1000;
  const result = searchAuto(spec);
  const s = result.searched;
  const base = result.baseline.throughput;
  const best = result.best;
  console.log(`  ${String(nodes).padStart(5)} nodes  ${s.seconds.toFixed(2).padStart(6)} s  (${s.evaluated} evaluated, ${s.planned} planned; bestSplit alone ${splitS.toFixed(2)} s)`);
  console.log(`               as written  ${base ? `${base.samples_per_s} samples/s, step ${base.step_time_s} s, bottleneck ${base.bottleneck}` : 'does not plan'}`);
  if (split) console.log(`               best split  ${split.throughput.samples_per_s} samples/s (${split.vs_spec}×)  ${overrides(split.overrides)}`);
  if (best) console.log(`               best        ${best.throughput.samples_per_s} samples/s (${best.vs_spec}×, ${best.reason})  ${overrides(best.overrides)}`);
}
