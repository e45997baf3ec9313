// Stand-in `orchestrator`: checks its wiring to env servers, inference and trainers, then drives a few
// lock-step "training steps" over the rollout transport.
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import {
  armFault, checkModelCached, connectRetry, ctx, endAll, fail, get, httpPost, info, isNone, listen, loadConfig,
  intValue, onCleanup, onLines, parseFlags, readHello, parseHttpUrl, parseJsonLine, portValue, requireKey, resolveHost, resolveOutputDir,
  rootConfig, say, sendJson, sleep, timeoutMs, transports, waitHttp200,
} from './lib.mjs';

const FLAGS = {
  'model.client.base_url': 'one',
  'model.client.admin_base_url': 'many',
  'weight_broadcast.host': 'one',
  'rollout_transport.host': 'one',
  output_dir: 'one',
  'resume.step': 'one',
};
const SOURCE_OVERRIDE = /^(train|eval)\.source\.(\d+)\.serve\.address$/;

export async function main(args) {
  const { configPath, rest } = rootConfig(args, 'orchestrator config');
  const flags = parseFlags(rest, FLAGS, [{ re: SOURCE_OVERRIDE, arity: 'one', label: '--<train|eval>.source.<j>.serve.address' }]);
  if (!flags.has('rollout_transport.host')) fail('missing --rollout_transport.host (prime-rl defaults to localhost, which trainers on other nodes cannot reach)');
  const cfg = loadConfig(configPath);
  armFault(undefined);

  const modelName = requireKey(cfg, 'model.name', configPath, 'string');
  const outputDir = resolveOutputDir(flags, cfg, configPath);
  const { rolloutPort, weightType } = transports(cfg, configPath);
  const workers = isNone(get(cfg, 'num_train_workers')) ? 1 : requireKey(cfg, 'num_train_workers', configPath, 'int');
  const pad = isNone(get(cfg, 'pad_to_multiple_of')) ? 1 : requireKey(cfg, 'pad_to_multiple_of', configPath, 'int');
  if (workers < 1 || pad < 1) fail(`num_train_workers=${workers}, pad_to_multiple_of=${pad} must be ≥ 1`);
  const maxSteps = isNone(get(cfg, 'max_steps')) ? null : requireKey(cfg, 'max_steps', configPath, 'int');
  const cap = process.env.RLSTACK_STANDIN_MAX_STEPS ? Number(process.env.RLSTACK_STANDIN_MAX_STEPS) : 50;
  const resumeStep = flags.has('resume.step') ? intValue(flags.get('resume.step'), '--resume.step', 0) : 0;
  const lastStep = Math.min(maxSteps ?? Infinity, resumeStep + cap);
  const steps = lastStep - resumeStep;
  const ckptInterval = isNone(get(cfg, 'ckpt.interval')) ? undefined : requireKey(cfg, 'ckpt.interval', configPath, 'int');
  if (resumeStep > 0) {
    const dir = path.join(outputDir, 'checkpoints', `step_${resumeStep}`);
    for (const f of ['STABLE', 'orchestrator']) if (!fs.existsSync(path.join(dir, f))) fail(`--resume.step ${resumeStep}: no ${path.join(dir, f)}`);
    info(`resuming after step ${resumeStep} from ${dir}`);
  }
  checkModelCached(modelName);
  const stepMs = 1000 * (process.env.RLSTACK_STANDIN_STEP_SECONDS ? Number(process.env.RLSTACK_STANDIN_STEP_SECONDS) : 0.2);
  if (!Number.isFinite(stepMs) || stepMs < 0) fail(`RLSTACK_STANDIN_STEP_SECONDS="${process.env.RLSTACK_STANDIN_STEP_SECONDS}" is not a number of seconds`);
  if (!Number.isInteger(steps) || steps < (resumeStep > 0 ? 0 : 1)) fail(`nothing to run: max_steps=${maxSteps}, --resume.step ${resumeStep}, RLSTACK_STANDIN_MAX_STEPS=${process.env.RLSTACK_STANDIN_MAX_STEPS}`);

  // Env server of every source: the config's serve.address or the CLI override for that index.
  const sources = [];
  for (const split of ['train', 'eval']) {
    const list = get(cfg, `${split}.source`) ?? [];
    if (!Array.isArray(list)) fail(`${split}.source in ${configPath} is not an array of tables`);
    list.forEach((s, j) => sources.push({ split, j, name: s.name, taskset: get(s, 'env.taskset.id'), address: get(s, 'serve.address') }));
  }
  if (!sources.some((s) => s.split === 'train')) fail(`${configPath} has no [[train.source]]`);
  for (const [name, value] of flags) {
    const m = SOURCE_OVERRIDE.exec(name);
    if (!m) continue;
    const s = sources.find((x) => x.split === m[1] && x.j === Number(m[2]));
    if (!s) fail(`--${name} names ${m[1]}.source.${m[2]}, but ${configPath} has no such source`);
    s.address = value;
  }
  for (const s of sources) {
    const what = `${s.split}.source.${s.j} (${s.name})`;
    if (isNone(s.address)) fail(`${what} has no serve.address in ${configPath} and no --${s.split}.source.${s.j}.serve.address override`);
    const a = /^tcp:\/\/([^:/\s]+):(\d+)$/.exec(s.address);
    if (!a) fail(`${what}: serve.address "${s.address}" is not tcp://<host>:<port>`);
    if (a[1] === '*' || a[1] === '0.0.0.0') fail(`${what}: serve.address "${s.address}" is a bind address; the orchestrator needs the env server's host`);
    s.host = a[1];
    s.port = portValue(a[2], `${what} port`);
    await resolveHost(s.host, `${what} serve.address`);
  }

  const base = parseHttpUrl(flags.get('model.client.base_url') ?? get(cfg, 'model.client.base_url') ?? 'http://localhost:8000/v1', 'model.client.base_url', '/v1');
  const adminRaw = flags.get('model.client.admin_base_url') ?? get(cfg, 'model.client.admin_base_url');
  const admins = (isNone(adminRaw) ? [base.origin + '/v1'] : [adminRaw].flat()).map((u) => parseHttpUrl(u, 'model.client.admin_base_url', '/v1'));
  for (const u of [base, ...admins]) await resolveHost(u.host, `${u.origin}`);

  // The rollout transport: PUB on port, READY PULL on port + 1, bound at once (as prime-rl does).
  const rolloutHost = flags.get('rollout_transport.host');
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
        const world = [...trainers.values()].reduce((n, t) => n + t.hello.nproc, 0);
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
  await listen(server, rolloutPort, rolloutHost, 'rollout transport (PUB)');
  const ready = net.createServer((s) => s.on('error', () => {}).end());
  await listen(ready, rolloutPort + 1, rolloutHost, 'rollout transport (READY PULL)');
  onCleanup(() => socks.forEach((s) => s.destroy()));

  // Env servers, then inference (prime-rl: env servers first, then wait_for_ready on router + admin URLs).
  const deadline = Date.now() + timeoutMs();
  await Promise.all(sources.map((s) => checkEnvServer(s, deadline)));
  info(`${sources.length} env server(s) reachable`);
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

  // Trainers: prime-rl's num_train_workers = trainer world / cp, pad_to_multiple_of = cp.
  await new Promise((resolve) => {
    const timer = setTimeout(() => {
      const world = [...trainers.values()].reduce((n, t) => n + t.hello.nproc, 0);
      abort(`trainers connected with ${world} GPUs in ${Math.round(timeoutMs() / 1000)} s; num_train_workers ${workers} × pad_to_multiple_of ${pad} = ${workers * pad} expected`);
    }, timeoutMs());
    onTrainer = () => {
      const world = [...trainers.values()].reduce((n, t) => n + t.hello.nproc, 0);
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

  if (weightType === 'nccl') await initBroadcasters(cfg, configPath, flags, admins, abort);

  for (let k = resumeStep + 1; k <= lastStep; k++) {
    await sleep(stepMs);
    fs.mkdirSync(path.join(outputDir, 'rollouts', `step_${k}`), { recursive: true });
    acks.set(k, new Set());
    for (const t of trainers.values()) sendJson(t.sock, { type: 'step', step: k });
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
    if (weightType === 'nccl' || weightType === 'filesystem') {
      const stable = path.join(outputDir, 'broadcasts', `step_${k}`, 'STABLE');
      if (!fs.existsSync(stable)) await abort(`${stable} (written by trainer rank 0) is not visible here: trainer and orchestrator must share output_dir on a shared filesystem`);
    }
    if (ckptInterval && k % ckptInterval === 0) {
      const dir = path.join(outputDir, 'checkpoints', `step_${k}`);
      fs.mkdirSync(path.join(dir, 'orchestrator'), { recursive: true });
      fs.writeFileSync(path.join(dir, 'orchestrator', 'standin.json'), JSON.stringify({ step: k, host: ctx.host }) + '\n');
      fs.writeFileSync(path.join(dir, 'STABLE'), '');
    }
    say(`orchestrator step ${k}`);
  }
  onTrainer = () => {};
  await endAll(socks, { type: 'done' });
  fs.writeFileSync(path.join(outputDir, 'orchestrator.done'), JSON.stringify({ steps, first: resumeStep + 1, last: lastStep, host: ctx.host, pid: process.pid }) + '\n');
  info(`completed steps ${resumeStep + 1}..${lastStep}, wrote ${path.join(outputDir, 'orchestrator.done')}, exiting 0`);
  process.exit(0);
}

async function checkEnvServer(s, deadline) {
  const what = `env server of ${s.split}.source.${s.j} (${s.name}) at ${s.address}`;
  const sock = await connectRetry(s.host, s.port, deadline, what);
  const hello = await readHello(sock);
  if (!hello || hello.standin !== 'env-server') fail(`${what}: the server there did not answer like an env server`);
  if (hello.split !== s.split || (s.name !== undefined && hello.name !== s.name)) fail(`${what}: reached the env server of ${hello.split}/${hello.name} on ${hello.host} instead`);
  if (s.taskset !== undefined && hello.taskset !== s.taskset) fail(`${what}: the env server runs taskset ${hello.taskset}, the source wants ${s.taskset}`);
}

/** prime-rl: POST /init_broadcaster to every engine, rank_offset = i × inference_world_size / engines. */
async function initBroadcasters(cfg, configPath, flags, admins, abort) {
  const host = flags.get('weight_broadcast.host') ?? (isNone(get(cfg, 'weight_broadcast.host')) ? 'localhost' : get(cfg, 'weight_broadcast.host'));
  const port = isNone(get(cfg, 'weight_broadcast.port')) ? 29501 : portValue(get(cfg, 'weight_broadcast.port'), 'weight_broadcast.port');
  const world = requireKey(cfg, 'weight_broadcast.inference_world_size', configPath, 'int');
  await resolveHost(host, 'weight_broadcast.host');
  if (world % admins.length !== 0) await abort(`weight_broadcast.inference_world_size ${world} is not a multiple of the ${admins.length} engines (admin URLs)`);
  const per = world / admins.length;
  let total = 0;
  for (const [i, a] of admins.entries()) {
    let r;
    try {
      r = await httpPost(`${a.origin}/init_broadcaster`, { host, port, timeout: 1200, rank_offset: i * per, inference_world_size: world });
    } catch (e) {
      await abort(`POST ${a.origin}/init_broadcaster failed: ${e.code || e.message}`);
    }
    if (r.status !== 200) await abort(`POST ${a.origin}/init_broadcaster → ${r.status}: ${r.body.slice(0, 300)}`);
    total += JSON.parse(r.body).gpus;
  }
  if (total !== world) await abort(`the engines have ${total} GPUs in all, weight_broadcast.inference_world_size is ${world}`);
  info(`weight broadcast: ${admins.length} engine(s) joined trainer rank 0's store at ${host}:${port} (world ${world} + 1)`);
}
