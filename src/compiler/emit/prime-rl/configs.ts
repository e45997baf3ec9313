/**
 * The prime-rl runtime configs of a run (pinned revision 559b447): trainer, orchestrator, inference (when the
 * run has inference) and one env server per environment, as TOML (TOML 1.0; the string "None" stands for
 * None, which prime-rl's loader coerces). Every value prime-rl's own `rl` launcher would derive is derived
 * here the same way, so the components agree exactly as prime-rl's validators demand (see
 * docs/prime-rl-mapping.md): shared keys identical in trainer and orchestrator, one weight-broadcast and
 * one rollout-transport type, inference_world_size = inference GPUs, num_train_workers = trainer world / cp,
 * pad_to_multiple_of = cp, every port shifted by ports.base as plan/ports.ts derives it.
 *
 * The files are host-free (SPEC §5): addresses only known at run time — router and admin URLs, the
 * weight-broadcast and rollout-transport hosts, the address of an env server on another node — are passed
 * by node.sh as CLI overrides when it starts the component. The only addresses written are loopback
 * (`127.0.0.1`, for processes on the orchestrator's node) and wildcard binds (`tcp://*`). Secrets never
 * appear: they reach processes as environment variables at launch.
 *
 * The spec's `extra` tables are deep-merged into their component last (lists and scalars replace); the
 * rule check/rules/extra.ts refuses unknown keys and overrides of keys set here before this runs.
 * Output is deterministic: keys sorted by code point, lists in spec order.
 */
import { stringify } from 'smol-toml';
import type { Derived } from '../../plan/derive.js';
import { derivePorts, type Ports } from '../../plan/ports.js';
import { slotsPerNode } from '../../plan/sandbox-capacity.js';
import type { LaunchPlan } from '../../plan/types.js';
import { isPlainTable } from '../../spec/key-path.js';
import type { EnvironmentSpec, Spec } from '../../spec/schema.js';
import { environmentSources, type Source } from '../../plan/sources.js';
import { boxDemand } from '../../plan/sandbox-capacity.js';
import { INFERENCE_CONFIG } from '../../../runtime/components/inference.js';
import { hostOf } from '../../../runtime/components/common.js';
import { ORCHESTRATOR_CONFIG, ORCHESTRATOR_SOURCES } from '../../../runtime/components/orchestrator.js';
import { TRAINER_CONFIG } from '../../../runtime/components/trainer.js';
import { envServerConfig } from '../../../runtime/components/env-server.js';
import { mapRevision, ROOT_CLASSES, type Component } from './keys.js';
import { codePointOrder } from '../../../order.js';

/** Where an env server on the orchestrator's node listens, and where the orchestrator reaches it. */
export const ENV_SERVER_LOOPBACK = (port: number): string => `tcp://127.0.0.1:${port}`;
/** Where an env server on another node (sandbox fleet) binds: ZMQ binds take `*`, not host names. */
export const ENV_SERVER_BIND_ALL = (port: number): string => `tcp://*:${port}`;

/** Components whose config a spec `extra` table extends. */
export type ExtraComponent = 'trainer' | 'orchestrator' | 'inference';
export const EXTRA_COMPONENTS: readonly ExtraComponent[] = ['trainer', 'orchestrator', 'inference'];

/** The vLLM LoRA ranks prime-rl accepts; `max_lora_rank` is rounded up to one of them. */
export const VLLM_LORA_RANKS = [8, 16, 32, 64, 128, 256, 320, 512] as const;

/** Workers of a docker env server's static pool (prime-rl/verifiers default: 4). */
export const DOCKER_POOL_WORKERS = 4;

// ---------------------------------------------------------------------------------------------------------
// Layout: what the configs need from the placement

export interface EnvServerSlot {
  /** The orchestrator source: an environment, or one shard of it (plan/sources.ts). */
  source: Source;
  /** prime-rl's numbering: train sources first, then eval; port = env_server_base_port + index. */
  index: number;
  /** Position in its own list (`train.source` or `eval.source`): the index of a CLI override. */
  sourceIndex: number;
  port: number;
  /** Plan node, or -1 when only the spec is known. */
  node: number;
  /** On the orchestrator's node: reached through loopback. Otherwise on a sandbox fleet node. */
  colocated: boolean;
  /** Sandbox slots this env server may keep busy (docker fleet env servers, from the plan). */
  slots?: number;
}

