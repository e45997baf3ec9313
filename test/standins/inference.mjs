// Stand-in `inference` (one bare vLLM engine, as prime-rl's multi-node template starts it).
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import {
  armFault, bindRendezvous, checkCudaDevices, checkIsThisHost, checkModelCached, claimGpus, connectOnce, ctx, fail, get, info,
  intValue, json, listen, onLines, parseJsonLine, portValue, primeRlConfig, readBody, rendezvous, resolveHost, sendJson, sleep, timeoutMs,
} from './lib.mjs';

export async function main(args) {
  // entrypoints/inference.py: cli(InferenceConfig) — pydantic-config; [vllm] allows extra keys (passed to vLLM).
  const parsed = primeRlConfig(args, 'inference.InferenceConfig');
  const cfg = parsed.config;
  const v = cfg.vllm ?? {};
  const model = v.model ?? 'Qwen/Qwen3-0.6B';
  const tp = v.tensor_parallel_size ?? 1;
  if (tp < 1) fail(`vllm.tensor_parallel_size=${tp}`);
  // InferenceConfig.router defaults to a VllmRouterConfig: the entrypoint would start its own router on
  // server.port and move the engine to backend_port. rlstack runs bare engines: router must be None.
  if (!('router' in cfg) || cfg.router !== null) {
    fail(`router = ${JSON.stringify(cfg.router)} in ${parsed.files.join(' + ')} (prime-rl defaults to vllm-router): the inference entrypoint would start its own router on server.port and move the engine to backend_port; rlstack runs bare engines and needs router = "None"`);
  }
  const host = get(cfg, 'server.host') ?? '0.0.0.0';
  const port = get(cfg, 'server.port') ?? 8000;
  const dp = v.data_parallel_size ?? 1;
  const dpLocal = v.data_parallel_size_local ?? dp;
  if (!Number.isInteger(dp) || dp < 1 || !Number.isInteger(dpLocal) || dpLocal < 1) fail(`vllm.data_parallel_size ${dp} / data_parallel_size_local ${dpLocal} must be integers ≥ 1`);
  if (dpLocal > dp) fail(`--vllm.data-parallel-size-local ${dpLocal} exceeds --vllm.data-parallel-size ${dp}`);
  if (dp % dpLocal !== 0) fail(`--vllm.data-parallel-size ${dp} is not a multiple of --vllm.data-parallel-size-local ${dpLocal}`);
  armFault(port);

  // templates/_launch_rank.sh.j2:22-23: prime-rl makes the per-rank VLLM_RPC_BASE_PATH dir first; vLLM binds
  // its ZMQ ipc sockets (ipc://<VLLM_RPC_BASE_PATH>/<uuid>) there and dies when the dir does not exist.
  const rpcBase = process.env.VLLM_RPC_BASE_PATH;
  if (rpcBase !== undefined && !fs.statSync(rpcBase, { throwIfNoEntry: false })?.isDirectory()) {
    fail(`vLLM engine failed to start: zmq.error.ZMQError: No such file or directory (addr='ipc://${rpcBase}/${randomUUID()}') — VLLM_RPC_BASE_PATH=${rpcBase} does not exist (prime-rl's _launch_rank.sh.j2 runs mkdir -p first)`);
  }

  // A data-parallel group spanning processes (expert parallel across nodes): vLLM extras
  // data_parallel_rank / data_parallel_address (+ data_parallel_rpc_port, default 13345).
  let group;
  const rankSet = v.data_parallel_rank !== undefined;
  const addrSet = v.data_parallel_address !== undefined;
  if (dp > dpLocal && (!rankSet || !addrSet)) fail(`--vllm.data-parallel-size ${dp} > --vllm.data-parallel-size-local ${dpLocal} needs --vllm.data-parallel-rank and --vllm.data-parallel-address`);
  if (rankSet || addrSet) {
    if (!rankSet || !addrSet) fail('--vllm.data-parallel-rank and --vllm.data-parallel-address go together');
    const rank = intValue(v.data_parallel_rank, 'vllm.data_parallel_rank', 0);
    if (rank >= dp) fail(`--vllm.data-parallel-rank ${rank} is outside 0..${dp - 1}`);
    if (rank % dpLocal !== 0) fail(`--vllm.data-parallel-rank ${rank} is not a multiple of --vllm.data-parallel-size-local ${dpLocal}`);
    const address = String(v.data_parallel_address);
    const rpcPort = portValue(v.data_parallel_rpc_port ?? 13345, 'vllm.data_parallel_rpc_port');
    if (rank === 0) {
      // The DP head's coordinator binds ZMQ on tcp://<data_parallel_address>:… — ZMQ cannot bind a host
      // name. prime-rl (templates/multi_node_rl.sbatch.j2:369-379) gives the head its LOCAL_IP and the other
      // nodes the head's host name.
      if (!net.isIP(address)) fail(`vLLM data-parallel head: zmq.error.ZMQError: No such device (addr='tcp://${address}:${rpcPort}') — --vllm.data-parallel-address must be an IP address on the head (prime-rl passes LOCAL_IP there, multi_node_rl.sbatch.j2:369-379)`);
      await checkIsThisHost(address, 'data-parallel rank 0 must run on --vllm.data-parallel-address');
    } else {
      await resolveHost(address, '--vllm.data-parallel-address');
    }
    group = { rank: rank / dpLocal, nnodes: dp / dpLocal, address, rpcPort };
  }

  checkModelCached(model);
  const gpus = checkCudaDevices(tp * dpLocal, `vllm.tensor_parallel_size ${tp} × data-parallel-size-local ${dpLocal}`);
  claimGpus(gpus, `inference :${port}`);

  let ready = false;
  const server = http.createServer(async (req, res) => {
    const url = new URL(req.url, 'http://x');
    const route = `${req.method} ${url.pathname}`;
    if (route === 'GET /health') return ready ? json(res, 200, {}) : json(res, 503, { error: 'engine starting' });
    if (!ready) return json(res, 503, { error: 'engine starting' });
    if (route === 'GET /v1/models') return json(res, 200, { object: 'list', data: [{ id: model, object: 'model', owned_by: 'vllm', root: model }] });
    if (route === 'GET /liveness') return json(res, 200, {});
    if (route === 'GET /metrics') {
      res.writeHead(200, { 'content-type': 'text/plain' });
      return res.end(`vllm:num_requests_running{model_name="${model}"} 0\n`);
    }
    if (route === 'POST /pause' || route === 'POST /resume' || route === 'POST /update_weights') return json(res, 200, {});
    if (route === 'POST /init_broadcaster') return initBroadcaster(req, res, gpus.length);
    return json(res, 404, { error: `stand-in engine has no ${route}` });
  });
  await listen(server, port, host, `inference engine (${model}, tp ${tp}, GPUs ${gpus.join(',')})`);

  if (group) {
    const label = 'vLLM data-parallel group';
    const rdzvServer = group.rank === 0 ? await bindRendezvous(group.rpcPort, label) : undefined;
    await rendezvous({ label, server: rdzvServer, host: group.address, port: group.rpcPort, rank: group.rank, nnodes: group.nnodes, id: `${model}@${group.rpcPort}`, nproc: tp * dpLocal });
  }
  ready = true;
  info(`engine ready on ${host}:${port} serving ${model}`);
  await new Promise(() => {}); // until SIGTERM
}

