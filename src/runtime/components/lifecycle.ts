/**
 * How node.sh treats each component beyond starting it — the one place that knows it (node.sh reads it
 * from the node plans, never from role names; docs/runtime.md "How a run ends", docs/prime-rl-mapping.md):
 *  - stop_rank: rlstack's ordered teardown, 0 first. The trainer goes first (it may be writing a
 *    checkpoint, which the stop waits for), then the orchestrator that feeds it, the env servers, the
 *    router, and the engines last, so nothing that is still running loses the service it calls. (prime-rl's
 *    own launcher terminates its processes in start order: entrypoints/rl.py:184-188, utils/process.py.)
 *  - waits_for_checkpoint: a stop waits while its checkpoint folder has no `.metadata` yet (DCP writes it
 *    last: trainer/ckpt.py), up to the checkpoint grace.
 *  - resume_flag: how a resume passes the step (`--resume.step N`, trainer and orchestrator alike).
 *  - ipc_dir_env: a folder the process binds sockets in and does not create (vLLM's VLLM_RPC_BASE_PATH;
 *    prime-rl mkdirs it first: templates/_launch_rank.sh.j2:22-23).
 *  - sandbox_label: its Docker boxes carry the run's label (env servers, when the fleet is Docker).
 *  - finishes_run: exit 0 is its work done, not a failure; the run completes when every such process has
 *    (prime-rl waits for the orchestrator and the trainer alike: entrypoints/rl.py:378; docs/prime-rl-mapping.md "Teardown").
 */
import type { Role } from '../../compiler/plan/types.js';

export interface Lifecycle {
  stop_rank: number;
  waits_for_checkpoint: boolean;
  resume_flag: string | null;
  ipc_dir_env: string | null;
  sandbox_label: boolean;
  finishes_run: boolean;
}

const BASE: Lifecycle = { stop_rank: 0, waits_for_checkpoint: false, resume_flag: null, ipc_dir_env: null, sandbox_label: false, finishes_run: false };

export function lifecycleOf(role: Role, options: { dockerSandboxes: boolean }): Lifecycle {
  switch (role) {
    case 'trainer':
      return { ...BASE, stop_rank: 0, waits_for_checkpoint: true, resume_flag: '--resume.step', finishes_run: true };
    case 'orchestrator':
      return { ...BASE, stop_rank: 1, resume_flag: '--resume.step', finishes_run: true };
    case 'env_server':
      return { ...BASE, stop_rank: 2, sandbox_label: options.dockerSandboxes };
    case 'router':
      return { ...BASE, stop_rank: 3 };
    case 'inference':
      return { ...BASE, stop_rank: 4, ipc_dir_env: 'VLLM_RPC_BASE_PATH' };
  }
}

/** The ranks in teardown order, for node.sh's loop. */
export const STOP_RANKS = [0, 1, 2, 3, 4] as const;
