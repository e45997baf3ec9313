/**
 * The spec's schema: the one source of truth for its keys, types, defaults and documentation. The TS types
 * (`Spec`) are derived from it, the published JSON Schema (schema/rlstack.schema.json) is generated from it,
 * and the loader fills defaults from it. Keys with a `default` are optional for users; keys marked
 * `Type.Optional` have no default (their value is derived in the plan when absent).
 */
import { Type, type Static, type TSchema } from '@sinclair/typebox';

const Int = (min: number, description: string, extra: Record<string, unknown> = {}) =>
  Type.Integer({ minimum: min, description, ...extra });
const Str = (description: string, extra: Record<string, unknown> = {}) => Type.String({ description, ...extra });
const Bool = (description: string, dflt: boolean) => Type.Boolean({ description, default: dflt });
const Enum = <T extends string>(values: readonly T[], description: string, dflt?: T) =>
  Type.Union(
    values.map((v) => Type.Literal(v)),
    dflt === undefined ? { description } : { description, default: dflt },
  );
const Table = <P extends Record<string, TSchema>>(props: P, description: string) =>
  Type.Object(props, { additionalProperties: false, description });

/** Largest pool rlstack plans: well beyond any RL run today, small enough to plan in well under a second. */
export const MAX_NODES = 16384;

export const ENV_NAME_PATTERN = '^[A-Za-z_][A-Za-z0-9_]*$';
export const RUN_NAME_PATTERN = '^[a-z0-9][a-z0-9-]*$';
export const ENVIRONMENT_NAME_PATTERN = '^[A-Za-z0-9][A-Za-z0-9_.-]*$';
export const POOL_NAME_PATTERN = '^[a-z][a-z0-9_-]*$';

const EnvValue = Type.Union([Type.String(), Type.Number(), Type.Boolean()], {
  description: 'an environment variable value (numbers and booleans are written as text)',
});
const EnvTable = (role: string) =>
  Type.Record(Type.String(), EnvValue, { default: {}, description: `environment variables for ${role}` });
const ExtraTable = (component: string) =>
  Type.Record(Type.String(), Type.Unknown(), {
    default: {},
    description: `passed into prime-rl's ${component} config; checked against its keys and refused where it would override a key this spec sets`,
  });

export const SECRET_ROLES = ['trainer', 'inference', 'orchestrator', 'env_servers', 'sandboxes'] as const;

const SlurmFields = {
  partition: Str('Slurm partition; empty = the cluster default', { default: '' }),
  account: Str('Slurm account (optional)', { default: '' }),
  qos: Str('Slurm QOS (optional)', { default: '' }),
  constraint: Str('Slurm node features (optional)', { default: '' }),
  exclude: Str('hostlist of nodes to avoid (optional)', { default: '' }),
  extra_sbatch: Type.Array(Type.String(), { default: [], description: 'raw "#SBATCH" option strings, e.g. "--reservation=rl"' }),
};

const SlurmTable = Table(
  {
    ...SlurmFields,
    time: Str('wall-clock limit, Slurm syntax (D-HH:MM:SS, HH:MM:SS, MM)', { default: '24:00:00' }),
    requeue: Bool('requeue on node failure or preemption, then resume from the latest checkpoint', false),
    signal: Str('signal and lead time before the limit: the run checkpoints, then stops cleanly; empty = USR1 a tenth of cluster.slurm.time ahead, at most 900 s', {
      default: '',
      pattern: '^((B:)?[A-Z0-9]+@[0-9]+)?$',
    }),
    login: Str('ssh destination (user@host or a ~/.ssh/config alias) to run sbatch, scontrol and scancel on, reached with the [cluster.ssh] settings; empty = the local Slurm client', { default: '' }),
  },
  'Slurm settings, used when cluster.backend = "slurm"',
);

const Hosts = Type.Union([Type.String(), Type.Array(Type.String())], {
  default: '',
  description: 'hostlist expression ("gpu-[001-064]") or array of host names; node index = position',
});

/** The preflight checks a spec may waive; the others are what the run cannot start without. */
export const SKIPPABLE_PREFLIGHT_CHECKS = ['gpus', 'ports', 'disk', 'memory'] as const;