export interface ConfigLayout {
  runDir: string;
  envServers: EnvServerSlot[];
}

export function runDirOf(spec: Spec): string {
  return `${spec.run.output_dir.replace(/\/+$/, '')}/${spec.run.name}`;
}

/** The layout from the spec alone (before placement): what the check rules see. */
export function layoutFromSpec(spec: Spec, derived: Derived): ConfigLayout {
  const ports = derivePorts(spec);
  const sources = environmentSources(spec);
  return {
    runDir: runDirOf(spec),
    envServers: sources.map((source, i) => ({
      source,
      index: i,
      sourceIndex: source.sourceIndex,
      port: ports.envServerBase + i,
      node: -1,
      colocated: !(source.environment.runtime === 'sandbox' && spec.sandboxes.provider === 'docker' && derived.sandboxNodes > 0),
    })),
  };
}

/** The layout the plan decided: env-server nodes and ports, sandbox slots of fleet env servers. */
export function layoutFromPlan(spec: Spec, derived: Derived, plan: LaunchPlan): ConfigLayout {
  const byName = new Map(environmentSources(spec).map((s) => [`${s.split}/${s.name}`, s]));
  const orchestratorNode = plan.roles.orchestrator.node;
  const planned = plan.roles.env_servers.filter((s) => byName.has(`${s.split}/${s.name}`));
  const sources = planned.map((s) => byName.get(`${s.split}/${s.name}`)!);
  const remotePerNode = new Map<number, number>();
  for (const s of planned) if (s.node !== orchestratorNode) remotePerNode.set(s.node, (remotePerNode.get(s.node) ?? 0) + 1);
  const envServers = planned.map((s, i): EnvServerSlot => {
    const slot: EnvServerSlot = { source: sources[i]!, index: i, sourceIndex: sources[i]!.sourceIndex, port: s.port, node: s.node, colocated: s.node === orchestratorNode };
    const pool = derived.pools.get(plan.nodes[s.node]?.pool ?? '');
    if (!slot.colocated && pool && spec.sandboxes.provider === 'docker') {
      slot.slots = Math.floor(slotsPerNode(spec, pool).slots / (remotePerNode.get(s.node) ?? 1));
    }
    return slot;
  });
  return { runDir: plan.run.dir, envServers };
}

// ---------------------------------------------------------------------------------------------------------
// Building

/** A config under construction; remembers which spec key (or derivation) set each key. */
export class ConfigTable {
  readonly data: Record<string, unknown> = {};
  /** Dotted prime-rl key → the spec key or derivation it comes from. */
  readonly origins = new Map<string, string>();

  set(path: string, value: unknown, origin: string): this {
    const parts = path.split('.');
    let table = this.data;
    for (const part of parts.slice(0, -1)) {
      if (!isPlainTable(table[part])) table[part] = {};
      table = table[part] as Record<string, unknown>;
    }
    table[parts[parts.length - 1]!] = value;
    this.origins.set(path, origin);
    return this;
  }

  /** The distinct origins of every key set at or below `path`. */
  originsBelow(path: string): string[] {
    const out = new Set<string>();
    for (const [key, origin] of this.origins) if (key === path || key.startsWith(`${path}.`)) out.add(origin);
    return [...out];
  }

  /** The origin of a key, or of the nearest key set at or below it. */
  originOf(path: string): string | undefined {
    const exact = this.origins.get(path);
    if (exact !== undefined) return exact;
    for (const [key, origin] of this.origins) if (key.startsWith(`${path}.`)) return origin;
    for (let cut = path.lastIndexOf('.'); cut > 0; cut = path.lastIndexOf('.', cut - 1)) {
      const above = this.origins.get(path.slice(0, cut));
      if (above !== undefined) return above;
    }
    return undefined;
  }
}

