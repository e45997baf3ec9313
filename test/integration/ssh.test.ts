/**
 * The ssh back end against real sshd nodes (test/cluster/cluster.sh): every node in its own network
 * namespace, reachable only through the bastion (ProxyJump, so every test exercises it), host keys pinned
 * in the cluster's known_hosts, node08 with a private mount over the shared dir. The real node.sh runs with
 * the stand-ins for the GPU software (test/standins). Faults are injected with `ip link` (node down) and
 * `tc netem` (a slow node) inside a node's namespace, and always restored.
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { useFreshCluster } from './cluster-setup.js';
import { cluster, commandLines, dockerFleetToml, hostPid, launchWatchingFor, processesMentioning, rlstack, ROOT, statusJson, waitFor, workspaceOnShared, writeSpec, type FakePrimeRl } from './harness.js';

let primeRl: FakePrimeRl;
let runs: string;
let specs: string;
let env: Record<string, string>;

useFreshCluster();

beforeAll(() => {
  ({ primeRl, runs, specs } = workspaceOnShared('ssh'));
  env = cluster();
});

interface SpecOptions {
  hosts: string;
  nodes: number;
  knownHosts?: string;
  connectTimeoutS?: number;
  leaseTimeoutS?: number;
  long?: boolean;
  extra?: string;
  /** Check host memory against the model (off by default: this machine has ~23 GiB, an 8-rank trainer node needs 60). */
  checkMemory?: boolean;
  jump?: string;
  sshConfig?: string;
}

function sshSpec(name: string, o: SpecOptions): string {
  const half = o.nodes / 2;
  return writeSpec(
    specs,
    name,
    `[run]
name = "${name}"
output_dir = "${runs}"
prime_rl_dir = "${primeRl.dir}"
prime_rl_revision = "${primeRl.revision}"
prime_rl_map = "559b447"
max_steps = ${o.long ? 200 : 10}
ready_timeout_s = 120

[cluster]
nodes = ${o.nodes}
gpus_per_node = 8
gpu = "h100"
cpus_per_node = 8
host_memory_gib = 64
disk_gib = 30
backend = "ssh"

[cluster.ssh]
hosts = "${o.hosts}"
config = "${o.sshConfig ?? env['RLSTACK_CLUSTER_SSH_CONFIG']}"
skip_checks = ${o.checkMemory ? '[]' : '["memory"]'}
${o.jump ? `jump = "${o.jump}"\n` : ''}known_hosts = "${o.knownHosts ?? env['RLSTACK_CLUSTER_KNOWN_HOSTS']}"
path = ["${join(primeRl.dir, 'bin')}"]
connect_timeout_s = ${o.connectTimeoutS ?? 10}
lease_timeout_s = ${o.leaseTimeoutS ?? 60}

[model]
name = "Qwen/Qwen3-0.6B"
seq_len = 4096

[trainer]
nodes = ${half}
activation_offload = false
optimizer_offload = false

[inference]
nodes = ${half}
tp = 4

[orchestrator]
batch_size = 64
group_size = 8
max_inflight = 64
${o.long ? '\n[env]\nRLSTACK_STANDIN_STEP_SECONDS = "0.5"\n' : ''}
[[environments]]
name = "math"
taskset = "i3_math"
${o.extra ?? ''}`,
  );
}

const FOUR = 'node[01-04]';

/** Idle TCP connections to `node`'s sshd from the bastion, held until `ms` pass or release(): they fill MaxStartups. */
function holdStartups(node: string, count: number, ms: number): { holding: Promise<void>; done: Promise<void>; release(): void } {
  const code = `const net = require('net'); const socks = []; let open = 0;
for (let i = 0; i < ${count}; i++) { const s = net.connect(22, '${node}', () => { if (++open === ${count}) console.log('holding'); }); s.on('error', (e) => { console.error(e.message); process.exit(1); }); socks.push(s); }
const end = () => { socks.forEach((s) => s.destroy()); process.exit(0); };
setTimeout(end, ${ms}); process.on('SIGTERM', end);`;
  const child = spawn('ip', ['netns', 'exec', `${env['RLSTACK_CLUSTER_NETNS_PREFIX']}${env['RLSTACK_CLUSTER_BASTION']}`, process.execPath, '-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
  const holding = new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (d: Buffer) => d.toString().includes('holding') && resolve());
    child.on('exit', (c) => reject(new Error(`the holder exited (${c}) before holding`)));
  });
  const done = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  return { holding, done, release: () => child.kill('SIGTERM') };
}

