// Stand-in `torchrun … -m prime_rl.trainer.rl.train @ trainer.toml` (one per trainer node).
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import {
  armFault, bindRendezvous, checkCudaDevices, checkIsThisHost, checkModelCached, claimGpus, connectRetry, ctx, endAll, fail, get, info,
  intValue, listen, onCleanup, onLines, parseFlags, parseJsonLine, portValue, primeRlConfig, rendezvous, resolveHost, resolveOutputDir,
  say, sendJson, timeoutMs, transports,
} from './lib.mjs';
import dns from 'node:dns/promises';

const TORCHRUN_FLAGS = {
  role: 'one',
  nnodes: 'one',
  nproc_per_node: 'one',
  node_rank: 'one',
  rdzv_endpoint: 'one',
  rdzv_id: 'one',
  log_dir: 'one',
  tee: 'one',
  redirects: 'one',
  local_ranks_filter: 'one',
};
const MODULE = 'prime_rl.trainer.rl.train';

export async function main(args) {
  const m = args.indexOf('-m');
  if (m < 0) fail(`no "-m ${MODULE}" in the torchrun arguments`);
  const tr = parseFlags(args.slice(0, m), TORCHRUN_FLAGS);
  for (const f of ['nnodes', 'nproc_per_node', 'node_rank', 'rdzv_endpoint', 'rdzv_id']) if (!tr.has(f)) fail(`missing --${f.replace(/_/g, '-')}`);
  if (args[m + 1] !== MODULE) fail(`-m ${args[m + 1]}: the RL trainer module is ${MODULE}`);
  // entrypoints: `-m prime_rl.trainer.rl.train` parses cli(TrainerConfig) with pydantic-config.
  const parsed = primeRlConfig(args.slice(m + 2), 'trainer.TrainerConfig');
  const cfg = parsed.config;

  const nnodes = intValue(tr.get('nnodes'), '--nnodes', 1);
  const nproc = intValue(tr.get('nproc_per_node'), '--nproc-per-node', 1);
  const rank = intValue(tr.get('node_rank'), '--node-rank', 0);
  if (rank >= nnodes) fail(`--node-rank ${rank} is outside 0..${nnodes - 1}`);
  const ep = /^(.+):(\d+)$/.exec(tr.get('rdzv_endpoint'));
  if (!ep) fail(`--rdzv-endpoint ${tr.get('rdzv_endpoint')} is not <host>:<port>`);
  const rdzvHost = ep[1];
  const rdzvPort = portValue(ep[2], '--rdzv-endpoint port');
  const rdzvId = tr.get('rdzv_id');
  for (const f of ['tee', 'redirects']) if (tr.has(f) && !/^[0-3]$/.test(tr.get(f))) fail(`--${f}=${tr.get(f)} is not 0..3`);
  if (tr.has('local_ranks_filter')) {
    for (const r of tr.get('local_ranks_filter').split(',')) {
      if (!/^\d+$/.test(r) || Number(r) >= nproc) fail(`--local-ranks-filter=${tr.get('local_ranks_filter')}: "${r}" is not a local rank 0..${nproc - 1}`);
    }
  }
  if (tr.has('log_dir')) {
    try {
      fs.mkdirSync(tr.get('log_dir'), { recursive: true });
    } catch (e) {
      fail(`--log-dir ${tr.get('log_dir')} cannot be created: ${e.code || e.message}`);
    }
  }
  armFault(rank);

  const t = transports(cfg);
  const outputDir = resolveOutputDir(parsed);
  const maxSteps = cfg.max_steps ?? null;
  const resume = get(cfg, 'resume');
  if (resume && resume.step == null) fail('resume without resume.step: the stand-in does not model resolve_latest_ckpt_step; rlstack passes --resume.step N');
  const resumeStep = resume ? resume.step : 0;
  const ckpt = get(cfg, 'ckpt');
  const ckptInterval = ckpt?.interval ?? undefined;
  const keepLast = ckpt?.keep_last ?? undefined;
  // trainer/ckpt.py:309-317 setup_ckpt_manager: checkpoints under ckpt.output_dir, else output_dir (pathing get_ckpt_dir).
  const ckptDir = path.join(ckpt?.output_dir ? path.resolve(ckpt.output_dir) : outputDir, 'checkpoints');
  checkModelCached(get(cfg, 'model.name') ?? 'Qwen/Qwen3-0.6B');
  const orchHost = t.rolloutHost;
  await resolveHost(orchHost, 'rollout_transport.host');
  await resolveHost(rdzvHost, '--rdzv-endpoint host');

  const gpus = checkCudaDevices(nproc, `--nproc-per-node=${nproc}`);
  claimGpus(gpus, `trainer node rank ${rank}`);

  let rdzvServer;
  if (rank === 0) {
    await checkIsThisHost(rdzvHost, 'node rank 0 must run on the --rdzv-endpoint host');
    rdzvServer = await bindRendezvous(rdzvPort, 'torchrun');
  }
  await rendezvous({ label: 'torchrun', server: rdzvServer, host: rdzvHost, port: rdzvPort, rank, nnodes, id: rdzvId, nproc });

  // trainer/rl/train.py:176-180 setup_weight_broadcast → transports/weights/nccl.py:111-137, 180-190: the
  // master rank (node rank 0 here) is rank 0 of a StatelessProcessGroup of world inference_world_size + 1
  // and is its TCP store SERVER, listening on weight_broadcast.host (vLLM's StatelessProcessGroup.create binds
  // exactly that interface: "localhost", the default, is loopback only). PyNcclCommunicator then blocks until
  // every inference GPU has joined.
  if (rank === 0 && t.weightType === 'nccl') {
    if (t.weightPort === rdzvPort) fail(`weight_broadcast.port ${t.weightPort} is also the rendezvous port`);
    await weightStore(t);
  }

  // trainer/rl/train.py:217-231: resume loads checkpoints/step_N/trainer (trainer/ckpt.py:237-252 raises
  // FileNotFoundError without the dir; torch DCP's load reads <dir>/.metadata, written last by dcp_save).
  if (resumeStep > 0) {
    const dir = path.join(ckptDir, `step_${resumeStep}`, 'trainer');
    if (!fs.existsSync(dir)) fail(`--resume.step ${resumeStep}: FileNotFoundError: Checkpoint not found at ${dir}`);
    if (!fs.existsSync(path.join(dir, '.metadata'))) fail(`--resume.step ${resumeStep}: FileNotFoundError: ${path.join(dir, '.metadata')} (torch.distributed.checkpoint: an incomplete checkpoint, the save did not finish)`);
    info(`resumed from step ${resumeStep} (${dir})`);
  }
  // trainer/ckpt.py:157-161: the steps on disk (≤ resume.step) count for keep_last.
  const ckptSteps = listSteps(ckptDir).filter((s) => resumeStep === 0 || s <= resumeStep);

  const rolloutPort = t.rolloutPort;
  const sock = await connectRetry(orchHost, rolloutPort, Date.now() + timeoutMs(), `orchestrator rollout transport (--rollout_transport.host ${orchHost}, rollout_transport.port ${rolloutPort})`);
  sock.on('error', () => {});
  onCleanup(() => sock.destroy());
  info(`connected to the orchestrator at ${orchHost}:${rolloutPort}`);
  let last = resumeStep;
  let done = false;
  onLines(sock, (line) => {
    const msg = parseJsonLine(line, 'the orchestrator');
    if (msg.type === 'error') fail(`the orchestrator refused this trainer: ${msg.message}`);
    if (msg.type === 'welcome') return info(`orchestrator accepted node rank ${rank}: ${msg.message}`);
    if (msg.type === 'step') {
      if (msg.step !== last + 1) fail(`got step ${msg.step} after step ${last}`);
      last = msg.step;
      say(`trainer step ${msg.step}`);
      if (rank === 0 && (t.weightType === 'nccl' || t.weightType === 'filesystem')) {
        // transports/weights/nccl.py:214-217, filesystem.py:72-75: the master touches broadcasts/step_N/STABLE.
        const dir = path.join(outputDir, 'broadcasts', `step_${msg.step}`);
        try {
          fs.mkdirSync(dir, { recursive: true });
          fs.writeFileSync(path.join(dir, 'STABLE'), `${ctx.host}\n`);
        } catch (e) {
          fail(`cannot write ${dir}/STABLE: ${e.code || e.message}`);
        }
      }
      if (rank === 0 && ckptInterval && msg.step % ckptInterval === 0) {
        saveCheckpoint(ckptDir, msg.step, nnodes * nproc);
        ckptSteps.push(msg.step);
        if (keepLast != null) pruneCheckpoints(ckptDir, ckptSteps, keepLast);
      }
      return sendJson(sock, { type: 'ack', step: msg.step, node_rank: rank });
    }
    if (msg.type === 'done') {
      done = true;
      info(`done after ${last} steps, exiting 0`);
      sock.destroy();
      process.exit(0);
    }
    fail(`unexpected message from the orchestrator: ${line.slice(0, 200)}`);
  });
  sock.on('close', () => {
    // A ZMQ trainer does not notice a lost orchestrator: it waits for its next batch until stopped.
    if (!done && !ctx.stopping) info(`lost the orchestrator connection after step ${last}; waiting to be stopped`);
  });
  sendJson(sock, { type: 'hello', node_rank: rank, nnodes, nproc, host: ctx.host, rdzv_id: rdzvId, output_dir: outputDir, max_steps: maxSteps, resume_step: resumeStep });
  await new Promise(() => {}); // until done or SIGTERM
}