export interface BuiltConfig {
  component: Component;
  /** Relative to the run's launcher dir: `configs/trainer.toml`, `configs/envs/train/math.toml`. */
  path: string;
  root: string;
  config: ConfigTable;
  header: string[];
}

export interface BuiltConfigs {
  trainer: BuiltConfig;
  orchestrator: BuiltConfig;
  inference: BuiltConfig | undefined;
  envServers: BuiltConfig[];
}

const ORIGIN = {
  runDir: 'the run dir (run.output_dir / run.name)',
  workers: 'trainer GPUs / trainer.cp (prime-rl: num_train_workers = world / cp)',
  pad: 'trainer.cp (prime-rl: pad_to_multiple_of = cp)',
  worldSize: 'inference GPUs (prime-rl: inference_world_size)',
  envServers: 'environments (train first, then eval)',
} as const;

function quantizedTransfer(spec: Spec, derived: Derived): boolean {
  return spec.inference.weights_dtype === 'fp8' && derived.weightBroadcast === 'nccl' && derived.inference.gpus > 0;
}

function setWeightBroadcast(c: ConfigTable, spec: Spec, derived: Derived, ports: Ports, component: Component): void {
  const how = spec.weights.broadcast === 'auto' ? `weights.broadcast = "auto" (${derived.weightBroadcast})` : 'weights.broadcast';
  c.set('weight_broadcast.type', derived.weightBroadcast, how);
  if (derived.weightBroadcast !== 'nccl' || component === 'inference') return;
  // Trainer rank 0 serves the broadcast group's store; engines on other nodes connect to it. prime-rl's
  // default binds loopback; its multi-node launcher rewrites it to the wildcard (configs/rl.py:759).
  if (component === 'trainer') c.set('weight_broadcast.host', '0.0.0.0', 'rlstack (engines on other nodes join trainer rank 0)');
  c.set('weight_broadcast.port', ports.weightBroadcast, 'weights.port + ports.base');
  c.set('weight_broadcast.timeout', spec.weights.timeout_s, 'weights.timeout_s');
  c.set('weight_broadcast.inference_world_size', derived.inferenceLayout.worldSize, ORIGIN.worldSize);
  if (quantizedTransfer(spec, derived)) c.set('weight_broadcast.quantize_in_weight_transfer', true, 'inference.weights_dtype = "fp8"');
}

function setShared(c: ConfigTable, spec: Spec, ports: Ports, layout: ConfigLayout, component: 'trainer' | 'orchestrator'): void {
  c.set('max_steps', spec.run.max_steps, 'run.max_steps');
  c.set('output_dir', layout.runDir, ORIGIN.runDir);
  c.set('rollout_transport.type', 'zmq', 'rlstack (ZMQ rollout transport)');
  c.set('rollout_transport.port', ports.rollouts, '5555 + ports.base');
  const ckpt = spec.checkpoint;
  if (ckpt.interval > 0) {
    c.set('ckpt.interval', ckpt.interval, 'checkpoint.interval');
    c.set('ckpt.keep_last', ckpt.keep, 'checkpoint.keep');
    if (ckpt.keep_interval > 0) c.set('ckpt.keep_interval', ckpt.keep_interval, 'checkpoint.keep_interval');
    if (component === 'trainer' && ckpt.dir !== '') c.set('ckpt.output_dir', ckpt.dir, 'checkpoint.dir');
  }
  const wandb = spec.monitors.wandb;
  if (wandb) {
    c.set('monitors.wandb.project', wandb.project, 'monitors.wandb.project');
    if (wandb.entity) c.set('monitors.wandb.entity', wandb.entity, 'monitors.wandb.entity');
    if (wandb.group) c.set('monitors.wandb.group', wandb.group, 'monitors.wandb.group');
    c.set('monitors.wandb.name', spec.run.name, 'run.name');
  }
}

