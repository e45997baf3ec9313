/**
 * The Backend contract, one scenario list run against every back end on the real cluster (issue 11): local
 * (this machine), Slurm and SSH (two namespaced nodes). Each scenario checks exit codes, that nothing of the
 * run is left on any node, that every node's teardown completed (its log ends with node.sh's stop line), and
 * that status tells each process's real end.
 */
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { useFreshCluster } from './cluster-setup.js';
import { cluster, hostPid, processesMentioning, rlstack, ROOT, statusJson, waitFor, workspaceOnShared, writeSpec, type FakePrimeRl } from './harness.js';

let primeRl: FakePrimeRl;
let runs: string;
let specs: string;

useFreshCluster(4, 0);

beforeAll(() => {
  ({ primeRl, runs, specs } = workspaceOnShared('conformance'));
});

type Kind = 'local' | 'slurm' | 'ssh';

interface Options {
  long?: boolean;
  revision?: string;
  leaseTimeoutS?: number;
}

// skip_checks = ["memory"]: the estimate is for real CUDA processes (~24 GiB on a trainer node here); the
// stand-ins use megabytes and the test machine has ~23 GiB.
/** A two-process-group run: one inference node (two TP-1 engines + router) and one trainer node; local: one node. */
function specFor(kind: Kind, name: string, o: Options = {}): string {
  const c = cluster();
  const layout =
    kind === 'local'
      ? '[cluster]\nnodes = 1\ngpus_per_node = 4\ngpu = "h100"\nbackend = "local"\nskip_checks = ["memory"]\n\n[trainer]\ngpus = 2\nactivation_offload = false\noptimizer_offload = false\n\n[inference]\ngpus = 2\ntp = 1\n'
      : `[cluster]\nnodes = 2\ngpus_per_node = 2\ngpu = "h100"\ncpus_per_node = 8\nhost_memory_gib = 64\ndisk_gib = 30\nbackend = "${kind}"\nskip_checks = ["memory"]\n\n[trainer]\nnodes = 1\nactivation_offload = false\noptimizer_offload = false\n\n[inference]\nnodes = 1\ntp = 1\n` +
        (kind === 'slurm'
          ? '\n[cluster.slurm]\npartition = "gpu"\ntime = "00:20:00"\nsignal = "USR1@60"\n'
          : `\n[cluster.ssh]\nhosts = "node[01-02]"\nconfig = "${c['RLSTACK_CLUSTER_SSH_CONFIG']}"\nknown_hosts = "${c['RLSTACK_CLUSTER_KNOWN_HOSTS']}"\npath = ["${join(primeRl.dir, 'bin')}"]\nskip_checks = ["memory"]\nlease_timeout_s = ${o.leaseTimeoutS ?? 60}\n`);
  return writeSpec(
    specs,
    `${kind}-${name}`,
    `[run]
name = "${kind}-${name}"
output_dir = "${runs}"
prime_rl_dir = "${primeRl.dir}"
prime_rl_revision = "${o.revision ?? primeRl.revision}"
prime_rl_map = "559b447"
max_steps = ${o.long ? 400 : 8}
ready_timeout_s = 90

${layout}
[model]
name = "Qwen/Qwen3-0.6B"
seq_len = 4096

[orchestrator]
batch_size = 16
group_size = 8
max_inflight = 16
${o.long ? '\n[env]\nRLSTACK_STANDIN_STEP_SECONDS = "0.5"\nRLSTACK_STANDIN_MAX_STEPS = "400"\n' : ''}
[[environments]]
name = "math"
taskset = "i3_math"
`,
  );
}

const runDirOf = (kind: Kind, name: string) => join(runs, `${kind}-${name}`);

/** Nothing of the run on any node: this machine sees every node's processes (each node sees only its own). */
async function expectNothingLeft(runDir: string) {
  await waitFor(`nothing of ${runDir} left on any node`, () => processesMentioning(runDir).length === 0, 45_000);
}

