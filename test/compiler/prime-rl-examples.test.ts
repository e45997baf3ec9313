/**
 * prime-rl's own multi-node examples (examples/advanced/* at the pinned revision 559b447), each written as a
 * self-contained rlstack spec in test/fixtures/prime-rl-examples/ (the head comment of each file cites the
 * prime-rl source lines and lists what rlstack cannot express). Every spec must plan without an error — in
 * particular, capacities the example never states (host RAM, disk, the Slurm signal) must not cause one — and
 * the plan and compiled configs must show the example's model, node split, parallelism and batch sizes.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'smol-toml';
import { describe, expect, it } from 'vitest';
import { renderArtifacts } from '../../src/compiler/emit/artifacts.js';
import { planSpec } from '../../src/compiler/pipeline.js';
import type { LaunchPlan } from '../../src/compiler/plan/types.js';

const DIR = join(dirname(fileURLToPath(import.meta.url)), '../fixtures/prime-rl-examples');
const FILES = readdirSync(DIR)
  .filter((f) => f.endsWith('.toml'))
  .sort();

type Toml = Record<string, any>;

/** What each example states (prime-rl 559b447, examples/advanced/<dir>/<file>), as the plan and configs must show it. */
interface Facts {
  model: string;
  arch: string | null;
  seqLen: number;
  trainerNodes: number;
  inferenceNodes: number;
  gpusPerNode: number;
  /** the plan's resolved EP degree */
  ep: number;
  /** trainer.model.ep as written into the trainer config, when not the number (prime-rl's "auto") */
  epConfig?: 'auto';
  cp: number;
  tp: number;
  replicas: number;
  /** train sources: name → ratio */
  train: Record<string, number>;
  eval: string[];
  batchSize: number;
  groupSize: number;
  maxInflight: number;
  initialInflight: number;
  maxOffPolicySteps: number;
  optimizer: string;
  lmHeadChunk: number;
  maxSteps?: number;
  partition: string;
  /** Facts specific to one example, checked on its compiled configs. */
  extra?: (configs: { trainer: Toml; orchestrator: Toml; inference: Toml }, plan: LaunchPlan) => void;
}