/**
 * POST /init_broadcaster {host, port, rank_offset, inference_world_size, timeout} (utils/client.py:420-433)
 * → inference/vllm/worker/nccl.py:64-78 NCCLWeightBroadcastReceiver: StatelessProcessGroup.create(host,
 * port, rank = rank_offset + 1 + local rank, world_size = inference_world_size + 1) — a TCP store CLIENT of
 * trainer rank 0 (the server). The call blocks until it can connect (retrying, up to the store timeout)
 * and until every inference GPU has joined (PyNcclCommunicator), then answers 200.
 */
async function initBroadcaster(req, res, myGpus) {
  let body;
  try {
    body = JSON.parse(await readBody(req));
  } catch {
    return json(res, 400, { error: 'init_broadcaster body is not JSON' });
  }
  const { host, port, rank_offset: offset, inference_world_size: world } = body;
  const bad = (msg, status = 500) => {
    info(`init_broadcaster failed: ${msg}`);
    json(res, status, { error: `engine on ${ctx.host}: ${msg}` });
  };
  if (typeof host !== 'string' || !Number.isInteger(port) || !Number.isInteger(offset) || !Number.isInteger(world)) return bad(`bad init_broadcaster body ${JSON.stringify(body)}`, 400);
  if (offset < 0 || offset + myGpus > world) return bad(`rank_offset ${offset} + ${myGpus} GPUs of this engine exceed inference_world_size ${world}`);
  const limit = Math.min(timeoutMs(), 1000 * (Number.isInteger(body.timeout) ? body.timeout : 1200));
  const deadline = Date.now() + limit;
  info(`init_broadcaster: joining trainer rank 0's store at ${host}:${port} (ranks ${offset + 1}..${offset + myGpus} of ${world + 1})`);
  let sock;
  let last = '';
  while (!sock && Date.now() < deadline) {
    try {
      sock = await connectOnce(host, port, 2000);
    } catch (e) {
      last = e.code || e.message;
      await sleep(200);
    }
  }
  if (!sock) return bad(`torch.distributed.DistStoreError: timed out connecting to the weight-broadcast store of trainer rank 0 at ${host}:${port} after ${Math.round(limit / 1000)} s (${last})`);
  const answer = await new Promise((resolve) => {
    const timer = setTimeout(() => resolve({ type: 'timeout' }), Math.max(0, deadline - Date.now()));
    sock.on('error', () => {});
    onLines(sock, (line) => {
      const m = parseJsonLine(line, `the weight-broadcast store at ${host}:${port}`);
      if (m.standin === 'weight-broadcast') return sendJson(sock, { type: 'join', rank_offset: offset, gpus: myGpus, inference_world_size: world, host: ctx.host });
      clearTimeout(timer);
      resolve(m);
    });
    sock.on('close', () => {
      clearTimeout(timer);
      resolve({ type: 'closed' });
    });
  });
  sock.destroy();
  if (answer.type === 'complete') {
    info(`init_broadcaster ok: store ${host}:${port}, ranks ${offset + 1}..${offset + myGpus} of ${world + 1}`);
    return json(res, 200, { gpus: myGpus, host: ctx.host });
  }
  if (answer.type === 'error') return bad(answer.message);
  if (answer.type === 'timeout') return bad(`the NCCL group at ${host}:${port} did not complete within ${Math.round(limit / 1000)} s`);
  return bad(`${host}:${port} closed the connection: not trainer rank 0's weight-broadcast store?`);
}
