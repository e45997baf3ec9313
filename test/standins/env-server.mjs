// Stand-in `env-server` (verifiers env server; ZMQ in production, plain TCP here).
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import { armFault, checkRunName, ctx, fail, get, info, listen, loadTasksetDataset, onCleanup, portValue, primeRlConfig, sendJson } from './lib.mjs';

/**
 * A docker-runtime env server keeps boxes alive for its rollouts in flight: RLSTACK_STANDIN_BOXES of them
 * (default 2), started as verifiers starts them and removed by name when it is stopped (verifiers' exit
 * hook) — a SIGKILLed env server leaves them behind, as the real one does.
 */
function startBoxes(runtime, configPath) {
  const image = runtime.image;
  if (typeof image !== 'string' || !image) fail(`env.agent.runtime.image missing in ${configPath}`);
  const count = Number(process.env.RLSTACK_STANDIN_BOXES ?? 2);
  const names = [];
  const docker = (args) => {
    try {
      return execFileSync('docker', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    } catch (e) {
      fail(`docker ${args[0]} failed: ${(e.stderr || e.message).toString().trim()}`);
    }
  };
  docker(['version']);
  for (let i = 0; i < count; i++) {
    const name = randomBytes(16).toString('hex');
    docker(['run', '--detach', '--entrypoint', 'sleep', '--name', name, '--cpus', String(runtime.cpu ?? 1), '--memory', `${runtime.memory ?? 2}g`, image, 'infinity']);
    names.push(name);
  }
  info(`${count} docker boxes in flight: ${names.join(' ')}`);
  onCleanup(() => {
    if (names.length) execFileSync('docker', ['rm', '--force', ...names.splice(0)], { stdio: 'ignore' });
  });
}

export async function main(args) {
  // entrypoints/env_server.py:35-38: cli(EnvServerConfig) — pydantic-config (env/serve are verifiers types).
  const parsed = primeRlConfig(args, 'env_server.EnvServerConfig');
  const cfg = parsed.config;
  const configPath = parsed.files[0];
  const m = /(^|\/)envs\/(train|eval)\/([^/]+)\.(toml|json)$/.exec(configPath);
  if (!m) fail(`config path ${configPath} is not …/envs/<train|eval>/<name>.toml (rlstack's layout; the stand-in names the env by it)`);
  // entrypoints/env_server.py:22: PRL_RUN_NAME labels the env server's sandboxes (stricter: required here).
  checkRunName();
  const taskset = get(cfg, 'env.taskset.id');
  if (typeof taskset !== 'string' || taskset === '') fail(`env.taskset.id must be a non-empty string, got ${JSON.stringify(taskset)}`);
  const address = get(cfg, 'serve.address');
  const a = /^tcp:\/\/(127\.0\.0\.1|\*):(\d+)$/.exec(address ?? '');
  if (!a) fail(`serve.address "${address}" is not tcp://127.0.0.1:<port> or tcp://*:<port>`);
  const host = a[1] === '*' ? '0.0.0.0' : '127.0.0.1';
  const port = portValue(a[2], 'serve.address port');
  armFault(port);
  // serve_env(config_data=env_config_data(config.env)): the taskset (and its dataset) loads in the server.
  loadTasksetDataset(taskset);
  if (get(cfg, 'serve.pool.type') !== undefined && !['static', 'elastic'].includes(get(cfg, 'serve.pool.type'))) {
    fail(`serve.pool.type ${JSON.stringify(get(cfg, 'serve.pool.type'))} is not static or elastic`);
  }

  const server = net.createServer((sock) => {
    sock.on('error', () => {});
    // A hello, so the orchestrator can check it reached the env server of the right source.
    sendJson(sock, { standin: 'env-server', split: m[2], name: m[3], taskset, host: ctx.host });
  });
  // Boxes first, so that "ready" (the port answers) implies they exist: tests count them then.
  const runtime = get(cfg, 'env.agent.runtime');
  if (runtime && runtime.type === 'docker') startBoxes(runtime, configPath);
  await listen(server, port, host, `env server ${m[2]}/${m[3]} (taskset ${taskset})`);
  await new Promise(() => {}); // until SIGTERM
}
