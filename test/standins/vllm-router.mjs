// Stand-in `vllm-router`: one global router in front of every engine.
import http from 'node:http';
import {
  armFault, fail, httpGet, info, intValue, json, listen, parseFlags, parseHttpUrl, portValue, resolveHost,
  timeoutMs, waitHttp200,
} from './lib.mjs';

const FLAGS = {
  policy: 'one',
  host: 'one',
  port: 'one',
  worker_urls: 'many',
  request_id_headers: 'many',
  worker_startup_timeout_secs: 'one',
  prometheus_port: 'one',
};
const POLICIES = ['consistent_hash', 'round_robin', 'random', 'cache_aware', 'power_of_two'];

export async function main(args) {
  const flags = parseFlags(args, FLAGS);
  for (const f of ['policy', 'host', 'port', 'worker_urls']) if (!flags.has(f)) fail(`missing --${f.replace(/_/g, '-')}`);
  const policy = flags.get('policy');
  if (!POLICIES.includes(policy)) fail(`--policy ${policy} is not one of ${POLICIES.join(', ')}`);
  const host = flags.get('host');
  const port = portValue(flags.get('port'), '--port');
  if (flags.has('worker_startup_timeout_secs')) intValue(flags.get('worker_startup_timeout_secs'), '--worker-startup-timeout-secs', 1);
  const metricsPort = flags.has('prometheus_port') ? portValue(flags.get('prometheus_port'), '--prometheus-port') : undefined;
  if (metricsPort === port) fail(`--prometheus-port equals --port (${port})`);
  armFault(port);

  const workers = flags.get('worker_urls').map((u) => parseHttpUrl(u, '--worker-urls', ''));
  const seen = new Set();
  for (const w of workers) {
    if (seen.has(w.origin)) fail(`--worker-urls lists ${w.origin} twice`);
    seen.add(w.origin);
    await resolveHost(w.host, `--worker-urls ${w.origin}`);
  }

  let ready = false;
  let next = 0;
  const server = http.createServer(async (req, res) => {
    const url = new URL(req.url, 'http://x');
    const route = `${req.method} ${url.pathname}`;
    if (route === 'GET /health') return ready ? json(res, 200, {}) : json(res, 503, { error: 'waiting for workers' });
    if (!ready) return json(res, 503, { error: 'waiting for workers' });
    if (route === 'GET /v1/models') {
      const w = workers[next++ % workers.length];
      try {
        const r = await httpGet(`${w.origin}/v1/models`);
        res.writeHead(r.status, { 'content-type': 'application/json' });
        return res.end(r.body);
      } catch (e) {
        return json(res, 502, { error: `worker ${w.origin}: ${e.code || e.message}` });
      }
    }
    return json(res, 404, { error: `stand-in router has no ${route}` });
  });
  await listen(server, port, host, `vllm-router (${policy}, ${workers.length} workers)`);
  if (metricsPort !== undefined) {
    const metrics = http.createServer((req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end(`vllm_router_workers ${workers.length}\n`);
    });
    await listen(metrics, metricsPort, host, 'vllm-router prometheus');
  }

  const deadline = Date.now() + timeoutMs();
  await Promise.all(workers.map((w) => waitHttp200(`${w.origin}/health`, deadline, `worker ${w.origin}`)));
  const models = new Map();
  for (const w of workers) {
    const body = await waitHttp200(`${w.origin}/v1/models`, deadline, `worker ${w.origin}`);
    let ids;
    try {
      ids = JSON.parse(body).data.map((m) => m.id).join(',');
    } catch {
      fail(`worker ${w.origin}/v1/models answered ${body.slice(0, 200)}`);
    }
    models.set(w.origin, ids);
  }
  const distinct = new Set(models.values());
  if (distinct.size !== 1) fail(`workers serve different models: ${[...models].map(([o, m]) => `${o} → ${m}`).join('; ')}`);
  ready = true;
  info(`router ready on ${host}:${port}: ${workers.length} healthy workers serving ${[...distinct][0]}`);
  await new Promise(() => {}); // until SIGTERM
}