/** node.sh on every node of the attempt finished its teardown: its log ends with the stop line. */
function expectTeardownsCompleted(runDir: string, attempt = 'latest') {
  const dir = join(runDir, 'logs', attempt);
  const logs = readdirSync(dir).filter((f) => /^node-\d{3}\.log$/.test(f));
  expect(logs.length).toBeGreaterThan(0);
  for (const f of logs) {
    const lines = readFileSync(join(dir, f), 'utf8').trim().split('\n');
    expect(lines.at(-1), `${f}: ${lines.slice(-3).join(' | ')}`).toMatch(/stopped \(exit \d+\)$/);
    // one line per process end, never bash's job report with a subshell's source
    expect(lines.join('\n')).not.toMatch(/\bKilled\s+\(|\bTerminated\s+\(/);
  }
}

async function waitForState(runDir: string, state: string, ms: number) {
  await waitFor(`the run ${state}`, async () => (await statusJson(runDir, primeRl)).json.run?.state === state, ms, 500);
}

function processFile(runDir: string, name: string): { pid: number; host: string; state: string } | undefined {
  const path = join(runDir, 'state', 'latest', 'processes', `${name}.json`);
  return existsSync(path) ? (JSON.parse(readFileSync(path, 'utf8')) as { pid: number; host: string; state: string }) : undefined;
}

/** `rlstack launch` in the background, so a test can act on the run while it starts. */
function launchInBackground(spec: string): { done: Promise<number | null>; kill(signal: NodeJS.Signals): void } {
  const env = { ...process.env, NO_COLOR: '1', SLURM_CONF: cluster()['RLSTACK_CLUSTER_SLURM_CONF'], PATH: `${join(primeRl.dir, 'bin')}:${process.env['PATH']}` };
  const child = spawn(process.execPath, [join(ROOT, 'bin', 'rlstack.js'), 'launch', spec], { env, cwd: ROOT, stdio: 'ignore' });
  return { done: new Promise((r) => child.on('exit', (code) => r(code))), kill: (s) => child.kill(s) };
}

for (const kind of ['local', 'slurm', 'ssh'] as const) {
  describe(`the ${kind} back end`, () => {
    it('a complete run: exit 0, completed, every process ended by itself, nothing left', async () => {
      const r = await rlstack(['launch', specFor(kind, 'complete')], { primeRl });
      expect(r.code, r.stdout + r.stderr).toBe(0);
      const runDir = runDirOf(kind, 'complete');
      await waitForState(runDir, 'completed', 60_000);
      await expectNothingLeft(runDir);
      expectTeardownsCompleted(runDir);
      const { json } = await statusJson(runDir, primeRl);
      for (const name of ['orchestrator', 'trainer-0']) expect(json.processes.find((p) => p.name === name)?.state).toBe('exited');
    });

    it('one process killed: the run fails naming it and how it ended; every node tears down', async () => {
      const r = await rlstack(['launch', specFor(kind, 'killed', { long: true })], { primeRl });
      expect(r.code, r.stdout + r.stderr).toBe(0);
      const runDir = runDirOf(kind, 'killed');
      const engine = processFile(runDir, 'inference-1')!;
      process.kill(hostPid(engine.host, engine.pid), 'SIGKILL');
      await waitForState(runDir, 'failed', 30_000);
      await expectNothingLeft(runDir);
      expectTeardownsCompleted(runDir);
      const { json } = await statusJson(runDir, primeRl);
      expect(json.run?.first_failure).toBe('inference-1');
      const killed = json.processes.find((p) => p.name === 'inference-1')!;
      expect(killed.state).toBe('failed');
      expect((killed as { reason?: string }).reason).toContain('was killed by SIGKILL');
      expect(readFileSync(join(runDir, 'logs', 'latest', `node-000.log`), 'utf8')).toContain('inference-1 was killed by SIGKILL');
    });

    it('a storm of SIGTERMs on every node.sh mid-run: each node tears down once and completely, bash never aborts', async () => {
      const r = await rlstack(['launch', specFor(kind, 'term-storm', { long: true })], { primeRl });
      expect(r.code, r.stdout + r.stderr).toBe(0);
      const runDir = runDirOf(kind, 'term-storm');
      try {
        // node.sh itself on each node, not its subshells (they carry the same command line) nor srun/ssh
        const script = join(runDir, 'launcher', 'node.sh');
        const parentOf = (pid: number) => Number(/^PPid:\s+(\d+)$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]);
        const mentioning = processesMentioning(script);
        const BASH = /^(\S*\/)?bash /;
        const nodeScripts = mentioning.filter((p) => BASH.test(p.args) && !mentioning.some((q) => q.pid === parentOf(p.pid) && BASH.test(q.args)));
        expect(nodeScripts.length).toBeGreaterThan(0);
        // Signals arriving while node.sh is inside command substitutions: bash 5.2 ran a pending trap in the
        // substitution's child, which aborted in the middle of a teardown run from the trap.
        for (let i = 0; i < 25; i++) {
          for (const p of nodeScripts) {
            try {
              process.kill(p.pid, 'SIGTERM');
            } catch {
              // that node.sh has ended already
            }
          }
          await new Promise((resolve) => setTimeout(resolve, 5 + ((i * 7) % 40)));
        }
        await waitFor('the run to end', async () => ['stopped', 'failed'].includes((await statusJson(runDir, primeRl)).json.run?.state ?? ''), 45_000, 500);
        await expectNothingLeft(runDir);
        expectTeardownsCompleted(runDir);
        for (const f of readdirSync(join(runDir, 'logs', 'latest')).filter((f) => /^node-\d{3}\.log$/.test(f))) {
          const log = readFileSync(join(runDir, 'logs', 'latest', f), 'utf8');
          expect(log, f).not.toMatch(/bad jump|Aborting/);
          // one teardown per node, however many signals came
          expect(log.match(/stopping: /g)?.length, f).toBe(1);
        }
      } catch (error) {
        // not a run left holding the cluster's nodes and ports for the scenarios after this one
        await rlstack(['stop', runDir], { primeRl });
        throw error;
      }
      const { json } = await statusJson(runDir, primeRl);
      for (const p of json.processes) expect(p.state, p.name).toMatch(/^(stopped|failed)$/);
    });

    it('stop mid-start: the launch fails (exit 3), the stop succeeds (exit 0), nothing is left', async () => {
      const spec = specFor(kind, 'stop-start', { long: true });
      const runDir = runDirOf(kind, 'stop-start');
      const launch = launchInBackground(spec);
      await waitFor('the attempt to start', () => existsSync(join(runDir, 'state', 'latest', 'hosts')), 60_000, 100);
      const stop = await rlstack(['stop', runDir], { primeRl });
      expect(stop.code, stop.stdout + stop.stderr).toBe(0);
      expect(await launch.done).toBe(3);
      await expectNothingLeft(runDir);
      const { json } = await statusJson(runDir, primeRl);
      expect(['stopped', 'failed']).toContain(json.run?.state);
      for (const p of json.processes) expect(['stopped', 'exited', 'failed']).toContain(p.state);
    });

    it('stop mid-run: exit 0, the run stopped, nothing left, every node tore down', async () => {
      const r = await rlstack(['launch', specFor(kind, 'stop-run', { long: true })], { primeRl });
      expect(r.code, r.stdout + r.stderr).toBe(0);
      const runDir = runDirOf(kind, 'stop-run');
      const stop = await rlstack(['stop', runDir], { primeRl });
      expect(stop.code, stop.stdout + stop.stderr).toBe(0);
      await expectNothingLeft(runDir);
      expectTeardownsCompleted(runDir);
      const { json } = await statusJson(runDir, primeRl);
      expect(json.run?.state).toBe('stopped');
      for (const p of json.processes) expect(p.state).toBe('stopped');
    });

    it('the launcher killed mid-start: ssh nodes stop by themselves (lease); a local or Slurm run is detached and stop ends it', async () => {
      const spec = specFor(kind, 'lease', { long: true, leaseTimeoutS: 6 });
      const runDir = runDirOf(kind, 'lease');
      const launch = launchInBackground(spec);
      await waitFor('a process to start', () => processFile(runDir, 'inference-0') !== undefined, 60_000, 100);
      launch.kill('SIGKILL');
      await launch.done;
      if (kind === 'ssh') {
        await waitForState(runDir, 'failed', 45_000);
        expect((await statusJson(runDir, primeRl)).json.run?.first_failure).toBe('launcher-lease');
      } else {
        await waitFor('the run to be ready without its launcher', () => processFile(runDir, 'trainer-0')?.state === 'ready', 60_000);
        const stop = await rlstack(['stop', runDir], { primeRl });
        expect(stop.code, stop.stdout + stop.stderr).toBe(0);
      }
      await expectNothingLeft(runDir);
      expectTeardownsCompleted(runDir);
    });

    it('a node check that fails starts nothing (exit 3); the next launch is a new attempt, no resume needed', async () => {
      const bad = await rlstack(['launch', specFor(kind, 'check', { revision: '0000000' })], { primeRl });
      expect(bad.code, bad.stdout + bad.stderr).toBe(3);
      expect(bad.stdout + bad.stderr).toMatch(/0000000/);
      const runDir = runDirOf(kind, 'check');
      await expectNothingLeft(runDir);
      const good = await rlstack(['launch', specFor(kind, 'check')], { primeRl });
      expect(good.code, good.stdout + good.stderr).toBe(0);
      await waitForState(runDir, 'completed', 60_000);
      await expectNothingLeft(runDir);
      expectTeardownsCompleted(runDir);
    });

    it('status when node.sh is gone without a word (killed -9): processes are not shown alive, logs -f ends', async () => {
      const r = await rlstack(['launch', specFor(kind, 'vanished', { long: true })], { primeRl });
      expect(r.code, r.stdout + r.stderr).toBe(0);
      const runDir = runDirOf(kind, 'vanished');
      // every node.sh of the run, SIGKILLed: no teardown, no state written
      for (const p of processesMentioning(join(runDir, 'launcher', 'node.sh'))) {
        try {
          process.kill(p.pid, 'SIGKILL');
        } catch {
          // gone already
        }
      }
      const follow = rlstack(['logs', runDir, '-f'], { primeRl, timeoutMs: 60_000 });
      // Reconciled: the run failed, and no process is shown alive once each node's guard (or the back end,
      // when it tore the job down first) is done — within the stop grace, not at the first sighting.
      const json = await waitFor(
        'status to reconcile',
        async () => {
          const { json } = await statusJson(runDir, primeRl);
          return json.run?.state === 'failed' && json.processes.every((p: { state: string }) => p.state !== 'ready' && p.state !== 'starting') ? json : undefined;
        },
        60_000,
        1000,
      );
      for (const p of json.processes) expect(p.state, p.name).toMatch(/^(stopped|failed|exited)$/);
      const logs = await follow;
      expect(logs.code).toBe(0);
      expect(logs.stdout).toMatch(/-- the run (is no longer running|failed)/);
      const stop = await rlstack(['stop', runDir], { primeRl });
      expect(stop.code, stop.stdout + stop.stderr).toBe(0);
      await expectNothingLeft(runDir);
    });
  });
}