const FACTS: Record<string, Facts> = {
  // examples/advanced/intellect-3.1/rl.toml
  'intellect-3.1-rl.toml': {
    model: 'PrimeIntellect/INTELLECT-3-Base',
    arch: 'glm4_moe-106b-a12b',
    seqLen: 131072,
    trainerNodes: 4,
    inferenceNodes: 12,
    gpusPerNode: 8,
    ep: 8,
    cp: 2,
    tp: 8,
    replicas: 12,
    train: { swe: 0.3, deepdive: 0.2, math: 0.3, logic: 0.2, code: 0.2 },
    eval: ['swe-bench-verified', 'aime2025'],
    batchSize: 2048,
    groupSize: 1,
    maxInflight: 4096,
    initialInflight: 4096,
    maxOffPolicySteps: 8,
    optimizer: 'muon',
    lmHeadChunk: 1024,
    partition: 'cluster',
    extra: ({ orchestrator }) => {
      const logic = orchestrator.train.source.find((s: Toml) => s.name === 'logic');
      expect(logic.env.taskset).toEqual({ id: 'i3_logic', filter: { max: 0.874 } });
      expect(orchestrator.renderer).toEqual({ name: 'default' });
      expect(orchestrator.eval.interval).toBe(25);
    },
  },
  // examples/advanced/qwen3-30b-a3b/math.toml
  'qwen3-30b-a3b-math.toml': {
    model: 'Qwen/Qwen3-30B-A3B-Thinking-2507',
    arch: 'qwen3_moe-30b-a3b',
    seqLen: 32768,
    trainerNodes: 2,
    inferenceNodes: 2,
    gpusPerNode: 8,
    ep: 8,
    cp: 1,
    tp: 8,
    replicas: 2,
    train: { math: 1 },
    eval: ['aime2025'],
    batchSize: 512,
    groupSize: 1,
    maxInflight: 1024,
    initialInflight: 1024,
    maxOffPolicySteps: 8,
    optimizer: 'adamw',
    lmHeadChunk: 8192,
    partition: 'cluster',
    extra: ({ orchestrator }) => {
      expect(orchestrator.train.sampling.max_completion_tokens).toBe(32768);
      expect(orchestrator.eval.interval).toBe(25);
    },
  },
  // examples/advanced/glm-4.5-air/search.toml
  'glm-4.5-air-search.toml': {
    model: 'zai-org/GLM-4.5-Air',
    arch: 'glm4_moe-106b-a12b',
    seqLen: 131072,
    trainerNodes: 2,
    inferenceNodes: 4,
    gpusPerNode: 8,
    ep: 8,
    epConfig: 'auto', // unset in the example: prime-rl resolves min(world / dp_replicate, 8) = 8
    cp: 4,
    tp: 8,
    replicas: 4,
    train: { openseeker: 1, redsearcher: 1 },
    eval: ['browsecomp'],
    batchSize: 256,
    groupSize: 16,
    maxInflight: 512,
    initialInflight: 256,
    maxOffPolicySteps: 32,
    optimizer: 'muon',
    lmHeadChunk: 1024,
    maxSteps: 1000,
    partition: 'all',
    extra: ({ trainer, orchestrator, inference }, plan) => {
      expect(plan.roles.inference!.nodes_per_replica).toBe(1);
      expect(trainer.model.cp_style).toBe('ulysses');
      expect(trainer.model.ac_offloading).toEqual({ max_inflight_activations: 1 });
      expect(trainer.enable_router_replay).toBe(true);
      expect(trainer.ckpt).toMatchObject({ interval: 50, keep_last: 1, skip_optimizer: true });
      expect(trainer.weight_broadcast.timeout).toBe(3600);
      expect(inference.vllm).toMatchObject({ max_model_len: 131072, enable_return_routed_experts: true });
      expect(orchestrator.algo).toMatchObject({ type: 'grpo', length_penalty: { type: 'linear', num_input_tokens_weight: 0.1 } });
      expect(orchestrator.renderer).toEqual({ name: 'glm-4.5', thinking_retention: 'all' });
      expect(orchestrator.eval).toMatchObject({ interval: 20, num_examples: 500 });
      const openseeker = orchestrator.train.source.find((s: Toml) => s.name === 'openseeker');
      expect(openseeker.env.taskset.task.judges).toEqual([
        { id: 'reference', name: 'correct', model: 'Qwen/Qwen3-235B-A22B-Instruct-2507', question_field: 'question', choices: ['A', 'B'] },
      ]);
      expect(openseeker.env.agent.harness.id).toBe('rlm');
    },
  },
  // examples/advanced/minimax-m2.5/swe.toml (model outside the catalogue: [model.architecture])
  'minimax-m2.5-swe.toml': {
    model: 'PrimeIntellect/MiniMax-M2.5-bf16',
    arch: null,
    seqLen: 131072,
    trainerNodes: 4,
    inferenceNodes: 12,
    gpusPerNode: 8,
    ep: 8,
    cp: 4,
    tp: 8,
    replicas: 12,
    train: { swe: 1 },
    eval: ['swe-bench-verified'],
    batchSize: 2048,
    groupSize: 1,
    maxInflight: 4096,
    initialInflight: 4096,
    maxOffPolicySteps: 16,
    optimizer: 'adamw',
    lmHeadChunk: 1024,
    partition: 'cluster',
    extra: ({ orchestrator }, plan) => {
      // MiniMax-M2 is ~230B total / ~10B active: the inline architecture must count to that
      expect(plan.model.parameters! / 1e9).toBeGreaterThan(220);
      expect(plan.model.parameters! / 1e9).toBeLessThan(235);
      expect(plan.model.active_parameters! / 1e9).toBeGreaterThan(9);
      expect(plan.model.active_parameters! / 1e9).toBeLessThan(12);
      expect(orchestrator.renderer).toEqual({ name: 'minimax-m2' });
    },
  },
};

function nodeCount(range: { nodes: [number, number] | number[] }): number {
  return range.nodes[1]! - range.nodes[0]! + 1;
}

