/**
 * The Slurm back end on a real Slurm cluster (test/cluster/cluster.sh: slurmctld and one slurmd per node, each
 * node its own network namespace and host name), with the real node.sh and stand-ins only for the GPU
 * software (test/standins). Every scenario asserts on every node.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { useFreshCluster } from './cluster-setup.js';
import {
  cluster,
  commandLines,
  dockerFleetToml,
  environOf,
  hostPid,
  filesUnder,
  launchWatchingFor,
  processesMentioning,
  rlstack,
  slurmJobState,
  squeueJobs,
  statusJson,
  waitFor,
  workspaceOnShared,
  writeSpec,
  type FakePrimeRl,
} from './harness.js';

let primeRl: FakePrimeRl;
let runs: string;
let specs: string;

useFreshCluster();

beforeAll(() => {
  ({ primeRl, runs, specs } = workspaceOnShared('slurm'));
});

/** 4 GPU nodes: 2 inference (two TP-4 engines each), 2 trainer; orchestrator and env servers on the first trainer node. */
function fourNodeSpec(name: string, extra = '', change: (toml: string) => string = (t) => t): string {
  return writeSpec(
    specs,
    name,
    change(`[run]
name = "${name}"
output_dir = "${runs}"
prime_rl_dir = "${primeRl.dir}"
prime_rl_revision = "${primeRl.revision}"
prime_rl_map = "559b447"
max_steps = 10
ready_timeout_s = 120

[cluster]
nodes = 4
gpus_per_node = 8
gpu = "h100"
cpus_per_node = 8
host_memory_gib = 1024
backend = "slurm"
skip_checks = ["memory"]     # the estimate is for 8 real trainer ranks; the stand-ins use megabytes

[cluster.slurm]
partition = "gpu"
exclude = "node08"           # the test cluster's node without the shared run dir
time = "00:30:00"
signal = "USR1@120"

[model]
name = "Qwen/Qwen3-0.6B"
seq_len = 4096

[trainer]
nodes = 2

[inference]
nodes = 2
tp = 4

[orchestrator]
batch_size = 64
group_size = 8
max_inflight = 64

[[environments]]
name = "math"
taskset = "i3_math"

[[environments]]
name = "aime"
taskset = "aime25"
split = "eval"
${extra}`),
  );
}

/** A long run: 200 steps of half a second, so there is time to act on it. */
const longRun = (t: string) =>
  t.replace('max_steps = 10', 'max_steps = 200').replace('[[environments]]', '[env]\nRLSTACK_STANDIN_STEP_SECONDS = "0.5"\nRLSTACK_STANDIN_MAX_STEPS = "200"\n\n[[environments]]');

const jobIdOf = (stdout: string) => /submitted Slurm job (\d+)/.exec(stdout)?.[1];

async function expectNothingLeft(runDir: string) {
  await waitFor('no process of the run left on any node', () => processesMentioning(primeRl.dir).length === 0 && processesMentioning(runDir).length === 0, 30_000);
}

