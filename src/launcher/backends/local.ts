/**
 * Back end `local`: node.sh of the single node on this machine, detached so the run survives the launcher
 * (rlstack stop ends it). Handle: `local_pid`.
 */
import { execFileSync, spawn } from 'node:child_process';
import { openSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Backend, BackendView, DryRunOutcome, DryRunRequest, Handle, StartContext, StartOutcome, SweepOutcome } from '../backend.js';
import { createAttempt, paths, runId } from '../run-dir.js';
import { parseSweep, sweepScript } from '../sweep.js';
import { shQuote } from '../../runtime/shell.js';

/** Alive and not a zombie: a node.sh killed after its launcher exited waits for init to reap it. */
function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    // /proc/PID/stat: "pid (comm) S …" — comm may hold spaces and parentheses, the state follows the last ')'.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return true; // no procfs: kill(0) is all there is
  }
}

export class LocalBackend implements Backend {
  readonly kind = 'local' as const;

  async check(): Promise<boolean> {
    return true; // node.sh checks this machine itself at start
  }

  async dryRun(request: DryRunRequest): Promise<DryRunOutcome> {
    const secrets = request.secretNames.length ? ` (${request.secretNames.join(', ')} from the launcher's environment)` : '';
    return {
      schedulerAsked: null,
      ok: true,
      commands: [`RLSTACK_NODE_INDEX=0 RLSTACK_ATTEMPT=<attempt> setsid bash ${shQuote(join(request.artifactsDir, 'node.sh'))} > ${shQuote(join(request.runDir, 'logs', 'attempt_<attempt>', 'node-000.local.out'))} 2>&1${secrets}`],
      lines: ['no scheduler to ask: node.sh of node 0 starts on this machine (backend local) and checks it itself'],
      diagnostics: [],
    };
  }

  async start(ctx: StartContext): Promise<StartOutcome> {
    const attempt = createAttempt(ctx.runDir);
    writeFileSync(paths.hosts(ctx.runDir, attempt), 'localhost\n');
    // node.sh's own stream (a copy of node-000.log, and what it says before that file exists): not a .log,
    // so `rlstack logs` does not print every node line twice (the SSH back end's node-NNN.ssh.out likewise).
    const out = openSync(join(paths.attemptLogs(ctx.runDir, attempt), 'node-000.local.out'), 'a');
    const env: NodeJS.ProcessEnv = { ...process.env, ...ctx.secrets, RLSTACK_NODE_INDEX: '0', RLSTACK_ATTEMPT: String(attempt), RLSTACK_RUN_ID: runId(ctx.runDir), RLSTACK_JOB_RUN_DIR: ctx.runDir };
    const child = spawn('bash', [join(ctx.artifactsDir, 'node.sh')], { detached: true, stdio: ['ignore', out, out], env });
    child.unref();
    writeFileSync(paths.localPid(ctx.runDir, attempt), String(child.pid));
    ctx.report.line(`attempt ${attempt}: node.sh started (pid ${child.pid})`);
    return { kind: 'started', handle: { kind: 'local', runDir: ctx.runDir, attempt, pid: child.pid! }, t0: Date.now() };
  }

  async alive(handle: Handle): Promise<string | undefined> {
    const { pid } = handle as Extract<Handle, { kind: 'local' }>;
    return pidAlive(pid) ? undefined : `node.sh (pid ${pid}) has exited`;
  }

  label(): { name: string; nothingLeft: string } {
    return { name: 'local', nothingLeft: 'running' };
  }

  async describe(handle: Handle): Promise<BackendView> {
    const { pid } = handle as Extract<Handle, { kind: 'local' }>;
    const running = pidAlive(pid);
    return { line: `local: node.sh (pid ${pid}) ${running ? 'running' : 'exited'}`, json: { kind: 'local', pid, running }, ...(running ? {} : { gone: `node.sh (pid ${pid}) has exited` }) };
  }

  async cancel(handle: Handle): Promise<void> {
    const { pid } = handle as Extract<Handle, { kind: 'local' }>;
    // node.sh's TERM trap runs its ordered teardown.
    if (pidAlive(pid)) process.kill(pid, 'SIGTERM');
  }

  async sweep(handle: Handle, kill: boolean): Promise<SweepOutcome> {
    const output = execFileSync('bash', ['-s'], { input: sweepScript(handle.runDir, runId(handle.runDir), kill), encoding: 'utf8', timeout: 60_000 });
    const { killed, left } = parseSweep(output, 0, 'localhost');
    return { killed, left, unreachable: [] };
  }

  release(): void {}
  close(): void {}
}
