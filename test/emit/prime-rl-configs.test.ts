/**
 * The prime-rl runtime configs: every preset's files are valid TOML 1.0 with only keys prime-rl 559b447
 * knows (simple types right), pinned by golden files, and consistent across components exactly as
 * prime-rl's validators demand (reference/prime-rl.md §3, one test per rule the spec can reach).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'smol-toml';
import { parseTOML } from 'toml-eslint-parser';
import { describe, expect, it } from 'vitest';
import { layoutFromPlan, orchestratorSources, layoutFromSpec, primeRlFiles, renderPrimeRlConfigs, type PrimeRlFile } from '../../src/compiler/emit/prime-rl/configs.js';
import { checkConfigKeys } from '../../src/compiler/emit/prime-rl/keys.js';
import { listPresets, presetPath } from '../../src/compiler/load/compose.js';
import { planSpec } from '../../src/compiler/pipeline.js';
import { PACKAGE_ROOT } from '../../src/paths.js';
import { BASE_MULTINODE, workspace } from '../helpers.js';

type Planned = Extract<ReturnType<typeof planSpec>, { ok: true }>;

function planned(path: string, sets: string[] = []): Planned {
  const result = planSpec(path, { sets });
  if (!result.ok) throw new Error(result.diagnostics.map((d) => `${d.code} ${d.path ?? ''} ${d.message}`).join('\n'));
  return result;
}

function specFile(toml: string): string {
  return join(workspace({ 'spec.toml': toml }), 'spec.toml');
}

interface Run {
  planned: Planned;
  files: PrimeRlFile[];
  /** Parsed back from the rendered TOML. */
  parsed: Map<string, Record<string, unknown>>;
}

function run(path: string, sets: string[] = []): Run {
  const p = planned(path, sets);
  const files = primeRlFiles(p.resolved.spec, p.derived, p.plan);
  return { planned: p, files, parsed: new Map(files.map((f) => [f.path, parse(f.content) as Record<string, unknown>])) };
}

// Typed reads of parsed configs (tests only).
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Any = any;
function cfg(r: Run, path: string): Any {
  const c = r.parsed.get(path);
  if (!c) throw new Error(`no ${path} among ${[...r.parsed.keys()].join(', ')}`);
  return c;
}
const trainer = (r: Run): Any => cfg(r, 'configs/trainer.toml');
const orchestrator = (r: Run): Any => cfg(r, 'configs/orchestrator.toml');
const inference = (r: Run): Any => cfg(r, 'configs/inference.toml');

const PRESETS = listPresets();
const presetRuns = new Map(PRESETS.map((name) => [name, run(presetPath(name))]));
const preset = (name: string): Run => presetRuns.get(name)!;

const EP_SPEC = BASE_MULTINODE;

describe('every preset', () => {
  it('has presets to check', () => {
    expect(PRESETS).toEqual(expect.arrayContaining(['intellect3', 'i3-mini', 'single-node', 'tiny']));
  });

  for (const name of PRESETS) {
    describe(name, () => {
      it('writes trainer, orchestrator, inference and one env server per source', () => {
        const r = preset(name);
        const paths = r.files.map((f) => f.path);
        expect(paths.slice(0, 3)).toEqual(['configs/trainer.toml', 'configs/orchestrator.toml', 'configs/inference.toml']);
        const envPaths = r.planned.plan.roles.env_servers.map((s) => `configs/envs/${s.split}/${s.name}.toml`);
        expect(paths.slice(3)).toEqual(envPaths);
      });

      it('is TOML 1.0 with only keys prime-rl 559b447 knows, each value of the declared type', () => {
        for (const f of preset(name).files) {
          expect(() => parseTOML(f.content, { tomlVersion: '1.0.0' }), f.path).not.toThrow();
          const parsed = parse(f.content) as Record<string, unknown>;
          expect(parsed, f.path).toEqual(JSON.parse(JSON.stringify(f.config)));
          expect(checkConfigKeys(f.root, parsed), f.path).toEqual([]);
        }
      });

      it('matches the golden files', async () => {
        const p = preset(name).planned;
        for (const f of renderPrimeRlConfigs(p.resolved.spec, p.derived, p.plan)) await expect(f.content).toMatchFileSnapshot(`../golden/configs/${name}/${f.path}`);
      });

      it('is byte-identical when compiled again', () => {
        const p = preset(name).planned;
        const again = planned(presetPath(name));
        expect(renderPrimeRlConfigs(again.resolved.spec, again.derived, again.plan)).toEqual(renderPrimeRlConfigs(p.resolved.spec, p.derived, p.plan));
      });

      it('places env servers where the plan does (spec-only layout agrees)', () => {
        const p = preset(name).planned;
        const fromPlan = layoutFromPlan(p.resolved.spec, p.derived, p.plan);
        const fromSpec = layoutFromSpec(p.resolved.spec, p.derived);
        const strip = (l: typeof fromPlan) => l.envServers.map((s) => ({ name: s.source.name, index: s.index, sourceIndex: s.sourceIndex, port: s.port, colocated: s.colocated }));
        expect(strip(fromSpec)).toEqual(strip(fromPlan));
        expect(fromSpec.runDir).toBe(p.plan.run.dir);
      });
    });
  }
});