function trainerConfig(spec: Spec, derived: Derived, ports: Ports, layout: ConfigLayout): ConfigTable {
  const c = new ConfigTable();
  const t = spec.trainer;
  setShared(c, spec, ports, layout, 'trainer');
  c.set('model.name', spec.model.name, 'model.name');
  c.set('model.seq_len', spec.model.seq_len, 'model.seq_len');
  c.set('model.dp_replicate', t.dp_replicate, 'trainer.dp_replicate');
  c.set('model.ep', t.ep, 'trainer.ep');
  c.set('model.cp', t.cp, 'trainer.cp');
  c.set('model.cp_style', t.cp_style, 'trainer.cp_style');
  if (t.activation_checkpointing === 'none') c.set('model.ac', 'None', 'trainer.activation_checkpointing');
  else c.set('model.ac.mode', t.activation_checkpointing, 'trainer.activation_checkpointing');
  if (t.activation_offload === false) c.set('model.ac_offloading', 'None', 'trainer.activation_offload');
  else c.set('model.ac_offloading.max_inflight_activations', t.activation_offload === true ? 5 : t.activation_offload, 'trainer.activation_offload');
  c.set('model.optim_cpu_offload', t.optimizer_offload, 'trainer.optimizer_offload');
  c.set('model.fused_lm_head_token_chunk_size', t.lm_head_chunk > 0 ? t.lm_head_chunk : 'disabled', 'trainer.lm_head_chunk');
  if (t.lora_rank > 0) c.set('model.lora.rank', t.lora_rank, 'trainer.lora_rank');
  if (quantizedTransfer(spec, derived)) c.set('model.impl', 'custom', 'inference.weights_dtype = "fp8" (quantized transfer needs the custom implementation)');
  c.set('optim.type', t.optimizer.type, 'trainer.optimizer.type');
  c.set('optim.lr', t.optimizer.lr, 'trainer.optimizer.lr');
  c.set('optim.weight_decay', t.optimizer.weight_decay, 'trainer.optimizer.weight_decay');
  setWeightBroadcast(c, spec, derived, ports, 'trainer');
  if (derived.inference.gpus === 0) c.set('data.fake.batch_size', t.micro_batches, 'trainer.micro_batches (trainer-only run: fake data)');
  return c;
}

function runtimeTable(env: EnvironmentSpec, spec: Spec): Record<string, unknown> {
  if (env.runtime !== 'sandbox') return { type: 'subprocess' };
  const s = spec.sandboxes;
  const runtime: Record<string, unknown> = { type: s.provider === 'docker' ? 'docker' : 'prime', image: s.image, cpu: s.cpus, memory: s.memory_gib, disk: s.disk_gib };
  // A concrete allow list (even empty) switches the box to an isolated network with an egress proxy.
  if (s.network === 'restricted') runtime.allow = [...s.allow];
  if (s.provider === 'prime') {
    // Hosted boxes: a label to find (and clean up) the run's boxes, and a creation rate that sustains the
    // environment's live boxes (Little's law: boxes / lifetime) with 50 % headroom but caps start-up bursts.
    runtime.labels = [`rlstack-${spec.run.name}`];
    const demand = [...boxDemand(spec)].filter(([name]) => name === env.name || name.startsWith(`${env.name}-`)).reduce((sum, [, n]) => sum + n, 0);
    if (demand > 0) runtime.creates_per_min = Math.max(1, Math.ceil((1.5 * 60 * demand) / env.episode_seconds));
  }
  return runtime;
}

/** The verifiers `EnvConfig` of an environment: identical in the orchestrator's source and its env server. */
export function envTable(env: EnvironmentSpec, spec: Spec): Record<string, unknown> {
  const table: Record<string, unknown> = {};
  if (env.env_id) table.id = env.env_id;
  table.taskset = { ...structuredClone(env.args), id: env.taskset };
  const agent: Record<string, unknown> = { harness: { id: env.harness }, runtime: runtimeTable(env, spec) };
  if (env.max_turns > 0) agent.max_turns = env.max_turns;
  table.agent = agent;
  return table;
}

