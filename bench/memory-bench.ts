/**
 * npm run bench:memory — prints figures, asserts nothing: the trainer memory model's prediction for every
 * successful RL run of the calibration file against the measured peak, and the error summary.
 */
import { calibrate, errorSummary } from '../src/compiler/memory/calibration.js';

const results = calibrate();
const width = Math.max(...results.map((r) => r.label.length));
console.log(`${'run'.padEnd(width)}  predicted  measured   error  phase`);
for (const r of results) {
  console.log(`${r.label.padEnd(width)}  ${r.predicted.peakGib.toFixed(2).padStart(9)}  ${r.measured.toFixed(2).padStart(8)}  ${(r.error * 100).toFixed(1).padStart(5)} %  ${r.predicted.peakPhase}`);
}
const s = errorSummary(results);
console.log(`\n${s.count} runs: median |error| ${(s.median * 100).toFixed(1)} %, max ${(s.max * 100).toFixed(1)} %, ${s.within20} within 20 %`);
