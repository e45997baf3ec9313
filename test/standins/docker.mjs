// Stand-in `docker` CLI (no Docker engine on the test machines): just what verifiers' docker runtime and
// rlstack's node.sh use — `version`, `run --detach`, `ps -aq [--filter label=k=v]`, `rm -f` — on a per-host
// registry under <prime-rl>/.standin/docker/<host>/. A box is a real process in its own session, outside
// the caller's process group and environment (as a container is dockerd's child, not the env server's),
// with `standin-docker-box <name> <host>` on its command line so tests can see what is left.
// Anything else fails loudly.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { ctx, fail, say } from './lib.mjs';

ctx.program = 'docker';

function registry() {
  const root = process.env.RLSTACK_STANDIN_PRIME_RL_DIR;
  if (!root) fail('RLSTACK_STANDIN_PRIME_RL_DIR is not set (run me through <prime-rl>/bin/docker)');
  const dir = path.join(root, '.standin', 'docker', ctx.host);
  fs.mkdirSync(dir, { recursive: true });
  return dir;
}

/** Every box created and removed on this host, one JSON line each (tests read it after the boxes are gone). */
function journal(entry) {
  fs.appendFileSync(path.join(registry(), 'journal.jsonl'), `${JSON.stringify(entry)}\n`);
}

function boxes() {
  const dir = registry();
  return fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .map((f) => JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8')));
}

function run(args) {
  const o = { labels: {}, env: [], detach: false, name: undefined, entrypoint: undefined };
  let i = 0;
  const value = (flag) => {
    if (i + 1 >= args.length) fail(`docker run ${flag} needs a value`);
    return args[++i];
  };
  for (; i < args.length && args[i].startsWith('-'); i++) {
    const a = args[i];
    if (a === '--detach' || a === '-d') o.detach = true;
    else if (a === '--name') o.name = value(a);
    else if (a === '--entrypoint') o.entrypoint = value(a);
    else if (a === '--label' || a === '-l') {
      const [k, ...v] = value(a).split('=');
      o.labels[k] = v.join('=');
    } else if (a === '--env' || a === '-e') o.env.push(value(a));
    else if (['--cpus', '--memory', '--network', '--gpus', '--cap-drop', '--dns', '--add-host'].includes(a)) value(a);
    else fail(`docker run: unknown option ${a} (the stand-in knows verifiers' docker runtime's options)`);
  }
  const image = args[i];
  if (!image) fail('docker run: no image');
  if (!o.detach) fail('docker run without --detach: verifiers always detaches its boxes');
  if (!o.name || !/^[0-9a-f]{32}$/.test(o.name)) fail(`docker run --name ${JSON.stringify(o.name)}: verifiers names a box by its 32-hex trace id`);
  if (boxes().some((b) => b.name === o.name)) fail(`docker run: the name ${o.name} is already in use on ${ctx.host}`);
  const id = randomBytes(32).toString('hex');
  const child = spawn('bash', ['-c', 'while :; do sleep 3600; done', 'standin-docker-box', o.name, ctx.host], { detached: true, stdio: 'ignore', env: { PATH: '/usr/bin:/bin' } });
  child.unref();
  const box = { id, name: o.name, image, labels: o.labels, pid: child.pid, entrypoint: o.entrypoint ?? null, command: args.slice(i + 1) };
  fs.writeFileSync(path.join(registry(), `${id}.json`), `${JSON.stringify(box)}\n`);
  journal({ event: 'run', name: o.name, labels: o.labels });
  say(id);
}

function ps(args) {
  let all = false;
  let quiet = false;
  const filters = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === '-a' || a === '--all') all = true;
    else if (a === '-q' || a === '--quiet') quiet = true;
    else if (a === '-aq' || a === '-qa') all = quiet = true;
    else if (a === '--filter' || a === '-f') {
      const f = args[++i] ?? '';
      const m = /^label=([^=]+)=(.*)$/.exec(f);
      if (!m) fail(`docker ps --filter ${JSON.stringify(f)}: the stand-in knows only label=<key>=<value>`);
      filters.push([m[1], m[2]]);
    } else fail(`docker ps: unknown option ${a}`);
  }
  if (!all || !quiet) fail('docker ps: the stand-in answers only -aq (ids of all containers)');
  for (const b of boxes()) if (filters.every(([k, v]) => b.labels[k] === v)) say(b.id.slice(0, 12));
}

function rm(args) {
  const force = args.some((a) => a === '-f' || a === '--force');
  const targets = args.filter((a) => !a.startsWith('-'));
  if (!force) fail('docker rm without --force: verifiers and rlstack always force');
  if (targets.length === 0) fail('docker rm: no container named');
  let missing = 0;
  for (const t of targets) {
    const b = boxes().find((x) => x.name === t || x.id.startsWith(t));
    if (!b) {
      process.stderr.write(`Error response from daemon: No such container: ${t}\n`);
      missing++;
      continue;
    }
    try {
      process.kill(-b.pid, 'SIGKILL');
    } catch {
      /* already gone */
    }
    fs.rmSync(path.join(registry(), `${b.id}.json`), { force: true });
    journal({ event: 'rm', name: b.name, labels: b.labels });
    say(t);
  }
  if (missing) process.exit(1);
}

const [command, ...rest] = process.argv.slice(2);
if (command === 'version') say('Client: stand-in 0.0 (rlstack tests)\nServer: stand-in 0.0');
else if (command === 'run') run(rest);
else if (command === 'ps') ps(rest);
else if (command === 'rm') rm(rest);
else fail(`docker ${JSON.stringify(command ?? '')} is not something the stand-in does (version, run, ps, rm)`);
