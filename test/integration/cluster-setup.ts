/**
 * Each integration suite gets a freshly started cluster (`cluster.sh up` tears down any earlier one first),
 * so what one suite does to the nodes (a frozen sshd, a link taken down) never leaks into the next.
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll } from 'vitest';
import { killLeftovers } from './leftovers.js';

const script = fileURLToPath(new URL('../cluster/cluster.sh', import.meta.url));

export function useFreshCluster(nodes = 8, cpuNodes = 2): void {
  beforeAll(() => {
    execFileSync('bash', [script, 'up', '--nodes', String(nodes), '--cpu-nodes', String(cpuNodes)], { stdio: 'inherit' });
  }, 120_000);
  afterAll(() => {
    killLeftovers();
    execFileSync('bash', [script, 'down'], { stdio: 'inherit' });
  }, 120_000);
}
