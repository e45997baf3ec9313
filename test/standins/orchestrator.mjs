// Stand-in `orchestrator` (prime-rl 559b447 src/prime_rl/orchestrator/orchestrator.py, Orchestrator.setup):
// env servers → taskset datasets → inference ready → NCCL /init_broadcaster on every engine → resume →
// only THEN the rollout transport is bound; then lock-step "training steps" with the trainers.
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import {
  armFault, checkModelCached, checkRunName, connectRetry, ctx, endAll, fail, get, httpPost, info, listen, loadTasksetDataset,
  onCleanup, onLines, parseHttpUrl, parseJsonLine, primeRlConfig, readHello, resolveHost, resolveOutputDir, say, sendJson, sleep,
  timeoutMs, transports, waitHttp200,
} from './lib.mjs';

export async function main(args) {
  // entrypoints/orchestrator.py: cli(OrchestratorConfig) — pydantic-config, several `@` files merge in order.
  const parsed = primeRlConfig(args, 'orchestrator.OrchestratorConfig');
  const cfg = parsed.config;
  armFault(undefined);
  checkRunName();

  const modelName = get(cfg, 'model.name') ?? 'Qwen/Qwen3-0.6B';
  const outputDir = resolveOutputDir(parsed);
  const t = transports(cfg);
  const workers = cfg.num_train_workers ?? 1;
  const pad = cfg.pad_to_multiple_of ?? 1;
  if (workers < 1 || pad < 1) fail(`num_train_workers=${workers}, pad_to_multiple_of=${pad} must be ≥ 1`);
  const maxSteps = cfg.max_steps ?? null;
  const cap = process.env.RLSTACK_STANDIN_MAX_STEPS ? Number(process.env.RLSTACK_STANDIN_MAX_STEPS) : 50;
  const resume = get(cfg, 'resume');
  if (resume && resume.step == null) fail('resume without resume.step: the stand-in does not model resolve_latest_ckpt_step; rlstack passes --resume.step N');
  const resumeStep = resume ? resume.step : 0;
  const lastStep = Math.min(maxSteps ?? Infinity, resumeStep + cap);
  const steps = lastStep - resumeStep;
  const ckptInterval = get(cfg, 'ckpt.interval') ?? undefined;
  checkModelCached(modelName);
  const stepMs = 1000 * (process.env.RLSTACK_STANDIN_STEP_SECONDS ? Number(process.env.RLSTACK_STANDIN_STEP_SECONDS) : 0.2);
  if (!Number.isFinite(stepMs) || stepMs < 0) fail(`RLSTACK_STANDIN_STEP_SECONDS="${process.env.RLSTACK_STANDIN_STEP_SECONDS}" is not a number of seconds`);
  if (!Number.isInteger(steps) || steps < (resumeStep > 0 ? 0 : 1)) fail(`nothing to run: max_steps=${maxSteps}, --resume.step ${resumeStep}, RLSTACK_STANDIN_MAX_STEPS=${process.env.RLSTACK_STANDIN_MAX_STEPS}`);

  // Env server of every source: its serve.address (rlstack overrides whole source lists with a JSON @ file).
  const sources = [];
  for (const split of ['train', 'eval']) {
    (get(cfg, `${split}.source`) ?? []).forEach((s, j) => sources.push({ split, j, name: s.name, taskset: get(s, 'env.taskset.id'), address: get(s, 'serve.address') }));
  }
  if (!sources.some((s) => s.split === 'train')) fail(`no [[train.source]] in ${parsed.files.join(' + ')}`);
  for (const s of sources) {
    const what = `${s.split}.source[${s.j}] (${s.name})`;
    if (s.address == null) fail(`${what} has no serve.address (stricter than prime-rl, whose env_addresses would fall back to env_server_base_port on localhost)`);
    const a = /^tcp:\/\/([^:/\s]+):(\d+)$/.exec(s.address);
    if (!a) fail(`${what}: serve.address "${s.address}" is not tcp://<host>:<port>`);
    if (a[1] === '*' || a[1] === '0.0.0.0') fail(`${what}: serve.address "${s.address}" is a bind address; the orchestrator needs the env server's host`);
    s.host = a[1];
    s.port = Number(a[2]);
    await resolveHost(s.host, `${what} serve.address`);
  }

  const base = parseHttpUrl(get(cfg, 'model.client.base_url') ?? 'http://localhost:8000/v1', 'model.client.base_url', '/v1');
  const adminRaw = get(cfg, 'model.client.admin_base_url');
  const admins = (adminRaw == null ? [base.origin + '/v1'] : adminRaw).map((u) => parseHttpUrl(u, 'model.client.admin_base_url', '/v1'));
  for (const u of [base, ...admins]) await resolveHost(u.host, `${u.origin}`);

  // orchestrator.py:238-257: TrainEnvs/EvalEnvs.start() — envs.py:68-81: wait for the env server, then
  // vf.load_taskset + list(taskset) (datasets.load_dataset, in this process).
  const deadline = Date.now() + timeoutMs();
  for (const s of sources) {
    await checkEnvServer(s, deadline);
    if (s.taskset) loadTasksetDataset(s.taskset);
  }
  info(`${sources.length} env server(s) reachable`);

  // orchestrator.py:272 policy_inference.wait_for_ready: base and every admin URL healthy, serving model.name.
  await waitHttp200(`${base.origin}/health`, deadline, 'inference (model.client.base_url)');
  for (const a of admins) await waitHttp200(`${a.origin}/health`, deadline, 'engine (model.client.admin_base_url)');
  for (const u of [base, ...admins]) {
    const body = await waitHttp200(`${u.origin}/v1/models`, deadline, `${u.origin}`);
    let ids;
    try {
      ids = JSON.parse(body).data.map((m) => m.id);
    } catch {
      fail(`${u.origin}/v1/models answered ${body.slice(0, 200)}`);
    }
    if (!ids.includes(modelName)) fail(`${u.origin}/v1/models lists ${JSON.stringify(ids)}, not model.name "${modelName}"`);
  }
  info(`inference ready: ${base.origin} and ${admins.length} engine(s) serve ${modelName}`);

  // orchestrator.py:281-290 → utils/client.py:420-444 init_nccl_broadcast: POST /init_broadcaster to every
  // engine at once (asyncio.gather); each call returns when the engine has joined trainer rank 0's store.
  if (t.weightType === 'nccl') await initBroadcasters(t, admins);

  // orchestrator.py:314-322: resume loads checkpoints/step_N/orchestrator/progress.pt (orchestrator/ckpt.py:49-55
  // raises FileNotFoundError without it) and continues at step N+1.
  if (resumeStep > 0) {
    const file = path.join(outputDir, 'checkpoints', `step_${resumeStep}`, 'orchestrator', 'progress.pt');
    if (!fs.existsSync(file)) fail(`--resume.step ${resumeStep}: FileNotFoundError: Orchestrator checkpoint not found at ${file}`);
    info(`resumed from step ${resumeStep} (${file})`);
  }

  // orchestrator.py:327-330 setup_micro_batch_sender → transports/rollouts/zmq.py:29,34: binds the ZMQ rollout
  // transport — PUB on tcp://rollout_transport.host:port, READY on port + 1 — only now, after the broadcast
  // is initialised (so never before trainer rank 0 has joined with NCCL weights).
  const trainers = new Map(); // node_rank → { sock, hello }
  const socks = new Set();
  let failing = false;
  const abort = async (message) => {
    if (failing) return;
    failing = true;
    await endAll(socks, { type: 'error', message });
    fail(message);
  };
  let onTrainer = () => {};
  const acks = new Map();
  const server = net.createServer((sock) => {
    socks.add(sock);
    sock.on('error', () => {});
    let rank;
    onLines(sock, (line) => {
      const msg = parseJsonLine(line, 'a trainer');
      if (msg.type === 'hello') {
        const h = msg;
        const who = `trainer node rank ${h.node_rank} (host ${h.host})`;
        if (trainers.has(h.node_rank)) return abort(`trainer node rank ${h.node_rank} connected twice (hosts ${trainers.get(h.node_rank).hello.host} and ${h.host})`);
        if (h.output_dir !== outputDir) return abort(`${who} has output_dir ${h.output_dir}, the orchestrator has ${outputDir}`);
        if (h.max_steps !== maxSteps) return abort(`${who} has max_steps ${h.max_steps}, the orchestrator has ${maxSteps}`);
        if (h.resume_step !== resumeStep) return abort(`${who} resumes from step ${h.resume_step}, the orchestrator from step ${resumeStep}`);
        for (const other of trainers.values()) {
          if (other.hello.rdzv_id !== h.rdzv_id || other.hello.nnodes !== h.nnodes) return abort(`${who} (rdzv id ${h.rdzv_id}, nnodes ${h.nnodes}) is not in the same torchrun job as node rank ${other.hello.node_rank} (rdzv id ${other.hello.rdzv_id}, nnodes ${other.hello.nnodes})`);
        }
        rank = h.node_rank;
        trainers.set(rank, { sock, hello: h });
        const world = [...trainers.values()].reduce((n, x) => n + x.hello.nproc, 0);
        info(`${who} connected with ${h.nproc} GPUs (trainer world so far ${world})`);
        if (world > workers * pad) return abort(`trainer world ${world} GPUs / pad_to_multiple_of ${pad} exceeds num_train_workers ${workers} (prime-rl: num_train_workers = world / cp)`);
        sendJson(sock, { type: 'welcome', message: `orchestrator on ${ctx.host}` });
        return onTrainer();
      }
      if (msg.type === 'ack') {
        acks.get(msg.step)?.add(msg.node_rank);
        return onTrainer();
      }
      abort(`unexpected message from a trainer: ${line.slice(0, 200)}`);
    });
    sock.on('close', () => {
      socks.delete(sock);
      if (rank !== undefined && !ctx.stopping && !failing) info(`trainer node rank ${rank} disconnected`);
    });
  });
  await listen(server, t.rolloutPort, t.rolloutHost, 'rollout transport (PUB)');
  const ready = net.createServer((s) => s.on('error', () => {}).end());
  await listen(ready, t.rolloutPort + 1, t.rolloutHost, 'rollout transport (READY PULL)');
  onCleanup(() => socks.forEach((s) => s.destroy()));

  // Trainers: prime-rl's num_train_workers = trainer world / cp, pad_to_multiple_of = cp.
  await new Promise((resolve) => {
    const timer = setTimeout(() => {
      const world = [...trainers.values()].reduce((n, x) => n + x.hello.nproc, 0);
      abort(`trainers connected with ${world} GPUs in ${Math.round(timeoutMs() / 1000)} s; num_train_workers ${workers} × pad_to_multiple_of ${pad} = ${workers * pad} expected`);
    }, timeoutMs());
    onTrainer = () => {
      const world = [...trainers.values()].reduce((n, x) => n + x.hello.nproc, 0);
      if (world === workers * pad) {
        clearTimeout(timer);
        resolve();
      }
    };
    onTrainer();
  });
  const nnodes = [...trainers.values()][0].hello.nnodes;
  if (trainers.size !== nnodes) await abort(`${trainers.size} trainer node(s) connected, but torchrun says nnodes=${nnodes}`);
  info(`trainers ready: ${trainers.size} node(s), world ${workers * pad}, num_train_workers ${workers}`);

  for (let k = resumeStep + 1; k <= lastStep; k++) {
    await sleep(stepMs);
    fs.mkdirSync(path.join(outputDir, 'rollouts', `step_${k}`), { recursive: true });
    acks.set(k, new Set());
    for (const x of trainers.values()) sendJson(x.sock, { type: 'step', step: k });
    await new Promise((resolve) => {
      const timer = setTimeout(() => {
        const missing = [...trainers.keys()].filter((r) => !acks.get(k).has(r));
        abort(`trainer node rank(s) ${missing.join(', ')} did not acknowledge step ${k} within ${Math.round(timeoutMs() / 1000)} s`);
      }, timeoutMs());
      onTrainer = () => {
        if (acks.get(k).size === trainers.size) {
          clearTimeout(timer);
          resolve();
        }
      };
      onTrainer();
    });
    if (t.weightType === 'nccl' || t.weightType === 'filesystem') {
      // transports/weights/nccl.py:214-217 and filesystem.py:72-82: trainer rank 0 touches
      // broadcasts/step_N/STABLE, the orchestrator's weight watcher polls for it (shared filesystem).
      const stable = path.join(outputDir, 'broadcasts', `step_${k}`, 'STABLE');
      if (!fs.existsSync(stable)) await abort(`${stable} (written by trainer rank 0) is not visible here: trainer and orchestrator must share output_dir on a shared filesystem`);
    }
    if (ckptInterval && k % ckptInterval === 0) writeProgress(outputDir, k);
    say(`orchestrator step ${k}`);
  }
  onTrainer = () => {};
  await endAll(socks, { type: 'done' });
  fs.writeFileSync(path.join(outputDir, 'orchestrator.done'), JSON.stringify({ steps, first: resumeStep + 1, last: lastStep, host: ctx.host, pid: process.pid }) + '\n');
  info(`completed steps ${resumeStep + 1}..${lastStep}, wrote ${path.join(outputDir, 'orchestrator.done')}, exiting 0`);
  process.exit(0);
}

