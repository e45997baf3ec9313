/**
 * Derived facts every later phase shares: pools with inherited values, the model's architecture, role sizes
 * (whole nodes or a split node), and the trainer's and inference's parallelism, resolved exactly as prime-rl
 * resolves them. Pure. Returns what it could derive; the rules in check/ say what is wrong with it.
 */
import { findGpu, inlineGpu, type GpuSpec } from '../catalog/gpus.js';
import { findModelById, findModelByName, isMoe, maxPositionsFor, type ModelArchitecture } from '../catalog/models.js';
import type { ArchitectureSpec, Spec } from '../spec/schema.js';
import { joinPath } from '../spec/key-path.js';
import { expandHostlist } from './hostlist.js';

export const DEFAULT_POOL = 'default';

export interface Pool {
  name: string;
  /** Key path of the pool's table, for diagnostics. */
  path: string;
  nodes: number;
  gpusPerNode: number;
  gpuId: string;
  gpu: GpuSpec | undefined;
  cpusPerNode: number;
  /** Undefined when the spec does not say: unknown until each node reports it at start. */
  hostMemoryGib: number | undefined;
  diskGib: number | undefined;
  /** Hosts from the ssh inventory (ssh backend), else null: on Slurm they are known at run time. */
  hosts: string[] | null;
}

/** How many GPUs a role takes: whole nodes, or `gpus` on a node it shares. */
export interface RoleSize {
  pool: string;
  /** Key path that set the size, for diagnostics. */
  path: string;
  mode: 'nodes' | 'gpus';
  nodes: number;
  gpus: number;
}

export interface TrainerParallelism {
  world: number;
  dpReplicate: number;
  dpShard: number;
  cp: number;
  ep: number;
  epIsAuto: boolean;
}

export interface InferenceLayout {
  tp: number;
  enginesPerNode: number;
  engines: number;
  replicas: number;
  nodesPerReplica: number;
  /** GPUs of the NCCL weight-broadcast group on the inference side (prime-rl `inference_world_size`). */
  worldSize: number;
}

export interface Derived {
  pools: Map<string, Pool>;
  arch: ModelArchitecture | undefined;
  /** Longest sequence the model supports (variant-aware: Qwen3 -2507 releases go to 262144). */
  modelMaxPositions: number;
  trainer: RoleSize;
  inference: RoleSize;
  sandboxNodes: number;
  trainerParallelism: TrainerParallelism;
  inferenceLayout: InferenceLayout;
  maxModelLen: number;
  maxTokens: number;
  weightBroadcast: 'nccl' | 'filesystem';
  servedModel: string;
}

export function derive(spec: Spec): Derived {
  const pools = derivePools(spec);
  const arch = resolveArchitecture(spec);
  const { trainer, inference } = deriveRoleSizes(spec, pools);
  const trainerParallelism = deriveTrainerParallelism(spec, trainer, arch);
  const inferenceLayout = deriveInferenceLayout(spec, inference, pools);
  const maxModelLen = spec.inference.max_model_len ?? spec.model.seq_len;
  const weightBroadcast =
    spec.weights.broadcast === 'auto' ? (spec.trainer.lora_rank > 0 || inference.gpus === 0 ? 'filesystem' : 'nccl') : spec.weights.broadcast;
  return {
    pools,
    arch,
    modelMaxPositions: (spec.model.architecture ? undefined : maxPositionsFor(spec.model.name)) ?? arch?.maxPositions ?? Number.MAX_SAFE_INTEGER,
    trainer,
    inference,
    sandboxNodes: spec.sandboxes.provider === 'docker' ? spec.sandboxes.nodes : 0,
    trainerParallelism,
    inferenceLayout,
    maxModelLen,
    maxTokens: spec.orchestrator.max_tokens ?? maxModelLen,
    weightBroadcast,
    servedModel: spec.inference.model || spec.model.name,
  };
}

