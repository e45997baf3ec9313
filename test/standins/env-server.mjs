// Stand-in `env-server` (verifiers env server; ZMQ in production, plain TCP here).
import net from 'node:net';
import { armFault, ctx, fail, get, listen, loadConfig, portValue, requireKey, rootConfig, sendJson } from './lib.mjs';

export async function main(args) {
  const { configPath, rest } = rootConfig(args, 'envs/<split>/<name>.toml');
  if (rest.length) fail(`unknown flag ${rest[0]} (env-server takes only "@ <config>")`);
  const m = /(^|\/)envs\/(train|eval)\/([^/]+)\.(toml|json)$/.exec(configPath);
  if (!m) fail(`config path ${configPath} is not …/envs/<train|eval>/<name>.toml`);
  const cfg = loadConfig(configPath);
  const taskset = requireKey(cfg, 'env.taskset.id', configPath, 'string');
  const address = requireKey(cfg, 'serve.address', configPath, 'string');
  const a = /^tcp:\/\/(127\.0\.0\.1|\*):(\d+)$/.exec(address);
  if (!a) fail(`serve.address "${address}" in ${configPath} is not tcp://127.0.0.1:<port> or tcp://*:<port>`);
  const host = a[1] === '*' ? '0.0.0.0' : '127.0.0.1';
  const port = portValue(a[2], 'serve.address port');
  armFault(port);
  if (get(cfg, 'serve.pool.type') !== undefined && !['static', 'elastic'].includes(get(cfg, 'serve.pool.type'))) {
    fail(`serve.pool.type ${JSON.stringify(get(cfg, 'serve.pool.type'))} is not static or elastic`);
  }

  const server = net.createServer((sock) => {
    sock.on('error', () => {});
    // A hello, so the orchestrator can check it reached the env server of the right source.
    sendJson(sock, { standin: 'env-server', split: m[2], name: m[3], taskset, host: ctx.host });
  });
  await listen(server, port, host, `env server ${m[2]}/${m[3]} (taskset ${taskset})`);
  await new Promise(() => {}); // until SIGTERM
}
