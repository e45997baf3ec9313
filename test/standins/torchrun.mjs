// Stand-in `torchrun … -m prime_rl.trainer.rl.train @ trainer.toml` (one per trainer node).
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import {
  armFault, bindRendezvous, checkCudaDevices, checkIsThisHost, checkModelCached, claimGpus, connectRetry, ctx, fail, get, info,
  intValue, isNone, listen, loadConfig, onCleanup, onLines, parseFlags, parseJsonLine, portValue, rendezvous,
  requireKey, resolveHost, resolveOutputDir, rootConfig, say, sendJson, timeoutMs, transports,
} from './lib.mjs';

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
  const t = parseFlags(args.slice(0, m), TORCHRUN_FLAGS);
  for (const f of ['nnodes', 'nproc_per_node', 'node_rank', 'rdzv_endpoint', 'rdzv_id']) if (!t.has(f)) fail(`missing --${f.replace(/_/g, '-')}`);
  if (args[m + 1] !== MODULE) fail(`-m ${args[m + 1]}: the RL trainer module is ${MODULE}`);
  const { configPath, rest } = rootConfig(args.slice(m + 2), 'trainer config');
  const flags = parseFlags(rest, { output_dir: 'one', 'rollout_transport.host': 'one', 'resume.step': 'one' });
  if (!flags.has('rollout_transport.host')) fail('missing --rollout_transport.host (the orchestrator host; prime-rl defaults to localhost, which hangs multi-node runs)');

  const nnodes = intValue(t.get('nnodes'), '--nnodes', 1);
  const nproc = intValue(t.get('nproc_per_node'), '--nproc-per-node', 1);
  const rank = intValue(t.get('node_rank'), '--node-rank', 0);
  if (rank >= nnodes) fail(`--node-rank ${rank} is outside 0..${nnodes - 1}`);
  const ep = /^(.+):(\d+)$/.exec(t.get('rdzv_endpoint'));
  if (!ep) fail(`--rdzv-endpoint ${t.get('rdzv_endpoint')} is not <host>:<port>`);
  const rdzvHost = ep[1];
  const rdzvPort = portValue(ep[2], '--rdzv-endpoint port');
  const rdzvId = t.get('rdzv_id');
  for (const f of ['tee', 'redirects']) if (t.has(f) && !/^[0-3]$/.test(t.get(f))) fail(`--${f}=${t.get(f)} is not 0..3`);
  if (t.has('local_ranks_filter')) {
    for (const r of t.get('local_ranks_filter').split(',')) {
      if (!/^\d+$/.test(r) || Number(r) >= nproc) fail(`--local-ranks-filter=${t.get('local_ranks_filter')}: "${r}" is not a local rank 0..${nproc - 1}`);
    }
  }
  if (t.has('log_dir')) {
    try {
      fs.mkdirSync(t.get('log_dir'), { recursive: true });
    } catch (e) {
      fail(`--log-dir ${t.get('log_dir')} cannot be created: ${e.code || e.message}`);
    }
  }
  armFault(rank);

  const cfg = loadConfig(configPath);
  const { rolloutPort, weightType } = transports(cfg, configPath);
  const outputDir = resolveOutputDir(flags, cfg, configPath);
  const maxSteps = isNone(get(cfg, 'max_steps')) ? null : requireKey(cfg, 'max_steps', configPath, 'int');
  const resumeStep = flags.has('resume.step') ? intValue(flags.get('resume.step'), '--resume.step', 0) : 0;
  const ckptInterval = isNone(get(cfg, 'ckpt.interval')) ? undefined : requireKey(cfg, 'ckpt.interval', configPath, 'int');
  const ckptBase = isNone(get(cfg, 'ckpt.output_dir')) ? outputDir : path.resolve(get(cfg, 'ckpt.output_dir'));
  if (resumeStep > 0) {
    const dir = path.join(ckptBase, 'checkpoints', `step_${resumeStep}`, 'trainer');
    if (!fs.existsSync(dir)) fail(`--resume.step ${resumeStep}: no trainer checkpoint at ${dir}`);
    info(`resuming from ${dir}`);
  }
  if (!isNone(get(cfg, 'model.name'))) checkModelCached(requireKey(cfg, 'model.name', configPath, 'string'));
  const orchHost = flags.get('rollout_transport.host');
  await resolveHost(orchHost, '--rollout_transport.host');
  await resolveHost(rdzvHost, '--rdzv-endpoint host');

  const gpus = checkCudaDevices(nproc, `--nproc-per-node=${nproc}`);
  claimGpus(gpus, `trainer node rank ${rank}`);

  let rdzvServer;
  if (rank === 0) {
    await checkIsThisHost(rdzvHost, 'node rank 0 must run on the --rdzv-endpoint host');
    rdzvServer = await bindRendezvous(rdzvPort, 'torchrun');
    if (weightType === 'nccl') {
      const wport = isNone(get(cfg, 'weight_broadcast.port')) ? 29501 : portValue(get(cfg, 'weight_broadcast.port'), 'weight_broadcast.port');
      if (wport === rdzvPort) fail(`weight_broadcast.port ${wport} is also the rendezvous port`);
      const world = get(cfg, 'weight_broadcast.inference_world_size');
      // Trainer rank 0's NCCL store (StatelessProcessGroup; host forced to 0.0.0.0 multi-node).
      const store = net.createServer((sock) => {
        sock.on('error', () => {});
        sendJson(sock, { standin: 'weight-broadcast', inference_world_size: world, host: ctx.host });
      });
      await listen(store, wport, '0.0.0.0', 'weight-broadcast store (trainer rank 0)');
    }
  }
  await rendezvous({ label: 'torchrun', server: rdzvServer, host: rdzvHost, port: rdzvPort, rank, nnodes, id: rdzvId, nproc });

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
      if (rank === 0 && (weightType === 'nccl' || weightType === 'filesystem')) {
        // prime-rl's trainer touches broadcasts/step_N/STABLE for the orchestrator (shared filesystem).
        const dir = path.join(outputDir, 'broadcasts', `step_${msg.step}`);
        try {
          fs.mkdirSync(dir, { recursive: true });
          fs.writeFileSync(path.join(dir, 'STABLE'), `${ctx.host}\n`);
        } catch (e) {
          fail(`cannot write ${dir}/STABLE: ${e.code || e.message}`);
        }
      }
      if (rank === 0 && ckptInterval && msg.step % ckptInterval === 0) {
        // prime-rl: checkpoints/step_N/{trainer,orchestrator,STABLE} (trainer part under ckpt.output_dir if set).
        const dir = path.join(ckptBase, 'checkpoints', `step_${msg.step}`, 'trainer');
        try {
          fs.mkdirSync(dir, { recursive: true });
          fs.writeFileSync(path.join(dir, 'standin.json'), JSON.stringify({ step: msg.step, host: ctx.host }) + '\n');
        } catch (e) {
          fail(`cannot write checkpoint ${dir}: ${e.code || e.message}`);
        }
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