function sourceTable(slot: EnvServerSlot, spec: Spec): Record<string, unknown> {
  const source: Record<string, unknown> = { name: slot.source.name, ratio: slot.source.weight, env: envTable(slot.source.environment, spec) };
  // Remote env servers: the address is in the sources file node.sh resolves at start; left unset here
  // the orchestrator falls back to tcp://127.0.0.1:<base + index>, where nothing of this run listens.
  if (slot.colocated) source.serve = { address: ENV_SERVER_LOOPBACK(slot.port) };
  return source;
}

function orchestratorConfig(spec: Spec, derived: Derived, ports: Ports, layout: ConfigLayout): ConfigTable {
  const c = new ConfigTable();
  const o = spec.orchestrator;
  const p = derived.trainerParallelism;
  const hasInference = derived.inference.gpus > 0;
  setShared(c, spec, ports, layout, 'orchestrator');
  c.set('seq_len', spec.model.seq_len, 'model.seq_len');
  c.set('model.name', hasInference ? derived.servedModel : spec.model.name, hasInference ? 'inference.model (default: model.name)' : 'model.name');
  if (hasInference) {
    c.set('model.client.base_url', `http://127.0.0.1:${ports.router}/v1`, 'inference.port + ports.base (host passed at start)');
    c.set('model.client.wait_for_ready_timeout', spec.run.ready_timeout_s, 'run.ready_timeout_s');
  }
  if (spec.trainer.lora_rank > 0) c.set('model.lora.rank', spec.trainer.lora_rank, 'trainer.lora_rank');
  c.set('batch_size', o.batch_size, 'orchestrator.batch_size');
  c.set('group_size', o.group_size, 'orchestrator.group_size');
  c.set('max_off_policy_steps', o.max_off_policy_steps, 'orchestrator.max_off_policy_steps');
  c.set('concurrency.max_inflight', o.max_inflight, 'orchestrator.max_inflight');
  c.set('num_train_workers', p.cp > 0 ? Math.floor(p.world / p.cp) : p.world, ORIGIN.workers);
  c.set('pad_to_multiple_of', p.cp, ORIGIN.pad);
  c.set('env_server_base_port', ports.envServerBase, '5000 + ports.base');
  c.set('train.sampling.temperature', o.temperature, 'orchestrator.temperature');
  c.set('train.sampling.max_completion_tokens', derived.maxTokens, 'orchestrator.max_tokens (default: inference.max_model_len)');
  const train = layout.envServers.filter((s) => s.source.split === 'train');
  const evals = layout.envServers.filter((s) => s.source.split === 'eval');
  c.set('train.source', train.map((s) => sourceTable(s, spec)), ORIGIN.envServers);
  if (evals.length > 0) {
    c.set('eval.interval', spec.eval.interval, 'eval.interval');
    c.set('eval.sampling.temperature', o.temperature, 'orchestrator.temperature');
    c.set('eval.sampling.max_completion_tokens', derived.maxTokens, 'orchestrator.max_tokens (default: inference.max_model_len)');
    c.set('eval.source', evals.map((s) => sourceTable(s, spec)), ORIGIN.envServers);
  }
  setWeightBroadcast(c, spec, derived, ports, 'orchestrator');
  return c;
}