/** Nothing of the run on the machine (all test nodes share its process table). */
async function expectNothingLeft(runDir: string, withinMs = 30_000) {
  await waitFor('no process of the run left on any node', () => processesMentioning(`${runDir}/`).length === 0, withinMs, 250);
}

function noAttempt(runDir: string) {
  expect(existsSync(join(runDir, 'state')) ? readdirSync(join(runDir, 'state')).filter((f) => f.startsWith('attempt_')) : []).toEqual([]);
}

function netns(node: string, ...args: string[]) {
  execFileSync('ip', ['netns', 'exec', `${env['RLSTACK_CLUSTER_NETNS_PREFIX']}${node}`, ...args], { stdio: 'pipe' });
}

describe('ssh back end', () => {
  it('an 8-node run (node01..node07 + cpu01, all through the bastion) reaches all ready and completes; stop then finds nothing; secrets stay off command lines', async () => {
    // ProxyJump is the only path: the nodes' names resolve to the cluster network, which the host cannot reach.
    const direct = await new Promise<string>((resolve) => {
      const s = connect({ host: 'node01', port: 22, timeout: 2000 });
      s.on('connect', () => (s.destroy(), resolve('connected')));
      s.on('error', (e) => resolve(e.message));
      s.on('timeout', () => (s.destroy(), resolve('timeout')));
    });
    expect(direct).not.toBe('connected');

    const secret = 'wandb-secret-PLANTED-ssh-71d2';
    // Steps of a second: all 15 processes are seen ready before the run completes, even on a loaded machine.
    const spec = sshSpec('complete', { hosts: 'node[01-07],cpu01', nodes: 8, extra: '\n[env]\nRLSTACK_STANDIN_STEP_SECONDS = "1"\n\n[secrets]\nWANDB_API_KEY = ["trainer", "orchestrator"]\n' });
    const runDir = join(runs, 'complete');
    const { result: r, sawSecret } = await launchWatchingFor(secret, ['launch', spec], { primeRl, env: { WANDB_API_KEY: secret } });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(sawSecret).toBe(false);
    expect(r.stdout).toMatch(/preflight passed on 8 nodes/);
    expect(r.stdout).toContain('all 15 processes are ready');
    for (const role of ['inference', 'router', 'orchestrator', 'trainer']) expect(r.stdout).toMatch(new RegExp(`${role}: all \\d+ ready`));
    const hosts = readFileSync(join(runDir, 'state', 'latest', 'hosts'), 'utf8').trim().split('\n');
    expect(hosts).toEqual(['node01', 'node02', 'node03', 'node04', 'node05', 'node06', 'node07', 'cpu01']);
    console.log(`8-node ssh launch to all ready: ${r.ms} ms`);

    await waitFor('the run to complete', () => JSON.parse(readFileSync(join(runDir, 'state', 'latest', 'run.json'), 'utf8')).state === 'completed', 90_000);
    const { json } = await statusJson(runDir, primeRl);
    expect(json.run?.state).toBe('completed');
    // every process ran on the host the plan put it on, and reported itself from there
    for (const p of json.processes) expect(p.host).toBe(hosts[p.node]);
    expect(new Set(json.processes.map((p) => p.host)).size).toBe(8);
    await expectNothingLeft(runDir);
    const stopped = await rlstack(['stop', runDir], { primeRl });
    expect(stopped.code, stopped.stderr).toBe(0);
    expect(stopped.stdout).toContain('nothing of the run is left on any of the 8 nodes');
  });

  it('compile -o DIR is a bundle: bash DIR/ssh/start.sh (OpenSSH, host keys verified) starts the run by hand; status and stop follow it', async () => {
    const spec = sshSpec('bundle', { hosts: FOUR, nodes: 4 });
    const bundle = join(specs, 'bundle-out');
    const compiled = await rlstack(['compile', spec, '-o', bundle], { primeRl });
    expect(compiled.code, compiled.stderr).toBe(0);
    expect(compiled.stdout).toContain(`bash ${bundle}/ssh/start.sh`);
    const runDir = join(runs, 'bundle');
    const started = await new Promise<{ code: number | null; out: string }>((resolve) => {
      const child = spawn('bash', [join(bundle, 'ssh', 'start.sh')], { cwd: specs });
      let out = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      child.stderr.on('data', (d: Buffer) => (out += d.toString()));
      child.on('exit', (code) => resolve({ code, out }));
    });
    expect(started.code, started.out).toBe(0);
    expect(started.out).toContain('attempt 1: node.sh started on 4 of 4 nodes');
    expect(existsSync(join(runDir, 'launcher'))).toBe(false);
    await waitFor('the run to complete', () => existsSync(join(runDir, 'state', 'latest', 'run.json')) && JSON.parse(readFileSync(join(runDir, 'state', 'latest', 'run.json'), 'utf8')).state === 'completed', 90_000);
    const { json } = await statusJson(runDir, primeRl);
    expect(json.run?.state).toBe('completed');
    expect(json.processes.map((p) => p.host)).toEqual(expect.arrayContaining(['node01', 'node04']));
    await expectNothingLeft(runDir);
    const stopped = await rlstack(['stop', runDir], { primeRl });
    expect(stopped.code, stopped.stderr).toBe(0);
    expect(stopped.stdout).toContain('nothing of the run is left on any of the 4 nodes');
  });

  it('a node with a wrong host key is refused, with the way to accept a key; nothing starts', async () => {
    const known = readFileSync(env['RLSTACK_CLUSTER_KNOWN_HOSTS']!, 'utf8').split('\n');
    const key01 = known.find((l) => l.startsWith('node01,'))!.split(' ').slice(1).join(' ');
    const forged = join(specs, 'known_hosts.forged');
    writeFileSync(forged, known.map((l) => (l.startsWith('node03,') ? `node03,10.77.0.13 ${key01}` : l)).join('\n'));
    const spec = sshSpec('hostkey', { hosts: FOUR, nodes: 4, knownHosts: forged });
    const r = await rlstack(['launch', spec], { primeRl });
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/RS4101 node 2 \(node03\): host key of node03 \(node03\) CHANGED/);
    expect(r.stderr).toContain('ssh-keyscan -t ed25519 node03');
    expect(r.stderr).not.toMatch(/node0[124]\)/);
    expect(r.stdout).toContain('nothing was started');
    noAttempt(join(runs, 'hostkey'));
  });

  it('hashed known_hosts entries are honoured', async () => {
    const hashed = join(specs, 'known_hosts.hashed');
    writeFileSync(hashed, readFileSync(env['RLSTACK_CLUSTER_KNOWN_HOSTS']!, 'utf8'));
    execFileSync('ssh-keygen', ['-H', '-f', hashed], { stdio: 'pipe' });
    expect(readFileSync(hashed, 'utf8')).toMatch(/^\|1\|/m);
    const spec = sshSpec('hashed', { hosts: FOUR, nodes: 4, knownHosts: hashed });
    const r = await rlstack(['launch', spec, '--set', 'run.max_steps=2'], { primeRl });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    await expectNothingLeft(join(runs, 'hashed'), 60_000);
  });

  it('a node down at preflight is reported by name and nothing starts', async () => {
    const spec = sshSpec('down', { hosts: FOUR, nodes: 4, connectTimeoutS: 3 });
    netns('node03', 'ip', 'link', 'set', 'eth0', 'down');
    try {
      const r = await rlstack(['launch', spec], { primeRl });
      expect(r.code).toBe(3);
      expect(r.stderr).toMatch(/RS410[24] node 2 \(node03\)/);
      expect(r.stdout).toMatch(/2 node03\s+reachable\s+FAIL/);
      expect(r.stdout).toContain('preflight failed on 1 of 4 nodes: nothing was started');
      noAttempt(join(runs, 'down'));
      expect(processesMentioning(`${join(runs, 'down')}/`)).toEqual([]);
    } finally {
      netns('node03', 'ip', 'link', 'set', 'eth0', 'up');
    }
  });

  it('a node slower than connect_timeout_s is reported by name (its sshd frozen with SIGSTOP: TCP accepts, no banner)', async () => {
    // tc netem is not available in this kernel (no sch_netem); a stopped sshd listener is a node whose
    // kernel answers but whose sshd does not, the "slow node" a connect timeout must catch.
    const spec = sshSpec('slow', { hosts: FOUR, nodes: 4, connectTimeoutS: 2 });
    const sshd = Number(readFileSync(join(env['RLSTACK_CLUSTER_DIR']!, 'pids', 'sshd-node04'), 'utf8').split(' ')[0]);
    process.kill(sshd, 'SIGSTOP');
    try {
      const r = await rlstack(['launch', spec], { primeRl });
      expect(r.code).toBe(3);
      expect(r.stderr).toMatch(/RS4104 node 3 \(node04\): node04 did not (answer|complete the SSH handshake) within connect_timeout_s = 2 s/);
      expect(r.stderr).not.toMatch(/node 0 \(node01\)|node 1 \(node02\)|node 2 \(node03\)/);
      expect(r.ms).toBeLessThan(10_000);
      noAttempt(join(runs, 'slow'));
    } finally {
      process.kill(sshd, 'SIGCONT');
    }
  });

  it('node08, without the shared run dir, is named by preflight', async () => {
    const spec = sshSpec('private', { hosts: 'node[05-08]', nodes: 4 });
    const r = await rlstack(['launch', spec], { primeRl });
    expect(r.code).toBe(3);
    expect(r.stdout).toMatch(/3 node08\s+shared run dir\s+FAIL/);
    expect(r.stdout).toMatch(/3 node08\s+shared run dir\s+FAIL\s+.*(not the same filesystem|does not exist here)/);
    expect(r.stderr).toMatch(/RS4103 node 3 \(node08\): failed shared run dir(, [a-z -]+)* \(the table above says why\)\n\s+hint: run\.output_dir must be on a filesystem the launcher and every node share/);
    expect(r.stderr).not.toMatch(/node0[567]\)/);
    noAttempt(join(runs, 'private'));
  });

  it('a process killed mid-run tears the whole run down within 30 s', async () => {
    const spec = sshSpec('crash', { hosts: FOUR, nodes: 4, long: true });
    const runDir = join(runs, 'crash');
    const r = await rlstack(['launch', spec], { primeRl });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const trainer = JSON.parse(readFileSync(join(runDir, 'state', 'latest', 'processes', 'trainer-1.json'), 'utf8')) as { pid: number; host: string };
    expect(trainer.host).toBe('node04');
    const killedAt = Date.now();
    process.kill(hostPid(trainer.host, trainer.pid), 'SIGKILL');
    await waitFor('the run marked failed', () => JSON.parse(readFileSync(join(runDir, 'state', 'latest', 'run.json'), 'utf8')).state === 'failed', 30_000, 200);
    await expectNothingLeft(runDir, 30_000 - (Date.now() - killedAt));
    const teardownMs = Date.now() - killedAt;
    console.log(`crash to nothing left: ${teardownMs} ms`);
    expect(teardownMs).toBeLessThan(30_000);
    const { json } = await statusJson(runDir, primeRl);
    expect(json.run?.first_failure).toBe('trainer-1');
    expect(json.processes.every((p) => ['exited', 'failed', 'stopped'].includes(p.state))).toBe(true);
  });

  it('stop leaves nothing on any node', async () => {
    const spec = sshSpec('stop', { hosts: FOUR, nodes: 4, long: true });
    const runDir = join(runs, 'stop');
    const r = await rlstack(['launch', spec], { primeRl });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(processesMentioning(`${runDir}/`).length).toBeGreaterThan(4);
    const running = await rlstack(['status', runDir], { primeRl });
    expect(running.stdout).toMatch(/attempt 1: running \(\d+ of \d+ processes ready\)/);
    expect(running.stdout).toContain('ssh: node.sh running on 4 of 4 nodes');
    const s = await rlstack(['stop', runDir], { primeRl });
    expect(s.code, s.stdout + s.stderr).toBe(0);
    expect(s.stdout).toContain('nothing of the run is left on any of the 4 nodes');
    expect(processesMentioning(`${runDir}/`)).toEqual([]);
    const { json } = await statusJson(runDir, primeRl);
    expect(json.run?.state).toBe('stopped');
    expect(json.backend).toEqual({ kind: 'ssh', nodes: 4, running: [], unreachable: [] });
  });

  it('Ctrl-C during the launch asks nothing and tears down every node that was started', async () => {
    const spec = sshSpec('interrupted', { hosts: FOUR, nodes: 4, long: true });
    const runDir = join(runs, 'interrupted');
    const child = spawn(process.execPath, [join(ROOT, 'bin', 'rlstack.js'), 'launch', spec], { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1', PATH: `${join(primeRl.dir, 'bin')}:${process.env['PATH']}` } });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    await waitFor('node.sh started on every node', () => out.includes('node.sh started on 4 of 4 nodes'), 60_000, 50);
    const t0 = Date.now();
    child.kill('SIGINT'); // what Ctrl-C sends; stdin stays open and unused: nothing is asked
    const code = await exited;
    console.log(`Ctrl-C → launcher exited after ${Date.now() - t0} ms`);
    expect(code, out).toBe(3);
    expect(out).toContain('interrupted: every node was stopped');
    expect(out).not.toMatch(/\?\s*$/m); // no question
    expect(processesMentioning(`${runDir}/`)).toEqual([]);
    const run = JSON.parse(readFileSync(join(runDir, 'state', 'latest', 'run.json'), 'utf8')) as { state: string; reason: string };
    expect(run.state).toBe('stopped');
    expect(run.reason).toContain('interrupted during launch');
  });

  it('the launcher killed mid-launch: the nodes stop by themselves once the lease expires', async () => {
    const lease = 6;
    const spec = sshSpec('lease', { hosts: FOUR, nodes: 4, leaseTimeoutS: lease, long: true });
    const runDir = join(runs, 'lease');
    const child = spawn(process.execPath, [join(ROOT, 'bin', 'rlstack.js'), 'launch', spec], { env: { ...process.env, NO_COLOR: '1', PATH: `${join(primeRl.dir, 'bin')}:${process.env['PATH']}` } });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    await waitFor('node.sh started on every node', () => out.includes('node.sh started on 4 of 4 nodes'), 60_000, 50);
    child.kill('SIGKILL');
    // One clock: this machine's, from the kill to the last process of the run gone.
    const killedAt = Date.now();
    await waitFor('the run marked failed by the lease', () => existsSync(join(runDir, 'state', 'latest', 'run.json')) && JSON.parse(readFileSync(join(runDir, 'state', 'latest', 'run.json'), 'utf8')).state === 'failed', 60_000, 200);
    await expectNothingLeft(runDir, 60_000);
    const gone = Date.now() - killedAt;
    console.log(`launcher killed → nothing left: ${gone} ms (lease ${lease} s)`);
    expect(gone).toBeGreaterThanOrEqual(lease * 1000 - 1000);
    expect(gone).toBeLessThan((lease + 20) * 1000);
    const run = JSON.parse(readFileSync(join(runDir, 'state', 'latest', 'run.json'), 'utf8')) as { reason: string; first_failure: string };
    expect(run.first_failure).toBe('launcher-lease');
    expect(run.reason).toContain(`lease not renewed for ${lease}s`);
  });
  it('a trainer node with less RAM than the memory model needs is named by preflight (rlstack preflight starts nothing)', async () => {
    const spec = sshSpec('memory', { hosts: FOUR, nodes: 4, checkMemory: true });
    const r = await rlstack(['preflight', spec], { primeRl });
    expect(r.code, r.stdout + r.stderr).toBe(3);
    // node03 and node04 carry the trainer (8 ranks: 60 GiB by the model); this machine has ~23 GiB.
    expect(r.stdout).toMatch(/2 node03\s+memory\s+FAIL\s+[\d.]+ GiB, a trainer node needs 60 GiB/);
    expect(r.stdout).toMatch(/3 node04\s+memory\s+FAIL/);
    expect(r.stdout).toMatch(/0 node01\s+memory\s+warn\s+[\d.]+ GiB, the spec says 64: set cluster.host_memory_gib/);
    expect(r.stderr).toMatch(/RS4103 node 2 \(node03\): failed memory \(the table above says why\)/);
    expect(r.stderr).not.toMatch(/a trainer node needs 60 GiB/);
    expect(r.stderr).not.toMatch(/node 0 \(node01\)/);
    expect(existsSync(join(runs, 'memory'))).toBe(false); // the run dir made for the check is gone again
    const waived = await rlstack(['preflight', spec, '--set', 'cluster.ssh.skip_checks=["memory"]'], { primeRl });
    expect(waived.code, waived.stdout + waived.stderr).toBe(0);
    expect(waived.stdout).toMatch(/2 node03\s+memory\s+skipped\s+cluster.ssh.skip_checks \(would be: FAIL/);
  });

  it('sshd refusing handshakes (MaxStartups full) is retried with backoff, and named when it never clears', async () => {
    const node = env['RLSTACK_CLUSTER_THROTTLED_NODE']!;
    const slots = Number(env['RLSTACK_CLUSTER_THROTTLED_MAX_STARTUPS']);
    const spec = sshSpec('startups', { hosts: `node[04-06],${node}`, nodes: 4, connectTimeoutS: 8 });
    // Fill the node's pre-auth slots with idle TCP connections from the bastion for 1.5 s: sshd drops every new handshake meanwhile.
    let holder = holdStartups(node, slots, 1500);
    await holder.holding;
    const t0 = Date.now();
    const r = await rlstack(['preflight', spec], { primeRl, env: { RLSTACK_DEBUG: '1' } });
    await holder.done;
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stderr).toMatch(new RegExp(`ssh: ${node}: ${node}: sshd dropped the connection before the handshake .*MaxStartups\\?; retrying in \\d+ ms \\(attempt 2`));
    console.log(`MaxStartups: preflight passed after retries in ${Date.now() - t0} ms`);
    // Held longer than the retries last: the node is named with the reason and the remedy.
    holder = holdStartups(node, slots, 30_000);
    await holder.holding;
    try {
      const refused = await rlstack(['preflight', spec], { primeRl });
      expect(refused.code).toBe(3);
      expect(refused.stderr).toMatch(new RegExp(`RS4102 node 3 \\(${node}\\): ${node}: sshd dropped the connection before the handshake .*MaxStartups\\?; still refused after \\d+ attempts`));
      expect(refused.stderr).toContain("lower cluster.ssh.max_parallel, or raise MaxStartups in the nodes' sshd_config");
      expect(refused.stderr).not.toMatch(/node 0 \(node04\)|node 1 \(node05\)|node 2 \(node06\)/);
    } finally {
      holder.release();
      await holder.done;
    }
  });

  it('ssh-agent: a config without any IdentityFile authenticates with the agent’s key; without an agent the node says so', async () => {
    const dir = mkdtempSync(join(specs, 'agent-'));
    const config = join(dir, 'ssh_config');
    writeFileSync(config, readFileSync(env['RLSTACK_CLUSTER_SSH_CONFIG']!, 'utf8').split('\n').filter((l) => !/^\s*(IdentityFile|IdentitiesOnly)\b/.test(l)).join('\n'));
    const sock = join(dir, 'agent.sock');
    const agent = spawn('ssh-agent', ['-D', '-a', sock], { stdio: 'ignore' });
    try {
      await waitFor('the agent socket', () => existsSync(sock), 10_000, 50);
      execFileSync('ssh-add', [env['RLSTACK_CLUSTER_SSH_KEY']!], { env: { ...process.env, SSH_AUTH_SOCK: sock }, stdio: 'pipe' });
      const spec = sshSpec('agent', { hosts: FOUR, nodes: 4, sshConfig: config });
      const home = mkdtempSync(join(dir, 'home-')); // no ~/.ssh/id_* to fall back on
      const r = await rlstack(['preflight', spec], { primeRl, env: { SSH_AUTH_SOCK: sock, HOME: home } });
      expect(r.code, r.stdout + r.stderr).toBe(0);
      expect(r.stdout).toMatch(/3 node04\s+reachable\s+ok\s+ssh as root, hostname node04/);
      const none = await rlstack(['preflight', spec], { primeRl, env: { SSH_AUTH_SOCK: '', HOME: home } });
      expect(none.code).toBe(3);
      expect(none.stderr).toMatch(/RS4102 node 0 \(node01\): (bastion|node01): no key to authenticate with/);
      expect(none.stderr).toContain('start ssh-agent and add your key');
    } finally {
      agent.kill();
    }
  });

  it('a ProxyJump chain (bastion, then node01) reaches the nodes, and a frozen middle hop is what preflight names', async () => {
    const spec = sshSpec('chain', { hosts: 'node[05-06]', nodes: 2, jump: 'bastion,node01', connectTimeoutS: 3 });
    const r = await rlstack(['preflight', spec], { primeRl });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/1 node06\s+reachable\s+ok/);
    // The chain is really used: with node01's sshd frozen, nodes the bastion reaches directly are not reachable.
    const sshd = Number(readFileSync(join(env['RLSTACK_CLUSTER_DIR']!, 'pids', 'sshd-node01'), 'utf8').split(' ')[0]);
    process.kill(sshd, 'SIGSTOP');
    try {
      const frozen = await rlstack(['preflight', spec], { primeRl });
      expect(frozen.code).toBe(3);
      // node01's handshake is what stalls: named as the hop, for both nodes behind it
      expect(frozen.stderr).toMatch(/RS4104 node 0 \(node05\): node01 did not complete the SSH handshake within connect_timeout_s = 3 s \(through bastion\)/);
      expect(frozen.stderr).toMatch(/RS4104 node 1 \(node06\): node01 did not complete the SSH handshake/);
    } finally {
      process.kill(sshd, 'SIGCONT');
    }
  });

  /** FOUR plus a Docker sandbox fleet of one CPU node, cpu01, inventoried by its own pool. */
  const fleetSpec = (name: string, long = false) =>
    sshSpec(name, {
      hosts: FOUR,
      nodes: 4,
      long,
      extra: dockerFleetToml('ssh = { hosts = "cpu01" }'),
    });

  /** The stand-in Docker's boxes on a host: name → labels. */
  const boxesOn = (host: string): Map<string, Record<string, string>> => {
    const dir = join(primeRl.dir, '.standin', 'docker', host);
    if (!existsSync(dir)) return new Map();
    return new Map(readdirSync(dir).filter((f) => f.endsWith('.json')).map((f) => {
      const b = JSON.parse(readFileSync(join(dir, f), 'utf8')) as { name: string; labels: Record<string, string> };
      return [b.name, b.labels];
    }));
  };
  const boxProcesses = () => commandLines().filter((l) => l.includes('standin-docker-box '));

  it('per-pool inventory: the sandbox fleet’s CPU pool on cpu01 (cluster.pools.cpu.ssh.hosts) runs to completion, its boxes labelled with the run', async () => {
    const spec = fleetSpec('pools');
    const runDir = join(runs, 'pools');
    const r = await rlstack(['launch', spec, '--set', 'run.max_steps=2', '--set', 'orchestrator.max_inflight=16'], { primeRl });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/4 cpu01\s+reachable\s+ok/);
    expect(r.stdout).not.toMatch(/4 cpu01\s+gpus/); // a CPU pool has no GPU check
    expect(readFileSync(join(runDir, 'state', 'latest', 'hosts'), 'utf8').trim().split('\n')).toEqual(['node01', 'node02', 'node03', 'node04', 'cpu01']);
    const { json } = await statusJson(runDir, primeRl);
    expect(json.processes.find((p) => p.name === 'env-train-code')?.host).toBe('cpu01');
    await waitFor('the run to complete', () => JSON.parse(readFileSync(join(runDir, 'state', 'latest', 'run.json'), 'utf8')).state === 'completed', 90_000);
    await expectNothingLeft(runDir);
    // bin/docker labelled every box the env server created with the run id; it removed them on the way out
    const runIdValue = readFileSync(join(runDir, 'state', 'run_id'), 'utf8').trim();
    const journal = readFileSync(join(primeRl.dir, '.standin', 'docker', 'cpu01', 'journal.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { event: string; name: string; labels: Record<string, string> });
    const created = journal.filter((e) => e.event === 'run' && e.labels['rlstack.run'] === runIdValue);
    expect(created).toHaveLength(2);
    for (const e of created) expect(e.labels).toEqual({ 'rlstack.run': runIdValue });
    expect(journal.filter((e) => e.event === 'run' && !e.labels['rlstack.run'])).toEqual([]); // none unlabelled
    expect(journal.filter((e) => e.event === 'rm' && created.some((c) => c.name === e.name))).toHaveLength(2);
    expect(boxesOn('cpu01').size).toBe(0);
  });

  it('an env server killed with boxes in flight: the teardown removes exactly the run’s boxes, not another’s', async () => {
    const cfg = env['RLSTACK_CLUSTER_SSH_CONFIG']!;
    const foreign = 'f0'.repeat(16);
    execFileSync('ssh', ['-F', cfg, 'cpu01', join(primeRl.dir, 'bin', 'docker'), 'run', '--detach', '--label', 'rlstack.run=another-run', '--name', foreign, 'img', 'infinity'], { stdio: 'pipe' });
    try {
      const spec = fleetSpec('boxes', true);
      const runDir = join(runs, 'boxes');
      const r = await rlstack(['launch', spec, '--set', 'orchestrator.max_inflight=16'], { primeRl });
      expect(r.code, r.stdout + r.stderr).toBe(0);
      const ours = [...boxesOn('cpu01')].filter(([, l]) => l['rlstack.run'] !== 'another-run').map(([n]) => n);
      expect(ours.length).toBe(2);
      const server = JSON.parse(readFileSync(join(runDir, 'state', 'latest', 'processes', 'env-train-code.json'), 'utf8')) as { pid: number; host: string };
      expect(server.host).toBe('cpu01');
      process.kill(hostPid(server.host, server.pid), 'SIGKILL'); // no exit hook: its boxes are orphans now
      await waitFor('the run marked failed', () => JSON.parse(readFileSync(join(runDir, 'state', 'latest', 'run.json'), 'utf8')).state === 'failed', 30_000, 200);
      await expectNothingLeft(runDir);
      await waitFor('the run’s boxes removed', () => ours.every((n) => !boxesOn('cpu01').has(n)), 30_000, 200);
      expect(boxProcesses().filter((l) => ours.some((n) => l.includes(n)))).toEqual([]);
      expect(boxesOn('cpu01').has(foreign)).toBe(true);
      expect(boxProcesses().some((l) => l.includes(foreign))).toBe(true);
      expect(readFileSync(join(runDir, 'logs', 'latest', 'node-004.log'), 'utf8')).toContain('removing 2 sandbox containers of this run');
    } finally {
      execFileSync('ssh', ['-F', cfg, 'cpu01', join(primeRl.dir, 'bin', 'docker'), 'rm', '--force', foreign], { stdio: 'pipe' });
    }
  });

  it('a node that drops off the network mid-run takes the whole run down (the peer watch, as under Slurm), and status names it', async () => {
    const spec = sshSpec('netdown', { hosts: FOUR, nodes: 4, long: true });
    const runDir = join(runs, 'netdown');
    const r = await rlstack(['launch', spec], { primeRl });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const downAt = Date.now();
    netns('node02', 'ip', 'link', 'set', 'eth0', 'down');
    try {
      await waitFor('the run marked failed', () => JSON.parse(readFileSync(join(runDir, 'state', 'latest', 'run.json'), 'utf8')).state === 'failed', 45_000, 200);
      await expectNothingLeft(runDir, 45_000 - (Date.now() - downAt));
      console.log(`node02 link down → nothing of the run left: ${Date.now() - downAt} ms`);
      const run = JSON.parse(readFileSync(join(runDir, 'state', 'latest', 'run.json'), 'utf8')) as { reason: string };
      // Whoever notices first names the silent peer: node02 from the others' side, or a peer from node02's.
      expect(run.reason).toMatch(/stopped answering on node \d{3} \(node0[1-4]\)/);
    } finally {
      netns('node02', 'ip', 'link', 'set', 'eth0', 'up');
    }
    const { json } = await statusJson(runDir, primeRl);
    expect(json.run?.state).toBe('failed');
  });
});
