/**
 * The typed view of prime-rl's keys (keys.ts) and the check of the spec's `extra` tables against it
 * (rule extraTablesValid): unknown keys with a suggestion, wrong types, overrides of keys the spec sets,
 * keys rlstack passes at start, vLLM passthrough under [inference.extra.vllm].
 */
import { join } from 'node:path';
import { parse } from 'smol-toml';
import { describe, expect, it } from 'vitest';
import { extraTablesValid } from '../../src/compiler/check/rules/extra.js';
import type { Diagnostic } from '../../src/compiler/diagnostics/diagnostic.js';
import { primeRlFiles } from '../../src/compiler/emit/prime-rl/configs.js';
import { checkConfigKeys, parseType, resolveKeyPath, ROOT_CLASSES } from '../../src/compiler/emit/prime-rl/keys.js';
import { listPresets, presetPath } from '../../src/compiler/load/compose.js';
import { planSpec } from '../../src/compiler/pipeline.js';
import { derive } from '../../src/compiler/plan/derive.js';
import { resolveSpec } from '../../src/compiler/resolve.js';
import { workspace } from '../helpers.js';

function extraDiagnostics(extraToml: string, base = 'tiny'): Diagnostic[] {
  const dir = workspace({ 'spec.toml': `extends = ${JSON.stringify(presetPath(base))}\n${extraToml}` });
  const resolved = resolveSpec(join(dir, 'spec.toml'));
  if (!resolved.ok) throw new Error(resolved.diagnostics.map((d) => `${d.code} ${d.message}`).join('\n'));
  const { spec, provenance } = resolved.resolved;
  return extraTablesValid({ spec, provenance, derived: derive(spec) });
}

describe('keys.ts', () => {
  it('resolves key paths through optionals, lists and discriminated unions', () => {
    expect(resolveKeyPath(ROOT_CLASSES.trainer, 'model.ac')).toEqual({ kind: 'class', className: 'trainer.ActivationCheckpointConfig' });
    expect(resolveKeyPath(ROOT_CLASSES.trainer, 'model.seq_len')).toMatchObject({ kind: 'value', className: 'trainer.ModelConfig' });
    // the default variant without a value, the one `type` selects with a value
    expect(resolveKeyPath(ROOT_CLASSES.trainer, 'optim')).toEqual({ kind: 'class', className: 'trainer.AdamWConfig' });
    expect(resolveKeyPath(ROOT_CLASSES.trainer, 'optim', { optim: { type: 'muon' } })).toEqual({ kind: 'class', className: 'trainer.MuonConfig' });
    expect(resolveKeyPath(ROOT_CLASSES.trainer, 'optim.mu', { optim: { type: 'muon' } })).toMatchObject({ kind: 'value', className: 'trainer.MuonConfig' });
    expect(resolveKeyPath(ROOT_CLASSES.trainer, 'weight_broadcast.inference_world_size', { weight_broadcast: { type: 'nccl' } })).toMatchObject({ kind: 'value', className: 'trainer.NCCLWeightBroadcastConfig' });
    expect(resolveKeyPath(ROOT_CLASSES.orchestrator, ['train', 'source', 0, 'sampling'])).toEqual({ kind: 'class', className: 'orchestrator.TrainSamplingConfig' });
    expect(resolveKeyPath(ROOT_CLASSES.orchestrator, 'train.source.ratio')).toMatchObject({ kind: 'value', className: 'orchestrator.TrainSourceConfig' });
    expect(resolveKeyPath(ROOT_CLASSES.orchestrator, 'train.source.env.taskset')).toEqual({ kind: 'open', className: 'orchestrator.TrainSourceConfig', reason: 'external' });
    expect(resolveKeyPath(ROOT_CLASSES.inference, 'vllm.enable_chunked_prefill')).toEqual({ kind: 'open', className: 'inference.VllmConfig', reason: 'extra' });
    expect(resolveKeyPath(ROOT_CLASSES.inference, 'router', { router: { type: 'llm-d' } })).toEqual({ kind: 'class', className: 'inference.LlmdRouterConfig' });
    expect(resolveKeyPath(ROOT_CLASSES.env_server, 'serve.address')).toEqual({ kind: 'open', className: 'env_server.EnvServerConfig', reason: 'external' });
    expect(resolveKeyPath(ROOT_CLASSES.trainer, 'model.seq_lne')).toEqual({ kind: 'unknown', className: 'trainer.ModelConfig', key: 'seq_lne', suggestion: 'seq_len' });
  });

  it('parses annotations', () => {
    expect(parseType("int | Literal['auto']")).toEqual({ kind: 'union', options: [{ kind: 'int' }, { kind: 'literal', values: ['auto'] }] });
    expect(parseType("'VLMConfig | None'")).toEqual({ kind: 'union', options: [{ kind: 'config', name: 'VLMConfig' }, { kind: 'none' }] });
    expect(parseType('dict[str, AdmissionGateConfig]')).toEqual({ kind: 'dict', value: { kind: 'config', name: 'AdmissionGateConfig' } });
    expect(parseType('list[str] | None')).toEqual({ kind: 'union', options: [{ kind: 'list', item: { kind: 'str' } }, { kind: 'none' }] });
    expect(parseType('SerializeAsAny[vf.EnvConfig]')).toEqual({ kind: 'external', name: 'vf.EnvConfig' });
  });

  it('reports unknown keys with a suggestion, and wrong simple types', () => {
    const issues = checkConfigKeys(ROOT_CLASSES.trainer, {
      max_stepz: 3,
      model: { seq_len: '2048', cp: 1.5, cp_style: 'zigzag', ac: 'None', ac_offloading: { pin_memory: 'yes' }, ep: 'auto', fused_lm_head_token_chunk_size: 'disabled' },
      optim: { type: 'adamw', mu: 0.9 },
      ckpt: 'None',
      monitors: { wandb: { tags: ['a', 1] } },
    });
    const byPath = new Map(issues.map((i) => [i.path.join('.'), i]));
    expect(byPath.get('max_stepz')).toMatchObject({ kind: 'unknown', suggestion: 'max_steps' });
    expect(byPath.get('model.seq_len')).toMatchObject({ kind: 'type', expected: 'int' });
    expect(byPath.get('model.cp')).toMatchObject({ kind: 'type' });
    expect(byPath.get('model.cp_style')).toMatchObject({ kind: 'type', expected: '"ring" | "ulysses"' });
    expect(byPath.get('model.ac_offloading.pin_memory')).toMatchObject({ kind: 'type', expected: 'bool' });
    expect(byPath.get('optim.mu')).toMatchObject({ kind: 'unknown', className: 'trainer.AdamWConfig' });
    expect(byPath.get('monitors.wandb.tags.1')).toMatchObject({ kind: 'type' });
    expect(issues).toHaveLength(7);
    expect(checkConfigKeys(ROOT_CLASSES.trainer, { optim: { type: 'muon', mu: 0.9 } })).toEqual([]);
    expect(checkConfigKeys(ROOT_CLASSES.trainer, { optim: { type: 'lion' } })).toMatchObject([{ kind: 'type', path: ['optim'] }]);
    expect(checkConfigKeys(ROOT_CLASSES.inference, { vllm: { 'enable-chunked-prefill': true, tensor_parallel_size: 'x' } })).toMatchObject([{ kind: 'type', path: ['vllm', 'tensor_parallel_size'] }]);
    expect(checkConfigKeys(ROOT_CLASSES.inference, { sever: { port: 1 } })).toMatchObject([{ kind: 'unknown', suggestion: 'server' }]);
    expect(checkConfigKeys(ROOT_CLASSES.orchestrator, { train: { source: [{ name: 'a', ratio: 1, env: { anything: { goes: 1 } }, bogus: 1 }] } })).toMatchObject([{ kind: 'unknown', path: ['train', 'source', 0, 'bogus'] }]);
  });
});