const SshTable = Table(
  {
    hosts: Hosts,
    user: Str('login user; empty = ~/.ssh/config or the current user', { default: '' }),
    port: Type.Integer({ minimum: 1, maximum: 65535, default: 22, description: 'sshd port' }),
    identity_file: Str('private key; empty = ssh-agent and ~/.ssh/config', { default: '' }),
    jump: Str('ProxyJump host (optional)', { default: '' }),
    known_hosts: Str('known_hosts file used to verify host keys', { default: '~/.ssh/known_hosts' }),
    max_parallel: Int(1, 'connections opened at once', { default: 64 }),
    connect_timeout_s: Int(1, 'seconds to wait for a node to answer', { default: 15 }),
    config: Str('OpenSSH client config read for Host aliases, HostName, User, Port, IdentityFile, ProxyJump', { default: '~/.ssh/config' }),
    path: Type.Array(Type.String(), { default: [], description: 'folders put first on PATH of every remote command (preflight, node.sh, and the Slurm commands on cluster.slurm.login, whose PATH the job inherits), e.g. where nvidia-smi lives when the login PATH lacks it' }),
    lease_timeout_s: Int(5, 'a node stops by itself when the launcher has not renewed its lease for this long before the run is ready', { default: 60 }),
    skip_checks: Type.Array(Enum(SKIPPABLE_PREFLIGHT_CHECKS, 'a preflight check'), {
      default: [],
      uniqueItems: true,
      description: 'as cluster.skip_checks (both lists are waived on every back end; kept for existing specs); reachability, the shared run dir and prime-rl are always checked',
    }),
  },
  'SSH settings, used when cluster.backend = "ssh"',
);

/** A GPU the catalogue lacks, described by the three figures the plan uses (docs/catalogues.md). */
const GpuSpecTable = Table(
  {
    name: Type.Optional(Str('display name, e.g. "NVIDIA RTX 6000 Ada"; default: the gpu id')),
    memory_gib: Type.Number({ exclusiveMinimum: 0, maximum: 4096, description: 'device memory as torch reports it (torch.cuda.get_device_properties(0).total_memory / 2**30), GiB' }),
    bf16_tflops: Type.Number({ exclusiveMinimum: 0, maximum: 100000, description: 'dense bf16 tensor-core peak (without structured sparsity), TFLOP/s' }),
    bandwidth_tbs: Type.Number({ exclusiveMinimum: 0, maximum: 1000, description: 'memory bandwidth, TB/s (10^12 bytes/s)' }),
    fp8: Type.Optional(Type.Boolean({ description: 'fp8 tensor cores (Ada, Hopper, Blackwell); default false' })),
  },
  'a GPU described inline, used instead of the catalogue entry named by gpu',
);

const PoolTable = Table(
  {
    nodes: Int(1, 'nodes in this pool', { maximum: MAX_NODES }),
    gpus_per_node: Type.Optional(Int(0, 'GPUs per node (0 for a CPU pool); default: as [cluster]', { maximum: 16 })),
    gpu: Type.Optional(Str('GPU catalogue id (rlstack gpus lists them), or a name described by gpu_spec; default: as [cluster]')),
    gpu_spec: Type.Optional(GpuSpecTable),
    cpus_per_node: Type.Optional(Int(1, 'CPU cores per node; default: as [cluster]')),
    host_memory_gib: Type.Optional(Type.Number({ exclusiveMinimum: 0, description: 'host RAM per node (GiB); default: as [cluster]' })),
    disk_gib: Type.Optional(Type.Number({ exclusiveMinimum: 0, description: 'free disk of the run dir (GiB); default: as [cluster]' })),
    slurm: Type.Optional(Table(SlurmFields, 'Slurm overrides for this pool (a component of the heterogeneous job)')),
    ssh: Type.Optional(Table({ hosts: Hosts }, 'hosts of this pool, when cluster.backend = "ssh"')),
  },
  'an extra pool of nodes: another GPU type, a CPU partition, a judge',
);

