/**
 * The stand-ins of the GPU software (test/standins/README.md), on loopback: this host plays every node.
 * Each test starts real stand-in processes through the fake prime-rl checkout's bin/uv.
 */
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const HOST = os.hostname();
const MODEL = 'Qwen/Qwen3-0.6B';

let root: string;
let prime: string;
let revision: string;

interface Proc {
  child: ChildProcess;
  out: string;
  err: string;
  closed: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}
const procs: Proc[] = [];

function baseEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    ...process.env, PATH: `${prime}/bin:${process.env.PATH ?? ''}`, RLSTACK_STANDIN_TIMEOUT_S: '8',
    HF_HOME: path.join(root, 'hf-home'), PRL_RUN_ID: 'standin-run-id', PRL_RUN_NAME: 'standin-run',
  };
  for (const k of Object.keys(env)) {
    if (k.startsWith('RLSTACK_STANDIN_FAIL') || ['CUDA_VISIBLE_DEVICES', 'RLSTACK_FAKE_GPUS', 'HF_HUB_OFFLINE', 'HF_DATASETS_OFFLINE', 'HF_DATASETS_CACHE', 'VLLM_RPC_BASE_PATH'].includes(k)) delete env[k];
  }
  return env;
}

function run(cmd: string, args: string[], env: Record<string, string> = {}, cwd = prime): Proc {
  const child = spawn(cmd, args, { cwd, env: { ...baseEnv(), ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const p: Proc = {
    child,
    out: '',
    err: '',
    closed: new Promise((resolve) => child.on('close', (code, signal) => resolve({ code, signal }))),
  };
  child.stdout!.setEncoding('utf8').on('data', (c: string) => (p.out += c));
  child.stderr!.setEncoding('utf8').on('data', (c: string) => (p.err += c));
  procs.push(p);
  return p;
}

function spawnSyncUtf8(cmd: string, args: string[]) {
  const r = spawnSync(cmd, args, { env: baseEnv(), encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

const uv = (args: string[], env: Record<string, string> = {}, cwd = prime): Proc => run(path.join(prime, 'bin', 'uv'), args, env, cwd);

async function waitFor(p: Proc, pattern: RegExp, ms = 8000): Promise<void> {
  const end = Date.now() + ms;
  while (!pattern.test(p.out)) {
    if (p.child.exitCode !== null || p.child.signalCode !== null) throw new Error(`exited before ${pattern}: ${p.out}\n${p.err}`);
    if (Date.now() > end) throw new Error(`timed out waiting for ${pattern}: ${p.out}\n${p.err}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

async function expectLoud(p: Proc, pattern: RegExp): Promise<void> {
  const { code } = await p.closed;
  const first = p.err.split('\n')[0] ?? '';
  expect(first, p.err).toMatch(/^STAND-IN ERROR: /);
  expect(first).toMatch(pattern);
  expect(code, p.err).toBe(2);
}

async function stop(p: Proc): Promise<number | null> {
  p.child.kill('SIGTERM');
  const t0 = Date.now();
  const { code } = await p.closed;
  expect(Date.now() - t0).toBeLessThan(1000);
  return code;
}

/** n distinct free TCP ports p such that p + 1 is free too (the orchestrator binds port and port + 1). */
async function freePorts(n: number): Promise<number[]> {
  const out: number[] = [];
  const bindable = (port: number) =>
    new Promise<boolean>((resolve) => {
      const s = net.createServer();
      s.once('error', () => resolve(false));
      s.listen({ port, host: '0.0.0.0', exclusive: true }, () => s.close(() => resolve(true)));
    });
  while (out.length < n) {
    const port = 20000 + Math.floor(Math.random() * 40000);
    if (out.some((p) => Math.abs(p - port) < 2)) continue;
    if ((await bindable(port)) && (await bindable(port + 1))) out.push(port);
  }
  return out;
}

function write(file: string, text: string): string {
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, text);
  return file;
}

function inferenceConfig(dir: string, tp = 1): string {
  return write(path.join(dir, 'configs/inference.toml'), `router = "None"\n[server]\nport = 8100\n[vllm]\nmodel = "${MODEL}"\ntensor_parallel_size = ${tp}\n[weight_broadcast]\ntype = "nccl"\n`);
}

/** trainer.toml; `weightHost` undefined = prime-rl's default "localhost"; "0.0.0.0" as rlstack writes it multi-node. */
function trainerConfig(dir: string, rolloutPort: number, weightPort: number, o: { maxSteps?: number; weightHost?: string; weight?: 'nccl' | 'filesystem'; keepLast?: number; interval?: number } = {}): string {
  const weight = o.weight ?? 'nccl';
  return write(
    path.join(dir, 'configs/trainer.toml'),
    `max_steps = ${o.maxSteps ?? 3}\noutput_dir = "runs/relative"\n[ckpt]\ninterval = ${o.interval ?? 2}\n${o.keepLast !== undefined ? `keep_last = ${o.keepLast}\n` : ''}` +
      `[rollout_transport]\nport = ${rolloutPort}\ntype = "zmq"\nhost = "${HOST}"\n` +
      (weight === 'nccl'
        ? `[weight_broadcast]\ninference_world_size = 1\nport = ${weightPort}\ntype = "nccl"\n${o.weightHost ? `host = "${o.weightHost}"\n` : ''}`
        : `[weight_broadcast]\ntype = "filesystem"\n`),
  );
}

const engineArgs = (config: string, port: number) => [
  'run', '--no-sync', 'inference', '@', config, '--server.host', '0.0.0.0', '--server.port', String(port),
  '--vllm.data-parallel-size', '1', '--vllm.data-parallel-size-local', '1', '--vllm.api-server-count', '1',
];

/** As the plan starts a trainer node (src/runtime/components/trainer.ts); the run dir is `<config dir>/../run`. */
const torchrunArgs = (o: { nnodes: number; nproc: number; rank: number; rdzvPort: number; id: string; config: string; logDir: string }) => [
  'run', '--no-sync', 'torchrun', '--role=trainer', `--nnodes=${o.nnodes}`, `--nproc-per-node=${o.nproc}`, `--node-rank=${o.rank}`,
  `--rdzv-endpoint=${HOST}:${o.rdzvPort}`, `--rdzv-id=${o.id}`, `--log-dir=${o.logDir}`, '--tee=3', '--redirects=3',
  '--local-ranks-filter=0', '-m', 'prime_rl.trainer.rl.train', '@', o.config,
  '--output-dir', path.join(path.dirname(path.dirname(o.config)), 'run'), '--rollout_transport.host', HOST,
];

/** A non-loopback IPv4 address of this machine (to play a remote engine), if any. */
function ownAddress(): string | undefined {
  for (const list of Object.values(os.networkInterfaces())) for (const a of list ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  return undefined;
}

beforeAll(() => {
  root = mkdtempSync(path.join(os.tmpdir(), 'rlstack-standins-'));
  prime = path.join(root, 'prime-rl');
  revision = execFileSync(process.execPath, [path.join(HERE, 'make-prime-rl.mjs'), prime]).toString().trim();
});

afterEach(async () => {
  for (const p of procs.splice(0)) {
    if (p.child.exitCode === null && p.child.signalCode === null) {
      p.child.kill('SIGKILL');
      await p.closed;
    }
  }
});

afterAll(() => {
  if (root) rmSync(root, { recursive: true, force: true });
});

describe('fake prime-rl checkout', () => {
  it('is a git repo with one commit, a .venv, and uv/nvidia-smi stand-ins', () => {
    expect(revision).toMatch(/^[0-9a-f]{40}$/);
    expect(execFileSync('git', ['-C', prime, 'rev-parse', 'HEAD']).toString().trim()).toBe(revision);
    expect(execFileSync('git', ['-C', prime, 'status', '--porcelain']).toString()).toBe('');
    for (const f of ['.venv', 'pyproject.toml', 'bin/uv', 'bin/nvidia-smi']) expect(existsSync(path.join(prime, f))).toBe(true);
  });

  it('nvidia-smi counts GPUs from fake-gpus/<host>, then RLSTACK_FAKE_GPUS, else 8', async () => {
    const smi = path.join(prime, 'bin', 'nvidia-smi');
    const list = (env: Record<string, string> = {}) => {
      const p = run(smi, ['-L'], env);
      return p.closed.then(() => p.out.trim().split('\n'));
    };
    expect(await list()).toHaveLength(8);
    expect((await list())[0]).toMatch(/^GPU 0: NVIDIA H100 80GB HBM3 \(UUID: GPU-[0-9a-f-]+\)$/);
    expect(await list({ RLSTACK_FAKE_GPUS: '2' })).toHaveLength(2);
    writeFileSync(path.join(prime, 'fake-gpus', HOST), '4\n');
    try {
      expect(await list({ RLSTACK_FAKE_GPUS: '2' })).toHaveLength(4);
    } finally {
      rmSync(path.join(prime, 'fake-gpus', HOST));
    }
    const q = run(smi, ['--query-gpu=name,memory.total', '--format=csv,noheader'], { RLSTACK_FAKE_GPUS: '2' });
    await q.closed;
    expect(q.out).toBe('NVIDIA H100 80GB HBM3, 81559 MiB\n'.repeat(2));
  });
});

describe('uv', () => {
  it('rejects "uv run" without --no-sync', async () => {
    const p = uv(['run', 'inference', '@', 'x.toml']);
    await expectLoud(p, /without --no-sync/);
  });

  it('rejects other uv options, other programs and a foreign working directory', async () => {
    await expectLoud(uv(['run', '--no-sync', '--frozen', 'inference']), /unsupported uv option\(s\) --frozen/);
    const py = uv(['run', '--no-sync', 'python', '-c', '1']);
    expect((await py.closed).code).toBe(2);
    expect(py.err).toBe('error: Failed to spawn: `python`\n  Caused by: No such file or directory (os error 2)\n');
    await expectLoud(uv(['sync']), /only "uv run --no-sync/);
    await expectLoud(uv(['run', '--no-sync', 'env-server', '@', 'x'], {}, root), /must start in the prime-rl dir/);
  });
});

describe('inference', () => {
  it('serves /health and /v1/models on 0.0.0.0:<port> and exits 0 on SIGTERM', async () => {
    const [port] = await freePorts(1);
    const p = uv(engineArgs(inferenceConfig(root), port!), { CUDA_VISIBLE_DEVICES: '0' });
    await waitFor(p, /engine ready/);
    expect(p.out.split('\n')[0]).toMatch(new RegExp(`^STAND-IN inference host=${HOST} pid=\\d+ argv=\\[`));
    const health = await fetch(`http://127.0.0.1:${port}/health`);
    expect(health.status).toBe(200);
    const models = (await (await fetch(`http://${HOST}:${port}/v1/models`)).json()) as { data: { id: string }[] };
    expect(models.data.map((m) => m.id)).toEqual([MODEL]);
    expect(await stop(p)).toBe(0);
  });

  it('rejects a CUDA_VISIBLE_DEVICES that does not match tensor_parallel_size', async () => {
    const [port] = await freePorts(1);
    const config = inferenceConfig(path.join(root, 'tp2'), 2);
    await expectLoud(uv(engineArgs(config, port!), { CUDA_VISIBLE_DEVICES: '0' }), /CUDA_VISIBLE_DEVICES="0" lists 1 GPUs, expected 2/);
    await expectLoud(uv(engineArgs(config, port!), { CUDA_VISIBLE_DEVICES: '3,3' }), /lists a GPU twice/);
    await expectLoud(uv(engineArgs(config, port!), { CUDA_VISIBLE_DEVICES: '7,8' }), /names GPU 8, but .* has 8 GPUs/);
    await expectLoud(uv(engineArgs(config, port!)), /CUDA_VISIBLE_DEVICES is not set/);
  });

  it('rejects unknown flags, a port in use, a GPU already taken; honours fault injection', async () => {
    const [port, other] = await freePorts(2);
    const config = inferenceConfig(root);
    await expectLoud(uv([...engineArgs(config, port!), '--server.bogus', '1'], { CUDA_VISIBLE_DEVICES: '0' }), /Failed to validate config: 1 validation error for InferenceConfig: --server\.bogus: Extra inputs are not permitted \(got '1'\)/);
    const first = uv(engineArgs(config, port!), { CUDA_VISIBLE_DEVICES: '0' });
    await waitFor(first, /engine ready/);
    await expectLoud(uv(engineArgs(config, port!), { CUDA_VISIBLE_DEVICES: '1' }), new RegExp(`port ${port} on 0\\.0\\.0\\.0 is already in use`));
    await expectLoud(uv(engineArgs(config, other!), { CUDA_VISIBLE_DEVICES: '0' }), /GPU 0 of .* is already in use by pid/);
    expect(await stop(first)).toBe(0);
    const faulty = uv(engineArgs(config, other!), { CUDA_VISIBLE_DEVICES: '0', RLSTACK_STANDIN_FAIL: `inference:${HOST}:0.3` });
    const { code } = await faulty.closed;
    expect(code).toBe(1);
    expect(faulty.err).toMatch(/^STAND-IN FAULT: inference on /);
  });
});

describe('torchrun rendezvous', () => {
  const common = async (tag: string) => {
    const [rdzvPort, rollout, weight] = await freePorts(3);
    const dir = path.join(root, tag);
    return { rdzvPort: rdzvPort!, config: trainerConfig(dir, rollout!, weight!), logDir: path.join(dir, 'logs') };
  };

  it('succeeds with 2 node ranks, then both exit 0 on SIGTERM', async () => {
    const c = await common('rdzv-ok');
    const r1 = uv(torchrunArgs({ ...c, nnodes: 2, nproc: 1, rank: 1, id: 'run-a' }), { CUDA_VISIBLE_DEVICES: '1' });
    const r0 = uv(torchrunArgs({ ...c, nnodes: 2, nproc: 1, rank: 0, id: 'run-a' }), { CUDA_VISIBLE_DEVICES: '0' });
    await waitFor(r0, /rendezvous complete: 2 member\(s\)/);
    await waitFor(r1, /rendezvous complete: node rank 1 of 2/);
    expect(existsSync(c.logDir)).toBe(true);
    expect(await stop(r0)).toBe(0);
    expect(await stop(r1)).toBe(0);
  });

  it('fails loudly on every rank when a node rank joins twice', async () => {
    const c = await common('rdzv-dup');
    const r0 = uv(torchrunArgs({ ...c, nnodes: 2, nproc: 1, rank: 0, id: 'run-b' }), { CUDA_VISIBLE_DEVICES: '0' });
    const a = uv(torchrunArgs({ ...c, nnodes: 2, nproc: 1, rank: 1, id: 'run-b' }), { CUDA_VISIBLE_DEVICES: '1' });
    const b = uv(torchrunArgs({ ...c, nnodes: 2, nproc: 1, rank: 1, id: 'run-b' }), { CUDA_VISIBLE_DEVICES: '2' });
    await expectLoud(r0, /node rank 1 joined twice|joined after the rendezvous had completed/);
    await expectLoud(a, /rendezvous aborted by rank 0/);
    await expectLoud(b, /rendezvous aborted by rank 0/);
  });

  it('fails loudly on every rank with a mismatched rdzv-id', async () => {
    const c = await common('rdzv-id');
    const r0 = uv(torchrunArgs({ ...c, nnodes: 2, nproc: 1, rank: 0, id: 'run-c' }), { CUDA_VISIBLE_DEVICES: '0' });
    const r1 = uv(torchrunArgs({ ...c, nnodes: 2, nproc: 1, rank: 1, id: 'run-other' }), { CUDA_VISIBLE_DEVICES: '1' });
    await expectLoud(r0, /joined with rdzv id "run-other", rank 0 .* has "run-c"/);
    await expectLoud(r1, /rendezvous aborted by rank 0.*rdzv id/);
  });

  it('rejects unknown torchrun and trainer flags, and a wrong GPU count', async () => {
    const c = await common('rdzv-flags');
    const args = torchrunArgs({ ...c, nnodes: 1, nproc: 2, rank: 0, id: 'x' });
    await expectLoud(uv(['run', '--no-sync', 'torchrun', '--master-port=1', ...args.slice(3)], { CUDA_VISIBLE_DEVICES: '0,1' }), /unknown flag --master-port/);
    await expectLoud(uv([...args, '--model.seq-len', 'long'], { CUDA_VISIBLE_DEVICES: '0,1' }), /--model\.seq-len: Input should be a valid integer, unable to parse string as an integer \(got 'long'\)/);
    await expectLoud(uv([...args, '--model.bogus', '1'], { CUDA_VISIBLE_DEVICES: '0,1' }), /--model\.bogus: Extra inputs are not permitted/);
    await expectLoud(uv(args, { CUDA_VISIBLE_DEVICES: '0' }), /lists 1 GPUs, expected 2 \(--nproc-per-node=2\)/);
    const relative = args.map((a) => (a.startsWith('/') && a.endsWith('/run') ? 'runs/x' : a));
    await expectLoud(uv(relative, { CUDA_VISIBLE_DEVICES: '0,1' }), /--output-dir runs\/x is relative/);
    const elsewhere = args.map((a) => (a.startsWith('--rdzv-endpoint=') ? `--rdzv-endpoint=192.0.2.1:${c.rdzvPort}` : a));
    await expectLoud(uv(elsewhere, { CUDA_VISIBLE_DEVICES: '0,1' }), /node rank 0 must run on the --rdzv-endpoint host: "192\.0\.2\.1"/);
  });
});

describe('knobs and the model cache', () => {
  it('reads RLSTACK_STANDIN_* from <prime-rl dir>/standin.env (node.sh strips the environment)', async () => {
    const [port] = await freePorts(1);
    const envCfg = write(path.join(root, 'knobs/configs/envs/eval/x.toml'), `[env.taskset]\nid = "x"\n[serve]\naddress = "tcp://*:${port}"\n`);
    const file = path.join(prime, 'standin.env');
    try {
      writeFileSync(file, `# test knobs\nRLSTACK_STANDIN_FAIL=env-server:${HOST}:0.2\n`);
      const p = uv(['run', '--no-sync', 'env-server', '@', envCfg]);
      expect((await p.closed).code).toBe(1);
      expect(p.err).toMatch(/^STAND-IN FAULT: env-server on .* after 0\.2s/);
      writeFileSync(file, 'RLSTACK_STANDIN_TYPO=1\n');
      await expectLoud(uv(['run', '--no-sync', 'env-server', '@', envCfg]), /standin\.env: "RLSTACK_STANDIN_TYPO=1" is not one of/);
    } finally {
      rmSync(file, { force: true });
    }
  });

  it('hf download fills HF_HOME; `uv run huggingface-cli` fails as uv does (huggingface_hub 1.x has no huggingface-cli)', async () => {
    const home = path.join(root, 'hf');
    const old = uv(['run', '--no-sync', 'huggingface-cli', 'download', MODEL], { HF_HOME: home });
    expect((await old.closed).code).toBe(2);
    expect(old.err).toMatch(/^error: Failed to spawn: `huggingface-cli`\n  Caused by: No such file or directory/);
    const dl = uv(['run', '--no-sync', 'hf', 'download', MODEL, '--repo-type', 'model'], { HF_HOME: home });
    expect((await dl.closed).code, dl.err).toBe(0);
    expect(existsSync(path.join(home, 'hub', 'models--Qwen--Qwen3-0.6B', 'snapshots', 'standin', 'config.json'))).toBe(true);
    await expectLoud(uv(['run', '--no-sync', 'hf', 'download', MODEL], { HF_HOME: '' }), /HF_HOME is not set/);
    const [port] = await freePorts(1);
    const offline = { CUDA_VISIBLE_DEVICES: '0', HF_HUB_OFFLINE: '1', HF_HOME: path.join(root, 'hf-empty') };
    await expectLoud(uv(engineArgs(inferenceConfig(root), port!), offline), /HF_HUB_OFFLINE=1 and Qwen\/Qwen3-0\.6B is not in HF_HOME/);
  });

  it('vllm-router needs .venv/bin/vllm-router (prime-rl\'s disagg extra)', async () => {
    const bin = path.join(prime, '.venv', 'bin', 'vllm-router');
    expect(existsSync(bin)).toBe(true);
    const saved = readFileSync(bin);
    rmSync(bin);
    try {
      const r = uv(['run', '--no-sync', 'vllm-router', '--policy', 'round_robin']);
      expect((await r.closed).code).toBe(2);
      expect(r.err).toMatch(/^error: Failed to spawn: `vllm-router`/);
    } finally {
      writeFileSync(bin, saved, { mode: 0o755 });
    }
  });

  it('env servers load their taskset dataset: offline without a cached dataset fails, online downloads it', async () => {
    const [port] = await freePorts(1);
    const cfg = write(path.join(root, 'ds/configs/envs/train/rt.toml'), `[env.taskset]\nid = "reverse_text_ds"\n[serve]\naddress = "tcp://127.0.0.1:${port}"\n`);
    const home = path.join(root, 'hf-ds');
    await expectLoud(uv(['run', '--no-sync', 'env-server', '@', cfg], { HF_HOME: home, HF_HUB_OFFLINE: '1' }), /reverse_text_ds: datasets\.load_dataset failed offline: ConnectionError: Couldn't reach .* \(offline mode is enabled\)/);
    const online = uv(['run', '--no-sync', 'env-server', '@', cfg], { HF_HOME: home });
    await waitFor(online, /env server train\/rt .* listening/);
    expect(online.out).toMatch(/dataset of taskset reverse_text_ds downloaded into/);
    expect(await stop(online)).toBe(0);
    const cached = uv(['run', '--no-sync', 'env-server', '@', cfg], { HF_HOME: home, HF_HUB_OFFLINE: '1' });
    await waitFor(cached, /env server train\/rt .* listening/);
    expect(await stop(cached)).toBe(0);
    await expectLoud(uv(['run', '--no-sync', 'env-server', '@', cfg], { PRL_RUN_NAME: '' }), /PRL_RUN_NAME is not set/);
  });
});

describe('docker (no engine here)', () => {
  const docker = (args: string[]) => spawnSyncUtf8(path.join(prime, 'bin', 'docker'), args);
  const boxAlive = (name: string) => execFileSync('ps', ['-eo', 'args'], { encoding: 'utf8' }).includes(`standin-docker-box ${name} `);

  it('a docker-runtime env server starts its boxes as verifiers does and removes them when stopped; a killed one leaves them', async () => {
    const [port] = await freePorts(1);
    const cfg = write(path.join(root, 'docker/configs/envs/train/code.toml'), `[env.taskset]\nid = "i3_code"\n[env.agent.runtime]\ntype = "docker"\nimage = "python:3.11-slim"\ncpu = 2\nmemory = 4\n[serve]\naddress = "tcp://*:${port}"\n`);
    const s = uv(['run', '--no-sync', 'env-server', '@', cfg], { RLSTACK_STANDIN_BOXES: '3' });
    await waitFor(s, /3 docker boxes in flight: ([0-9a-f]{32} ?){3}/);
    const names = /boxes in flight: (.*)/.exec(s.out)![1]!.trim().split(' ');
    expect(docker(['ps', '-aq']).stdout.trim().split('\n')).toHaveLength(3);
    for (const n of names) expect(boxAlive(n)).toBe(true);
    expect(await stop(s)).toBe(0);
    expect(docker(['ps', '-aq']).stdout).toBe('');
    for (const n of names) expect(boxAlive(n)).toBe(false);

    const k = uv(['run', '--no-sync', 'env-server', '@', cfg], { RLSTACK_STANDIN_BOXES: '1' });
    await waitFor(k, /1 docker boxes in flight/);
    k.child.kill('SIGKILL');
    await k.closed;
    const left = docker(['ps', '-aq']).stdout.trim();
    expect(left).toMatch(/^[0-9a-f]{12}$/);
    expect(docker(['rm', '-f', left]).status).toBe(0);
    expect(docker(['ps', '-aq']).stdout).toBe('');
  });

  it('filters by label, and refuses what verifiers never does', () => {
    const name = 'ab'.repeat(16);
    expect(docker(['run', '--detach', '--label', 'rlstack.run=r1', '--name', name, 'img', 'infinity']).status).toBe(0);
    expect(docker(['ps', '-aq', '--filter', 'label=rlstack.run=r1']).stdout).toMatch(/^[0-9a-f]{12}\n$/);
    expect(docker(['ps', '-aq', '--filter', 'label=rlstack.run=r2']).stdout).toBe('');
    expect(docker(['rm', '--force', name]).status).toBe(0);
    expect(boxAlive(name)).toBe(false);
    for (const [args, why] of [
      [['run', '--name', name, 'img'], /without --detach/],
      [['run', '--detach', '--name', 'box-1', 'img'], /32-hex trace id/],
      [['rm', name], /without --force/],
      [['pull', 'img'], /not something the stand-in does/],
    ] as const) {
      const r = docker([...args]);
      expect(r.status).toBe(2);
      expect(r.stderr).toMatch(/^STAND-IN ERROR: docker on /);
      expect(r.stderr).toMatch(why);
    }
  });
});

/** orchestrator.toml; its train source points nowhere unless an overlay (`@ sources.json`) replaces the list. */
function orchestratorConfig(dir: string, o: { rollout: number; weight: number; env: number; weightType?: 'nccl' | 'filesystem'; workers?: number; pad?: number; maxSteps?: number; name?: string }): string {
  const weightType = o.weightType ?? 'nccl';
  return write(
    path.join(dir, `configs/${o.name ?? 'orchestrator'}.toml`),
    `max_steps = ${o.maxSteps ?? 3}\nnum_train_workers = ${o.workers ?? 2}\npad_to_multiple_of = ${o.pad ?? 2}\noutput_dir = "runs/relative"\n[ckpt]\ninterval = 2\n` +
      `[model]\nname = "${MODEL}"\n[model.client]\nbase_url = "http://127.0.0.1:8000/v1"\n` +
      `[rollout_transport]\nport = ${o.rollout}\ntype = "zmq"\n` +
      `[[train.source]]\nname = "reverse-text"\n[train.source.env.taskset]\nid = "reverse_text"\n[train.source.serve]\naddress = "tcp://127.0.0.1:1"\n` +
      (weightType === 'nccl' ? `[weight_broadcast]\ninference_world_size = 1\nport = ${o.weight}\ntype = "nccl"\n` : `[weight_broadcast]\ntype = "filesystem"\n`),
  );
}

/** rlstack's orchestrator-sources.json overlay: replaces the TOML's train.source list (pydantic-config: lists replace). */
function sourcesOverlay(dir: string, env: number): string {
  return write(path.join(dir, 'run/orchestrator-sources.json'), JSON.stringify({ train: { source: [{ name: 'reverse-text', env: { taskset: { id: 'reverse_text' } }, serve: { address: `tcp://${HOST}:${env}` } }] } }));
}

describe('mini run', () => {
  it('orchestrator + 2 trainers + env server + engine + router run 3 steps to exit 0, then resume from step 2', async () => {
    const [engine, router, metrics, env, rollout, rdzv, weight] = await freePorts(7);
    const dir = path.join(root, 'mini');
    const run = path.join(dir, 'run');
    const inf = inferenceConfig(dir);
    const trainer = trainerConfig(dir, rollout!, weight!, { weightHost: '0.0.0.0' });
    const envCfg = write(path.join(dir, 'configs/envs/train/reverse-text.toml'), `[env.taskset]\nid = "reverse_text"\n[serve]\naddress = "tcp://*:${env}"\n`);
    const orch = orchestratorConfig(dir, { rollout: rollout!, weight: weight!, env: env! });
    const overlay = sourcesOverlay(dir, env!);
    const e = uv(engineArgs(inf, engine!), { CUDA_VISIBLE_DEVICES: '0' });
    const r = uv([
      'run', '--no-sync', 'vllm-router', '--policy', 'consistent_hash', '--host', '0.0.0.0', '--port', String(router),
      '--worker-urls', `http://${HOST}:${engine}`, '--request-id-headers', 'x-session-id', '--worker-startup-timeout-secs', '4200',
      '--prometheus-port', String(metrics),
    ]);
    const s = uv(['run', '--no-sync', 'env-server', '@', envCfg]);
    const orchArgs = [
      'run', '--no-sync', 'orchestrator', '@', orch, '@', overlay, '--output-dir', run, '--model.client.base-url', `http://${HOST}:${router}/v1`,
      '--model.client.admin-base-url', `http://${HOST}:${engine}/v1`, '--weight_broadcast.host', HOST, '--rollout_transport.host', '0.0.0.0',
    ];
    const logDir = path.join(dir, 'logs');
    const trainerArgs = (rank: number) => torchrunArgs({ nnodes: 2, nproc: 2, rank, rdzvPort: rdzv!, id: 'mini', config: trainer, logDir });
    const o = uv(orchArgs, { RLSTACK_STANDIN_STEP_SECONDS: '0.05' });
    const t0 = uv(trainerArgs(0), { CUDA_VISIBLE_DEVICES: '1,2' });
    const t1 = uv(trainerArgs(1), { CUDA_VISIBLE_DEVICES: '3,4' });

    for (const [p, name] of [[o, 'orchestrator'], [t0, 'trainer 0'], [t1, 'trainer 1']] as const) {
      const { code } = await p.closed;
      expect(code, `${name}: ${p.out}\n${p.err}`).toBe(0);
    }
    expect(o.out).toMatch(/orchestrator step 1\n[^]*orchestrator step 3\n/);
    // The rollout transport is bound only after every engine joined trainer rank 0's weight-broadcast store.
    expect(o.out.indexOf('weight broadcast: 1 engine(s) joined')).toBeGreaterThan(0);
    expect(o.out.indexOf('rollout transport (PUB) listening')).toBeGreaterThan(o.out.indexOf('weight broadcast: 1 engine(s) joined'));
    for (const t of [t0, t1]) expect(t.out.match(/^trainer step \d+$/gm)).toEqual(['trainer step 1', 'trainer step 2', 'trainer step 3']);
    expect(JSON.parse(readFileSync(path.join(run, 'orchestrator.done'), 'utf8')).steps).toBe(3);
    for (const k of [1, 2, 3]) {
      expect(existsSync(path.join(run, 'rollouts', `step_${k}`))).toBe(true);
      expect(existsSync(path.join(run, 'broadcasts', `step_${k}`, 'STABLE'))).toBe(true);
    }
    // prime-rl's checkpoint layout: step_N/trainer/ (DCP shards + .metadata), step_N/orchestrator/progress.pt, no STABLE.
    const step2 = path.join(run, 'checkpoints', 'step_2');
    expect(existsSync(path.join(step2, 'STABLE'))).toBe(false);
    expect(existsSync(path.join(step2, 'trainer', '.metadata'))).toBe(true);
    expect(existsSync(path.join(step2, 'trainer', '__3_0.distcp'))).toBe(true);
    expect(existsSync(path.join(step2, 'orchestrator', 'progress.pt'))).toBe(true);
    expect(existsSync(path.join(run, 'checkpoints', 'step_1'))).toBe(false);
    expect(existsSync(path.join(prime, 'runs'))).toBe(false); // --output-dir won over the relative output_dir
    expect(e.out).toMatch(/init_broadcaster ok/);
    expect((await fetch(`http://127.0.0.1:${router}/health`)).status).toBe(200);

    // Resume from the step-2 checkpoint (node.sh appends --resume.step): only step 3 runs.
    const o2 = uv([...orchArgs, '--resume.step', '2']);
    const r0 = uv([...trainerArgs(0), '--resume.step', '2'], { CUDA_VISIBLE_DEVICES: '1,2' });
    const r1 = uv([...trainerArgs(1), '--resume.step', '2'], { CUDA_VISIBLE_DEVICES: '3,4' });
    for (const p of [o2, r0, r1]) expect((await p.closed).code, `${p.out}\n${p.err}`).toBe(0);
    expect(r1.out.match(/^trainer step \d+$/gm)).toEqual(['trainer step 3']);
    expect(o2.out).toMatch(/resumed from step 2/);
    expect(r0.out).toMatch(/resumed from step 2/);

    // A resume needs a complete step: the orchestrator's progress.pt, the trainer's .metadata (written last).
    const fsOrch = orchestratorConfig(dir, { rollout: rollout!, weight: weight!, env: env!, weightType: 'filesystem', name: 'orchestrator-fs' });
    const fsArgs = ['run', '--no-sync', 'orchestrator', '@', fsOrch, '@', overlay, '--output-dir', run, '--model.client.base-url', `http://${HOST}:${router}/v1`, '--rollout_transport.host', '0.0.0.0'];
    await expectLoud(uv([...fsArgs, '--resume.step', '1']), /--resume\.step 1: FileNotFoundError: Orchestrator checkpoint not found at .*checkpoints\/step_1\/orchestrator\/progress\.pt/);
    const fsTrainer = trainerConfig(path.join(dir, 'fs'), rollout!, weight!, { weight: 'filesystem' });
    const one = (extra: string[]) => uv([...torchrunArgs({ nnodes: 1, nproc: 1, rank: 0, rdzvPort: rdzv!, id: 'fs', config: fsTrainer, logDir }).map((a) => (a.endsWith('/fs/run') ? run : a)), ...extra], { CUDA_VISIBLE_DEVICES: '5' });
    mkdirSync(path.join(run, 'checkpoints', 'step_4', 'trainer'), { recursive: true });
    writeFileSync(path.join(run, 'checkpoints', 'step_4', 'trainer', '__0_0.distcp'), 'partial');
    await expectLoud(one(['--resume.step', '4']), /--resume\.step 4: FileNotFoundError: .*step_4\/trainer\/\.metadata/);
    await expectLoud(one(['--resume.step', '1']), /--resume\.step 1: FileNotFoundError: Checkpoint not found at .*step_1\/trainer/);

    for (const p of [e, r, s]) expect(await stop(p)).toBe(0);
  });

  it('the orchestrator does not bind the rollout port before trainer rank 0 has joined the weight broadcast', async () => {
    const [engine, env, rollout, rdzv, weight] = await freePorts(5);
    const dir = path.join(root, 'order');
    const e = uv(engineArgs(inferenceConfig(dir), engine!), { CUDA_VISIBLE_DEVICES: '0' });
    const envCfg = write(path.join(dir, 'configs/envs/train/reverse-text.toml'), `[env.taskset]\nid = "reverse_text"\n[serve]\naddress = "tcp://127.0.0.1:${env}"\n`);
    const s = uv(['run', '--no-sync', 'env-server', '@', envCfg]);
    const orch = orchestratorConfig(dir, { rollout: rollout!, weight: weight!, env: env!, workers: 1, pad: 1, maxSteps: 4 });
    const o = uv(['run', '--no-sync', 'orchestrator', '@', orch, '@', sourcesOverlay(dir, env!), '--output-dir', path.join(dir, 'run'),
      '--model.client.base-url', `http://${HOST}:${engine}/v1`, '--model.client.admin-base-url', `http://${HOST}:${engine}/v1`,
      '--weight_broadcast.host', HOST, '--rollout_transport.host', '0.0.0.0'], { RLSTACK_STANDIN_STEP_SECONDS: '0.01' });
    await waitFor(o, /initialising the NCCL weight broadcast/);
    await new Promise((r) => setTimeout(r, 800));
    await expect(new Promise((resolve, reject) => {
      const c = net.connect({ host: '127.0.0.1', port: rollout! }, () => {
        c.destroy();
        reject(new Error('rollout port bound before trainer rank 0 joined'));
      });
      c.on('error', (err) => resolve((err as NodeJS.ErrnoException).code));
    })).resolves.toBe('ECONNREFUSED');
    expect(o.out).not.toMatch(/rollout transport \(PUB\) listening/);
    const trainer = trainerConfig(dir, rollout!, weight!, { maxSteps: 4, weightHost: '0.0.0.0', interval: 1, keepLast: 2 });
    const t0 = uv(torchrunArgs({ nnodes: 1, nproc: 1, rank: 0, rdzvPort: rdzv!, id: 'order', config: trainer, logDir: path.join(dir, 'logs') }), { CUDA_VISIBLE_DEVICES: '1' });
    for (const p of [o, t0]) expect((await p.closed).code, `${p.out}\n${p.err}`).toBe(0);
    // ckpt.keep_last = 2 (trainer/ckpt.py maybe_clean): the trainer master removes whole older step dirs.
    const ckpts = path.join(dir, 'run', 'checkpoints');
    expect(readdirSync(ckpts).sort()).toEqual(['step_3', 'step_4']);
    expect(readdirSync(path.join(ckpts, 'step_4')).sort()).toEqual(['orchestrator', 'trainer']);
    expect(readdirSync(path.join(ckpts, 'step_4', 'orchestrator'))).toEqual(['progress.pt']);
    for (const p of [e, s]) expect(await stop(p)).toBe(0);
  });

  it('trainer rank 0 with weight_broadcast.host = "localhost" (the default) listens on loopback only: a remote engine is refused', async () => {
    const [engine, rdzv, rollout, weight] = await freePorts(4);
    const dir = path.join(root, 'loopback');
    const trainer = trainerConfig(dir, rollout!, weight!);
    const t0 = uv(torchrunArgs({ nnodes: 1, nproc: 1, rank: 0, rdzvPort: rdzv!, id: 'lo', config: trainer, logDir: path.join(dir, 'logs') }), { CUDA_VISIBLE_DEVICES: '1' });
    await waitFor(t0, new RegExp(`weight-broadcast store \\(trainer rank 0, weight_broadcast\\.host localhost\\) listening on 127\\.0\\.0\\.1:${weight}`));
    const e = uv(engineArgs(inferenceConfig(dir), engine!), { CUDA_VISIBLE_DEVICES: '0' });
    await waitFor(e, /engine ready/);
    const init = (host: string) => fetch(`http://127.0.0.1:${engine}/init_broadcaster`, {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ host, port: weight, rank_offset: 0, inference_world_size: 1, timeout: 1 }),
    });
    const remote = ownAddress();
    if (remote) {
      const refused = await init(remote);
      expect(refused.status).toBe(500);
      expect(await refused.text()).toMatch(/timed out connecting to the weight-broadcast store of trainer rank 0 .*ECONNREFUSED/);
    }
    const ok = await init('localhost');
    expect(ok.status, await ok.clone().text()).toBe(200);
    await waitFor(t0, /weight broadcast ready: 1 inference GPU/);
    for (const p of [e, t0]) expect(await stop(p)).toBe(0);
  });

  it('engines: VLLM_RPC_BASE_PATH must exist; the DP head needs an IP address as --vllm.data-parallel-address', async () => {
    const [port] = await freePorts(1);
    const config = inferenceConfig(path.join(root, 'engine-checks'));
    await expectLoud(uv(engineArgs(config, port!), { CUDA_VISIBLE_DEVICES: '0', VLLM_RPC_BASE_PATH: path.join(root, 'no-such-rpc-dir') }), /ZMQError: No such file or directory \(addr='ipc:\/\/.*no-such-rpc-dir\//);
    const rpc = path.join(root, 'rpc-dir');
    mkdirSync(rpc, { recursive: true });
    const ok = uv(engineArgs(config, port!), { CUDA_VISIBLE_DEVICES: '0', VLLM_RPC_BASE_PATH: rpc });
    await waitFor(ok, /engine ready/);
    expect(await stop(ok)).toBe(0);
    // DP group of 2 (one rank per node): the head gets a host name instead of its IP.
    const dpArgs = (address: string) =>
      [...engineArgs(config, port!), '--vllm.data-parallel-rank', '0', '--vllm.data-parallel-address', address, '--vllm.data-parallel-rpc-port', '13999']
        .map((a, i, all) => (all[i - 1] === '--vllm.data-parallel-size' ? '2' : a));
    await expectLoud(uv(dpArgs(HOST), { CUDA_VISIBLE_DEVICES: '0' }), new RegExp(`ZMQError: No such device \\(addr='tcp://${HOST}:13999'\\)`));
    // prime-rl's own launcher passes the per-rank DP settings as `--vllm @ vllm-overrides.json` (_launch_rank.sh.j2:29-32).
    const overrides = write(path.join(root, 'rpc-dir/vllm-overrides.json'), JSON.stringify({ data_parallel_rank: 0, data_parallel_address: HOST }));
    const nested = engineArgs(config, port!).map((a, i, all) => (all[i - 1] === '--vllm.data-parallel-size' ? '2' : a));
    await expectLoud(uv([...nested, '--vllm', '@', overrides], { CUDA_VISIBLE_DEVICES: '0' }), new RegExp(`ZMQError: No such device \\(addr='tcp://${HOST}:13345'\\)`));
  });

  it('orchestrator flags are pydantic-config\'s: unknown keys, indexed list flags and bad values fail', async () => {
    const orch = path.join(root, 'mini/configs/orchestrator.toml');
    const run = (extra: string[]) => uv(['run', '--no-sync', 'orchestrator', '@', orch, '--rollout_transport.host', '0.0.0.0', ...extra]);
    await expectLoud(run(['--model.client.timeout', '3']), /Failed to validate config: 1 validation error for OrchestratorConfig: --model\.client\.timeout: Extra inputs are not permitted \(got '3'\)/);
    await expectLoud(run(['--train.source.0.serve.address', `tcp://${HOST}:5004`]), /for OrchestratorConfig: --train\.source: Input should be a valid list/);
    await expectLoud(run(['--max-steps', 'many']), /--max-steps: Input should be a valid integer/);
    await expectLoud(run(['--weight_broadcast.type', 'filesystem']), /--weight-broadcast\.inference-world-size: Extra inputs are not permitted/);
    await expectLoud(run(['--model.client.admin_base_url', 'http://a:1/v1', 'http://b:1/v1']), /Unrecognized arguments: http:\/\/b:1\/v1/);
    await expectLoud(run(['--model.client']), /--model\.client is a config group, not a leaf field/);
    await expectLoud(uv(['run', '--no-sync', 'orchestrator', '@', orch, '--rollout_transport.host', '${RLSTACK_HOST:1}']), /unexpanded runtime word/);
    const raw = write(path.join(root, 'mini/run/raw-sources.json'), JSON.stringify({ train: { source: [{ name: 'x', serve: { address: 'tcp://${RLSTACK_HOST:1}:5000' } }] } }));
    await expectLoud(run(['@', raw]), /train\.source\.0\.serve\.address = "tcp:\/\/\$\{RLSTACK_HOST:1\}:5000" .* holds an unexpanded runtime word/);
    await expectLoud(uv(['run', '--no-sync', 'orchestrator', '@', orch], { PRL_RUN_NAME: '' }), /PRL_RUN_NAME is not set/);
  });
});