function inferenceConfig(spec: Spec, derived: Derived, ports: Ports): ConfigTable {
  const c = new ConfigTable();
  const i = spec.inference;
  const layout = derived.inferenceLayout;
  const lora = spec.trainer.lora_rank;
  // Engines are bare vLLM servers started by rlstack one per `tp` GPUs; rlstack runs the router itself.
  c.set('router', 'None', 'rlstack (one global vllm-router, started separately)');
  c.set('server.port', ports.backend, 'inference.port + 100 + ports.base (engine k listens on port + k, passed at start)');
  c.set('vllm.model', derived.servedModel, 'inference.model (default: model.name)');
  c.set('vllm.tensor_parallel_size', i.tp, 'inference.tp');
  // What prime-rl's validators auto-fill (D6/D7/S6); each engine's start overrides them per rank.
  const groupSize = i.expert_parallel ? layout.nodesPerReplica * layout.enginesPerNode : layout.enginesPerNode;
  c.set('vllm.data_parallel_size', groupSize, i.expert_parallel ? 'inference.nodes_per_replica x GPUs per node / tp' : 'GPUs per node / inference.tp');
  c.set('vllm.data_parallel_size_local', layout.enginesPerNode, 'GPUs per node / inference.tp');
  c.set('vllm.api_server_count', lora > 0 ? 1 : layout.enginesPerNode, lora > 0 ? 'trainer.lora_rank (LoRA: one API server)' : 'GPUs per node / inference.tp');
  c.set('vllm.data_parallel_rpc_port', ports.dataParallelRpc, '13345 + ports.base');
  c.set('vllm.gpu_memory_utilization', i.gpu_memory_utilization, 'inference.gpu_memory_utilization');
  c.set('vllm.max_model_len', derived.maxModelLen, 'inference.max_model_len (default: model.seq_len)');
  if (i.max_num_seqs > 0) c.set('vllm.max_num_seqs', i.max_num_seqs, 'inference.max_num_seqs (passed through to vLLM)');
  if (i.max_num_batched_tokens > 0) c.set('vllm.max_num_batched_tokens', i.max_num_batched_tokens, 'inference.max_num_batched_tokens (passed through to vLLM)');
  if (i.kv_cache_dtype !== 'auto') c.set('vllm.kv_cache_dtype', i.kv_cache_dtype, 'inference.kv_cache_dtype (passed through to vLLM)');
  c.set('vllm.enable_expert_parallel', i.expert_parallel, 'inference.expert_parallel');
  if (i.weights_dtype === 'fp8') c.set('vllm.quantization', 'fp8', 'inference.weights_dtype');
  if (lora > 0) {
    c.set('vllm.enable_lora', true, 'trainer.lora_rank');
    c.set('vllm.max_lora_rank', VLLM_LORA_RANKS.find((r) => r >= lora) ?? 512, 'trainer.lora_rank (rounded up to a vLLM LoRA rank)');
  }
  setWeightBroadcast(c, spec, derived, ports, 'inference');
  return c;
}

function envServerTable(slot: EnvServerSlot, spec: Spec): ConfigTable {
  const c = new ConfigTable();
  const env = slot.source.environment;
  c.set('env', envTable(env, spec), `environments (${env.name})`);
  c.set('serve.address', slot.colocated ? ENV_SERVER_LOOPBACK(slot.port) : ENV_SERVER_BIND_ALL(slot.port), '5000 + ports.base + index (train first, then eval)');
  if (!slot.colocated && env.runtime === 'sandbox' && spec.sandboxes.provider === 'docker' && slot.slots !== undefined) {
    // Docker has no creation limiter: cap live boxes at this env server's share of its node's slots.
    const workers = Math.max(1, Math.min(DOCKER_POOL_WORKERS, slot.slots));
    c.set('serve.pool.type', 'static', 'rlstack (docker fleet: fixed workers)');
    c.set('serve.pool.num_workers', workers, 'rlstack (docker fleet)');
    c.set('serve.max_concurrent', Math.max(1, Math.floor(slot.slots / workers)), 'sandbox slots of the fleet node / env servers on it / workers');
  }
  return c;
}

function header(component: Component, spec: Spec, remoteSources = false): string[] {
  const lines = [
    `# prime-rl ${component.replace('_', ' ')} config of run "${spec.run.name}", generated by rlstack for prime-rl ${mapRevision(spec.run)}.`,
    '# Do not edit: change the spec and compile again. Host-free: addresses known only at run time are',
    '# passed by node.sh as CLI overrides when it starts the component (docs/prime-rl-mapping.md).',
  ];
  if (remoteSources) {
    lines.push(
      `# Env servers on other nodes (sandbox fleet): ${ORCHESTRATOR_SOURCES} repeats the source lists with their`,
      '# addresses; node.sh resolves its host words and passes it as a second `@` file, which replaces the lists.',
    );
  }
  return lines;
}