function listSteps(ckptDir) {
  let names = [];
  try {
    names = fs.readdirSync(ckptDir);
  } catch {
    /* none yet */
  }
  return names.map((n) => /^step_(\d+)$/.exec(n)).filter(Boolean).map((m) => Number(m[1])).sort((a, b) => a - b);
}

/**
 * trainer/ckpt.py:163-197, 254-271: checkpoints/step_N/trainer/ written by torch DCP (dcp_save): one shard
 * per rank, then `.metadata` LAST (the coordinator writes it when every shard is done). No STABLE file.
 */
function saveCheckpoint(ckptDir, step, world) {
  const dir = path.join(ckptDir, `step_${step}`, 'trainer');
  try {
    fs.mkdirSync(dir, { recursive: true });
    for (let r = 0; r < world; r++) fs.writeFileSync(path.join(dir, `__${r}_0.distcp`), JSON.stringify({ step, rank: r, host: ctx.host }) + '\n');
    fs.writeFileSync(path.join(dir, '.metadata'), JSON.stringify({ step, world, host: ctx.host }) + '\n');
  } catch (e) {
    fail(`cannot write checkpoint ${dir}: ${e.code || e.message}`);
  }
}

/** trainer/ckpt.py:274-306 maybe_clean: keep the last keep_last steps; the master deletes whole step_N dirs. */
function pruneCheckpoints(ckptDir, steps, keepLast) {
  steps.sort((a, b) => a - b);
  const keep = new Set(keepLast > 0 ? steps.slice(-keepLast) : []);
  for (const s of steps.filter((x) => !keep.has(x))) {
    fs.rmSync(path.join(ckptDir, `step_${s}`), { recursive: true, force: true });
    info(`removed past checkpoint step_${s} (ckpt.keep_last ${keepLast})`);
  }
  steps.splice(0, steps.length, ...steps.filter((x) => keep.has(x)));
}