describe('extra tables', () => {
  it('every preset passes the rule', () => {
    for (const name of listPresets()) {
      const resolved = resolveSpec(presetPath(name));
      if (!resolved.ok) throw new Error(name);
      const { spec, provenance } = resolved.resolved;
      expect(extraTablesValid({ spec, provenance, derived: derive(spec) }), name).toEqual([]);
    }
  });

  it('accept keys the spec does not set, and they reach the config', () => {
    const toml = `
[trainer.extra.model]
compile = "None"
[trainer.extra.model.ac]
freq = 2
[trainer.extra.loss]
kl_tau = 0.01
[orchestrator.extra]
tasks_per_minute = 600
[orchestrator.extra.eval]
num_examples = 64
[inference.extra.vllm]
enable_chunked_prefill = true
enforce_eager = true
`;
    expect(extraDiagnostics(toml)).toEqual([]);
    const dir = workspace({ 'spec.toml': `extends = ${JSON.stringify(presetPath('tiny'))}\n${toml}` });
    const planned = planSpec(join(dir, 'spec.toml'));
    if (!planned.ok) throw new Error(planned.diagnostics.map((d) => d.message).join('\n'));
    const files = new Map(primeRlFiles(planned.resolved.spec, planned.derived, planned.plan).map((f) => [f.path, parse(f.content) as Record<string, any>]));
    const trainer = files.get('configs/trainer.toml')!;
    expect(trainer.model.compile).toBe('None');
    expect(trainer.model.ac).toEqual({ mode: 'full', freq: 2 });
    expect(trainer.loss).toEqual({ kl_tau: 0.01 });
    expect(files.get('configs/inference.toml')!.vllm).toMatchObject({ enable_chunked_prefill: true, enforce_eager: true, tensor_parallel_size: 1 });
    expect(files.get('configs/orchestrator.toml')!.tasks_per_minute).toBe(600);
  });

  it('refuses an unknown key, with a suggestion', () => {
    const d = extraDiagnostics('[trainer.extra.model]\nseq_lne = 4096\n');
    expect(d).toHaveLength(1);
    expect(d[0]).toMatchObject({ code: 'RS2501', path: 'trainer.extra.model.seq_lne', severity: 'error', hint: 'did you mean trainer.extra.model.seq_len?' });
    expect(d[0]!.line).toBe(3); // extends, [trainer.extra.model], seq_lne
    const top = extraDiagnostics('[inference.extra]\nenable_chunked_prefill = true\n');
    expect(top).toMatchObject([{ code: 'RS2501', path: 'inference.extra.enable_chunked_prefill' }]);
    expect(top[0]!.hint).toContain('[inference.extra.vllm]');
  });

  it('follows the variant the spec selects (Muon takes mu, AdamW does not)', () => {
    expect(extraDiagnostics('[trainer.extra.optim]\nmu = 0.9\n', 'i3-mini')).toEqual([]);
    expect(extraDiagnostics('[trainer.extra.optim]\nmu = 0.9\n', 'tiny')).toMatchObject([{ code: 'RS2501', path: 'trainer.extra.optim.mu' }]);
  });

  it('refuses a wrong type', () => {
    expect(extraDiagnostics('[orchestrator.extra]\ntasks_per_minute = "fast"\n')).toMatchObject([{ code: 'RS2505', path: 'orchestrator.extra.tasks_per_minute', hint: 'expected int | "None"' }]);
  });

  it('refuses to override a key the spec sets, naming the spec key; a repeated value is a warning', () => {
    const d = extraDiagnostics('[trainer.extra.model]\ncp = 2\nseq_len = 2048\n[orchestrator.extra]\nbatch_size = 64\n');
    const byPath = new Map(d.map((x) => [x.path, x]));
    expect(byPath.get('trainer.extra.model.cp')).toMatchObject({ code: 'RS2502', severity: 'error' });
    expect(byPath.get('trainer.extra.model.cp')!.message).toContain('trainer.cp');
    expect(byPath.get('trainer.extra.model.seq_len')).toMatchObject({ code: 'RS2503', severity: 'warning' });
    expect(byPath.get('orchestrator.extra.batch_size')!.message).toContain('orchestrator.batch_size');
    // replacing a table the spec sets (AC on) by "None", or a whole source list
    expect(extraDiagnostics('[trainer.extra.model]\nac = "None"\n')).toMatchObject([{ code: 'RS2502', path: 'trainer.extra.model.ac', hint: 'set trainer.activation_checkpointing in the spec instead' }]);
    // one diagnostic per refused key, not also a type error
    expect(extraDiagnostics('[trainer.extra]\nmodel = [1, 2]\n')).toMatchObject([{ code: 'RS2502', path: 'trainer.extra.model' }]);
    expect(extraDiagnostics('[[orchestrator.extra.train.source]]\nname = "x"\n')).toMatchObject([{ code: 'RS2502', path: 'orchestrator.extra.train.source' }]);
    // changing the optimizer variant is an override of trainer.optimizer.type
    expect(extraDiagnostics('[trainer.extra.optim]\ntype = "sgd"\n')).toMatchObject([{ code: 'RS2502', path: 'trainer.extra.optim.type' }]);
  });

  it('refuses keys rlstack passes at start', () => {
    const d = extraDiagnostics(`
[orchestrator.extra.model.client]
base_url = "http://gpu-001:8000/v1"
[trainer.extra]
output_dir = "/elsewhere"
[trainer.extra.env_vars]
FOO = "1"
[inference.extra.vllm]
data_parallel_size = 8
`);
    expect(d.map((x) => [x.code, x.path])).toEqual([
      ['RS2504', 'trainer.extra.output_dir'],
      ['RS2504', 'trainer.extra.env_vars'],
      ['RS2504', 'orchestrator.extra.model.client.base_url'],
      ['RS2504', 'inference.extra.vllm.data_parallel_size'],
    ]);
  });

  it('warns about an inference extra in a run without inference', () => {
    const dir = workspace({
      'spec.toml': `
[cluster]
nodes = 1
gpus_per_node = 8
[model]
name = "Qwen/Qwen3-4B-Instruct-2507"
[trainer]
nodes = 1
[inference]
nodes = 0
[inference.extra.vllm]
enforce_eager = true
`,
    });
    const resolved = resolveSpec(join(dir, 'spec.toml'));
    if (!resolved.ok) throw new Error('resolve failed');
    const { spec, provenance } = resolved.resolved;
    expect(extraTablesValid({ spec, provenance, derived: derive(spec) })).toMatchObject([{ code: 'RS2507', severity: 'warning', path: 'inference.extra' }]);
  });

  it('refuses environment args that replace the taskset id', () => {
    const d = extraDiagnostics('[[environments]]\nname = "x"\ntaskset = "reverse_text"\n[environments.args]\nid = "other"\nlimit = 3\n');
    expect(d).toMatchObject([{ code: 'RS2506', path: 'environments[0].args.id' }]);
  });
});