describe('prime-rl 559b447 multi-node examples as rlstack specs', () => {
  it('has a spec for every example with facts, and facts for every spec', () => {
    expect(FILES.length).toBeGreaterThanOrEqual(3);
    expect(FILES).toContain('intellect-3.1-rl.toml');
    expect(FILES).toEqual(Object.keys(FACTS).sort());
  });

  for (const file of FILES) {
    describe(file, () => {
      const path = join(DIR, file);

      it('is self-contained and states no capacity the example does not', () => {
        const text = readFileSync(path, 'utf8');
        expect(text).toMatch(/^# .*\n(#.*\n)*# Source: prime-rl 559b447, examples\/advanced\//);
        const spec = parse(text) as Toml;
        expect(spec.extends).toBeUndefined();
        expect(spec.cluster.backend).toBe('slurm');
        expect(spec.cluster.disk_gib).toBeUndefined();
        expect(spec.cluster.host_memory_gib).toBeUndefined();
        expect(spec.cluster.slurm?.signal).toBeUndefined();
      });

      it('plans without an error', () => {
        const r = planSpec(path);
        const errors = r.diagnostics.filter((d) => d.severity === 'error');
        expect(errors.map((d) => `${d.code} ${d.path ?? ''}: ${d.message}`).join('\n'), `errors planning ${file}`).toBe('');
        expect(r.ok).toBe(true);
      });

      it("expresses the example's model, node split, parallelism and batch", () => {
        const f = FACTS[file];
        expect(f, `no facts for ${file}`).toBeDefined();
        const r = planSpec(path);
        if (!r.ok) throw new Error(r.diagnostics.map((d) => `${d.severity} ${d.code} ${d.message}`).join('\n'));
        const { plan } = r;

        expect(plan.model).toMatchObject({ name: f!.model, seq_len: f!.seqLen });
        if (f!.arch) expect(plan.model.arch).toBe(f!.arch);
        expect(plan.cluster).toMatchObject({ nodes: f!.trainerNodes + f!.inferenceNodes, gpus_per_node: f!.gpusPerNode, backend: 'slurm' });
        if (f!.maxSteps) expect(plan.run.max_steps).toBe(f!.maxSteps);

        const { trainer, inference, env_servers } = plan.roles;
        expect(nodeCount(trainer)).toBe(f!.trainerNodes);
        expect(trainer).toMatchObject({ gpus: f!.trainerNodes * f!.gpusPerNode, ep: f!.ep, cp: f!.cp });
        expect(inference).not.toBeNull();
        expect(nodeCount(inference!)).toBe(f!.inferenceNodes);
        expect(inference).toMatchObject({ gpus: f!.inferenceNodes * f!.gpusPerNode, tp: f!.tp, replicas: f!.replicas });
        // prime-rl's placement: inference nodes first, then the trainer; the orchestrator on the first trainer node
        expect(inference!.nodes[0]).toBe(0);
        expect(trainer.nodes[0]).toBe(f!.inferenceNodes);
        expect(plan.roles.orchestrator.node).toBe(f!.inferenceNodes);
        expect(plan.weights).toMatchObject({ broadcast: 'nccl', inference_world_size: f!.inferenceNodes * f!.gpusPerNode });

        const train = Object.fromEntries(env_servers.filter((s) => s.split === 'train').map((s) => [s.name, s.weight]));
        expect(train).toEqual(f!.train);
        expect(env_servers.filter((s) => s.split === 'eval').map((s) => s.name)).toEqual(f!.eval);

        const { artifacts } = renderArtifacts(r.resolved, r.derived, plan);
        const config = (p: string): Toml => {
          const a = artifacts.find((x) => x.path === p);
          if (!a) throw new Error(`no ${p}`);
          return parse(a.content) as Toml;
        };
        const configs = { trainer: config('configs/trainer.toml'), orchestrator: config('configs/orchestrator.toml'), inference: config('configs/inference.toml') };
        const { trainer: t, orchestrator: o, inference: i } = configs;
        expect(t.model).toMatchObject({ name: f!.model, seq_len: f!.seqLen, ep: f!.epConfig ?? f!.ep, cp: f!.cp, impl: 'custom', attn: 'flash_attention_3', fused_lm_head_token_chunk_size: f!.lmHeadChunk });
        expect(t.model.compile).toEqual({});
        expect(t.optim.type).toBe(f!.optimizer);
        expect(o).toMatchObject({ batch_size: f!.batchSize, group_size: f!.groupSize, max_off_policy_steps: f!.maxOffPolicySteps, seq_len: f!.seqLen });
        expect(o.concurrency).toEqual({ initial_inflight: f!.initialInflight, max_inflight: f!.maxInflight });
        expect(i.vllm.tensor_parallel_size).toBe(f!.tp);

        const sbatch = artifacts.find((x) => x.path === 'slurm/job.sbatch')!.content;
        expect(sbatch).toContain(`#SBATCH --nodes=${f!.trainerNodes + f!.inferenceNodes}`);
        expect(sbatch).toContain(`#SBATCH --partition=${f!.partition}`);

        f!.extra?.(configs, plan);
      });
    });
  }
});
