/**
 * npm run bench:memory — prints figures, asserts nothing (the tests in test/memory hold the targets):
 *   1. the trainer model on every measured run of the calibration file, and its leave-one-group-out table;
 *   2. vLLM's KV tokens as inference.ts computes them against every public measurement.
 */
import { calibrate, errorSummary, leaveOneGroupOut, logoSummary, UPPER_BOUND_MARGIN, upperBound } from '../src/compiler/memory/calibration.js';
import { kvCheck } from '../src/compiler/memory/vllm-kv.js';

const pct = (v: number) => `${(v * 100).toFixed(1)} %`;

console.log('== trainer peak memory: calibration set (in sample) ==\n');
const results = calibrate();
const width = Math.max(...results.map((r) => r.label.length));
console.log(`${'run'.padEnd(width)}  estimate  bound  measured   error  phase`);
for (const r of results) {
  console.log(`${r.label.padEnd(width)}  ${r.predicted.peakGib.toFixed(2).padStart(8)}  ${upperBound(r.predicted.peakGib).toFixed(1).padStart(5)}  ${r.measured.toFixed(2).padStart(8)}  ${pct(r.error).padStart(7)}  ${r.predicted.peakPhase}`);
}
const s = errorSummary(results);
console.log(`\n${s.count} runs: median |error| ${pct(s.median)}, max ${pct(s.max)}; upper bound = estimate × ${1 + UPPER_BOUND_MARGIN}`);

console.log('\n== trainer peak memory: leave one group out ==\n');
const rows = leaveOneGroupOut();
console.log('| held out | runs | refit (working, reserve) | margin | median |err| | max |err| | measured > bound | over-predicted to OOM | OOM predicted to fit | warned (fits on estimate only) |');
console.log('|---|---|---|---|---|---|---|---|---|---|');
for (const r of rows) {
  console.log(`| ${r.group} | ${r.runs} | ${r.constants.workingFactor}, ${r.constants.allocatorReserve} | ${pct(r.margin)} | ${pct(r.median)} | ${pct(r.max)} | ${r.aboveBound} | ${r.falseOom.length} | ${r.missedOom.length} | ${r.warned.join('; ') || '–'} |`);
}
const l = logoSummary(rows);
console.log(`\n${l.predictions} held-out predictions: median |error| ${pct(l.median)}, max ${pct(l.max)}; measured above the bound ${l.aboveBound}; over-predicted to OOM ${l.falseOom}; OOM predicted to fit ${l.missedOom}; warned ${l.warned}`);

console.log('\n== vLLM KV tokens per GPU against public measurements ==\n');
const kv = kvCheck();
console.log('| # | model | vLLM | GPU | TP | gmu | MNBT/MNS | KV dtype | W (logged) | A pred (logged) | N pred | KV tokens pred | KV tokens logged | error |');
console.log('|---|---|---|---|---|---|---|---|---|---|---|---|---|---|');
for (const r of kv) {
  const m = r.m;
  const logged = m.activation_peak_gib ?? (m.activation_plus_non_torch_gib !== null ? `A+N ${m.activation_plus_non_torch_gib}` : '–');
  console.log(
    `| ${m.id} | ${m.model.split('/')[1]}${r.multimodal ? ' (multimodal, excluded)' : ''} | ${r.version} | ${m.gpu} | ${m.tensor_parallel_size} | ${m.gpu_memory_utilization} | ${m.max_num_batched_tokens}/${m.max_num_seqs} | ${m.kv_cache_dtype} | ${m.weights_gib} | ${r.activationGib.toFixed(2)} (${logged}) | ${r.nonTorchGib.toFixed(2)}${r.nonTorchLogged ? ' (logged, V0)' : ''} | ${r.tokens.toLocaleString('en-US')} | ${m.kv_tokens.toLocaleString('en-US')} | ${(r.error * 100).toFixed(2)} % |`,
  );
}
const text = kv.filter((r) => !r.multimodal).map((r) => Math.abs(r.error)).sort((a, b) => a - b);
console.log(`\n${text.length} text-only rows: median |error| ${(text[Math.floor(text.length / 2)]! * 100).toFixed(2)} %, max ${(text[text.length - 1]! * 100).toFixed(2)} %`);
