// Stand-in `inference` (one bare vLLM engine, as prime-rl's multi-node template starts it).
import http from 'node:http';
import {
  armFault, bindRendezvous, checkCudaDevices, checkIsThisHost, checkModelCached, claimGpus, connectOnce, ctx, fail, get, info,
  intValue, isNone, json, listen, loadConfig, parseFlags, readHello, portValue, readBody, rendezvous,
  requireKey, resolveHost, rootConfig, sleep,
} from './lib.mjs';

const FLAGS = {
  'server.host': 'one',
  'server.port': 'one',
  'vllm.data_parallel_size': 'one',
  'vllm.data_parallel_size_local': 'one',
  'vllm.api_server_count': 'one',
  'vllm.data_parallel_rank': 'one',
  'vllm.data_parallel_address': 'one',
  'vllm.data_parallel_rpc_port': 'one',
};
const REQUIRED = ['server.host', 'server.port', 'vllm.data_parallel_size', 'vllm.data_parallel_size_local', 'vllm.api_server_count'];

export async function main(args) {
  const { configPath, rest } = rootConfig(args, 'inference config');
  const flags = parseFlags(rest, FLAGS);
  for (const f of REQUIRED) if (!flags.has(f)) fail(`missing --${f.replace(/_/g, '-')} (rlstack always passes it)`);
  const cfg = loadConfig(configPath);

  const model = requireKey(cfg, 'vllm.model', configPath, 'string');
  const tp = isNone(get(cfg, 'vllm.tensor_parallel_size')) ? 1 : requireKey(cfg, 'vllm.tensor_parallel_size', configPath, 'int');
  if (tp < 1) fail(`vllm.tensor_parallel_size=${tp} in ${configPath}`);
  const router = get(cfg, 'router');
  if (!isNone(router) || !('router' in cfg)) {
    fail(`${configPath} has router = ${JSON.stringify(router)} (prime-rl defaults to vllm-router): the inference entrypoint would start its own router on server.port and move the engine to backend_port; rlstack runs bare engines and needs router = "None"`);
  }
  const host = flags.get('server.host');
  const port = portValue(flags.get('server.port'), '--server.port');
  const dp = intValue(flags.get('vllm.data_parallel_size'), '--vllm.data-parallel-size', 1);
  const dpLocal = intValue(flags.get('vllm.data_parallel_size_local'), '--vllm.data-parallel-size-local', 1);
  intValue(flags.get('vllm.api_server_count'), '--vllm.api-server-count', 1);
  if (dpLocal > dp) fail(`--vllm.data-parallel-size-local ${dpLocal} exceeds --vllm.data-parallel-size ${dp}`);
  if (dp % dpLocal !== 0) fail(`--vllm.data-parallel-size ${dp} is not a multiple of --vllm.data-parallel-size-local ${dpLocal}`);
  armFault(port);

  // A data-parallel group spanning processes (expert parallel across nodes).
  let group;
  const groupFlags = ['vllm.data_parallel_rank', 'vllm.data_parallel_address', 'vllm.data_parallel_rpc_port'];
  if (dp > dpLocal) {
    for (const f of groupFlags) if (!flags.has(f)) fail(`--vllm.data-parallel-size ${dp} > --vllm.data-parallel-size-local ${dpLocal} needs --${f.replace(/_/g, '-')}`);
  }
  if (groupFlags.some((f) => flags.has(f))) {
    for (const f of groupFlags) if (!flags.has(f)) fail(`--${f.replace(/_/g, '-')} is missing while other data-parallel group flags are given`);
    const rank = intValue(flags.get('vllm.data_parallel_rank'), '--vllm.data-parallel-rank', 0);
    if (rank >= dp) fail(`--vllm.data-parallel-rank ${rank} is outside 0..${dp - 1}`);
    if (rank % dpLocal !== 0) fail(`--vllm.data-parallel-rank ${rank} is not a multiple of --vllm.data-parallel-size-local ${dpLocal}`);
    const address = flags.get('vllm.data_parallel_address');
    await resolveHost(address, '--vllm.data-parallel-address');
    const rpcPort = portValue(flags.get('vllm.data_parallel_rpc_port'), '--vllm.data-parallel-rpc-port');
    if (rank === 0) await checkIsThisHost(address, 'data-parallel rank 0 must run on --vllm.data-parallel-address');
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
 * prime-rl's orchestrator calls POST /init_broadcaster {host, port, rank_offset, inference_world_size}
 * on every engine (NCCL weights); the workers then join trainer rank 0's store at host:port. The stand-in
 * connects there for real and compares inference_world_size with the trainer's.
 */
async function initBroadcaster(req, res, myGpus) {
  let body;
  try {
    body = JSON.parse(await readBody(req));
  } catch {
    return json(res, 400, { error: 'init_broadcaster body is not JSON' });
  }
  const { host, port, rank_offset: offset, inference_world_size: world } = body;
  const bad = (msg) => {
    info(`init_broadcaster refused: ${msg}`);
    json(res, 400, { error: `engine on ${ctx.host}: ${msg}` });
  };
  if (typeof host !== 'string' || !Number.isInteger(port) || !Number.isInteger(offset) || !Number.isInteger(world)) return bad(`bad init_broadcaster body ${JSON.stringify(body)}`);
  if (offset < 0 || offset + myGpus > world) return bad(`rank_offset ${offset} + ${myGpus} GPUs of this engine exceed inference_world_size ${world}`);
  let sock;
  let last = '';
  for (let attempt = 0; attempt < 20 && !sock; attempt++) {
    try {
      sock = await connectOnce(host, port, 2000);
    } catch (e) {
      last = e.code || e.message;
      await sleep(250);
    }
  }
  if (!sock) return bad(`cannot reach the weight-broadcast store of trainer rank 0 at ${host}:${port} (${last})`);
  const hello = await readHello(sock);
  if (!hello || hello.standin !== 'weight-broadcast') return bad(`${host}:${port} is not trainer rank 0's weight-broadcast store`);
  if (hello.inference_world_size !== world) return bad(`the orchestrator says inference_world_size ${world}, trainer rank 0 (host ${hello.host}) says ${hello.inference_world_size}`);
  info(`init_broadcaster ok: store ${host}:${port}, ranks ${offset + 1}..${offset + myGpus} of ${world + 1}`);
  return json(res, 200, { gpus: myGpus, host: ctx.host });
}
