/**
 * `npm run bench:ssh` (root; brings the test cluster up with 17 GPU nodes — node17 is the one without the
 * shared dir — and takes it down at the end; never run it next to the integration suites):
 *  1. fan-out: one trivial command (`true`) on 16 nodes through the bastion, timed cold from process start:
 *     rlstack's ssh2 transport (a fresh `node` process) against `pdsh -R ssh` with the same ssh_config;
 *  2. `rlstack launch` of a 16-node stand-in run, from process start to "all ready".
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const CLUSTER = join(ROOT, 'test', 'cluster', 'cluster.sh');
const HOSTS = Array.from({ length: 16 }, (_, i) => `node${String(i + 1).padStart(2, '0')}`);
const RUNS = Number(process.env['RLSTACK_BENCH_RUNS'] ?? 5);

async function fanoutChild(): Promise<void> {
  const { SshPool, onAll } = await import('../src/launcher/ssh/transport.js');
  const [config, known] = process.argv.slice(3);
  const pool = new SshPool({ user: '', port: 22, identity_file: '', jump: '', known_hosts: known!, max_parallel: 64, connect_timeout_s: 15, config: config!, path: [], lease_timeout_s: 60 });
  const results = await onAll(HOSTS, 64, async (h) => (await pool.run(h, 'true')).code);
  pool.close();
  const bad = results.filter((r) => !r.ok || r.value !== 0);
  if (bad.length) {
    console.error(`failed on ${bad.length} nodes`);
    process.exit(1);
  }
  process.exit(0);
}

function timeCold(cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env): number {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(cmd, args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}): ${r.stderr?.toString().slice(0, 500)}`);
  return ms;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function main(): Promise<void> {
  if (process.argv[2] === '--fanout-child') return fanoutChild();
  console.log('bringing the test cluster up with 17 GPU nodes (node17 has the private mount) …');
  execFileSync('bash', [CLUSTER, 'up', '--nodes', '17', '--cpu-nodes', '0'], { stdio: ['ignore', 'ignore', 'inherit'] });
  try {
    const env = JSON.parse(readFileSync(join(ROOT, 'test', 'cluster', '.state', 'env.json'), 'utf8')) as Record<string, string>;
    const config = env['RLSTACK_CLUSTER_SSH_CONFIG']!;
    const known = env['RLSTACK_CLUSTER_KNOWN_HOSTS']!;
    const self = fileURLToPath(import.meta.url);

    // 1. fan-out, alternating the two tools so that machine noise hits both alike
    const ours: number[] = [];
    const pdsh: number[] = [];
    const pdshEnv = { ...process.env, PDSH_SSH_ARGS_APPEND: `-F ${config}` };
    for (let i = 0; i < RUNS; i++) {
      ours.push(timeCold(process.execPath, [self, '--fanout-child', config, known]));
      pdsh.push(timeCold('pdsh', ['-R', 'ssh', '-f', '64', '-w', 'node[01-16]', 'true'], pdshEnv));
    }
    const o = median(ours);
    const p = median(pdsh);
    console.log(`\nfan-out: \`true\` on 16 nodes through the bastion, cold from process start (median of ${RUNS})`);
    console.log(`  rlstack ssh2 transport  ${o.toFixed(0)} ms   (runs: ${ours.map((x) => x.toFixed(0)).join(' ')})`);
    console.log(`  pdsh -R ssh             ${p.toFixed(0)} ms   (runs: ${pdsh.map((x) => x.toFixed(0)).join(' ')})`);
    console.log(`  ratio rlstack / pdsh    ${(o / p).toFixed(2)}  (< 1 = rlstack faster)`);

    // 2. launch → all ready on 16 nodes
    const shared = env['RLSTACK_CLUSTER_SHARED_DIR']!;
    mkdirSync(shared, { recursive: true });
    const base = mkdtempSync(join(shared, 'bench-'));
    const prime = join(base, 'prime-rl');
    const rev = execFileSync(process.execPath, [join(ROOT, 'test', 'standins', 'make-prime-rl.mjs'), prime], { encoding: 'utf8' }).trim();
    const spec = join(base, 'bench16.toml');
    writeFileSync(
      spec,
      `[run]
name = "bench16"
output_dir = "${join(base, 'runs')}"
prime_rl_dir = "${prime}"
prime_rl_revision = "${rev}"
prime_rl_map = "559b447"
max_steps = 200
ready_timeout_s = 300

[cluster]
nodes = 16
gpus_per_node = 8
gpu = "h100"
cpus_per_node = 8
host_memory_gib = 64
disk_gib = 30
backend = "ssh"

[cluster.ssh]
hosts = "node[01-16]"
config = "${config}"
known_hosts = "${known}"
path = ["${join(prime, 'bin')}"]
# The test nodes share this machine's RAM (~23 GiB); the model wants 60 GiB for an 8-rank trainer node.
skip_checks = ["memory"]

[model]
name = "Qwen/Qwen3-0.6B"
seq_len = 4096

[trainer]
nodes = 8
activation_offload = false
optimizer_offload = false

[inference]
nodes = 8
tp = 4

[orchestrator]
batch_size = 64
group_size = 8
max_inflight = 64

[env]
RLSTACK_STANDIN_STEP_SECONDS = "0.5"

[[environments]]
name = "math"
taskset = "i3_math"
`,
    );
    const t0 = Date.now();
    const launched = await new Promise<{ code: number | null; out: string }>((resolve) => {
      const child = spawn(process.execPath, [join(ROOT, 'bin', 'rlstack.js'), 'launch', spec], { env: { ...process.env, NO_COLOR: '1' } });
      let out = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      child.stderr.on('data', (d: Buffer) => (out += d.toString()));
      child.on('close', (code) => resolve({ code, out }));
    });
    const ms = Date.now() - t0;
    const preflight = /preflight passed on 16 nodes \((\d+) ms\)/.exec(launched.out)?.[1];
    console.log(`\nlaunch of a 16-node stand-in run (8 inference nodes × 2 TP-4 engines, 8 trainer nodes), cold from process start`);
    if (launched.code !== 0) {
      console.log(launched.out);
      throw new Error(`launch failed (exit ${launched.code})`);
    }
    console.log(`  launch → all ready      ${ms} ms  (of which preflight on 16 nodes: ${preflight} ms; ${/all (\d+) processes are ready/.exec(launched.out)?.[1]} processes)`);
    const t1 = Date.now();
    const stop = spawnSync(process.execPath, [join(ROOT, 'bin', 'rlstack.js'), 'stop', join(base, 'runs', 'bench16')], { encoding: 'utf8' });
    console.log(`  stop → nothing left     ${Date.now() - t1} ms  (exit ${stop.status}: ${stop.stdout.trim().split('\n').at(-1)})`);
  } finally {
    execFileSync('bash', [CLUSTER, 'down'], { stdio: ['ignore', 'ignore', 'inherit'] });
  }
}

await main();
