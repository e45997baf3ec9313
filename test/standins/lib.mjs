// Shared helpers of the stand-ins (test/standins/README.md): loud failures, banner, signals, fault
// injection, config loading, flag parsing, TCP/HTTP helpers, fake GPUs and the TCP rendezvous.
import fs from 'node:fs';
import os from 'node:os';
import net from 'node:net';
import http from 'node:http';
import dns from 'node:dns/promises';
import path from 'node:path';
import { ConfigError, parsePrimeRlArgs } from './prime-config.mjs';

export const ctx = { program: 'uv', host: os.hostname(), stopping: false };

// Test knobs come from the process environment (rlstack passes the launcher's whole environment to every
// component, as prime-rl's entrypoints/rl.py passes os.environ) or from <prime-rl dir>/standin.env
// (KEY=VALUE lines; the process environment wins over it).
const KNOBS = ['RLSTACK_STANDIN_FAIL', 'RLSTACK_STANDIN_BOXES', 'RLSTACK_STANDIN_TIMEOUT_S', 'RLSTACK_STANDIN_STEP_SECONDS', 'RLSTACK_STANDIN_MAX_STEPS', 'RLSTACK_FAKE_GPUS'];
const knobFileProblems = [];
if (process.env.RLSTACK_STANDIN_PRIME_RL_DIR) {
  const file = path.join(process.env.RLSTACK_STANDIN_PRIME_RL_DIR, 'standin.env');
  let text = '';
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    /* no file */
  }
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([A-Z_][A-Z0-9_]*)=(.*)$/.exec(line);
    if (!m || !KNOBS.includes(m[1])) knobFileProblems.push(`${file}: "${line}" is not one of ${KNOBS.join(', ')}=<value>`);
    else if (process.env[m[1]] === undefined) process.env[m[1]] = m[2].replace(/^(["'])(.*)\1$/, '$2');
  }
}

// ---------------------------------------------------------------------------------------------------
// Output, failure, signals

/** Fails loudly: first stderr line `STAND-IN ERROR: …`, exit 2. */
export function fail(message) {
  try {
    fs.writeSync(2, `STAND-IN ERROR: ${ctx.program} on ${ctx.host}: ${message}\n`);
  } catch {
    /* stderr gone */
  }
  runCleanups();
  process.exit(2);
}

/** A progress line on stdout. */
export function info(message) {
  try {
    fs.writeSync(1, `STAND-IN ${ctx.program}: ${message}\n`);
  } catch {
    /* stdout gone */
  }
}

/** A raw stdout line. */
export function say(line) {
  try {
    fs.writeSync(1, `${line}\n`);
  } catch {
    /* stdout gone */
  }
}

export function banner(argv) {
  say(`STAND-IN ${ctx.program} host=${ctx.host} pid=${process.pid} argv=${JSON.stringify(argv)}`);
}

const cleanups = [];
/** Runs at exit (any cause): close servers, release GPU claims. */
export function onCleanup(fn) {
  cleanups.push(fn);
}
function runCleanups() {
  for (const fn of cleanups.splice(0).reverse()) {
    try {
      fn();
    } catch {
      /* best effort */
    }
  }
}

/** Fails loudly on a malformed <prime-rl dir>/standin.env. */
export function checkKnobFile() {
  if (knobFileProblems.length) fail(knobFileProblems[0]);
}

export function installProcessHandlers() {
  const stop = (sig) => {
    if (ctx.stopping) return;
    ctx.stopping = true;
    info(`stopped by ${sig}, exiting 0`);
    runCleanups();
    process.exit(0);
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('exit', runCleanups);
  process.on('uncaughtException', (e) => fail(`internal error: ${e && e.stack ? e.stack : e}`));
  process.on('unhandledRejection', (e) => fail(`internal error: ${e && e.stack ? e.stack : e}`));
}

/**
 * Fault injection: RLSTACK_STANDIN_FAIL="<program>:<host>:<seconds>[:<tag>],…" — the matching stand-in
 * exits 1 after <seconds> with `STAND-IN FAULT`. <host> may be `*`; <tag> (optional) is the program's
 * main port (inference, vllm-router, env-server) or node rank (torchrun).
 */
export function armFault(tag) {
  const spec = process.env.RLSTACK_STANDIN_FAIL;
  if (!spec) return;
  for (const entry of spec.split(',').map((s) => s.trim()).filter(Boolean)) {
    const parts = entry.split(':');
    if (parts.length < 3 || parts.length > 4 || !/^\d+(\.\d+)?$/.test(parts[2])) {
      fail(`RLSTACK_STANDIN_FAIL entry "${entry}" is not <program>:<host>:<seconds>[:<tag>]`);
    }
    const [program, host, seconds, want] = parts;
    if (program !== ctx.program) continue;
    if (host !== '*' && host !== ctx.host) continue;
    if (want !== undefined && String(tag) !== want) continue;
    info(`fault injection armed: exit 1 after ${seconds}s (RLSTACK_STANDIN_FAIL=${entry})`);
    setTimeout(() => {
      try {
        fs.writeSync(2, `STAND-IN FAULT: ${ctx.program} on ${ctx.host} exits 1 after ${seconds}s (RLSTACK_STANDIN_FAIL=${entry})\n`);
      } catch {
        /* stderr gone */
      }
      runCleanups();
      process.exit(1);
    }, Number(seconds) * 1000);
    return;
  }
}

/** Deadline for every wait (RLSTACK_STANDIN_TIMEOUT_S, default 120 s), in ms. */
export function timeoutMs() {
  const raw = process.env.RLSTACK_STANDIN_TIMEOUT_S;
  if (raw === undefined || raw === '') return 120_000;
  const v = Number(raw);
  if (!Number.isFinite(v) || v <= 0) fail(`RLSTACK_STANDIN_TIMEOUT_S="${raw}" is not a positive number`);
  return v * 1000;
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// ---------------------------------------------------------------------------------------------------
// Arguments and configs

/** Every stand-in refuses words node.sh should have filled in. */
export function checkNoUnexpanded(argv) {
  for (const w of argv) {
    if (/\$\{RLSTACK_[A-Z_]+(:\d+)?\}|\$\{/.test(w)) fail(`argument "${w}" holds an unexpanded runtime word (node.sh must fill in \${RLSTACK_…})`);
  }
}

/**
 * A prime-rl command line (`@ file … --a.b v …`) parsed like pydantic-config and validated against the
 * key map of `rootClass` (prime-config.mjs). A config error fails loudly with pydantic-config's wording.
 * Returns { config, files, overrides } (config: the merged, type-coerced dict).
 */
export function primeRlConfig(args, rootClass) {
  if (!args.includes('@')) fail(`expected "@ <config file>" in the arguments (rlstack always passes its generated config), got ${JSON.stringify(args.slice(0, 4))}`);
  let parsed;
  try {
    parsed = parsePrimeRlArgs(args, rootClass);
  } catch (e) {
    if (e instanceof ConfigError) fail(`Config file error: ${e.message}`);
    throw e;
  }
  // A config file rendered by node.sh (e.g. orchestrator-sources.json) must not keep a runtime word.
  const walk = (v, where) => {
    if (typeof v === 'string' && /\$\{RLSTACK_[A-Z_]+(:\d+)?\}/.test(v)) fail(`${where} = "${v}" in ${parsed.files.join(' + ')} holds an unexpanded runtime word (node.sh must fill in \${RLSTACK_…})`);
    if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) walk(x, where ? `${where}.${k}` : k);
  };
  walk(parsed.config, '');
  return parsed;
}

export function get(obj, dotted) {
  let cur = obj;
  for (const k of dotted.split('.')) {
    if (cur === null || typeof cur !== 'object' || !(k in cur)) return undefined;
    cur = cur[k];
  }
  return cur;
}

/**
 * The rollout transport and weight broadcast of a validated orchestrator/trainer config, with prime-rl's
 * defaults (key map: ZMQTransportConfig host "localhost" port 5555; weight_broadcast defaults to
 * filesystem; NCCL port 29501, host "localhost").
 */
export function transports(cfg) {
  const rollout = get(cfg, 'rollout_transport') ?? {};
  const rolloutType = rollout.type ?? 'zmq';
  if (rolloutType !== 'zmq') fail(`rollout_transport.type ${JSON.stringify(rolloutType)}: the stand-ins (and rlstack) use zmq`);
  const wb = get(cfg, 'weight_broadcast') ?? {};
  return {
    rolloutPort: rollout.port ?? 5555,
    rolloutHost: rollout.host ?? 'localhost',
    weightType: wb.type ?? 'filesystem',
    weightHost: wb.host ?? 'localhost',
    weightPort: wb.port ?? (wb.type === 'nixl' ? 8001 : 29501),
    weightTimeout: wb.timeout ?? 1200,
    inferenceWorldSize: wb.inference_world_size ?? 1,
  };
}

export function isNone(v) {
  return v === undefined || v === null || v === 'None';
}

export function requireKey(cfg, dotted, file, type) {
  const v = get(cfg, dotted);
  if (isNone(v)) fail(`config ${file} has no ${dotted}`);
  if (type === 'string' && (typeof v !== 'string' || v === '')) fail(`config ${file}: ${dotted} must be a non-empty string, got ${JSON.stringify(v)}`);
  if (type === 'int' && !Number.isInteger(v)) fail(`config ${file}: ${dotted} must be an integer, got ${JSON.stringify(v)}`);
  if (type === 'table' && (typeof v !== 'object' || Array.isArray(v))) fail(`config ${file}: [${dotted}] must be a table`);
  return v;
}

/**
 * output_dir (default "outputs", relative to the working directory = the prime-rl checkout). Stricter
 * than prime-rl: a relative `--output-dir` on the command line is an error (it would land inside the
 * shared checkout); node.sh passes the absolute run dir.
 */
export function resolveOutputDir(parsed) {
  const flag = get(parsed.overrides, 'output_dir');
  if (typeof flag === 'string' && !path.isAbsolute(flag)) fail(`--output-dir ${flag} is relative: it would land inside the prime-rl checkout ${process.cwd()}`);
  return path.resolve(get(parsed.config, 'output_dir') ?? 'outputs');
}

const normalize = (flag) => flag.replace(/^--/, '').replace(/-/g, '_');

/**
 * pydantic-config style flags: `--a.b-c value`, `--a.b_c=value`, lists as space-separated values.
 * `spec`: normalized name → 'one' | 'many'; `patterns`: [{ re, arity }] for indexed keys.
 * Unknown or repeated flags fail loudly, naming the flag.
 */
export function parseFlags(tokens, spec, patterns = []) {
  const out = new Map();
  const arityOf = (name) => spec[name] ?? patterns.find((p) => p.re.test(name))?.arity;
  let i = 0;
  while (i < tokens.length) {
    const tok = tokens[i];
    if (!tok.startsWith('--') || tok === '--') fail(`unexpected argument "${tok}" (expected a --flag)`);
    let name;
    let inline;
    const eq = tok.indexOf('=');
    if (eq >= 0) {
      name = normalize(tok.slice(0, eq));
      inline = tok.slice(eq + 1);
    } else name = normalize(tok);
    const arity = arityOf(name);
    if (!arity) fail(`unknown flag ${tok.split('=')[0]} (this stand-in accepts: ${Object.keys(spec).map((k) => '--' + k).join(' ')}${patterns.length ? ' ' + patterns.map((p) => p.label).join(' ') : ''})`);
    if (out.has(name)) fail(`flag ${tok.split('=')[0]} given twice`);
    i++;
    const values = [];
    if (inline !== undefined) values.push(inline);
    else {
      while (i < tokens.length && !tokens[i].startsWith('--')) {
        values.push(tokens[i++]);
        if (arity === 'one') break;
      }
    }
    if (values.length === 0) fail(`flag ${tok} has no value`);
    if (arity === 'one' && values.length !== 1) fail(`flag ${tok} takes one value`);
    out.set(name, arity === 'one' ? values[0] : values);
  }
  return out;
}

export function intValue(v, what, min = 0) {
  if (typeof v === 'number' && Number.isInteger(v) && v >= min) return v;
  if (typeof v !== 'string' || !/^\d+$/.test(v) || Number(v) < min) fail(`${what} must be an integer ≥ ${min}, got ${JSON.stringify(v)}`);
  return Number(v);
}

export function portValue(v, what) {
  const p = intValue(v, what, 1);
  if (p > 65535) fail(`${what} ${p} is not a TCP port`);
  return p;
}

// ---------------------------------------------------------------------------------------------------
// Hosts, sockets, HTTP

/** Every address of a host name (or literal); fails loudly if it does not resolve. */
export async function resolveHost(host, what) {
  if (!host || /[\s/$]/.test(host)) fail(`${what}: "${host}" is not a host name`);
  try {
    const res = await dns.lookup(host, { all: true });
    return res.map((r) => r.address);
  } catch (e) {
    fail(`${what}: host "${host}" does not resolve (${e.code || e.message})`);
  }
}

/** Fails unless `host` resolves to an address of this host's name (os.hostname()). */
export async function checkIsThisHost(host, what) {
  const mine = await resolveHost(ctx.host, `this host's name "${ctx.host}"`);
  const theirs = await resolveHost(host, what);
  if (!theirs.some((a) => mine.includes(a))) {
    fail(`${what}: "${host}" (${theirs.join(', ')}) is not this host ${ctx.host} (${mine.join(', ')})`);
  }
}

/** Binds `server` (net or http) on host:port; port in use or any bind error fails loudly. */
export function listen(server, port, host, what) {
  return new Promise((resolve) => {
    const onError = (e) => {
      if (e.code === 'EADDRINUSE') fail(`${what}: port ${port} on ${host} is already in use`);
      fail(`${what}: cannot bind ${host}:${port}: ${e.code || e.message}`);
    };
    server.once('error', onError);
    server.listen({ port, host, exclusive: true }, () => {
      server.off('error', onError);
      server.on('error', (e) => fail(`${what}: server error: ${e.code || e.message}`));
      onCleanup(() => server.close());
      info(`${what} listening on ${host}:${port}`);
      resolve(server);
    });
  });
}

/** Connects once; resolves the socket or rejects with the error. */
export function connectOnce(host, port, ms = 3000) {
  return new Promise((resolve, reject) => {
    const sock = net.connect({ host, port });
    const timer = setTimeout(() => {
      sock.destroy();
      reject(Object.assign(new Error('connect timeout'), { code: 'ETIMEDOUT' }));
    }, ms);
    sock.once('connect', () => {
      clearTimeout(timer);
      sock.removeAllListeners('error');
      resolve(sock);
    });
    sock.once('error', (e) => {
      clearTimeout(timer);
      sock.destroy();
      reject(e);
    });
  });
}

/** Connects, retrying refused/unreachable until `deadline` (epoch ms); fails loudly after it. */
export async function connectRetry(host, port, deadline, what) {
  await resolveHost(host, what);
  let last = '';
  while (Date.now() < deadline) {
    try {
      return await connectOnce(host, port, Math.max(500, Math.min(3000, deadline - Date.now())));
    } catch (e) {
      last = e.code || e.message;
      await sleep(200);
    }
  }
  fail(`${what}: nothing accepted a TCP connection at ${host}:${port} within ${Math.round(timeoutMs() / 1000)} s (last error: ${last})`);
}

/** Newline-delimited messages from a socket. */
export function onLines(sock, fn) {
  let buf = '';
  sock.setEncoding('utf8');
  sock.on('data', (chunk) => {
    buf += chunk;
    let i;
    while ((i = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      if (line.trim() !== '') fn(line);
    }
  });
}

export function sendJson(sock, obj) {
  if (!sock.destroyed && sock.writable) sock.write(JSON.stringify(obj) + '\n');
}

export function parseJsonLine(line, from) {
  try {
    return JSON.parse(line);
  } catch {
    fail(`${from} sent a line that is not JSON: ${JSON.stringify(line.slice(0, 200))}`);
  }
}

/** Ends every socket with a last message and waits (≤ 1 s) for it to leave. */
export async function endAll(socks, obj) {
  await Promise.race([
    Promise.all([...socks].map((s) => new Promise((r) => {
      if (s.destroyed || !s.writable) return r();
      s.end(JSON.stringify(obj) + '\n', r);
    }))),
    sleep(1000),
  ]);
}

function request(method, url, body, ms) {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const data = body === undefined ? undefined : JSON.stringify(body);
    const req = http.request(
      { method, hostname: u.hostname, port: u.port || 80, path: u.pathname + u.search, timeout: ms, headers: data ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(data) } : {} },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c) => (text += c));
        res.on('end', () => resolve({ status: res.statusCode, body: text }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(Object.assign(new Error('timeout'), { code: 'ETIMEDOUT' })));
    req.on('error', reject);
    req.end(data);
  });
}

export const httpGet = (url, ms = 3000) => request('GET', url, undefined, ms);
export const httpPost = (url, body, ms = 15000) => request('POST', url, body, ms);

/** Polls GET url until 200 or `deadline`; fails loudly after it. Returns the body. */
export async function waitHttp200(url, deadline, what) {
  let last = '';
  while (Date.now() < deadline) {
    try {
      const r = await httpGet(url, Math.max(500, Math.min(3000, deadline - Date.now())));
      if (r.status === 200) return r.body;
      last = `HTTP ${r.status}`;
    } catch (e) {
      last = e.code || e.message;
    }
    await sleep(250);
  }
  fail(`${what}: GET ${url} did not answer 200 within ${Math.round(timeoutMs() / 1000)} s (last: ${last})`);
}

/** `http://host:port` plus an optional exact path; fails loudly otherwise. */
export function parseHttpUrl(url, what, wantPath) {
  const m = /^http:\/\/([^/:\s]+):(\d+)(\/[^\s]*)?$/.exec(url);
  if (!m) fail(`${what}: "${url}" is not http://<host>:<port>${wantPath ?? ''}`);
  const urlPath = m[3] ?? '';
  if (wantPath !== undefined && urlPath !== wantPath) fail(`${what}: "${url}" must end in "${wantPath}" (got path "${urlPath || '(none)'}")`);
  return { host: m[1], port: portValue(m[2], `${what} port`), path: urlPath, origin: `http://${m[1]}:${m[2]}` };
}

export function json(res, status, obj) {
  const text = JSON.stringify(obj);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

export function readBody(req) {
  return new Promise((resolve) => {
    let text = '';
    req.setEncoding('utf8');
    req.on('data', (c) => (text += c));
    req.on('end', () => resolve(text));
    req.on('error', () => resolve(text));
  });
}

// ---------------------------------------------------------------------------------------------------
// Hugging Face cache (node.sh: one download into HF_HOME, then every process runs with HF_HUB_OFFLINE=1)

export function hfModelDir(home, model) {
  return path.join(home, 'hub', `models--${model.replace(/\//g, '--')}`);
}

/** huggingface_hub: HF_HOME, else ~/.cache/huggingface. */
export function hfHome() {
  return process.env.HF_HOME || path.join(os.homedir(), '.cache', 'huggingface');
}

const truthy = (v) => ['1', 'ON', 'YES', 'TRUE'].includes(String(v ?? '').toUpperCase());
/** huggingface_hub constants: HF_HUB_OFFLINE (datasets also honours HF_DATASETS_OFFLINE). */
export const hubOffline = () => truthy(process.env.HF_HUB_OFFLINE);
export const datasetsOffline = () => hubOffline() || truthy(process.env.HF_DATASETS_OFFLINE);

/**
 * With HF_HUB_OFFLINE=1 the model must already be in the hub cache (vLLM / transformers load it with
 * local_files_only; prime-rl's trainer/model.py:72-91 snapshot_download fails offline without it).
 */
export function checkModelCached(model) {
  if (!hubOffline()) return;
  const home = hfHome();
  const dir = hfModelDir(home, model);
  if (!fs.existsSync(path.join(dir, 'snapshots', 'standin', 'config.json'))) {
    fail(`HF_HUB_OFFLINE=1 and ${model} is not in HF_HOME=${home} (no ${dir}): huggingface_hub.errors.LocalEntryNotFoundError: Cannot find the requested files in the disk cache and outgoing traffic has been disabled`);
  }
}

/** datasets' cache: HF_DATASETS_CACHE, else $HF_HOME/datasets. */
export function datasetsCache() {
  return process.env.HF_DATASETS_CACHE || path.join(hfHome(), 'datasets');
}

/**
 * A taskset's dataset, as `datasets.load_dataset` gets it (verifiers tasksets load their own data; the
 * orchestrator in orchestrator/envs.py:75-81 — vf.load_taskset + list(taskset) — and the env server
 * both do). Stand-in cache entry: <datasets cache>/standin___<taskset id>/dataset_info.json. Offline
 * without it → fails as `datasets` does; online → "downloads" (writes the entry).
 */
export function loadTasksetDataset(taskset) {
  const dir = path.join(datasetsCache(), `standin___${taskset.replace(/[^\w.-]/g, '_')}`);
  const marker = path.join(dir, 'dataset_info.json');
  if (fs.existsSync(marker)) return info(`dataset of taskset ${taskset} loaded from the cache ${dir}`);
  if (datasetsOffline()) {
    fail(`taskset ${taskset}: datasets.load_dataset failed offline: ConnectionError: Couldn't reach 'standin/${taskset}' on the Hub (offline mode is enabled) — no cached dataset under ${datasetsCache()}`);
  }
  try {
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(marker, JSON.stringify({ taskset, host: ctx.host }) + '\n');
  } catch (e) {
    fail(`taskset ${taskset}: cannot write the datasets cache ${dir}: ${e.code || e.message}`);
  }
  info(`dataset of taskset ${taskset} downloaded into ${dir}`);
}

/** PRL_RUN_NAME (prime-rl's launcher sets it for every process, entrypoints/rl.py; env servers read it, entrypoints/env_server.py:22). */
export function checkRunName() {
  if (!process.env.PRL_RUN_NAME) fail('PRL_RUN_NAME is not set: prime-rl\'s launcher gives every process PRL_RUN_ID and PRL_RUN_NAME (sandbox labels, entrypoints/env_server.py:22); rlstack must pass them too');
}

// ---------------------------------------------------------------------------------------------------
// prime-rl dir, fake GPUs

export function primeRlDir() {
  const dir = process.env.RLSTACK_STANDIN_PRIME_RL_DIR;
  if (!dir) fail('RLSTACK_STANDIN_PRIME_RL_DIR is not set: run the stand-ins through <prime-rl dir>/bin/uv (make-prime-rl.mjs)');
  return dir;
}

/** GPUs of this host: <prime-rl dir>/fake-gpus/<hostname>, else RLSTACK_FAKE_GPUS, else 8. */
export function gpuCount(dir = process.env.RLSTACK_STANDIN_PRIME_RL_DIR) {
  const parseCount = (raw, from) => {
    const s = String(raw).trim();
    if (!/^\d+$/.test(s)) fail(`${from} holds "${s}", not a GPU count`);
    return Number(s);
  };
  if (dir) {
    const file = path.join(dir, 'fake-gpus', ctx.host);
    if (fs.existsSync(file)) return parseCount(fs.readFileSync(file, 'utf8'), file);
  }
  if (process.env.RLSTACK_FAKE_GPUS !== undefined && process.env.RLSTACK_FAKE_GPUS !== '') return parseCount(process.env.RLSTACK_FAKE_GPUS, 'RLSTACK_FAKE_GPUS');
  return 8;
}

/** CUDA_VISIBLE_DEVICES must list exactly `expected` distinct ids of GPUs this host has. */
export function checkCudaDevices(expected, why) {
  const raw = process.env.CUDA_VISIBLE_DEVICES;
  if (raw === undefined) fail(`CUDA_VISIBLE_DEVICES is not set; expected ${expected} GPU ids (${why})`);
  const ids = raw.split(',').map((s) => s.trim());
  if (raw.trim() === '' || ids.some((s) => !/^\d+$/.test(s))) fail(`CUDA_VISIBLE_DEVICES="${raw}" is not a comma-separated list of GPU indices`);
  const nums = ids.map(Number);
  if (new Set(nums).size !== nums.length) fail(`CUDA_VISIBLE_DEVICES="${raw}" lists a GPU twice`);
  if (nums.length !== expected) fail(`CUDA_VISIBLE_DEVICES="${raw}" lists ${nums.length} GPUs, expected ${expected} (${why})`);
  const have = gpuCount();
  const bad = nums.filter((n) => n >= have);
  if (bad.length) fail(`CUDA_VISIBLE_DEVICES="${raw}" names GPU ${bad.join(', ')}, but ${ctx.host} has ${have} GPUs (0..${have - 1})`);
  return nums;
}

function procStart(pid) {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

/**
 * Claims GPUs of this host for this process (<prime-rl dir>/.standin/gpus/<host>/<id>, O_EXCL): two live
 * stand-ins on one host holding the same GPU is an error (claims of dead processes are taken over).
 */
export function claimGpus(ids, what) {
  const dir = path.join(primeRlDir(), '.standin', 'gpus', ctx.host);
  fs.mkdirSync(dir, { recursive: true });
  const mine = `${process.pid} ${procStart(process.pid)} ${ctx.program} ${what}`;
  const held = [];
  onCleanup(() => {
    for (const f of held) {
      try {
        if (fs.readFileSync(f, 'utf8') === mine) fs.unlinkSync(f);
      } catch {
        /* gone */
      }
    }
  });
  for (const id of ids) {
    const file = path.join(dir, String(id));
    for (let attempt = 0; ; attempt++) {
      try {
        fs.writeFileSync(file, mine, { flag: 'wx' });
        held.push(file);
        break;
      } catch (e) {
        if (e.code !== 'EEXIST' || attempt > 3) fail(`cannot claim GPU ${id}: ${e.code || e.message}`);
        let owner = '';
        try {
          owner = fs.readFileSync(file, 'utf8');
        } catch {
          continue;
        }
        const [pid, start, ...rest] = owner.split(' ');
        if (pid && procStart(pid) !== undefined && procStart(pid) === start) {
          fail(`GPU ${id} of ${ctx.host} is already in use by pid ${pid} (${rest.join(' ')}); two processes were given the same GPU`);
        }
        try {
          fs.unlinkSync(file);
        } catch {
          /* raced */
        }
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------------
// TCP rendezvous (torchrun c10d-like; also vLLM's data-parallel group)

/**
 * Rank 0 binds 0.0.0.0:port at once (call `bindRendezvous` early to catch port clashes), then
 * `rendezvous` runs the exchange: ranks ≠ 0 connect (retrying until the deadline) and send
 * {rank, id, nnodes, nproc, host}; rank 0 checks that ranks 0..nnodes-1 arrive exactly once with the same
 * id/nnodes/nproc, then releases everyone. Any mismatch (also a late or extra join) aborts every rank loudly.
 * After the release a lost peer connection is only reported (processes are stopped by their node).
 */
export async function bindRendezvous(port, label) {
  const server = net.createServer();
  // Peers may connect before `rendezvous` runs: keep them (paused sockets buffer their data).
  server.pending = [];
  server.on('connection', (sock) => {
    sock.on('error', () => {});
    server.pending.push(sock);
  });
  await listen(server, port, '0.0.0.0', `${label} rendezvous (rank 0)`);
  return server;
}

export async function rendezvous({ label, server, host, port, rank, nnodes, id, nproc }) {
  const deadline = Date.now() + timeoutMs();
  const me = { rank, id, nnodes, nproc, host: ctx.host, pid: process.pid };
  if (rank === 0) return rendezvousHost({ label, server, nnodes, me, deadline });
  return rendezvousJoin({ label, host, port, me, deadline });
}

function rendezvousHost({ label, server, nnodes, me, deadline }) {
  return new Promise((resolve) => {
    const members = new Map([[0, me]]);
    const socks = new Set();
    let released = false;
    let aborting = false;
    const abort = async (message) => {
      if (aborting) return;
      aborting = true;
      await endAll(socks, { type: 'abort', message });
      fail(`${label} rendezvous failed: ${message}`);
    };
    const release = () => {
      released = true;
      clearTimeout(timer);
      const list = [...members.values()].sort((a, b) => a.rank - b.rank);
      for (const s of socks) sendJson(s, { type: 'release', members: list });
      info(`${label} rendezvous complete: ${list.length} member(s), ranks 0..${nnodes - 1} on ${list.map((m) => m.host).join(', ')}`);
      resolve({ members: list });
    };
    const timer = setTimeout(() => {
      const missing = [...Array(nnodes).keys()].filter((r) => !members.has(r));
      abort(`ranks ${missing.join(', ')} did not join within ${Math.round(timeoutMs() / 1000)} s`);
    }, Math.max(0, deadline - Date.now()));
    const handle = (sock) => {
      socks.add(sock);
      sock.on('error', () => {});
      let joined;
      onLines(sock, (line) => {
        const m = parseJsonLine(line, `${label} rendezvous peer`);
        if (joined !== undefined) return;
        joined = m;
        const who = `node rank ${JSON.stringify(m.rank)} (host ${m.host}, pid ${m.pid})`;
        if (m.id !== me.id) return abort(`${who} joined with rdzv id "${m.id}", rank 0 (host ${me.host}) has "${me.id}"`);
        if (m.nnodes !== me.nnodes) return abort(`${who} says nnodes=${m.nnodes}, rank 0 (host ${me.host}) says nnodes=${me.nnodes}`);
        if (m.nproc !== me.nproc) return abort(`${who} runs ${m.nproc} processes per node, rank 0 runs ${me.nproc}`);
        if (!Number.isInteger(m.rank) || m.rank < 0 || m.rank >= nnodes) return abort(`${who} is outside 0..${nnodes - 1}`);
        if (members.has(m.rank)) {
          const other = members.get(m.rank);
          return abort(`node rank ${m.rank} joined twice (host ${other.host} pid ${other.pid}, and host ${m.host} pid ${m.pid})`);
        }
        if (released) return abort(`${who} joined after the rendezvous had completed with ranks 0..${nnodes - 1}`);
        members.set(m.rank, m);
        if (members.size === nnodes) release();
      });
      sock.on('close', () => {
        socks.delete(sock);
        if (aborting || ctx.stopping) return;
        if (joined && members.get(joined.rank) === joined) {
          if (!released) abort(`node rank ${joined.rank} (host ${joined.host}) left before the rendezvous completed`);
          else info(`${label}: lost connection to node rank ${joined.rank} (host ${joined.host})`);
        }
      });
    };
    server.removeAllListeners('connection');
    server.on('connection', handle);
    for (const sock of server.pending.splice(0)) handle(sock);
    if (members.size === nnodes) release();
  });
}

async function rendezvousJoin({ label, host, port, me, deadline }) {
  const sock = await connectRetry(host, port, deadline, `${label} rendezvous endpoint`);
  sock.on('error', () => {});
  onCleanup(() => sock.destroy());
  return new Promise((resolve) => {
    let released = false;
    const timer = setTimeout(() => fail(`${label} rendezvous at ${host}:${port} did not complete within ${Math.round(timeoutMs() / 1000)} s`), Math.max(0, deadline - Date.now()));
    onLines(sock, (line) => {
      const m = parseJsonLine(line, `${label} rendezvous host`);
      if (m.type === 'abort') fail(`${label} rendezvous aborted by rank 0 at ${host}:${port}: ${m.message}`);
      if (m.type === 'release' && !released) {
        released = true;
        clearTimeout(timer);
        info(`${label} rendezvous complete: node rank ${me.rank} of ${me.nnodes}, rank 0 at ${host}:${port}`);
        resolve({ members: m.members });
      }
    });
    sock.on('close', () => {
      if (ctx.stopping) return;
      if (!released) fail(`${label} rendezvous endpoint ${host}:${port} closed the connection before the rendezvous completed (is it really rank 0?)`);
      info(`${label}: lost connection to rank 0 at ${host}:${port}`);
    });
    sendJson(sock, me);
  });
}

/** The first JSON line a stand-in server sends on a new connection (its hello), or undefined; closes the socket. */
export async function readHello(sock, ms = 5000) {
  const hello = await new Promise((resolve) => {
    const t = setTimeout(() => resolve(undefined), ms);
    sock.on('error', () => {});
    onLines(sock, (line) => {
      clearTimeout(t);
      try {
        resolve(JSON.parse(line));
      } catch {
        resolve(undefined);
      }
    });
    sock.on('close', () => resolve(undefined));
  });
  sock.destroy();
  return hello;
}