/** Every prime-rl config of the run, before the spec's `extra` tables are merged. */
export function buildPrimeRlConfigs(spec: Spec, derived: Derived, layout: ConfigLayout): BuiltConfigs {
  const ports = derivePorts(spec);
  return {
    trainer: {
      component: 'trainer',
      path: TRAINER_CONFIG,
      root: ROOT_CLASSES.trainer,
      config: trainerConfig(spec, derived, ports, layout),
      header: header('trainer', spec),
    },
    orchestrator: {
      component: 'orchestrator',
      path: ORCHESTRATOR_CONFIG,
      root: ROOT_CLASSES.orchestrator,
      config: orchestratorConfig(spec, derived, ports, layout),
      header: header('orchestrator', spec, hasRemoteSources(layout)),
    },
    inference:
      derived.inference.gpus > 0
        ? {
            component: 'inference',
            path: INFERENCE_CONFIG,
            root: ROOT_CLASSES.inference,
            config: inferenceConfig(spec, derived, ports),
            header: header('inference', spec),
          }
        : undefined,
    envServers: layout.envServers.map((slot) => ({
      component: 'env_server',
      path: envServerConfig(slot.source),
      root: ROOT_CLASSES.env_server,
      config: envServerTable(slot, spec),
      header: header('env_server', spec),
    })),
  };
}

// ---------------------------------------------------------------------------------------------------------
// Extras and rendering

/** prime-rl's deep merge: tables merge key by key, everything else (lists included) is replaced. */
export function deepMerge(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(over)) {
    const current = out[key];
    out[key] = isPlainTable(current) && isPlainTable(value) ? deepMerge(current, value) : structuredClone(value);
  }
  return out;
}

/** Keys sorted by code point at every level (lists keep their order). */
export function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (!isPlainTable(value)) return value;
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(value).sort(codePointOrder)) out[key] = sortKeys(value[key]);
  return out;
}

export function renderToml(headerLines: readonly string[], config: Record<string, unknown>): string {
  const body = stringify(sortKeys(config) as Record<string, unknown>).replace(/\n+$/, '');
  return `${headerLines.join('\n')}\n\n${body}\n`;
}

export interface PrimeRlFile {
  component: Component;
  path: string;
  /** The prime-rl class the file is read as. */
  root: string;
  /** The final config (extras merged). */
  config: Record<string, unknown>;
  content: string;
}

/** The configs with extras merged, in start order of their files: trainer, orchestrator, inference, envs. */
export function primeRlFiles(spec: Spec, derived: Derived, plan: LaunchPlan): PrimeRlFile[] {
  const layout = layoutFromPlan(spec, derived, plan);
  const built = buildPrimeRlConfigs(spec, derived, layout);
  const list = [built.trainer, built.orchestrator, ...(built.inference ? [built.inference] : []), ...built.envServers];
  return list.map((b) => {
    const extra = b.component === 'env_server' ? undefined : spec[b.component].extra;
    const config = extra && Object.keys(extra).length > 0 ? deepMerge(b.config.data, extra) : b.config.data;
    return { component: b.component, path: b.path, root: b.root, config, content: renderToml(b.header, config) };
  });
}

/** The prime-rl runtime configs of a checked spec, as files relative to the run's launcher dir. */
export function renderPrimeRlConfigs(spec: Spec, derived: Derived, plan: LaunchPlan): { path: string; content: string }[] {
  const files = primeRlFiles(spec, derived, plan);
  const out = files.map(({ path, content }) => ({ path, content }));
  const orchestrator = files.find((f) => f.component === 'orchestrator')!;
  const sources = orchestratorSources(layoutFromPlan(spec, derived, plan), orchestrator.config);
  if (sources) out.push({ path: ORCHESTRATOR_SOURCES, content: sources });
  return out;
}

export function hasRemoteSources(layout: ConfigLayout): boolean {
  return layout.envServers.some((s) => !s.colocated && s.node >= 0);
}

/**
 * The orchestrator's final source lists (extras merged) with the address of every env server on another
 * node, `tcp://${RLSTACK_HOST:N}:<port>` — JSON, because node.sh substitutes the host words and
 * pydantic-config reads `.json` root files. Undefined when every env server runs beside the orchestrator.
 */
