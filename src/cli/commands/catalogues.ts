/**
 * `rlstack gpus` and `rlstack models`: the catalogues the plan knows by name, with their figures and
 * sources. Anything else is described inline: [cluster.gpu_spec] and [model.architecture] (docs/catalogues.md).
 */
import { GPUS } from '../../compiler/catalog/gpus.js';
import { countParameters, isMoe, MODELS } from '../../compiler/catalog/models.js';
import { EXIT } from '../exit-codes.js';
import type { Output } from '../output.js';

function table(rows: string[][], io: Output): void {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  for (const r of rows) io.out(r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ').trimEnd());
}

export function gpusCommand(options: { json: boolean }, io: Output): number {
  const gpus = GPUS.map((g) => ({ id: g.id, name: g.name, memory_gib: g.memoryGib, bf16_tflops: g.bf16Tflops, bandwidth_tbs: g.bandwidthTBs, fp8: g.fp8, source: g.source }));
  if (options.json) {
    io.result({ gpus });
    return EXIT.ok;
  }
  table([['id', 'memory GiB', 'bf16 TFLOP/s', 'TB/s', 'fp8', 'name'], ...gpus.map((g) => [g.id, String(g.memory_gib), String(g.bf16_tflops), String(g.bandwidth_tbs), g.fp8 ? 'yes' : 'no', g.name])], io);
  io.out('another GPU: cluster.gpu = "<name>" with [cluster.gpu_spec] memory_gib, bf16_tflops, bandwidth_tbs (docs/catalogues.md)');
  return EXIT.ok;
}

export function modelsCommand(options: { json: boolean }, io: Output): number {
  const models = MODELS.map((m) => {
    const counts = countParameters(m);
    return {
      id: m.id,
      hf_ids: m.hfIds,
      model_type: m.modelType,
      parameters: counts.total,
      active_parameters: counts.active,
      layers: m.layers,
      experts: m.experts,
      experts_per_token: m.expertsPerToken,
      max_positions: m.maxPositions,
      source: m.source,
    };
  });
  if (options.json) {
    io.result({ models });
    return EXIT.ok;
  }
  const b = (n: number) => `${(n / 1e9).toFixed(n < 1e10 ? 2 : 1)}B`;
  table([['id', 'params', 'active', 'experts', 'Hugging Face ids'], ...MODELS.map((m, i) => [m.id, b(models[i]!.parameters), b(models[i]!.active_parameters), isMoe(m) ? `${m.experts} (top ${m.expertsPerToken})` : '-', m.hfIds.join(', ')])], io);
  io.out('another model: [model.architecture] with its config.json names (docs/catalogues.md)');
  return EXIT.ok;
}
