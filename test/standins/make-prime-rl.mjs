// `node make-prime-rl.mjs <dir>`: a fake prime-rl checkout for integration tests — a git repo with one
// commit (its hash is printed on stdout), .venv/, pyproject.toml, bin/uv and bin/nvidia-smi (stand-ins).
// Put <dir>/bin first on PATH. See test/standins/README.md.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const NODE = fs.existsSync('/usr/bin/node') ? '/usr/bin/node' : process.execPath;

function die(message) {
  fs.writeSync(2, `STAND-IN ERROR: make-prime-rl: ${message}\n`);
  process.exit(2);
}

const target = process.argv[2];
if (!target || process.argv.length !== 3) die('usage: node make-prime-rl.mjs <dir>');
const dir = path.resolve(target);
if (fs.existsSync(dir) && fs.readdirSync(dir).length > 0) die(`${dir} exists and is not empty`);

const q = (s) => `'${s.replace(/'/g, `'\\''`)}'`;
const wrapper = (script) => `#!/usr/bin/env bash
# rlstack test stand-in (test/standins/README.md); runs ${script} with Node.
here="$(cd "$(dirname "\${BASH_SOURCE[0]}")/.." && pwd -P)"
export RLSTACK_STANDIN_PRIME_RL_DIR="$here"
exec ${q(NODE)} --no-warnings ${q(path.join(HERE, script))} "$@"
`;

const files = {
  'pyproject.toml': `[project]
name = "prime-rl"
version = "0.0.0+rlstack.standin"
description = "Fake prime-rl checkout for rlstack integration tests (test/standins)"
requires-python = ">=3.12"

[project.scripts]
inference = "prime_rl.entrypoints.inference:main"
orchestrator = "prime_rl.orchestrator.orchestrator:main"
env-server = "prime_rl.entrypoints.env_server:main"
`,
  'README.md': 'Fake prime-rl checkout made by rlstack test/standins/make-prime-rl.mjs. `bin/uv` runs the stand-ins.\n',
  'src/prime_rl/__init__.py': '',
  '.gitignore': '.venv/\nfake-gpus/\n.standin/\nstandin.env\n',
  '.venv/pyvenv.cfg': 'home = /usr/bin\ninclude-system-site-packages = false\nversion = 3.12.0\n',
  'bin/uv': wrapper('uv.mjs'),
  'bin/nvidia-smi': wrapper('nvidia-smi.mjs'),
  'bin/docker': wrapper('docker.mjs'),
};
for (const [name, text] of Object.entries(files)) {
  fs.mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
  fs.writeFileSync(path.join(dir, name), text);
}
fs.chmodSync(path.join(dir, 'bin/uv'), 0o755);
fs.chmodSync(path.join(dir, 'bin/nvidia-smi'), 0o755);
fs.chmodSync(path.join(dir, 'bin/docker'), 0o755);
fs.mkdirSync(path.join(dir, 'fake-gpus'), { recursive: true });
// The venv's console scripts `uv run --no-sync <program>` finds (uv.mjs refuses a program that is not
// here, as uv does). vllm-router is there as if prime-rl had been synced with its `disagg` extra; delete
// .venv/bin/vllm-router to model a checkout without it (rlstack's node check looks for that file).
for (const program of ['inference', 'orchestrator', 'env-server', 'torchrun', 'hf', 'vllm-router']) {
  const file = path.join(dir, '.venv', 'bin', program);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, `#!/bin/sh\necho "rlstack stand-in: run '${program}' through <prime-rl>/bin/uv run --no-sync" >&2\nexit 2\n`);
  fs.chmodSync(file, 0o755);
}

const env = {
  ...process.env,
  GIT_AUTHOR_NAME: 'rlstack tests',
  GIT_AUTHOR_EMAIL: 'tests@rlstack.invalid',
  GIT_COMMITTER_NAME: 'rlstack tests',
  GIT_COMMITTER_EMAIL: 'tests@rlstack.invalid',
  GIT_AUTHOR_DATE: '2026-08-21T00:00:00Z',
  GIT_COMMITTER_DATE: '2026-08-21T00:00:00Z',
  GIT_CONFIG_NOSYSTEM: '1',
  GIT_CONFIG_GLOBAL: '/dev/null',
};
const git = (...args) => execFileSync('git', ['-C', dir, '-c', 'commit.gpgsign=false', '-c', 'init.defaultBranch=main', ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] }).toString().trim();
try {
  git('init', '-q');
  git('add', '-A');
  git('commit', '-q', '-m', 'fake prime-rl for rlstack tests');
  process.stdout.write(git('rev-parse', 'HEAD') + '\n');
} catch (e) {
  die(`git failed: ${e.stderr ? e.stderr.toString().trim() : e.message}`);
}