describe('prime-rl §3 rules the spec can reach', () => {
  const runs = () => [...presetRuns.values()];

  it('X1: shared keys identical in trainer and orchestrator (max_steps, seq_len, ckpt, W&B)', () => {
    for (const r of runs()) {
      const t = trainer(r);
      const o = orchestrator(r);
      const spec = r.planned.resolved.spec;
      expect(t.max_steps).toBe(spec.run.max_steps);
      expect(o.max_steps).toBe(t.max_steps);
      expect(t.model.seq_len).toBe(spec.model.seq_len);
      expect(t.model.seq_len).toBeGreaterThanOrEqual(o.seq_len);
      // both or neither, same interval / keep_last / keep_interval
      expect(Boolean(t.ckpt)).toBe(Boolean(o.ckpt));
      if (t.ckpt) {
        expect({ interval: o.ckpt.interval, keep_last: o.ckpt.keep_last, keep_interval: o.ckpt.keep_interval }).toEqual({
          interval: t.ckpt.interval,
          keep_last: t.ckpt.keep_last,
          keep_interval: t.ckpt.keep_interval,
        });
      }
      expect(t.monitors?.wandb).toEqual(o.monitors?.wandb);
    }
    expect(trainer(preset('intellect3')).monitors.wandb).toEqual({ project: 'intellect-3', name: 'intellect3' });
    const ck = preset('intellect3').planned.resolved.spec.checkpoint;
    expect(trainer(preset('intellect3')).ckpt).toEqual({ interval: ck.interval, keep_last: ck.keep, ...(ck.keep_interval > 0 ? { keep_interval: ck.keep_interval } : {}) });
    const r = run(presetPath('tiny'), ['checkpoint.keep_interval=5', 'checkpoint.dir="/ckpt"']);
    expect(trainer(r).ckpt).toEqual({ interval: 10, keep_last: 1, keep_interval: 5, output_dir: '/ckpt' });
    expect(orchestrator(r).ckpt).toEqual({ interval: 10, keep_last: 1, keep_interval: 5 });
    expect(trainer(run(presetPath('tiny'), ['checkpoint.interval=0'])).ckpt).toBeUndefined();
  });

  it('X1: with inference, the served model is the orchestrator\'s; the trainer may train another name', () => {
    for (const r of runs()) expect(inference(r).vllm.model).toBe(orchestrator(r).model.name);
    const r = run(presetPath('i3-mini'), ['inference.model="Qwen/Qwen3-30B-A3B-Instruct-2507-FP8"']);
    expect(trainer(r).model.name).toBe('Qwen/Qwen3-30B-A3B-Instruct-2507');
    expect(orchestrator(r).model.name).toBe('Qwen/Qwen3-30B-A3B-Instruct-2507-FP8');
    expect(inference(r).vllm.model).toBe('Qwen/Qwen3-30B-A3B-Instruct-2507-FP8');
  });

  it('X1/D2: without inference, trainer and orchestrator train the same model on fake data, and no inference config', () => {
    const r = run(
      specFile(`
[cluster]
nodes = 1
gpus_per_node = 8
gpu = "h100"
[model]
name = "Qwen/Qwen3-4B-Instruct-2507"
seq_len = 4096
[trainer]
nodes = 1
micro_batches = 4
[inference]
nodes = 0
`),
    );
    expect(r.parsed.has('configs/inference.toml')).toBe(false);
    expect(orchestrator(r).model.name).toBe(trainer(r).model.name);
    expect(trainer(r).data).toEqual({ fake: { batch_size: 4 } });
    expect(trainer(r).weight_broadcast).toEqual({ type: 'filesystem' });
    expect(orchestrator(r).model.client).toBeUndefined();
  });

  it('X2: trainer and orchestrator output_dir are the run dir', () => {
    for (const r of runs()) {
      expect(trainer(r).output_dir).toBe(r.planned.plan.run.dir);
      expect(orchestrator(r).output_dir).toBe(r.planned.plan.run.dir);
    }
  });

  it('W5: one weight-broadcast type in all three, one rollout transport in trainer and orchestrator', () => {
    for (const r of runs()) {
      const type = r.planned.plan.weights.broadcast;
      expect(trainer(r).weight_broadcast.type).toBe(type);
      expect(orchestrator(r).weight_broadcast.type).toBe(type);
      expect(inference(r).weight_broadcast).toEqual({ type });
      expect(trainer(r).rollout_transport).toEqual(orchestrator(r).rollout_transport);
      expect(trainer(r).rollout_transport.type).toBe('zmq');
    }
  });

  it('W2: LoRA gets the filesystem broadcast everywhere, and LoRA on every component', () => {
    const r = run(presetPath('tiny'), ['trainer.lora_rank=24']);
    expect(trainer(r).weight_broadcast).toEqual({ type: 'filesystem' });
    expect(orchestrator(r).weight_broadcast).toEqual({ type: 'filesystem' });
    expect(inference(r).weight_broadcast).toEqual({ type: 'filesystem' });
    expect(trainer(r).model.lora).toEqual({ rank: 24 });
    expect(orchestrator(r).model.lora).toEqual({ rank: 24 });
    // vLLM ranks are 8/16/32/...; one API server with LoRA
    expect(inference(r).vllm).toMatchObject({ enable_lora: true, max_lora_rank: 32, api_server_count: 1 });
  });

  it('W3: fp8 serving quantizes in the NCCL transfer, with the custom trainer implementation', () => {
    const r = run(presetPath('i3-mini'), ['inference.weights_dtype="fp8"']);
    expect(inference(r).vllm.quantization).toBe('fp8');
    expect(trainer(r).weight_broadcast).toMatchObject({ type: 'nccl', quantize_in_weight_transfer: true });
    expect(orchestrator(r).weight_broadcast).toMatchObject({ type: 'nccl', quantize_in_weight_transfer: true });
    expect(trainer(r).model.impl).toBe('custom');
    expect(trainer(preset('i3-mini')).weight_broadcast.quantize_in_weight_transfer).toBeUndefined();
  });

  it('NCCL: inference_world_size = inference GPUs in trainer and orchestrator, timeout and port as planned', () => {
    for (const r of runs()) {
      const plan = r.planned.plan;
      expect(plan.weights.broadcast).toBe('nccl');
      for (const c of [trainer(r), orchestrator(r)]) {
        expect(c.weight_broadcast.inference_world_size).toBe(plan.roles.inference!.gpus);
        expect(c.weight_broadcast.inference_world_size).toBe(plan.weights.inference_world_size);
        expect(c.weight_broadcast.timeout).toBe(r.planned.resolved.spec.weights.timeout_s);
        expect(plan.processes.find((p) => p.name === 'trainer-0')!.ports).toContain(c.weight_broadcast.port);
      }
    }
    expect(trainer(preset('intellect3')).weight_broadcast.inference_world_size).toBe(preset('intellect3').planned.plan.roles.inference!.gpus);
  });

  it('num_train_workers = trainer world / cp, pad_to_multiple_of = cp', () => {
    for (const r of runs()) {
      const t = r.planned.plan.roles.trainer;
      expect(orchestrator(r).num_train_workers).toBe(t.gpus / t.cp);
      expect(orchestrator(r).num_train_workers).toBe(t.dp_replicate * t.dp_shard);
      expect(orchestrator(r).pad_to_multiple_of).toBe(t.cp);
      expect(trainer(r).model.cp).toBe(t.cp);
      expect(trainer(r).model.dp_replicate).toBe(t.dp_replicate);
    }
    expect(orchestrator(preset('intellect3'))).toMatchObject({ num_train_workers: 64, pad_to_multiple_of: 2 });
  });

  it('S7: engine port = inference.server.port, router port = the orchestrator base URL port (host passed at start)', () => {
    for (const r of runs()) {
      const plan = r.planned.plan;
      const engine = plan.processes.find((p) => p.name === 'inference-0')!;
      const router = plan.processes.find((p) => p.role === 'router')!;
      expect(inference(r).server.port).toBe(engine.ports[0]);
      expect(engine.command.join(' ')).toContain(`--server.port ${inference(r).server.port}`);
      expect(inference(r).router).toBe('None'); // rlstack runs the one global router itself
      const url = new URL(orchestrator(r).model.client.base_url);
      expect(url.hostname).toBe('127.0.0.1');
      expect(Number(url.port)).toBe(router.ports[0]);
      expect(router.command.join(' ')).toContain(`--port ${url.port}`);
      // the plan starts the orchestrator with the real router and admin URLs
      const orch = plan.processes.find((p) => p.role === 'orchestrator')!.command;
      expect(orch).toContain('--model.client.base-url');
      expect(orch).toContain('--model.client.admin-base-url');
    }
  });

  it('ports.base shifts every port the configs name', () => {
    const r = run(presetPath('tiny'), ['ports.base=300']);
    expect(trainer(r).rollout_transport.port).toBe(5855);
    expect(trainer(r).weight_broadcast.port).toBe(29801);
    expect(orchestrator(r).env_server_base_port).toBe(5300);
    expect(orchestrator(r).train.source[0].serve.address).toBe('tcp://127.0.0.1:5300');
    expect(cfg(r, 'configs/envs/train/reverse-text.toml').serve.address).toBe('tcp://127.0.0.1:5300');
    expect(inference(r).server.port).toBe(8400);
    expect(inference(r).vllm.data_parallel_rpc_port).toBe(13645);
    expect(new URL(orchestrator(r).model.client.base_url).port).toBe('8300');
    const orch = r.planned.plan.processes.find((p) => p.role === 'orchestrator')!;
    expect(orch.ports).toEqual([trainer(r).rollout_transport.port, trainer(r).rollout_transport.port + 1]);
  });

  it('D6: with expert parallel, dp × tp = nodes per replica × GPUs per node and dp_local = GPUs per node / tp', () => {
    const r = run(specFile(EP_SPEC), ['inference.expert_parallel=true', 'inference.nodes_per_replica=2']);
    const v = inference(r).vllm;
    expect(v.enable_expert_parallel).toBe(true);
    expect(v.data_parallel_size * v.tensor_parallel_size).toBe(2 * 8);
    expect(v.data_parallel_size_local).toBe(8 / v.tensor_parallel_size);
    // every engine joins that DP group at start
    for (const p of r.planned.plan.processes.filter((x) => x.role === 'inference')) {
      const cmd = p.command;
      expect(cmd[cmd.indexOf('--vllm.data-parallel-size') + 1]).toBe(String(v.data_parallel_size));
      expect(cmd[cmd.indexOf('--vllm.data-parallel-rpc-port') + 1]).toBe(String(v.data_parallel_rpc_port));
    }
  });

  it('D7/S6: without expert parallel, dp = dp_local = api servers = GPUs per node / tp', () => {
    const multi = inference(run(specFile(EP_SPEC))).vllm;
    expect(multi).toMatchObject({ tensor_parallel_size: 4, data_parallel_size: 2, data_parallel_size_local: 2, api_server_count: 2, enable_expert_parallel: false });
    const single = inference(preset('single-node')).vllm;
    expect(single).toMatchObject({ tensor_parallel_size: 1, data_parallel_size: 4, data_parallel_size_local: 4, api_server_count: 4 });
  });

  it('O1: one of batch_size / token_batch_size, batch a multiple of the group, max_inflight ≥ group', () => {
    for (const r of runs()) {
      const o = orchestrator(r);
      expect(o.token_batch_size).toBeUndefined();
      expect(o.batch_size % o.group_size).toBe(0);
      expect(o.concurrency.max_inflight).toBeGreaterThanOrEqual(o.group_size);
      expect(o.batch_size).toBe(r.planned.resolved.spec.orchestrator.batch_size);
    }
  });

  it('O1: source names unique per group, each with a taskset; ratio = weight', () => {
    for (const r of runs()) {
      const o = orchestrator(r);
      for (const group of [o.train, o.eval].filter(Boolean)) {
        const names = group.source.map((s: Any) => s.name);
        expect(new Set(names).size).toBe(names.length);
        for (const s of group.source) expect(s.env.taskset.id).toEqual(expect.any(String));
      }
      const weights = r.planned.plan.roles.env_servers.map((s) => s.weight);
      expect([...o.train.source, ...(o.eval?.source ?? [])].map((s: Any) => s.ratio)).toEqual(weights);
    }
  });

  it('O1: an eval block only with eval sources, at eval.interval', () => {
    expect(orchestrator(preset('tiny')).eval).toBeUndefined();
    const o = orchestrator(preset('single-node'));
    expect(o.eval.interval).toBe(preset('single-node').planned.resolved.spec.eval.interval);
    expect(o.eval.source.map((s: Any) => s.name)).toEqual(['aime25']);
    expect(o.train.source.map((s: Any) => s.name)).toEqual(['math']);
  });

  it('env-server ports = env_server_base_port + index, train sources first, then eval; addresses agree', () => {
    for (const r of runs()) {
      const plan = r.planned.plan;
      const o = orchestrator(r);
      const sources = [...o.train.source, ...(o.eval?.source ?? [])];
      const orchestratorNode = plan.roles.orchestrator.node;
      expect(plan.roles.env_servers.map((s) => s.split)).toEqual([...o.train.source.map(() => 'train'), ...(o.eval?.source ?? []).map(() => 'eval')]);
      const orchestratorFile = r.files.find((f) => f.path === 'configs/orchestrator.toml')!;
      const overlayText = orchestratorSources(layoutFromPlan(r.planned.resolved.spec, r.planned.derived, plan), orchestratorFile.config);
      const overlay: Any = overlayText ? JSON.parse(overlayText) : undefined;
      const command = plan.processes.find((p) => p.name === 'orchestrator')!.command;
      // pydantic-config has no indexed list flags (--train.source.1.serve.address replaces the list with a dict)
      expect(command.filter((w) => /^--(train|eval)\.source\./.test(w))).toEqual([]);
      const remote = plan.roles.env_servers.some((s) => s.node !== orchestratorNode);
      expect(overlay !== undefined).toBe(remote);
      if (remote) expect(command.join(' ')).toContain('@ ${RLSTACK_ARTIFACTS}/configs/orchestrator.toml @ ${RLSTACK_RENDERED}/configs/orchestrator-sources.json');
      plan.roles.env_servers.forEach((s, i) => {
        expect(s.port).toBe(o.env_server_base_port + i);
        expect(sources[i].name).toBe(s.name);
        const server = cfg(r, `configs/envs/${s.split}/${s.name}.toml`);
        expect(server.env).toEqual(sources[i].env);
        if (s.node === orchestratorNode) {
          expect(server.serve.address).toBe(`tcp://127.0.0.1:${s.port}`);
          expect(sources[i].serve.address).toBe(`tcp://127.0.0.1:${s.port}`);
        } else {
          // on a fleet node: bind every interface there; the orchestrator learns the host at start
          expect(server.serve.address).toBe(`tcp://*:${s.port}`);
          expect(sources[i].serve).toBeUndefined();
          // the sources file repeats the whole list (root files replace lists) with the remote address
          const list = overlay[s.split].source;
          expect(list.map((x: Any) => x.name)).toEqual((s.split === 'train' ? o.train.source : o.eval.source).map((x: Any) => x.name));
          const entry = list.find((x: Any) => x.name === s.name);
          expect(entry.serve.address).toBe(`tcp://\${RLSTACK_HOST:${s.node}}:${s.port}`);
          expect(entry.env).toEqual(sources[i].env);
        }
      });
    }
  });

  it('docker sandboxes: resources, restricted network by allow list, capped per env server; subprocess set explicitly', () => {
    const r = preset('intellect3');
    const spec = r.planned.resolved.spec;
    const remote = r.planned.plan.roles.env_servers.filter((s) => s.node !== r.planned.plan.roles.orchestrator.node);
    expect(remote.length).toBeGreaterThan(0);
    for (const s of remote) {
      const server = cfg(r, `configs/envs/${s.split}/${s.name}.toml`);
      expect(server.env.agent.runtime).toEqual({ type: 'docker', image: spec.sandboxes.image, cpu: spec.sandboxes.cpus, memory: spec.sandboxes.memory_gib, disk: spec.sandboxes.disk_gib, allow: spec.sandboxes.allow });
      expect(server.serve.pool).toEqual({ type: 'static', num_workers: 4 });
      expect(server.serve.max_concurrent).toBeGreaterThanOrEqual(1);
    }
    const math = cfg(r, 'configs/envs/train/math.toml');
    expect(math.env.agent.runtime).toEqual({ type: 'subprocess' });
    // host networking: no allow list, so verifiers keeps its unrestricted default
    const host = run(presetPath('intellect3'), ['sandboxes.network="host"']);
    const code = cfg(host, 'configs/envs/train/code.toml');
    expect(code.env.agent.runtime.allow).toBeUndefined();
  });

  it('trainer knobs map to prime-rl\'s: AC, activation offload, optimizer offload, LM-head chunk, optimizer', () => {
    const t = trainer(preset('intellect3')).model;
    expect(t).toMatchObject({ dp_replicate: 2, ep: 8, cp: 2, cp_style: 'ulysses', ac: { mode: 'full' }, ac_offloading: { max_inflight_activations: 5 }, optim_cpu_offload: true, fused_lm_head_token_chunk_size: 8192 });
    expect(trainer(preset('intellect3')).optim).toEqual({ type: 'muon', lr: 1e-6, weight_decay: 0.01 });
    const r = run(presetPath('tiny'), ['trainer.activation_checkpointing="none"', 'trainer.activation_offload=3', 'trainer.lm_head_chunk=0', 'trainer.optimizer.type="sign_sgd"']);
    expect(trainer(r).model).toMatchObject({ ac: 'None', ac_offloading: { max_inflight_activations: 3 }, fused_lm_head_token_chunk_size: 'disabled', ep: 'auto' });
    expect(trainer(r).optim.type).toBe('sign_sgd');
    expect(trainer(preset('tiny')).model).toMatchObject({ ac_offloading: 'None', optim_cpu_offload: false });
  });

  it('inference and orchestrator knobs: memory, lengths, sequences, sampling, readiness', () => {
    const r = run(presetPath('tiny'), ['inference.max_num_seqs=64', 'inference.gpu_memory_utilization=0.85']);
    expect(inference(r).vllm).toMatchObject({ max_num_seqs: 64, gpu_memory_utilization: 0.85, max_model_len: 2048 });
    expect(inference(preset('tiny')).vllm.max_num_seqs).toBeUndefined();
    const o = orchestrator(preset('intellect3'));
    expect(o.train.sampling).toEqual({ temperature: 1.05, max_completion_tokens: 65536 });
    expect(o).toMatchObject({ batch_size: 4096, group_size: 16, max_off_policy_steps: 1, concurrency: { max_inflight: 4096 }, seq_len: 73728 });
    expect(o.model.client.wait_for_ready_timeout).toBe(3600);
  });
});