/**
 * orchestrator/ckpt.py:1-2, 27-44: <output_dir>/checkpoints/step_N/orchestrator/progress.pt, written to a
 * temp file (mkstemp "progress.pt.*.tmp" in the same dir) and os.replace'd. No STABLE file.
 */
function writeProgress(outputDir, step) {
  const dir = path.join(outputDir, 'checkpoints', `step_${step}`, 'orchestrator');
  try {
    fs.mkdirSync(dir, { recursive: true });
    const tmp = path.join(dir, `progress.pt.${process.pid}.tmp`);
    fs.writeFileSync(tmp, JSON.stringify({ progress: { step }, host: ctx.host }) + '\n');
    fs.renameSync(tmp, path.join(dir, 'progress.pt'));
  } catch (e) {
    fail(`cannot write the orchestrator checkpoint ${dir}: ${e.code || e.message}`);
  }
}

async function checkEnvServer(s, deadline) {
  const what = `env server of ${s.split}.source[${s.j}] (${s.name}) at ${s.address}`;
  const sock = await connectRetry(s.host, s.port, deadline, what);
  const hello = await readHello(sock);
  if (!hello || hello.standin !== 'env-server') fail(`${what}: the server there did not answer like an env server`);
  if (hello.split !== s.split || (s.name != null && hello.name !== s.name)) fail(`${what}: reached the env server of ${hello.split}/${hello.name} on ${hello.host} instead`);
  if (s.taskset != null && hello.taskset !== s.taskset) fail(`${what}: the env server runs taskset ${hello.taskset}, the source wants ${s.taskset}`);
}

