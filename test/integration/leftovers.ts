/**
 * After a suite: whatever of its runs is still alive (a failed test never reached its stop) is killed, so
 * it cannot hold the planned ports and fail every later suite. Each test still asserts on its own that
 * nothing was left; this only keeps one failure from becoming many.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const STAND_INS = fileURLToPath(new URL('../standins/', import.meta.url));

export function killLeftovers(): number {
  let killed = 0;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    let args: string;
    try {
      args = readFileSync(`/proc/${entry}/cmdline`, 'utf8').replace(/\0/g, ' ');
    } catch {
      continue; // ended while we looked
    }
    if (!args.includes(STAND_INS) && !args.includes('rlstack-guard')) continue;
    try {
      process.kill(Number(entry), 'SIGKILL');
      killed++;
    } catch {
      // gone already
    }
  }
  if (killed) process.stderr.write(`killed ${killed} processes this suite left behind\n`);
  return killed;
}