export const Architecture = Table(
  {
    num_hidden_layers: Int(1, 'transformer layers'),
    hidden_size: Int(1, 'model width'),
    intermediate_size: Int(1, 'dense MLP width'),
    moe_intermediate_size: Type.Optional(Int(1, 'expert MLP width (MoE)')),
    num_attention_heads: Int(1, 'query heads'),
    num_key_value_heads: Type.Optional(Int(1, 'KV heads (default: num_attention_heads)')),
    head_dim: Type.Optional(Int(1, 'per-head dimension (default: hidden_size / num_attention_heads)')),
    vocab_size: Int(1, 'vocabulary size'),
    num_experts: Type.Optional(Int(0, 'routed experts (0 or absent: dense)')),
    n_routed_experts: Type.Optional(Int(0, 'alias of num_experts (DeepSeek config.json)')),
    num_local_experts: Type.Optional(Int(0, 'alias of num_experts (Mixtral, MiniMax config.json); without moe_intermediate_size, intermediate_size is then the expert width, as in those configs')),
    num_experts_per_tok: Type.Optional(Int(1, 'experts per token')),
    n_shared_experts: Type.Optional(Int(0, 'shared experts')),
    first_k_dense_replace: Type.Optional(Int(0, 'leading layers with a dense MLP')),
    tie_word_embeddings: Type.Optional(Type.Boolean({ description: 'LM head shares the embedding' })),
    max_position_embeddings: Type.Optional(Int(1, 'longest supported sequence')),
    attention_bias: Type.Optional(Type.Boolean({ description: 'q/k/v projections have biases' })),
    qk_norm: Type.Optional(Type.Boolean({ description: 'per-head RMSNorm on q and k (Qwen3)' })),
    kv_lora_rank: Type.Optional(Int(1, 'MLA latent width (DeepSeek-V2/V3): vLLM caches kv_lora_rank + qk_rope_head_dim per layer')),
    qk_rope_head_dim: Type.Optional(Int(0, 'MLA rotary key width, cached next to the latent')),
    sliding_window: Type.Optional(Int(1, 'sliding-window attention span in tokens')),
    layer_types: Type.Optional(
      Type.Array(Type.Union([Type.Literal('full_attention'), Type.Literal('sliding_attention')]), {
        description: 'attention type per layer (hybrid models); without it sliding_window applies to every layer',
      }),
    ),
  },
  'architecture of a model not in the catalogue (Hugging Face config.json names)',
);

