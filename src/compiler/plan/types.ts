/**
 * The LaunchPlan IR: where every process of the run goes. Emitted as `plan --json` (snake_case keys, the
 * SPEC §4 contract) and consumed by the artifact emitter and the back ends.
 */
export type Role = 'inference' | 'router' | 'trainer' | 'orchestrator' | 'env_server';

/** A readiness probe node.sh runs before the process counts as ready. */
export type Readiness = 'http /health' | 'tcp' | 'process';

export interface PlanGpu {
  index: number;
  role: 'inference' | 'trainer' | null;
  process: string | null;
}

export interface PlanNode {
  /** Global index: the default pool's nodes first, then each extra pool's, in spec order. */
  index: number;
  pool: string;
  pool_index: number;
  host: string | null;
  roles: string[];
  gpus: PlanGpu[];
  processes: string[];
}

export interface PlanProcess {
  name: string;
  role: Role;
  node: number;
  pool: string;
  gpus: number[];
  ports: number[];
  /** Processes that must be ready before this one starts. */
  after: string[];
  /** Processes on other nodes this one needs once they are ready (node.sh's peer watch probes them). */
  watch: string[];
  ready: Readiness;
  /** Start order (0 first); processes with the same order start together. */
  order: number;
  /** argv; `${RLSTACK_*}` words are filled in by node.sh at start (hosts are known only at run time). */
  command: string[];
  env: Record<string, string>;
  /** Names of the secrets this process receives (values never appear in a plan). */
  secrets: string[];
  /** How node.sh stops, resumes and judges it (src/runtime/components/lifecycle.ts). */
  lifecycle: import('../../runtime/components/lifecycle.js').Lifecycle;
}

export interface NodeRange {
  pool: string;
  nodes: [number, number];
}

/**
 * What the launcher needs besides the files: with it, a compiled folder launches without its spec
 * (`rlstack launch DIR`). Nothing secret: secrets by name, SSH settings hold paths, not keys.
 */
export interface LaunchSettings {
  backend: 'slurm' | 'ssh' | 'local';
  ready_timeout_s: number;
  resume: boolean;
  prime_rl: { dir: string; revision: string };
  /** Secret names and the roles that receive them; the values come from the launcher's environment. */
  secrets: Record<string, string[]>;
  /** Node checks the spec waives, each with the key that waived it. */
  skip_checks: { check: string; key: string }[];
  /** The ssh back end's settings, or those that reach a Slurm login node (null when neither applies). */
  ssh: Omit<import('../spec/schema.js').Spec['cluster']['ssh'], 'hosts' | 'skip_checks'> | null;
  slurm: { login: string } | null;
}

export interface LaunchPlan {
  rlstack_version: string;
  run: { name: string; dir: string; max_steps: number };
  cluster: {
    nodes: number;
    gpus_per_node: number;
    gpu: { id: string; name: string; memory_gib: number } | null;
    backend: string;
    /** `key`: where the pool is written (cluster, or cluster.pools.NAME); capacities null when undeclared. */
    pools: { name: string; key: string; nodes: number; gpus_per_node: number; gpu: string | null; first_node: number; host_memory_gib: number | null; disk_gib: number | null }[];
    /** Capacities and Slurm limits, each with where it came from (a default says so; an undeclared capacity is null). */
    settings: import('./settings.js').PlanSetting[];
  };
  model: { name: string; arch: string | null; seq_len: number; parameters: number | null; active_parameters: number | null };
  nodes: PlanNode[];
  processes: PlanProcess[];
  roles: {
    trainer: NodeRange & { gpus: number; dp_replicate: number; dp_shard: number; ep: number; cp: number; micro_batches: number; master_node: number };
    inference: (NodeRange & { gpus: number; replicas: number; tp: number; engines: number; engines_per_node: number; nodes_per_replica: number; world_size: number; router_node: number }) | null;
    orchestrator: { node: number; pool: string };
    /** One per orchestrator source: an environment, or one shard of it. */
    env_servers: { name: string; environment: string; split: string; weight: number; node: number; port: number; sandboxed: boolean }[];
    sandboxes: (NodeRange & { provider: string; slots: number; demand: number }) | null;
  };
  weights: { broadcast: 'nccl' | 'filesystem'; inference_world_size: number };
  launch: LaunchSettings;
  /** Absent when the model's shape or the GPU type is unknown (the rules already said so). */
  memory?: import('../memory/report.js').MemoryReport;
  /** The throughput model's step (docs/throughput-model.md); absent when the model's shape or a GPU type is unknown. */
  throughput?: import('../throughput/summary.js').ThroughputSummary;
  diagnostics: import('../diagnostics/diagnostic.js').Diagnostic[];
}
