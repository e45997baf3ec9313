/**
 * npm run bench — prints figures, asserts nothing: plan time at 64, 512 and 4096 nodes (in process, the
 * whole load → check → plan pipeline), and the whole `rlstack plan presets/intellect3.toml` process against
 * a bare `node -e 0`.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { presetPath } from '../src/compiler/load/compose.js';
import { planSpec } from '../src/compiler/pipeline.js';
import { PACKAGE_ROOT } from '../src/paths.js';

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

function timePlan(nodes: number, runs: number): { ms: number; processes: number } {
  const trainer = Math.max(1, Math.floor(nodes / 4));
  const fleet = 4;
  const sets = [`cluster.nodes=${nodes}`, `trainer.nodes=${trainer}`, `inference.nodes=${nodes - trainer - fleet}`];
  let processes = 0;
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    const result = planSpec(presetPath('intellect3'), { sets });
    times.push(performance.now() - start);
    if (!result.ok) throw new Error(`plan of ${nodes} nodes failed: ${result.diagnostics.map((d) => d.message).join('; ')}`);
    processes = result.plan.processes.length;
  }
  return { ms: median(times), processes };
}

function timeProcess(args: string[], runs: number): number {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    const result = spawnSync(process.execPath, args, { cwd: PACKAGE_ROOT, stdio: 'ignore', env: { ...process.env, NO_COLOR: '1' } });
    times.push(performance.now() - start);
    if (result.status !== 0) throw new Error(`${args.join(' ')} exited ${result.status}`);
  }
  return median(times);
}

timePlan(64, 3); // warm up the JIT and module caches
console.log('plan time (median, in process: load + check + plan of presets/intellect3.toml resized)');
for (const [nodes, runs] of [[64, 15], [512, 9], [4096, 5]] as const) {
  const { ms, processes } = timePlan(nodes, runs);
  console.log(`  ${String(nodes).padStart(5)} nodes  ${ms.toFixed(1).padStart(7)} ms  (${processes} processes, median of ${runs})`);
}
const runs = 11;
const bare = timeProcess(['-e', '0'], runs);
const cli = timeProcess([join(PACKAGE_ROOT, 'bin', 'rlstack.js'), 'plan', 'presets/intellect3.toml'], runs);
console.log(`whole process (median of ${runs})`);
console.log(`  node -e 0                                 ${bare.toFixed(1).padStart(7)} ms`);
console.log(`  rlstack plan presets/intellect3.toml      ${cli.toFixed(1).padStart(7)} ms  (${(cli / bare).toFixed(2)}x node -e 0)`);