export function orchestratorSources(layout: ConfigLayout, orchestratorConfig: Record<string, unknown>): string | undefined {
  if (!hasRemoteSources(layout)) return undefined;
  const remote = new Map(layout.envServers.filter((s) => !s.colocated).map((s) => [`${s.source.split}/${s.source.name}`, s]));
  const overlay: Record<string, unknown> = {};
  for (const split of ['train', 'eval'] as const) {
    const table = orchestratorConfig[split];
    const list = isPlainTable(table) ? table.source : undefined;
    if (!Array.isArray(list)) continue;
    overlay[split] = {
      source: list.map((source: unknown) => {
        const slot = isPlainTable(source) && typeof source.name === 'string' ? remote.get(`${split}/${source.name}`) : undefined;
        return slot ? deepMerge(source as Record<string, unknown>, { serve: { address: `tcp://${hostOf(slot.node)}:${slot.port}` } }) : source;
      }),
    };
  }
  return `${JSON.stringify(sortKeys(overlay), null, 2)}\n`;
}

// ---------------------------------------------------------------------------------------------------------
// Keys rlstack manages when it starts a component

export interface ManagedKey {
  path: string;
  why: string;
}

/** Keys an `extra` table may not set: node.sh passes them at start, or they break the run's layout. */
export const MANAGED_KEYS: Readonly<Record<ExtraComponent, readonly ManagedKey[]>> = {
  trainer: [
    { path: 'output_dir', why: 'prime-rl requires the run dir (run.output_dir / run.name)' },
    { path: 'env_vars', why: 'environment variables come from [env] and [trainer.env]' },
    { path: 'resume', why: 'node.sh passes the resume step at start (run.resume)' },
    { path: 'weight_broadcast.host', why: 'rlstack binds trainer rank 0 on every interface (engines on other nodes join it)' },
    { path: 'rollout_transport.host', why: 'node.sh passes the orchestrator host at start' },
  ],
  orchestrator: [
    { path: 'output_dir', why: 'prime-rl requires the run dir (run.output_dir / run.name)' },
    { path: 'env_vars', why: 'environment variables come from [env] and [orchestrator.env]' },
    { path: 'resume', why: 'node.sh passes the resume step at start (run.resume)' },
    { path: 'weight_broadcast.host', why: 'node.sh passes the trainer host at start' },
    { path: 'rollout_transport.host', why: 'node.sh passes the orchestrator host at start' },
    { path: 'model.client.base_url', why: 'node.sh passes the router URL at start' },
    { path: 'model.client.admin_base_url', why: 'node.sh passes one admin URL per engine at start' },
  ],
  inference: [
    { path: 'env_vars', why: 'environment variables come from [env] and [inference.env]' },
    { path: 'server.host', why: 'node.sh binds every engine at start' },
    { path: 'server.port', why: 'node.sh gives every engine its port at start (inference.port, ports.base)' },
    { path: 'router', why: 'rlstack starts the router itself (inference.router_policy)' },
    { path: 'backend_port', why: 'engine ports derive from inference.port and ports.base' },
    { path: 'deployment', why: 'placement is rlstack\'s ([inference] nodes, gpus, nodes_per_replica)' },
    { path: 'slurm', why: 'rlstack submits the job (cluster.slurm)' },
    { path: 'output_dir', why: 'launcher-only key' },
    { path: 'dry_run', why: 'launcher-only key' },
    { path: 'vllm.data_parallel_size', why: 'node.sh sets the DP group of every engine at start' },
    { path: 'vllm.data_parallel_size_local', why: 'node.sh sets the DP group of every engine at start' },
    { path: 'vllm.data_parallel_rank', why: 'node.sh sets the DP rank of every engine at start' },
    { path: 'vllm.data_parallel_address', why: 'node.sh passes the replica head at start' },
    { path: 'vllm.data_parallel_rpc_port', why: 'derived from ports.base' },
    { path: 'vllm.api_server_count', why: 'node.sh starts one API server per engine' },
  ],
};

export function managedKey(component: ExtraComponent, dotted: string): ManagedKey | undefined {
  return MANAGED_KEYS[component].find((m) => dotted === m.path || dotted.startsWith(`${m.path}.`));
}
