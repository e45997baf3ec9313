/**
 * Back end `local`: node.sh of the single node on this machine, detached so the run survives the
 * launcher (stop it with rlstack stop).
 */
import { spawn } from 'node:child_process';
import { openSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createAttempt, runId } from './run-dir.js';

export interface LocalStart {
  attempt: number;
  pid: number;
  /** Why node.sh is gone, or undefined while it runs (it is our child: a zombie counts as gone). */
  gone(): string | undefined;
}

export function startLocal(runDir: string, artifactsDir: string, secrets: Record<string, string>, baseEnv: NodeJS.ProcessEnv = process.env): LocalStart {
  const attempt = createAttempt(runDir);
  const stateDir = join(runDir, 'state', `attempt_${attempt}`);
  writeFileSync(join(stateDir, 'hosts'), 'localhost\n');
  const out = openSync(join(runDir, 'logs', `attempt_${attempt}`, 'launcher-local.log'), 'a');
  const env: NodeJS.ProcessEnv = { ...baseEnv, ...secrets, RLSTACK_NODE_INDEX: '0', RLSTACK_ATTEMPT: String(attempt), RLSTACK_RUN_ID: runId(runDir) };
  const child = spawn('bash', [join(artifactsDir, 'node.sh')], { detached: true, stdio: ['ignore', out, out], env });
  let exit: string | undefined;
  child.on('exit', (code, signal) => (exit = `node.sh exited (${signal ?? `code ${code}`})`));
  child.unref();
  writeFileSync(join(stateDir, 'local_pid'), String(child.pid));
  return { attempt, pid: child.pid!, gone: () => exit };
}

export function localAlive(pid: number): string | undefined {
  try {
    process.kill(pid, 0);
    return undefined;
  } catch {
    return `node.sh (pid ${pid}) has exited`;
  }
}
