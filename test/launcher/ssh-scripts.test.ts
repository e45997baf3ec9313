/**
 * The scripts the SSH back end sends to every node (on the channel's stdin): shellcheck-clean, and every
 * interpolated value — paths, run ids, secrets — arrives intact with hostile strings. Run here with bash,
 * exactly as a node's `bash -s` would.
 */
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startScript } from '../../src/launcher/ssh/backend.js';
import { sweepScript } from '../../src/launcher/sweep.js';
import { preflightScript } from '../../src/launcher/ssh/preflight.js';
import { loginScript } from '../../src/launcher/slurm.js';
import { shQuote } from '../../src/runtime/shell.js';
import { HOSTILE, workspace } from '../helpers.js';

const ODD = "odd 'dir' $(touch pwned) `id` ; *";

/** Runs a script as a node's `bash -s` would; in `cwd`, so a command smuggled in by a value (`touch pwned`) leaves its mark there. */
function bash(script: string, cwd = process.cwd()) {
  return spawnSync('bash', ['-s'], { input: script, encoding: 'utf8', cwd });
}

describe('remote scripts', () => {
  it('pass shellcheck', () => {
    const found = spawnSync('shellcheck', ['--version']);
    if (found.error) {
      expect(process.env['CI'], 'shellcheck must be installed in CI (.ci/run)').toBeUndefined();
      return;
    }
    const scripts = {
      start: startScript({ path: ['/opt/x y'], vars: { A: 'b', SECRET: "it's" }, nodeSh: '/r/launcher/node.sh', out: '/r/logs/n.out', pidFile: '/r/state/pids/n' }),
      sweep: sweepScript('/r', 'rid', false),
      sweepKill: sweepScript('/r', 'rid', true),
      slurmLogin: loginScript(['sbatch', '--parsable', '/r/launcher/slurm/job.sbatch'], { WANDB_API_KEY: "it's" }, ['/opt/x y']),
      preflight: preflightScript({ runDir: '/r', token: 't', tokenFile: '/r/.t', primeRl: '/p', revision: 'abc', ports: [8000, 29500], gpus: 8, path: ['/opt/bin'] }),
    };
    for (const [name, text] of Object.entries(scripts)) {
      const r = spawnSync('shellcheck', ['-s', 'bash', '-'], { input: text, encoding: 'utf8' });
      expect(r.stdout, name).toBe('');
      expect(r.status, name).toBe(0);
    }
  });

  it('start: node.sh at a hostile path starts detached with every variable (secrets included) exactly as given', async () => {
    const dir = workspace({});
    const base = join(dir, ODD);
    mkdirSync(base, { recursive: true });
    const nodeSh = join(base, 'node.sh');
    const seen = join(base, 'seen.json');
    writeFileSync(nodeSh, `node -e 'require("fs").writeFileSync(process.argv[1], JSON.stringify(Object.fromEntries(Object.entries(process.env).filter(([k]) => k.startsWith("V_")))))' ${shQuote(seen)}\n`);
    chmodSync(nodeSh, 0o755);
    const vars = Object.fromEntries(HOSTILE.map((v, i) => [`V_${i}`, v]));
    const r = bash(startScript({ path: [], vars, nodeSh, out: join(base, 'node.out'), pidFile: join(base, 'pid') }), dir);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^started \d+\n$/);
    for (let i = 0; i < 100 && !existsSync(seen); i++) await new Promise((ok) => setTimeout(ok, 50));
    expect(JSON.parse(readFileSync(seen, 'utf8'))).toEqual(vars);
    expect(readFileSync(join(base, 'pid'), 'utf8').trim()).toBe(r.stdout.split(' ')[1]!.trim());
    expect(existsSync(join(dir, 'pwned')) || existsSync('/tmp/pwned')).toBe(false);
  });

  it('sweep: finds and kills exactly the processes carrying the run id (compared as a string, not a pattern)', async () => {
    const tag = String(process.pid);
    const id = `run.${tag} $(x) [a]*`;
    const lookalike = `runx${tag} $(x) [a]*`; // would match if the id were a regex
    const mine = spawn('sleep', ['30'], { env: { ...process.env, RLSTACK_RUN_ID: id }, stdio: 'ignore' });
    const other = spawn('sleep', ['31'], { env: { ...process.env, RLSTACK_RUN_ID: lookalike }, stdio: 'ignore' });
    try {
      await new Promise((ok) => setTimeout(ok, 100));
      const listed = bash(sweepScript('/nonexistent/run dir', id, false));
      expect(listed.status, listed.stderr).toBe(0);
      expect(listed.stdout).toBe(`${mine.pid} sleep 30 \n`);
      const killed = bash(sweepScript('/nonexistent/run dir', id, true));
      expect(killed.stdout).toBe(`K ${mine.pid} sleep 30 \n`);
      await new Promise((ok) => setTimeout(ok, 100));
      expect(mine.exitCode !== null || mine.signalCode !== null).toBe(true);
      expect(other.exitCode).toBeNull();
    } finally {
      mine.kill('SIGKILL');
      other.kill('SIGKILL');
    }
    // The sweep reads every process's environment: on a loaded 2-core machine (test files run in parallel)
    // two sweeps took over vitest's default 5 s in CI. A correctness test, not a timing one.
  }, 60_000);

  it('preflight: host memory is the cgroup limit of the session when it is below MemTotal (a container, a slice)', () => {
    // A real memory cgroup with a 2 GiB limit (root; v1's memory controller as on this machine, or v2).
    const v1 = '/sys/fs/cgroup/memory';
    const v2 = '/sys/fs/cgroup';
    const [root, file] = existsSync(join(v1, 'memory.limit_in_bytes')) ? [v1, 'memory.limit_in_bytes'] : [v2, 'memory.max'];
    const group = join(root, `rlstack-test-${process.pid}`);
    try {
      mkdirSync(group);
    } catch (e) {
      expect(process.env['CI'], `CI runs as root and must be able to make a memory cgroup: ${(e as Error).message}`).toBeUndefined();
      return;
    }
    try {
      writeFileSync(join(group, file), String(2 * 1024 ** 3));
      const dir = workspace({});
      const script = preflightScript({ runDir: dir, token: 't', tokenFile: join(dir, 't'), primeRl: dir, revision: 'x', ports: [], gpus: 0, path: [] });
      // The shell joins the cgroup, then runs the script as a node's `bash -s` would.
      const r = spawnSync('bash', ['-c', `echo $$ > ${shQuote(join(group, 'cgroup.procs'))} && exec bash -s`], { input: script, encoding: 'utf8' });
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout).toMatch(/^memory\tok\t2\.0$/m);
      const free = bash(script);
      expect(Number(/^memory\tok\t([\d.]+)$/m.exec(free.stdout)![1])).toBeGreaterThan(2);
    } finally {
      spawnSync('rmdir', [group]);
    }
  });

  it('Slurm on a login node: the command gets the secrets in its environment and its words intact, PATH first', () => {
    const dir = workspace({});
    const bin = join(dir, ODD);
    mkdirSync(bin, { recursive: true });
    writeFileSync(join(bin, 'sbatch'), '#!/bin/bash\nprintf "%s\\n" "$@"; printf "SECRET=%s\\n" "$SECRET_0"\n');
    chmodSync(join(bin, 'sbatch'), 0o755);
    for (const value of HOSTILE) {
      const r = bash(loginScript(['sbatch', value, '--x'], { SECRET_0: value }, [bin]), dir);
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout, JSON.stringify(value)).toBe(`${value}\n--x\nSECRET=${value}\n`);
    }
    expect(existsSync(join(dir, 'pwned'))).toBe(false);
  });

  it('preflight: reports each check for hostile paths, and sees a busy port', async () => {
    const dir = workspace({});
    const runDir = join(dir, ODD, 'run');
    const primeRl = join(dir, ODD, 'prime-rl');
    mkdirSync(runDir, { recursive: true });
    mkdirSync(primeRl, { recursive: true });
    writeFileSync(join(runDir, '.token'), 'tok');
    const server = (await import('node:net')).createServer().listen(0, '127.0.0.1');
    await new Promise((ok) => server.once('listening', ok));
    const busy = (server.address() as { port: number }).port;
    try {
      const r = bash(preflightScript({ runDir, token: 'tok', tokenFile: join(runDir, '.token'), primeRl, revision: 'abc', ports: [busy], gpus: 0, path: [] }), dir);
      expect(r.status, r.stderr).toBe(0);
      const rows = Object.fromEntries(r.stdout.trim().split('\n').map((l) => { const [check, result, detail] = l.split('\t'); return [check, { result, detail }]; }));
      expect(rows['shared']).toEqual({ result: 'ok', detail: `read the launcher's token in ${runDir}` });
      expect(rows['prime-rl']).toEqual({ result: 'FAIL', detail: `${primeRl} has no .venv (uv sync it once)` });
      expect(rows['ports']).toEqual({ result: 'FAIL', detail: `in use: ${busy}` });
      expect(Number(rows['memory']!.detail)).toBeGreaterThan(0);
      expect(Number(rows['disk']!.detail)).toBeGreaterThan(0);
      expect(existsSync(join(dir, 'pwned'))).toBe(false);
    } finally {
      server.close();
    }
  });
});