describe('no secrets and no host names', () => {
  it('never writes a secret value, a cluster host name or a non-loopback address', () => {
    const planted: Record<string, string> = {
      WANDB_API_KEY: 'wandb-secret-3f9a1c',
      HF_TOKEN: 'hf_secret_77aa',
      PRIME_API_KEY: 'prime-secret-xyz',
      VLLM_API_KEY: 'vllm-secret-000',
    };
    const saved = { ...process.env };
    Object.assign(process.env, planted);
    try {
      const ssh = specFile(`${BASE_MULTINODE}
[cluster.ssh]
hosts = "gpu-host-[01-04]"
[run]
prime_rl_dir = "/opt/prime-rl"
[secrets]
WANDB_API_KEY = ["trainer", "orchestrator"]
HF_TOKEN = ["trainer", "inference"]
`);
      const r = run(ssh, ['cluster.backend="ssh"']);
      const hosts = r.planned.plan.nodes.map((n) => n.host);
      expect(hosts).toEqual(['gpu-host-01', 'gpu-host-02', 'gpu-host-03', 'gpu-host-04']);
      const all = [...presetRuns.values(), r];
      for (const x of all) {
        for (const f of x.files) {
          for (const value of Object.values(planted)) expect(f.content, f.path).not.toContain(value);
          for (const name of Object.keys(planted)) expect(f.content, f.path).not.toContain(name);
          for (const host of hosts) expect(f.content, f.path).not.toContain(host!);
          expect(f.content).not.toMatch(/env_vars/);
          // every address is loopback or a wildcard bind
          for (const m of f.content.matchAll(/(?:tcp|https?):\/\/([^:/"\s]+)/g)) {
            expect(m[1], f.path).toMatch(/^(127\.0\.0\.1|\*|0\.0\.0\.0|\$\{RLSTACK_HOST)$/);
          }
        }
      }
    } finally {
      process.env = saved;
    }
  });
});

describe('the keys file ships with the package', () => {
  it('is read from src/ relative to the package root, identical to the reference', () => {
    const shipped = JSON.parse(readFileSync(join(PACKAGE_ROOT, 'src/compiler/emit/prime-rl/maps/config-keys-559b447.json'), 'utf8'));
    expect(Object.keys(shipped)).toHaveLength(127);
    expect(shipped['trainer.TrainerConfig']).toBeDefined();
  });
});

describe('docs/prime-rl-mapping.md', () => {
  it('names every prime-rl key rlstack sets', () => {
    const doc = readFileSync(join(PACKAGE_ROOT, 'docs/prime-rl-mapping.md'), 'utf8');
    const keys = new Set<string>();
    const variants = [
      ...presetRuns.values(),
      run(presetPath('tiny'), ['trainer.lora_rank=8', 'inference.max_num_seqs=8', 'checkpoint.dir="/ckpt"', 'checkpoint.keep_interval=100']),
      run(presetPath('i3-mini'), ['inference.weights_dtype="fp8"']),
    ];
    for (const r of variants) {
      for (const f of r.files) {
        const walk = (v: unknown, path: string[]) => {
          // verifiers' EnvConfig is documented as a whole; lists (sources, allow lists) as one key
          if (v && typeof v === 'object' && !Array.isArray(v) && path[path.length - 1] !== 'env') {
            for (const [k, x] of Object.entries(v)) walk(x, [...path, k]);
          } else keys.add(`${f.component}:${path.join('.')}`);
        };
        walk(f.config, []);
      }
    }
    for (const key of keys) {
      const [, path] = key.split(':');
      expect(doc, key).toContain(`\`${path}\``);
    }
  });
});