describe('Slurm back end', () => {
  it('a 4-node run reaches all ready, runs its steps and ends COMPLETED; secrets reach only their roles', async () => {
    const secret = 'wandb-secret-PLANTED-8c1f';
    // Steps of a second: the trainer must still be running when the probe reads its environment (at 0.2 s a
    // step the whole run could end between two polls on a loaded machine).
    const slowSteps = (t: string) => t.replace('[[environments]]', '[env]\nRLSTACK_STANDIN_STEP_SECONDS = "1"\n\n[[environments]]');
    const spec = fourNodeSpec('complete', '\n[secrets]\nWANDB_API_KEY = ["trainer", "orchestrator"]\n', slowSteps);
    const runDir = join(runs, 'complete');
    const launched = rlstack(['launch', spec], { primeRl, env: { WANDB_API_KEY: secret } });
    // While it runs: no command line anywhere carries the secret; the trainer has it, env servers do not.
    const seenInEnv = await waitFor(
      'the trainer and an env server to run',
      () => {
        const status = existsSync(join(runDir, 'state', 'latest', 'processes')) ? readdirSync(join(runDir, 'state', 'latest', 'processes')) : [];
        if (!status.includes('trainer-0.json') || !status.includes('env-train-math.json')) return undefined;
        const read = (n: string) => JSON.parse(readFileSync(join(runDir, 'state', 'latest', 'processes', `${n}.json`), 'utf8')) as { pid: number; host: string; state: string };
        const trainer = read('trainer-0');
        const env = read('env-train-math');
        if (trainer.state !== 'ready') return undefined;
        try {
          return { trainer: environOf(hostPid(trainer.host, trainer.pid))['WANDB_API_KEY'], env: environOf(hostPid(env.host, env.pid))['WANDB_API_KEY'] };
        } catch {
          return undefined;
        }
      },
      120_000,
      200,
    );
    expect(seenInEnv.trainer).toBe(secret);
    expect(seenInEnv.env).toBeUndefined();
    for (const line of commandLines()) expect(line).not.toContain(secret);

    const r = await launched;
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('all 10 processes are ready');
    const jobId = jobIdOf(r.stdout)!;
    await waitFor('COMPLETED', () => slurmJobState(jobId) === 'COMPLETED', 90_000);

    const { json } = await statusJson(runDir, primeRl);
    expect(json.run?.state).toBe('completed');
    expect(json.backend).toMatchObject({ kind: 'slurm', state: 'COMPLETED' });
    const byName = new Map(json.processes.map((p) => [p.name, p]));
    // every process ran on the node the plan put it on
    const hosts = readFileSync(join(runDir, 'state', 'latest', 'hosts'), 'utf8').trim().split('\n');
    expect(new Set(hosts).size).toBe(4);
    const plan = JSON.parse(readFileSync(join(runDir, 'launcher', 'plan.json'), 'utf8')) as { processes: { name: string; node: number }[] };
    for (const p of plan.processes) expect(byName.get(p.name)?.host, p.name).toBe(hosts[p.node]);
    for (const name of ['orchestrator', 'trainer-0', 'trainer-1']) expect(byName.get(name)?.state).toBe('exited');
    for (const name of ['inference-0', 'inference-3', 'router', 'env-train-math']) expect(byName.get(name)?.state).toBe('stopped');
    for (let node = 0; node < 4; node++) {
      expect(readFileSync(join(runDir, 'logs', 'latest', `node-00${node}.log`), 'utf8')).toContain('all 4 nodes checked');
    }
    const logs = await rlstack(['logs', runDir, '--role', 'trainer'], { primeRl });
    expect(logs.stdout).toMatch(/^\[trainer-1\] trainer step 10$/m);
    expect(existsSync(join(runDir, 'rollouts', 'step_10'))).toBe(true);
    await expectNothingLeft(runDir);
    for (const file of filesUnder(runDir)) expect(readFileSync(file, 'utf8'), file).not.toContain(secret);
  });

  it('an engine killed mid-run fails the job within 30 s, names it, and leaves nothing on any node', async () => {
    const spec = fourNodeSpec('killed', '', longRun);
    const runDir = join(runs, 'killed');
    const r = await rlstack(['launch', spec], { primeRl });
    expect(r.code, r.stderr).toBe(0);
    const jobId = jobIdOf(r.stdout)!;
    const engine = JSON.parse(readFileSync(join(runDir, 'state', 'latest', 'processes', 'inference-2.json'), 'utf8')) as { pid: number; host: string };
    const killedAt = Date.now();
    process.kill(hostPid(engine.host, engine.pid), 'SIGKILL');
    await waitFor('the job to fail', () => slurmJobState(jobId) === 'FAILED', 30_000, 100);
    const tookMs = Date.now() - killedAt;
    console.log(`engine killed → Slurm job FAILED in ${tookMs} ms`);
    expect(tookMs).toBeLessThan(30_000);
    const { json } = await statusJson(runDir, primeRl);
    expect(json.run?.state).toBe('failed');
    expect(json.run?.first_failure).toBe('inference-2');
    expect(json.processes.find((p) => p.name === 'inference-2')?.state).toBe('failed');
    const human = await rlstack(['status', runDir], { primeRl });
    expect(human.stdout).toContain('first failure: inference-2');
    await expectNothingLeft(runDir);
  }, 240_000);

  it('rlstack stop tears the run down in order, the job ends CANCELLED, nothing is left', async () => {
    const spec = fourNodeSpec('stopped', '', longRun);
    const runDir = join(runs, 'stopped');
    const r = await rlstack(['launch', spec], { primeRl });
    expect(r.code, r.stderr).toBe(0);
    const jobId = jobIdOf(r.stdout)!;
    const stop = await rlstack(['stop', runDir], { primeRl });
    expect(stop.code, stop.stdout + stop.stderr).toBe(0);
    expect(stop.stdout).toContain('nothing of the run is left running');
    // It returns once Slurm says the job ended: job.sbatch's own scancel must not wait out its 30 s sleep.
    console.log(`rlstack stop → job ended: ${stop.ms} ms`);
    expect(stop.ms).toBeLessThan(20_000);
    await waitFor('CANCELLED', () => slurmJobState(jobId) === 'CANCELLED', 60_000);
    const { json } = await statusJson(runDir, primeRl);
    expect(json.run?.state).toBe('stopped');
    for (const p of json.processes) expect(['stopped', 'exited'], p.name).toContain(p.state);
    // every node acted on the stop request itself (ordered teardown), before scancel
    for (let node = 0; node < 4; node++) {
      expect(readFileSync(join(runDir, 'logs', 'latest', `node-00${node}.log`), 'utf8'), `node ${node}`).toMatch(/stopping: (stop requested|the run was stopped)/);
    }
    await expectNothingLeft(runDir);
  }, 240_000);

  it('an impossible request is reported by sbatch --test-only in a dry run; nothing is submitted', async () => {
    // 12 nodes on a partition of 8
    const spec = fourNodeSpec('impossible', '', (t) => t.replace('nodes = 4', 'nodes = 12').replace('[trainer]\nnodes = 2', '[trainer]\nnodes = 6').replace('[inference]\nnodes = 2', '[inference]\nnodes = 6'));
    const before = squeueJobs();
    const r = await rlstack(['launch', spec, '--dry-run'], { primeRl });
    expect(r.code, r.stdout + r.stderr).toBe(1);
    expect(r.stderr).toContain('RS4005');
    expect(r.stderr).toMatch(/Slurm refuses this request/);
    expect(squeueJobs()).toEqual(before);
    expect(existsSync(join(runs, 'impossible'))).toBe(false);
    // A request Slurm can place: asked, accepted, exit 0 — and still nothing submitted, nothing left behind.
    const possible = await rlstack(['launch', fourNodeSpec('possible'), '--dry-run', '--json'], { primeRl });
    expect(possible.code, possible.stdout + possible.stderr).toBe(0);
    const result = JSON.parse(possible.stdout.trim().split('\n').at(-1)!) as Record<string, unknown>;
    expect(result).toMatchObject({ type: 'result', ok: true, scheduler_asked: true, would_start: true, scheduler_answer: expect.stringMatching(/Job \d+ to start/) });
    expect(squeueJobs()).toEqual(before);
    expect(existsSync(join(runs, 'possible'))).toBe(false);
  });

  it('compile -o DIR is a bundle: sbatch DIR/slurm/job.sbatch by hand, from another folder, runs to COMPLETED', async () => {
    const spec = fourNodeSpec('bundle');
    const bundle = join(specs, 'bundle-out');
    const compiled = await rlstack(['compile', spec, '-o', bundle], { primeRl });
    expect(compiled.code, compiled.stderr).toBe(0);
    const runDir = join(runs, 'bundle');
    expect(existsSync(runDir)).toBe(false); // compile writes only its own folder
    // As a user would: sbatch from another folder, with the environment they have (prime-rl's venv on PATH).
    const submitted = execFileSync('sbatch', ['--parsable', join(bundle, 'slurm', 'job.sbatch')], {
      cwd: specs,
      encoding: 'utf8',
      env: { ...process.env, SLURM_CONF: cluster()['RLSTACK_CLUSTER_SLURM_CONF'], PATH: `${join(primeRl.dir, 'bin')}:${process.env['PATH']}` },
    });
    const jobId = submitted.trim().split(';')[0]!;
    await waitFor('the hand-submitted job to end', () => { const st = slurmJobState(jobId); return st && ['COMPLETED', 'FAILED', 'CANCELLED', 'TIMEOUT'].includes(st) ? st : undefined; }, 120_000, 500);
    expect(slurmJobState(jobId), readFileSync(join(runDir, 'logs', 'latest', 'node-000.log'), 'utf8').slice(-2000)).toBe('COMPLETED');
    // The run lives in the spec's run dir; the artifacts were read from the bundle (no launcher/ was made).
    expect(existsSync(join(runDir, 'state', 'attempt_1'))).toBe(true);
    expect(existsSync(join(runDir, 'launcher'))).toBe(false);
    expect(readFileSync(join(runDir, 'logs', 'latest', 'node-000.log'), 'utf8')).toContain(bundle);
    const { json } = await statusJson(runDir, primeRl);
    expect(json.run?.state).toBe('completed');
    await expectNothingLeft(runDir);
  }, 180_000);

  it('a sandbox fleet on the CPU partition starts as one heterogeneous job', async () => {
    const spec = fourNodeSpec(
      'fleet',
      dockerFleetToml('slurm = { partition = "cpu" }'),
      (t) => t.replace('max_inflight = 64', 'max_inflight = 16'),
    );
    const runDir = join(runs, 'fleet');
    const r = await rlstack(['launch', spec], { primeRl });
    expect(r.code, r.stderr + r.stdout).toBe(0);
    const jobId = jobIdOf(r.stdout)!;
    const sbatch = readFileSync(join(runDir, 'launcher', 'slurm', 'job.sbatch'), 'utf8');
    expect(sbatch).toContain('#SBATCH hetjob');
    expect(sbatch).toMatch(/#SBATCH --partition=cpu/);
    const { json } = await statusJson(runDir, primeRl);
    expect(json.processes.find((p) => p.name === 'env-train-code')?.host).toBe('cpu01');
    expect(json.processes.find((p) => p.name === 'env-train-math')?.host).toMatch(/^node0/);
    await waitFor('COMPLETED', () => slurmJobState(jobId) === 'COMPLETED', 90_000);
    await expectNothingLeft(runDir);
  });

  it('a node that fails its check stops the start before any component runs, naming it', async () => {
    const spec = fourNodeSpec('badnode', '', (t) => t.replace('exclude = "node08"', 'exclude = "node08"\nextra_sbatch = ["--nodelist=node01,node02,node03,node04"]'));
    writeFileSync(join(primeRl.dir, 'fake-gpus', 'node02'), '4\n');
    try {
      const runDir = join(runs, 'badnode');
      const r = await rlstack(['launch', spec], { primeRl });
      expect(r.code).toBe(3);
      expect(r.stderr).toMatch(/node check failed: node 001 \(node02\): has 4 GPUs, the plan needs 8/);
      expect(r.stderr).toContain('exclude');
      const processes = join(runDir, 'state', 'latest', 'processes');
      expect(existsSync(processes) ? readdirSync(processes) : []).toEqual([]);
      await expectNothingLeft(runDir);
    } finally {
      writeFileSync(join(primeRl.dir, 'fake-gpus', 'node02'), '8\n');
    }
  });

  it('resume: a second launch is refused unless run.resume, then resumes from the latest complete checkpoint in a new attempt', async () => {
    const spec = fourNodeSpec('resumed', '\n[checkpoint]\ninterval = 5\n');
    const runDir = join(runs, 'resumed');
    const first = await rlstack(['launch', spec], { primeRl });
    expect(first.code, first.stderr).toBe(0);
    await waitFor('COMPLETED', () => slurmJobState(jobIdOf(first.stdout)!) === 'COMPLETED', 90_000);
    const attempt1 = filesUnder(join(runDir, 'logs', 'attempt_1')).map((f) => [f, readFileSync(f, 'utf8')] as const);
    const refused = await rlstack(['launch', spec], { primeRl });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('RS4002');
    const second = await rlstack(['launch', spec, '--set', 'run.resume=true', '--set', 'run.max_steps=20'], { primeRl });
    expect(second.code, second.stderr).toBe(0);
    await waitFor('COMPLETED', () => slurmJobState(jobIdOf(second.stdout)!) === 'COMPLETED', 90_000);
    const { json } = await statusJson(runDir, primeRl);
    expect(json.attempt).toBe(2);
    expect(json.run?.state).toBe('completed');
    expect(readFileSync(join(runDir, 'logs', 'attempt_2', 'node-002.log'), 'utf8')).toContain('resuming from the checkpoint of step 10');
    expect(readFileSync(join(runDir, 'logs', 'attempt_2', 'trainer-0.log'), 'utf8')).toContain('--resume.step');
    expect(existsSync(join(runDir, 'rollouts', 'step_20'))).toBe(true);
    // the first attempt's files are untouched; what it was launched with is kept
    for (const [file, text] of attempt1) expect(readFileSync(file, 'utf8'), file).toBe(text);
    expect(existsSync(join(runDir, 'state', 'attempt_1', 'launcher', 'plan.json'))).toBe(true);
  });

  it('the time-limit warning stops the run cleanly and the requeued job resumes by itself', async () => {
    const spec = fourNodeSpec('requeued', '\n[checkpoint]\ninterval = 5\n', (t) => longRun(t).replace('time = "00:30:00"', 'time = "00:30:00"\nrequeue = true'));
    const runDir = join(runs, 'requeued');
    const r = await rlstack(['launch', spec], { primeRl });
    expect(r.code, r.stderr).toBe(0);
    const jobId = jobIdOf(r.stdout)!;
    // a complete checkpoint in prime-rl's layout: the trainer's DCP folder with .metadata, the orchestrator's progress
    const complete = (n: number) => existsSync(join(runDir, 'checkpoints', `step_${n}`, 'trainer', '.metadata')) && existsSync(join(runDir, 'checkpoints', `step_${n}`, 'orchestrator', 'progress.pt'));
    await waitFor('a complete checkpoint', () => complete(5), 60_000);
    expect(existsSync(join(runDir, 'checkpoints', 'step_5', 'STABLE'))).toBe(false);
    // What Slurm sends `signal = "USR1@120"` before the limit, to the batch shell only.
    const slurmEnv = { env: { ...process.env, SLURM_CONF: cluster()['RLSTACK_CLUSTER_SLURM_CONF'] } };
    execFileSync('scancel', ['--batch', '--signal=USR1', jobId], slurmEnv);
    // The job requeues itself once every node has stopped.
    await waitFor('the job to requeue', () => /Restarts=1/.test(execFileSync('scontrol', ['show', 'job', jobId], { ...slurmEnv, encoding: 'utf8' })), 60_000);
    const requeuedAt = Date.now();
    // Slurm then holds the requeued job for 120 s; the test shortens that to 5 s, nudging on every poll after it
    // (an update issued while the job is still completing does not take). Not sooner: the first run's job
    // credential was revoked at the requeue, and a start within the same second or so is refused ("Job
    // credential revoked": the job FAILS, RunTime 0 — seen in CI with a nudge 0.3 s after the requeue).
    const firstHosts = readFileSync(join(runDir, 'state', 'attempt_1', 'hosts'), 'utf8').trim().split('\n').join(',');
    const nodesIdle = () => execFileSync('sinfo', ['-h', '-N', '-n', firstHosts, '-o', '%T'], { ...slurmEnv, encoding: 'utf8' }).trim().split('\n').every((s) => s === 'idle');
    const nudge = () => {
      if (Date.now() - requeuedAt > 5000 && slurmJobState(jobId) === 'PENDING' && nodesIdle()) {
        try {
          execFileSync('scontrol', ['update', `JobId=${jobId}`, 'StartTime=now'], { ...slurmEnv, stdio: 'ignore' });
        } catch {
          // the job left PENDING between the two calls
        }
      }
      return true;
    };
    try {
      await waitFor('the second attempt to run', () => nudge() && existsSync(join(runDir, 'state', 'attempt_2', 'processes', 'trainer-0.json')) && readFileSync(join(runDir, 'state', 'attempt_2', 'processes', 'trainer-0.json'), 'utf8').includes('"ready"'), 240_000, 1000);
    } catch (e) {
      // What the scheduler and the run say, for the log of a failure that does not reproduce at will.
      const tryRun = (cmd: string, args: string[]) => { try { return execFileSync(cmd, args, { ...slurmEnv, encoding: 'utf8' }); } catch (err) { return String(err); } };
      console.log(tryRun('scontrol', ['show', 'job', jobId]));
      console.log(tryRun('sinfo', ['-N', '-l']));
      console.log(tryRun('bash', ['-c', `grep -h "job.\\?${jobId}\\b\\|JobId=${jobId}\\b" ${JSON.stringify(cluster()['RLSTACK_CLUSTER_LOG_DIR'])}/*.log | tail -40`]));
      console.log(tryRun('bash', ['-c', `ls -R ${JSON.stringify(join(runDir, 'state'))} | head -60; tail -n 30 ${JSON.stringify(runDir)}/logs/attempt_*/node-00*.log ${JSON.stringify(runDir)}/logs/slurm-*.out 2>&1 | tail -150`]));
      throw e;
    }
    expect(JSON.parse(readFileSync(join(runDir, 'state', 'attempt_1', 'run.json'), 'utf8')).state).toBe('stopped');
    const log = readFileSync(join(runDir, 'logs', 'attempt_2', 'node-002.log'), 'utf8');
    const resumedAt = Number(/resuming from the checkpoint of step (\d+)/.exec(log)?.[1]);
    expect(resumedAt).toBeGreaterThanOrEqual(5);
    expect(complete(resumedAt)).toBe(true);
    // trainer and orchestrator both get that step, and the stand-ins (which load it as prime-rl does) accept it
    for (const name of ['trainer-0', 'orchestrator']) {
      const text = readFileSync(join(runDir, 'logs', 'attempt_2', `${name}.log`), 'utf8');
      expect(text).toContain(`"--resume.step","${resumedAt}"`); // the stand-in's banner: its argv as JSON
      expect(text).toContain(`resumed from step ${resumedAt}`);
    }
    expect(readFileSync(join(runDir, 'state', 'attempt_2', 'slurm_job_id'), 'utf8').trim()).toBe(jobId);
    const stop = await rlstack(['stop', runDir], { primeRl });
    expect(stop.code, stop.stdout + stop.stderr).toBe(0);
    await expectNothingLeft(runDir);
  }, 420_000);

  it('submitting through a login node (cluster.slurm.login over rlstack\'s SSH transport): launch, status and stop from a machine without Slurm', async () => {
    const c = cluster();
    const spec = fourNodeSpec('login', `\n[cluster.ssh]\nconfig = "${c['RLSTACK_CLUSTER_SSH_CONFIG']}"\nknown_hosts = "${c['RLSTACK_CLUSTER_KNOWN_HOSTS']}"\npath = ["${join(primeRl.dir, 'bin')}"]\n\n[secrets]\nWANDB_API_KEY = ["trainer"]\n`, (t) => longRun(t).replace('[cluster.slurm]', '[cluster.slurm]\nlogin = "bastion"'));
    const runDir = join(runs, 'login');
    // No usable Slurm client here: every answer must come from the login node.
    const noSlurm = { SLURM_CONF: '/nonexistent/slurm.conf' };
    const secret = 'wandb-secret-PLANTED-login-3e9a';
    const { result: r, sawSecret } = await launchWatchingFor(secret, ['launch', spec], { primeRl, env: { ...noSlurm, WANDB_API_KEY: secret } });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(sawSecret).toBe(false);
    const jobId = jobIdOf(r.stdout)!;
    const trainer = JSON.parse(readFileSync(join(runDir, 'state', 'latest', 'processes', 'trainer-0.json'), 'utf8')) as { pid: number; host: string };
    expect(environOf(hostPid(trainer.host, trainer.pid))['WANDB_API_KEY']).toBe(secret); // through the login node's stdin, sbatch's environment, node.sh
    expect(filesUnder(runDir).filter((f) => readFileSync(f, 'utf8').includes(secret))).toEqual([]);
    // sbatch ran in the login node's SSH session (its home as the working dir), not here
    expect(execFileSync('scontrol', ['show', 'job', jobId], { encoding: 'utf8', env: { ...process.env, SLURM_CONF: c['RLSTACK_CLUSTER_SLURM_CONF'] } })).toMatch(/WorkDir=\/root\n/);
    expect(JSON.parse(readFileSync(join(runDir, 'state', 'slurm-target.json'), 'utf8'))).toMatchObject({ login: 'bastion', ssh: { config: c['RLSTACK_CLUSTER_SSH_CONFIG'] } });
    const status = await rlstack(['status', runDir], { primeRl, env: noSlurm });
    expect(status.stdout).toContain(`Slurm job ${jobId}: RUNNING`);
    const stop = await rlstack(['stop', runDir], { primeRl, env: noSlurm });
    expect(stop.code, stop.stdout + stop.stderr).toBe(0);
    await waitFor('CANCELLED', () => slurmJobState(jobId) === 'CANCELLED', 60_000);
    await expectNothingLeft(runDir);
    // an unreachable login node is a diagnostic, not a hang or a stack trace
    const down = await rlstack(['launch', spec, '--set', 'cluster.slurm.login="nosuchhost"', '--set', 'run.name="login-down"'], { primeRl, env: { ...noSlurm, WANDB_API_KEY: secret } });
    expect(down.code).toBe(3);
    expect(down.stderr).toMatch(/RS4004 sbatch is not reachable on nosuchhost: cannot reach the Slurm login node nosuchhost/);
  });

  it('status still answers from the run dir when Slurm no longer knows the job', async () => {
    const runDir = join(runs, 'complete');
    const jobFile = join(runDir, 'state', 'latest', 'slurm_job_id');
    const real = readFileSync(jobFile, 'utf8');
    // What a purged job looks like to scontrol: an id it does not know.
    writeFileSync(jobFile, '987654\n');
    try {
      const r = await rlstack(['status', runDir], { primeRl });
      expect(r.code).toBe(0);
      expect(r.stdout).toContain('Slurm job 987654: unknown to Slurm (purged)');
      expect(r.stdout).toContain('completed');
      expect(r.stdout).toMatch(/trainer-1\s+node 3/);
    } finally {
      writeFileSync(jobFile, real);
    }
  });
  // Last: taking a link down and up again leaves Slurm's view of that node unsettled for a while.
  it('a node that drops off the network mid-run fails the run: its peers notice within seconds', async () => {
    const spec = fourNodeSpec('partitioned', '', longRun);
    const runDir = join(runs, 'partitioned');
    const r = await rlstack(['launch', spec], { primeRl });
    expect(r.code, r.stderr).toBe(0);
    const jobId = jobIdOf(r.stdout)!;
    const host = readFileSync(join(runDir, 'state', 'latest', 'hosts'), 'utf8').trim().split('\n')[0]!; // the first inference node
    const netns = `${cluster()['RLSTACK_CLUSTER_NETNS_PREFIX']}${host}`;
    // Its cluster-network link goes down; Slurm's own traffic (the management network) is untouched, so
    // only rlstack's peer watch can notice.
    execFileSync('ip', ['-n', netns, 'link', 'set', 'eth0', 'down']);
    const cutAt = Date.now();
    try {
      await waitFor('the job to fail', () => slurmJobState(jobId) === 'FAILED', 60_000, 200);
      const tookMs = Date.now() - cutAt;
      console.log(`node ${host} off the network → Slurm job FAILED in ${tookMs} ms`);
      expect(tookMs).toBeLessThan(45_000);
    } finally {
      execFileSync('ip', ['-n', netns, 'link', 'set', 'eth0', 'up']);
    }
    const { json } = await statusJson(runDir, primeRl);
    expect(json.run?.state).toBe('failed');
    // the peer watch of the orchestrator's node names what went silent, and where
    expect(json.run?.reason).toMatch(new RegExp(`stopped answering on node 000 \\(${host}\\)`));
    await expectNothingLeft(runDir);
  }, 240_000);

});