function derivePools(spec: Spec): Map<string, Pool> {
  const c = spec.cluster;
  const hostsOf = (value: string | string[] | undefined): string[] | null => {
    if (c.backend !== 'ssh' || value === undefined || value === '' || (Array.isArray(value) && value.length === 0)) return null;
    const expanded = Array.isArray(value) ? value : expandHostlist(value);
    return Array.isArray(expanded) ? expanded : null;
  };
  const pools = new Map<string, Pool>();
  pools.set(DEFAULT_POOL, {
    name: DEFAULT_POOL,
    path: 'cluster',
    nodes: c.nodes,
    gpusPerNode: c.gpus_per_node,
    gpuId: c.gpu,
    gpu: c.gpu_spec ? inlineGpu(c.gpu, c.gpu_spec, 'cluster.gpu_spec') : findGpu(c.gpu),
    cpusPerNode: c.cpus_per_node,
    hostMemoryGib: c.host_memory_gib,
    diskGib: c.disk_gib,
    hosts: hostsOf(c.ssh.hosts),
  });
  for (const [name, p] of Object.entries(c.pools)) {
    const gpuId = p.gpu ?? c.gpu;
    // A pool's own gpu_spec; else [cluster]'s when the pool keeps [cluster]'s GPU.
    const described = p.gpu_spec ? { spec: p.gpu_spec, path: joinPath(['cluster', 'pools', name, 'gpu_spec']) } : p.gpu === undefined && c.gpu_spec ? { spec: c.gpu_spec, path: 'cluster.gpu_spec' } : undefined;
    pools.set(name, {
      name,
      path: joinPath(['cluster', 'pools', name]),
      nodes: p.nodes,
      gpusPerNode: p.gpus_per_node ?? c.gpus_per_node,
      gpuId,
      gpu: described ? inlineGpu(gpuId, described.spec, described.path) : findGpu(gpuId),
      cpusPerNode: p.cpus_per_node ?? c.cpus_per_node,
      hostMemoryGib: p.host_memory_gib ?? c.host_memory_gib,
      diskGib: p.disk_gib ?? c.disk_gib,
      hosts: hostsOf(p.ssh?.hosts),
    });
  }
  return pools;
}

export function poolName(name: string): string {
  return name === '' ? DEFAULT_POOL : name;
}

export function resolveArchitecture(spec: Spec): ModelArchitecture | undefined {
  if (spec.model.architecture) return architectureFromSpec(spec.model.architecture, spec.model.arch || spec.model.name);
  if (spec.model.arch) return findModelById(spec.model.arch);
  return findModelByName(spec.model.name);
}

/** config.json's names for the routed-expert count: Qwen's, DeepSeek's, Mixtral's and MiniMax's. */
export const EXPERT_COUNT_KEYS = ['num_experts', 'n_routed_experts', 'num_local_experts'] as const;

export function expertCountOf(a: ArchitectureSpec): number {
  return a.num_experts ?? a.n_routed_experts ?? a.num_local_experts ?? 0;
}

/**
 * The expert MLP width: moe_intermediate_size, or intermediate_size in the configs that name the count
 * num_local_experts (Mixtral, MiniMax-M2: there intermediate_size is the expert width and no layer is dense).
 */
export function expertWidthOf(a: ArchitectureSpec): number | undefined {
  return a.moe_intermediate_size ?? (a.num_local_experts !== undefined ? a.intermediate_size : undefined);
}

export function architectureFromSpec(a: ArchitectureSpec, id: string): ModelArchitecture {
  const experts = expertCountOf(a);
  return {
    id,
    hfIds: [],
    modelType: experts > 0 ? 'moe' : 'dense',
    layers: a.num_hidden_layers,
    hidden: a.hidden_size,
    intermediate: a.intermediate_size,
    moeIntermediate: expertWidthOf(a) ?? 0,
    heads: a.num_attention_heads,
    kvHeads: a.num_key_value_heads ?? a.num_attention_heads,
    headDim: a.head_dim ?? Math.floor(a.hidden_size / a.num_attention_heads),
    vocab: a.vocab_size,
    experts,
    expertsPerToken: a.num_experts_per_tok ?? 0,
    sharedExperts: a.n_shared_experts ?? 0,
    firstKDense: a.first_k_dense_replace ?? 0,
    tiedEmbeddings: a.tie_word_embeddings ?? false,
    maxPositions: a.max_position_embeddings ?? Number.MAX_SAFE_INTEGER,
    attentionBias: a.attention_bias ?? false,
    qkNorm: a.qk_norm ?? false,
    ...(a.kv_lora_rank ? { mla: { kvLoraRank: a.kv_lora_rank, qkRopeHeadDim: a.qk_rope_head_dim ?? 0 } } : {}),
    ...(a.sliding_window
      ? { slidingWindow: { window: a.sliding_window, layers: a.layer_types ? a.layer_types.filter((t) => t === 'sliding_attention').length : a.num_hidden_layers } }
      : {}),
    source: 'inline [model.architecture]',
  };
}

