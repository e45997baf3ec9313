/** Brings the real sshd + Slurm test cluster up for the integration suites, and down after them. */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const script = fileURLToPath(new URL('../cluster/cluster.sh', import.meta.url));

export function setup(): void {
  execFileSync('bash', [script, 'up', '--nodes', '8', '--cpu-nodes', '2'], { stdio: 'inherit' });
}

export function teardown(): void {
  execFileSync('bash', [script, 'down'], { stdio: 'inherit' });
}