/**
 * utils/client.py:395-444: gpus_per_server = inference_world_size // engines; POST /init_broadcaster
 * {host, port, rank_offset = i × gpus_per_server, inference_world_size, timeout, quantize_in_weight_transfer}
 * to every admin client concurrently; host/port are weight_broadcast.host/.port of the orchestrator config
 * (orchestrator.py:283-289). Stricter: a non-200 answer fails here (prime-rl raises on it too, except 404).
 */
async function initBroadcasters(t, admins) {
  const world = t.inferenceWorldSize;
  await resolveHost(t.weightHost, 'weight_broadcast.host');
  if (world % admins.length !== 0) fail(`weight_broadcast.inference_world_size ${world} is not a multiple of the ${admins.length} engines (admin URLs)`);
  const per = world / admins.length;
  info(`initialising the NCCL weight broadcast: ${admins.length} engine(s), trainer rank 0's store at ${t.weightHost}:${t.weightPort}`);
  const results = await Promise.all(admins.map(async (a, i) => {
    let r;
    try {
      r = await httpPost(`${a.origin}/init_broadcaster`, { host: t.weightHost, port: t.weightPort, rank_offset: i * per, inference_world_size: world, timeout: t.weightTimeout, quantize_in_weight_transfer: false }, timeoutMs() + 5000);
    } catch (e) {
      fail(`POST ${a.origin}/init_broadcaster failed: ${e.code || e.message}`);
    }
    if (r.status !== 200) fail(`POST ${a.origin}/init_broadcaster → ${r.status}: ${r.body.slice(0, 300)}`);
    return JSON.parse(r.body).gpus;
  }));
  const total = results.reduce((n, g) => n + g, 0);
  if (total !== world) fail(`the engines have ${total} GPUs in all, weight_broadcast.inference_world_size is ${world}`);
  info(`weight broadcast: ${admins.length} engine(s) joined trainer rank 0's store at ${t.weightHost}:${t.weightPort} (world ${world} + 1)`);
}