/**
 * Trainer rank 0's weight-broadcast store (vLLM StatelessProcessGroup.create, rank 0: binds (host, port) —
 * the given interface, not 0.0.0.0). Engines join from /init_broadcaster with their rank_offset and GPU
 * count; when inference_world_size GPUs have joined, everyone is released (PyNcclCommunicator init).
 */
async function weightStore(t) {
  let bindHost = t.weightHost;
  if (bindHost !== '0.0.0.0') {
    try {
      bindHost = (await dns.lookup(t.weightHost, { family: 4 })).address;
    } catch (e) {
      fail(`weight_broadcast.host "${t.weightHost}" does not resolve (${e.code || e.message})`);
    }
  }
  const world = t.inferenceWorldSize;
  const joined = new Map(); // rank_offset → { sock, gpus, host }
  let resolveDone;
  const done = new Promise((r) => (resolveDone = r));
  const store = net.createServer((sock) => {
    sock.on('error', () => {});
    sendJson(sock, { standin: 'weight-broadcast', inference_world_size: world, host: ctx.host });
    onLines(sock, async (line) => {
      const m = parseJsonLine(line, 'an engine joining the weight-broadcast store');
      if (m.type !== 'join') return;
      if (m.inference_world_size !== world) {
        sendJson(sock, { type: 'error', message: `trainer rank 0 (host ${ctx.host}) has inference_world_size ${world}, the engine was told ${m.inference_world_size}` });
        await endAll([...joined.values()].map((j) => j.sock), { type: 'error', message: 'world size mismatch' });
        fail(`weight broadcast: an engine on ${m.host} joined with inference_world_size ${m.inference_world_size}, trainer.toml says ${world}`);
      }
      for (const [off, j] of joined) {
        if (m.rank_offset < off + j.gpus && off < m.rank_offset + m.gpus) fail(`weight broadcast: ranks ${m.rank_offset + 1}..${m.rank_offset + m.gpus} (engine on ${m.host}) overlap those of the engine on ${j.host}`);
      }
      joined.set(m.rank_offset, { sock, gpus: m.gpus, host: m.host });
      const have = [...joined.values()].reduce((n, j) => n + j.gpus, 0);
      info(`weight broadcast: engine on ${m.host} joined (ranks ${m.rank_offset + 1}..${m.rank_offset + m.gpus}), ${have}/${world} inference GPUs`);
      if (have > world) fail(`weight broadcast: ${have} inference GPUs joined, inference_world_size is ${world}`);
      if (have === world) {
        for (const j of joined.values()) sendJson(j.sock, { type: 'complete' });
        resolveDone();
      }
    });
  });
  await listen(store, t.weightPort, bindHost, `weight-broadcast store (trainer rank 0, weight_broadcast.host ${t.weightHost})`);
  const timer = setTimeout(() => {
    const have = [...joined.values()].reduce((n, j) => n + j.gpus, 0);
    fail(`weight broadcast: ${have} of inference_world_size ${world} inference GPUs joined the store at ${bindHost}:${t.weightPort} within ${Math.round(timeoutMs() / 1000)} s`);
  }, timeoutMs());
  await done;
  clearTimeout(timer);
  info(`weight broadcast ready: ${world} inference GPU(s) + trainer rank 0`);
}