export const SpecSchema = Type.Object(
  {
    extends: Type.Optional(
      Type.Union([Type.String(), Type.Array(Type.String())], {
        description: 'preset name (presets/<name>.toml) or path relative to this file; a list: later entries win',
      }),
    ),
    unset: Type.Optional(
      Type.Array(Type.String(), {
        description: 'dotted keys inherited through extends that this file removes (e.g. ["trainer.gpus"]), before its own values apply; --unset KEY does the same on the command line',
      }),
    ),
    run: Table(
      {
        name: Str('run name, used in paths, job names and labels', { default: 'rl-run', pattern: RUN_NAME_PATTERN, maxLength: 63 }),
        output_dir: Str('shared filesystem seen by every node; run dir = output_dir/name', { default: 'runs' }),
        prime_rl_dir: Str('prime-rl checkout with its .venv (shared or at the same path on every node)', { default: 'prime-rl' }),
        prime_rl_revision: Str('prime-rl revision (7 to 40 hex digits of a commit) the generated configs target; selects the map of prime-rl config keys (src/compiler/emit/prime-rl/maps); checked at preflight', { default: '559b447' }),
        prime_rl_map: Str('stored map of prime-rl config keys to check against instead of the one of prime_rl_revision (7 to 40 hex digits of a commit that has a map; for a fork of a mapped revision or a checkout whose commit has none); empty = the map of prime_rl_revision, which the nodes are still checked against', { default: '' }),
        hf_home: Str('model cache on the shared filesystem; empty = <output_dir>/hf', { default: '' }),
        max_steps: Int(1, 'training steps', { default: 100 }),
        resume: Bool('resume from the latest complete checkpoint (trainer + orchestrator)', false),
        ready_timeout_s: Int(1, 'deadline for the whole run to become ready', { default: 1800 }),
      },
      'run identity and locations',
    ),
    cluster: Table(
      {
        nodes: Int(1, 'nodes in the default pool', { default: 1, maximum: MAX_NODES }),
        gpus_per_node: Int(0, 'GPUs per node', { default: 8, maximum: 16 }),
        gpu: Str('GPU catalogue id (rlstack gpus lists them), or a name described by [cluster.gpu_spec]', { default: 'h100' }),
        gpu_spec: Type.Optional(GpuSpecTable),
        cpus_per_node: Int(1, 'CPU cores per node', { default: 96 }),
        host_memory_gib: Type.Optional(Type.Number({ exclusiveMinimum: 0, description: 'host RAM per node (GiB); unset = unknown: the plan shows the need, each node checks it at start' })),
        disk_gib: Type.Optional(Type.Number({ exclusiveMinimum: 0, description: 'free space of the run dir filesystem (GiB); unset = unknown: the plan shows the need, each node checks it at start' })),
        backend: Enum(['slurm', 'ssh', 'local'] as const, 'how the run is started', 'local'),
        pools: Type.Record(Type.String({ pattern: POOL_NAME_PATTERN }), PoolTable, {
          additionalProperties: false,
          default: {},
          description: 'extra pools by name; on Slurm they become components of one heterogeneous job',
        }),
        slurm: SlurmTable,
        ssh: SshTable,
        skip_checks: Type.Array(Enum(SKIPPABLE_PREFLIGHT_CHECKS, 'a node check'), {
          default: [],
          uniqueItems: true,
          description: 'node checks waived on every back end (node.sh\'s check at start and the SSH preflight), for nodes they misjudge: e.g. "memory" where the processes need less RAM than the estimate; the venv, the shared run dir and prime-rl are always checked',
        }),
      },
      'the default pool of nodes and how to reach it',
    ),
    ports: Table(
      { base: Type.Integer({ minimum: 0, maximum: 30000, default: 0, description: 'offset added to every derived port, so two runs can share hosts' }) },
      'port allocation',
    ),
    model: Table(
      {
        name: Str('Hugging Face id passed to prime-rl and vLLM', { default: 'Qwen/Qwen3-0.6B', minLength: 1 }),
        arch: Str('catalogue id; optional when `name` is in the catalogue', { default: '' }),
        seq_len: Int(1, 'tokens per packed training sequence', { default: 4096 }),
        architecture: Type.Optional(Architecture),
      },
      'the policy model',
    ),
    trainer: Table(
      {
        nodes: Type.Optional(Int(1, 'whole trainer nodes; on a single node use `gpus` instead', { maximum: MAX_NODES })),
        gpus: Type.Optional(Int(1, 'trainer GPUs when sharing one node with inference')),
        pool: Str('pool name; empty = the default pool', { default: '' }),
        dp_replicate: Int(1, 'HSDP replicas; dp_shard is derived', { default: 1 }),
        ep: Type.Union([Type.Integer({ minimum: 1 }), Type.Literal('auto')], {
          default: 'auto',
          description: 'expert parallel degree (MoE); "auto" = min(world / dp_replicate, 8) as prime-rl resolves it',
        }),
        cp: Int(1, 'context parallel degree', { default: 1 }),
        cp_style: Enum(['ring', 'ulysses'] as const, 'context parallel style', 'ring'),
        lora_rank: Int(0, 'LoRA rank; 0 = full fine-tune', { default: 0, maximum: 512 }),
        activation_checkpointing: Enum(['full', 'selective', 'none'] as const, 'activation checkpointing mode', 'full'),
        activation_offload: Type.Union([Type.Boolean(), Type.Integer({ minimum: 1 })], {
          default: true,
          description: 'offload checkpointed activations to host memory; an integer = max activations in flight on the GPU (true = 5)',
        }),
        optimizer_offload: Bool('optimizer state on host memory', true),
        micro_batches: Int(1, 'micro batches per step (trainer-only fake-data benchmarks)', { default: 1 }),
        lm_head_chunk: Int(0, 'fused LM-head token chunk; 0 = unchunked logits', { default: 8192 }),
        optimizer: Table(
          {
            type: Enum(['adamw', 'muon', 'sign_sgd'] as const, 'optimizer', 'adamw'),
            lr: Type.Number({ exclusiveMinimum: 0, default: 1e-6, description: 'learning rate' }),
            weight_decay: Type.Number({ minimum: 0, default: 0.01, description: 'weight decay' }),
          },
          'the optimizer',
        ),
        env: EnvTable('the trainer'),
        extra: ExtraTable('trainer'),
      },
      'the FSDP2 trainer',
    ),
    inference: Table(
      {
        nodes: Type.Optional(Int(0, 'whole inference nodes; 0 = trainer-only run; on a single node use `gpus`', { maximum: MAX_NODES })),
        gpus: Type.Optional(Int(1, 'inference GPUs when sharing one node with the trainer')),
        pool: Str('pool name; empty = the default pool', { default: '' }),
        model: Str('served model; empty = model.name (e.g. an FP8 variant)', { default: '' }),
        tp: Int(1, 'GPUs per engine (tensor parallel)', { default: 1 }),
        nodes_per_replica: Int(1, 'nodes per replica; > 1 needs expert_parallel (one DP group across nodes)', { default: 1 }),
        expert_parallel: Bool('vLLM expert parallel (MoE)', false),
        weights_dtype: Enum(['bf16', 'fp8'] as const, 'dtype of the served weights', 'bf16'),
        gpu_memory_utilization: Type.Number({ exclusiveMinimum: 0, maximum: 1, default: 0.9, description: 'fraction of GPU memory vLLM may use' }),
        max_model_len: Type.Optional(Int(1, 'longest request; default: model.seq_len')),
        max_num_seqs: Int(0, 'concurrent sequences per engine; 0 = vLLM default (1024 on >= 70 GiB GPUs but A100, else 256); sets the sampler part of vLLM\'s profile', { default: 0 }),
        max_num_batched_tokens: Int(0, 'tokens per engine step (chunked prefill); 0 = vLLM default (8192 on >= 70 GiB GPUs but A100, else 2048)', { default: 0 }),
        kv_cache_dtype: Enum(['auto', 'fp8'] as const, 'KV-cache dtype; fp8 holds twice the tokens', 'auto'),
        vllm_version: Str('vLLM version the engines run, for its memory accounting; default: the version the pinned prime-rl revision (559b447) locks', { default: '0.26.0' }),
        port: Type.Integer({ minimum: 1, maximum: 65535, default: 8000, description: 'router port (before ports.base)' }),
        router_policy: Enum(['consistent_hash', 'round_robin'] as const, 'vllm-router policy', 'consistent_hash'),
        env: EnvTable('inference engines and the router'),
        extra: ExtraTable('inference (vLLM)'),
      },
      'the vLLM inference pool',
    ),
    orchestrator: Table(
      {
        placement: Enum(['trainer', 'inference'] as const, 'node of the orchestrator: first trainer node or last inference node', 'trainer'),
        batch_size: Int(1, 'rollouts per step', { default: 128 }),
        group_size: Int(1, 'rollouts per prompt', { default: 8 }),
        max_inflight: Int(1, 'concurrent rollouts', { default: 256 }),
        max_off_policy_steps: Int(0, 'staleness bound in steps', { default: 8 }),
        max_tokens: Type.Optional(Int(1, 'tokens per rollout; default: inference.max_model_len')),
        mean_rollout_tokens: Type.Optional(Int(1, 'expected tokens of a rollout (prompt + completion), for sizing the KV cache; default: max_tokens / 2')),
        mean_prompt_tokens: Type.Optional(Int(1, 'expected prompt tokens of a rollout (part of mean_rollout_tokens), for the throughput model\'s prefill and decode context; not sent to prime-rl; default: min(1024, mean_rollout_tokens / 4)')),
        temperature: Type.Number({ minimum: 0, default: 1.0, description: 'sampling temperature' }),
        env: EnvTable('the orchestrator'),
        extra: ExtraTable('orchestrator'),
      },
      'the orchestrator',
    ),
    weights: Table(
      {
        broadcast: Enum(['auto', 'nccl', 'filesystem'] as const, 'weight transfer; auto = filesystem with LoRA or without inference, else nccl', 'auto'),
        port: Type.Integer({ minimum: 1, maximum: 65535, default: 29501, description: 'NCCL broadcast port (before ports.base)' }),
        timeout_s: Int(1, 'broadcast timeout', { default: 1200 }),
      },
      'weight transfer from trainer to inference',
    ),
    eval: Table({ interval: Int(1, 'steps between evaluations of split = "eval" environments', { default: 100 }) }, 'evaluation'),
    monitors: Table(
      {
        wandb: Type.Optional(
          Table(
            {
              project: Str('W&B project', { minLength: 1 }),
              entity: Str('W&B entity', { default: '' }),
              group: Str('W&B group', { default: '' }),
            },
            'Weights & Biases (one shared run for trainer and orchestrator)',
          ),
        ),
      },
      'monitoring',
    ),
    environments: Type.Array(
      Table(
        {
          name: Str('unique name', { pattern: ENVIRONMENT_NAME_PATTERN }),
          taskset: Str('verifiers taskset id', { minLength: 1 }),
          env_id: Str('verifiers env class; empty = the taskset default', { default: '' }),
          weight: Type.Number({ exclusiveMinimum: 0, default: 1, description: 'relative sampling weight' }),
          harness: Str('agent harness id', { default: 'null' }),
          runtime: Enum(['subprocess', 'sandbox'] as const, 'where the rollout code runs', 'subprocess'),
          split: Enum(['train', 'eval'] as const, 'train or eval source', 'train'),
          episode_seconds: Type.Number({ exclusiveMinimum: 0, default: 60, description: 'expected wall time of one episode (sizes the sandbox fleet)' }),
          max_turns: Int(0, 'turns per episode; 0 = the harness default', { default: 0 }),
          shards: Int(1, 'env servers (sources) sharing this environment, weight / shards each, one per fleet node: for sandboxed environments whose boxes do not fit one node', { default: 1, maximum: 256 }),
          args: Type.Record(Type.String(), Type.Unknown(), { default: {}, description: 'passed through to the taskset' }),
        },
        'one verifiers environment',
      ),
      { default: [], description: 'the environment mix' },
    ),
    sandboxes: Table(
      {
        provider: Enum(['none', 'docker', 'prime'] as const, 'docker: env servers on fleet nodes with local Docker; prime: hosted', 'none'),
        pool: Str('pool of the fleet; empty = nodes of the default pool', { default: '' }),
        nodes: Int(0, 'fleet nodes (docker)', { default: 0, maximum: MAX_NODES }),
        cpus: Type.Number({ exclusiveMinimum: 0, default: 1, description: 'CPUs per sandbox' }),
        memory_gib: Type.Number({ exclusiveMinimum: 0, default: 2, description: 'memory per sandbox (GiB)' }),
        disk_gib: Type.Number({ exclusiveMinimum: 0, default: 5, description: 'disk per sandbox (GiB)' }),
        image: Str('container image', { default: 'python:3.11-slim', minLength: 1 }),
        network: Enum(['restricted', 'host'] as const, 'restricted = egress proxy with an allow-list', 'restricted'),
        allow: Type.Array(Type.String(), { default: [], description: 'hosts sandboxes may reach (restricted network)' }),
        env: EnvTable('the sandbox env servers'),
      },
      'the code-execution fleet for runtime = "sandbox" environments',
    ),
    checkpoint: Table(
      {
        interval: Int(0, 'steps between checkpoints; 0 = none', { default: 50 }),
        keep: Int(1, 'latest checkpoints kept', { default: 3 }),
        keep_interval: Int(0, 'also keep every N-th step; 0 = off', { default: 0 }),
        dir: Str('checkpoint dir; empty = <run dir>/checkpoints', { default: '' }),
      },
      'checkpoints',
    ),
    env: EnvTable('every role'),
    secrets: Type.Record(Type.String(), Type.Array(Enum(SECRET_ROLES, 'a role that receives the secret'), { uniqueItems: true }), {
      default: {},
      description: 'secret name -> roles that receive it; values come from the launcher environment at launch',
    }),
  },
  { additionalProperties: false, title: 'rlstack spec', description: 'One TOML file that describes a whole RL run.' },
);

export type Spec = Static<typeof SpecSchema>;
export type PoolSpec = Static<typeof PoolTable>;
export type ArchitectureSpec = Static<typeof Architecture>;
export type EnvironmentSpec = Spec['environments'][number];
export type SecretRole = (typeof SECRET_ROLES)[number];