/**
 * Whole nodes or a split node per role. Absent sizes: on a one-node pool the node is split (inference takes
 * the first half); on a larger pool inference takes the nodes the trainer and the sandbox fleet leave.
 */
function deriveRoleSizes(spec: Spec, pools: Map<string, Pool>): { trainer: RoleSize; inference: RoleSize } {
  const trainerPool = pools.get(poolName(spec.trainer.pool));
  const inferencePool = pools.get(poolName(spec.inference.pool));
  const gpn = (pool: Pool | undefined) => pool?.gpusPerNode ?? 0;
  const t = spec.trainer;
  const i = spec.inference;

  let trainer: RoleSize;
  if (t.nodes !== undefined) trainer = { pool: poolName(t.pool), path: 'trainer.nodes', mode: 'nodes', nodes: t.nodes, gpus: t.nodes * gpn(trainerPool) };
  else if (t.gpus !== undefined) trainer = { pool: poolName(t.pool), path: 'trainer.gpus', mode: 'gpus', nodes: 1, gpus: t.gpus };
  else if (trainerPool?.nodes === 1 && i.nodes === undefined) {
    const gpus = i.gpus !== undefined ? gpn(trainerPool) - i.gpus : Math.floor(gpn(trainerPool) / 2);
    trainer = { pool: poolName(t.pool), path: 'trainer', mode: 'gpus', nodes: 1, gpus };
  } else trainer = { pool: poolName(t.pool), path: 'trainer', mode: 'nodes', nodes: trainerPool?.nodes === 1 ? 1 : 0, gpus: trainerPool?.nodes === 1 ? gpn(trainerPool) : 0 };

  let inference: RoleSize;
  if (i.nodes !== undefined) inference = { pool: poolName(i.pool), path: 'inference.nodes', mode: 'nodes', nodes: i.nodes, gpus: i.nodes * gpn(inferencePool) };
  else if (i.gpus !== undefined) inference = { pool: poolName(i.pool), path: 'inference.gpus', mode: 'gpus', nodes: 1, gpus: i.gpus };
  else if (trainer.mode === 'gpus' && trainer.pool === poolName(i.pool)) {
    inference = { pool: poolName(i.pool), path: 'inference', mode: 'gpus', nodes: 1, gpus: Math.max(gpn(inferencePool) - trainer.gpus, 0) };
  } else {
    const taken = (trainer.pool === poolName(i.pool) ? trainer.nodes : 0) + (poolName(spec.sandboxes.pool) === poolName(i.pool) && spec.sandboxes.provider === 'docker' ? spec.sandboxes.nodes : 0);
    const nodes = Math.max((inferencePool?.nodes ?? 0) - taken, 0);
    inference = { pool: poolName(i.pool), path: 'inference', mode: 'nodes', nodes, gpus: nodes * gpn(inferencePool) };
  }
  return { trainer, inference };
}

function deriveTrainerParallelism(spec: Spec, trainer: RoleSize, arch: ModelArchitecture | undefined): TrainerParallelism {
  const world = trainer.gpus;
  const dpReplicate = spec.trainer.dp_replicate;
  const cp = spec.trainer.cp;
  const epIsAuto = spec.trainer.ep === 'auto';
  // prime-rl resolves "auto" at trainer start as min(world / dp_replicate, 8) for MoE models, 1 otherwise.
  const ep = epIsAuto ? (arch && isMoe(arch) ? Math.max(1, Math.min(Math.floor(world / dpReplicate), 8)) : 1) : (spec.trainer.ep as number);
  const dpShard = world / (dpReplicate * cp);
  return { world, dpReplicate, dpShard, cp, ep, epIsAuto };
}

function deriveInferenceLayout(spec: Spec, inference: RoleSize, pools: Map<string, Pool>): InferenceLayout {
  const tp = spec.inference.tp;
  const gpusPerNode = pools.get(inference.pool)?.gpusPerNode ?? 0;
  const perNode = inference.mode === 'gpus' ? inference.gpus : gpusPerNode;
  const enginesPerNode = Math.floor(perNode / tp);
  const engines = enginesPerNode * inference.nodes;
  const nodesPerReplica = spec.inference.nodes_per_replica;
  // With expert parallel a replica is one DP group spanning nodes_per_replica nodes; otherwise every engine is
  // an independent replica behind the router.
  const replicas = spec.inference.expert_parallel ? Math.floor(inference.nodes / nodesPerReplica) : engines;
  return { tp, enginesPerNode, engines, replicas, nodesPerReplica, worldSize: inference.gpus };
}
