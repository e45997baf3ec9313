/**
 * `rlstack preflight SPEC`: the SSH back end's node checks on their own — reachable, GPUs, shared run dir,
 * prime-rl, ports, disk, memory — as one table, starting nothing. `launch` runs the same checks first.
 */
import { existsSync, mkdirSync, readdirSync, rmdirSync } from 'node:fs';
import { diagnostic } from '../../compiler/diagnostics/diagnostic.js';
import { planSpec } from '../../compiler/pipeline.js';
import { specProblem, type Planned } from '../../launcher/prepare.js';
import { resolveRunDir } from '../../launcher/run-dir.js';
import { inventory, sshSettingsOf } from '../../launcher/ssh/backend.js';
import { CHECK_HINTS, preflight, preflightTable } from '../../launcher/ssh/preflight.js';
import { SshPool } from '../../launcher/ssh/transport.js';
import { EXIT } from '../exit-codes.js';
import type { Output } from '../output.js';

export function sshPool(planned: Planned, io: Output): SshPool {
  return new SshPool(sshSettingsOf(planned), { debug: process.env['RLSTACK_DEBUG'] ? (l) => io.err(`ssh: ${l}`) : undefined });
}

/** Inventory problems as a diagnostic; the hosts otherwise. */
export function hostsOrReport(planned: Planned, io: Output): string[] | undefined {
  const inv = inventory(planned);
  if (!inv.hosts) io.diagnostics([specProblem(planned, 'RS4105', { message: inv.problem!, path: 'cluster.ssh.hosts', hint: 'list one host per node: a hostlist expression ("gpu-[001-064]") or an array' })], planned.sources);
  return inv.hosts;
}

/** Checks every node and prints the table; on failure, one diagnostic per failing node. True when all pass. */
export async function checkNodes(planned: Planned, runDir: string, hosts: string[], pool: SshPool, io: Output): Promise<boolean> {
  const t0 = Date.now();
  io.out(`preflight on ${hosts.length} nodes over SSH`);
  const rows = await preflight({ planned, runDir, hosts, pool });
  for (const line of preflightTable(rows, hosts.length)) io.out(line);
  const failed = rows.filter((r) => r.result === 'FAIL');
  if (failed.length === 0) {
    io.out(`preflight passed on ${hosts.length} nodes (${Date.now() - t0} ms)`);
    return true;
  }
  const byNode = new Map<number, typeof failed>();
  for (const r of failed) byNode.set(r.node, [...(byNode.get(r.node) ?? []), r]);
  io.diagnostics(
    [...byNode.values()].map((list) => {
      const first = list[0]!;
      const code = first.kind === 'hostkey' ? 'RS4101' : first.kind === 'timeout' ? 'RS4104' : first.kind ? 'RS4102' : 'RS4103';
      const [message, hint] = first.kind ? first.detail.split(' — ') : [list.map((r) => `${r.check}: ${r.detail}`).join('; '), undefined];
      return diagnostic(code, { message: `node ${first.node} (${first.host}): ${message}`, hint: hint || CHECK_HINTS[first.check] || 'fix the node, or leave it out of cluster.ssh.hosts' });
    }),
    new Map(),
  );
  io.out(`preflight failed on ${byNode.size} of ${hosts.length} nodes: nothing was started`);
  return false;
}

export async function preflightCommand(spec: string, options: { set: string[] }, io: Output): Promise<number> {
  const planned = planSpec(spec, { sets: options.set });
  io.diagnostics(planned.diagnostics, planned.sources);
  if (!planned.ok) return EXIT.specErrors;
  if (planned.resolved.spec.cluster.backend !== 'ssh') {
    io.diagnostics([specProblem(planned, 'RS4108', { message: `preflight checks nodes over SSH; this spec's cluster.backend is "${planned.resolved.spec.cluster.backend}"`, path: 'cluster.backend', hint: 'under Slurm, node.sh checks every node at the start of the job (rlstack launch --dry-run tests the request with sbatch --test-only)' })], planned.sources);
    return EXIT.specErrors;
  }
  const hosts = hostsOrReport(planned, io);
  if (!hosts) return EXIT.specErrors;
  // The shared-dir check needs the run dir; one made only for it is removed again.
  const runDir = resolveRunDir(planned.plan.run.dir);
  const made = !existsSync(runDir);
  if (made) mkdirSync(runDir, { recursive: true });
  const pool = sshPool(planned, io);
  try {
    return (await checkNodes(planned, runDir, hosts, pool, io)) ? EXIT.ok : EXIT.backend;
  } finally {
    pool.close();
    if (made && readdirSync(runDir).length === 0) rmdirSync(runDir);
  }
}
