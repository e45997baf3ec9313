/**
 * What every prime-rl component shares: how it is started (`uv run --no-sync` inside run.prime_rl_dir, so
 * the shared venv is never re-synced), the launcher's env defaults (prime-rl `utils/process.py`) and the
 * precedence of env tables: defaults < [env] < [<role>.env] < what the launcher manages per process.
 */
import type { SecretRole, Spec } from '../../compiler/spec/schema.js';
import { codePointOrder } from '../../order.js';

export const UV_RUN = ['uv', 'run', '--no-sync'] as const;

/**
 * Words node.sh fills in at start (docs/runtime.md): host names are only known inside the allocation, so
 * the plan names a host by its node index and the run's folders by variable.
 */
export const RUNTIME = {
  runId: '${RLSTACK_RUN_ID}',
  logDir: '${RLSTACK_LOG_DIR}',
  artifacts: '${RLSTACK_ARTIFACTS}',
  runDir: '${RLSTACK_RUN_DIR}',
  /** Per node and attempt: artifacts with `${RLSTACK_HOST:N}` words resolved by node.sh (docs/runtime.md). */
  rendered: '${RLSTACK_RENDERED}',
} as const;

/** The host of plan node `node` (global index), e.g. `${RLSTACK_HOST:12}`. */
export function hostOf(node: number): string {
  return `\${RLSTACK_HOST:${node}}`;
}

/**
 * An address of plan node `node` that ZMQ can bind on that node: its IP there (first of `hostname -I`),
 * its host name elsewhere — what prime-rl's template passes as vLLM's data-parallel address
 * (templates/multi_node_rl.sbatch.j2:372).
 */
export function addressOf(node: number): string {
  return `\${RLSTACK_ADDR:${node}}`;
}

/** Every runtime reference in a word: `${RLSTACK_NAME}`, `${RLSTACK_HOST:N}` or `${RLSTACK_ADDR:N}`. */
export const RUNTIME_REFERENCE = /\$\{(RLSTACK_[A-Z_]+)(?::(\d+))?\}/g;

export const COMMON_ENV_DEFAULTS: Readonly<Record<string, string>> = {
  CUDA_DEVICE_ORDER: 'PCI_BUS_ID',
  PYTHONUNBUFFERED: '1',
  OMP_NUM_THREADS: '1',
  GIT_LFS_SKIP_SMUDGE: '1',
};

export function envValue(value: string | number | boolean): string {
  return typeof value === 'string' ? value : String(value);
}

export function mergeEnv(...tables: Readonly<Record<string, string | number | boolean>>[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const table of tables) for (const [k, v] of Object.entries(table)) out[k] = envValue(v);
  return Object.fromEntries(Object.entries(out).sort(([a], [b]) => codePointOrder(a, b)));
}

export function secretsFor(spec: Spec, role: SecretRole): string[] {
  return Object.entries(spec.secrets)
    .filter(([, roles]) => roles.includes(role))
    .map(([name]) => name)
    .sort();
}
