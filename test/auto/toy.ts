/** Specs for the search tests: a dense toy on H100 nodes (no environment time: the two sides trade off cleanly). */
import { resolveSpec } from '../../src/compiler/resolve.js';
import type { ResolvedSpec } from '../../src/compiler/resolve.js';
import { workspace } from '../helpers.js';

export function toySpec(nodes: number, extra = ''): string {
  return `
[cluster]
nodes = ${nodes}
gpus_per_node = 8
gpu = "h100"
backend = "slurm"

[model]
name = "Qwen/Qwen3-4B"
seq_len = 8192

[trainer]
nodes = ${Math.floor(nodes / 2)}

[inference]
nodes = ${nodes - Math.floor(nodes / 2)}
tp = 1

[orchestrator]
batch_size = 1024
group_size = 8
max_inflight = 2048
max_off_policy_steps = 2

[[environments]]
name = "math"
taskset = "i3_math"
${extra}`;
}

export function resolveText(text: string, sets: string[] = []): ResolvedSpec {
  const dir = workspace({ 'spec.toml': text });
  const r = resolveSpec(`${dir}/spec.toml`, { sets, cwd: dir });
  if (!r.ok) throw new Error(r.diagnostics.map((d) => `${d.code} ${d.message}`).join('\n'));
  return r.resolved;
}

export function resolvePreset(name: string, sets: string[] = []): ResolvedSpec {
  const r = resolveSpec(new URL(`../../presets/${name}.toml`, import.meta.url).pathname, { sets });
  if (!r.ok) throw new Error(r.diagnostics.map((d) => `${d.code} ${d.message}`).join('\n'));
  return r.resolved;
}
