/**
 * The bad-input case table shared by bad-inputs.test.ts (in-process, exact diagnostics) and
 * no-stack-trace.test.ts (the built CLI on the same files). Data only: no vitest here.
 *
 * Line convention: a spec line that ends in `#<` is the line the diagnostic must point at; the expected
 * column is then the column of that line's value (`col: 'key'` = its key, or an explicit number).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Code, Severity } from '../../src/compiler/diagnostics/codes.js';
import { PRESETS_DIR } from '../../src/paths.js';

export type Content = string | Uint8Array;

export const MARK = '#<';

/** 1-based line and value/key column of the line marked `#<`. */
export function marked(text: string): { line: number; value: number; key: number } | undefined {
  const lines = text.split('\n');
  const index = lines.findIndex((l) => l.includes(MARK));
  if (index < 0) return undefined;
  const line = lines[index]!;
  const eq = line.indexOf('=');
  const value = eq >= 0 ? eq + 1 + (line.slice(eq + 1).length - line.slice(eq + 1).trimStart().length) + 1 : 1;
  const key = line.length - line.trimStart().length + 1;
  return { line: index + 1, value, key };
}

export interface Case {
  name: string;
  /** The spec text, or several files (the first is planned unless `entry`). */
  spec: string | Record<string, Content>;
  entry?: string;
  sets?: string[];
  code: Code;
  severity: Severity;
  /** Expected line: from the `#<` mark when omitted; null = a file-level diagnostic without a line. */
  line?: number | null;
  col?: number | 'key' | 'value' | null;
  /** File the diagnostic is in; default: the planned spec, or '--set' for cases with `sets`. */
  file?: string | ((dir: string) => string);
  path?: string;
  hint?: string | RegExp;
  message?: string | RegExp;
  /** Other error codes this input legitimately produces. */
  also?: Code[];
}

/** The files of a case (a bare string is `spec.toml`). */
export function filesOf(c: Pick<Case, 'spec'>): Record<string, Content> {
  return typeof c.spec === 'string' ? { 'spec.toml': c.spec } : c.spec;
}

/** The file that is planned: `entry`, else the first file. */
export function entryOf(c: Pick<Case, 'spec' | 'entry'>): string {
  return c.entry ?? Object.keys(filesOf(c))[0]!;
}

/** Writes the case's files below `dir`; returns the absolute path of the entry. */
export function writeCase(c: Pick<Case, 'spec' | 'entry'>, dir: string): string {
  for (const [name, content] of Object.entries(filesOf(c))) {
    const target = path.join(dir, name);
    fs.mkdirSync(path.dirname(target), { recursive: true });
    fs.writeFileSync(target, content);
  }
  return path.join(dir, entryOf(c));
}

/** The file the diagnostic must name, as shown to a user whose working directory is `dir`. */
export function expectedFileOf(c: Case, dir: string): string {
  if (typeof c.file === 'function') return c.file(dir);
  return c.file ?? (c.sets?.length ? '--set' : entryOf(c));
}

/** The expected line (explicit, or from the `#<` mark in the expected file), null for file-level ones. */
export function expectedLineOf(c: Case, file: string): number | null {
  if (c.line !== undefined) return c.line;
  const text = filesOf(c)[file];
  const mark = typeof text === 'string' ? marked(text) : undefined;
  if (!mark) throw new Error(`case ${c.name}: give a line or mark one with ${MARK}`);
  return mark.line;
}

// ---------------------------------------------------------------------------------------------- specs

/** A valid one-node spec: 2 × A6000, Qwen3-0.6B (16 heads, 8 KV heads), 1 trainer + 1 inference GPU. */
export const tiny = (o: { cluster?: string; trainer?: string; inference?: string; orchestrator?: string; tail?: string } = {}) =>
  [
    '[cluster]',
    'nodes = 1',
    'gpus_per_node = 2',
    'gpu = "a6000"',
    'backend = "local"',
    o.cluster ?? '',
    '[model]',
    'name = "Qwen/Qwen3-0.6B"',
    'seq_len = 2048',
    '[trainer]',
    'gpus = 1',
    o.trainer ?? '',
    '[inference]',
    'gpus = 1',
    o.inference ?? '',
    '[orchestrator]',
    'batch_size = 64',
    'group_size = 8',
    o.orchestrator ?? '',
    '[[environments]]',
    'name = "math"',
    'taskset = "i3_math"',
    o.tail ?? '',
  ].join('\n');

/** One 8-GPU node shared by the roles (`gpus`), dense Qwen3-0.6B unless `model`. */
export const shared = (o: { model?: string; trainer: string; inference: string; tail?: string }) =>
  [
    '[cluster]',
    'nodes = 1',
    'gpus_per_node = 8',
    'gpu = "h100"',
    '[model]',
    `name = "${o.model ?? 'Qwen/Qwen3-0.6B'}"`,
    'seq_len = 4096',
    '[trainer]',
    o.trainer,
    '[inference]',
    o.inference,
    '[[environments]]',
    'name = "math"',
    'taskset = "i3_math"',
    o.tail ?? '',
  ].join('\n');

/** Whole 8-GPU H100 nodes on Slurm: `trainerNodes` + `inferenceNodes` nodes. */
export const multi = (o: { model?: string; nodes?: number; gpn?: number; trainerNodes?: number; inferenceNodes?: number; cluster?: string; trainer?: string; inference?: string; tail?: string } = {}) =>
  [
    '[cluster]',
    `nodes = ${o.nodes ?? (o.trainerNodes ?? 1) + (o.inferenceNodes ?? 1)}`,
    `gpus_per_node = ${o.gpn ?? 8}`,
    'gpu = "h100"',
    'backend = "slurm"',
    o.cluster ?? '',
    '[model]',
    `name = "${o.model ?? 'Qwen/Qwen3-30B-A3B'}"`,
    'seq_len = 4096',
    '[trainer]',
    `nodes = ${o.trainerNodes ?? 1}`,
    o.trainer ?? '',
    '[inference]',
    `nodes = ${o.inferenceNodes ?? 1}`,
    o.inference ?? '',
    '[[environments]]',
    'name = "math"',
    'taskset = "i3_math"',
    o.tail ?? '',
  ].join('\n');

/** An absolute prime-rl checkout, which the ssh back end needs (RS1014). */
export const SSH_DIR = '\n[run]\nprime_rl_dir = "/opt/prime-rl"\n';
/** Two dense H100 nodes over SSH; `ssh` is the body of [cluster.ssh]. */
export const sshSpec = (ssh: string, tail = '') => multi({ model: 'Qwen/Qwen3-0.6B', nodes: 2, cluster: `[cluster.ssh]\n${ssh}`, tail }).replace('"slurm"', '"ssh"') + SSH_DIR;

export const TINY_MOE = 'PrimeIntellect/glm4-moe-tiny'; // 8 experts, 16 heads, 4 KV heads
export const QWEN_MOE = 'Qwen/Qwen3-30B-A3B'; // 128 experts, 32 heads, 4 KV heads
export const presetFile = (name: string) => path.join(PRESETS_DIR, `${name}.toml`);
export const presetLine = (name: string, needle: string) => fs.readFileSync(presetFile(name), 'utf8').split('\n').findIndex((l) => l.startsWith(needle)) + 1;

// ---------------------------------------------------------------------------------------------- cases

const syntax: Case[] = [
  { name: 'missing value', spec: 'a = \n', code: 'RS0003', severity: 'error', line: 1, col: 5 },
  { name: 'missing value in a table', spec: '[run]\nname = "x"\nmax_steps =\n', code: 'RS0003', severity: 'error', line: 3, hint: 'key = value' },
  { name: 'unterminated string', spec: '[run]\nname = "abc\nmax_steps = 3\n', code: 'RS0003', severity: 'error', line: 2, hint: 'close the string' },
  { name: 'duplicate key', spec: '[run]\nname = "a"\nname = "b"\n', code: 'RS0003', severity: 'error', line: 3, col: 1, hint: 'defined once' },
  { name: 'duplicate table', spec: '[run]\nname = "a"\n\n[run]\nmax_steps = 3\n', code: 'RS0003', severity: 'error', line: 4, hint: 'defined once' },
  { name: 'inline table without commas', spec: '[cluster]\nslurm = { partition = "x" account = "y" }\n', code: 'RS0003', severity: 'error', line: 2, col: 27 },
  { name: 'inline table with a missing value', spec: 'run = { name = }\n', code: 'RS0003', severity: 'error', line: 1, col: 16 },
  { name: 'unclosed table header', spec: '[run\nname = "x"\n', code: 'RS0003', severity: 'error', line: 1 },
  { name: 'unclosed array', spec: '[sandboxes]\nallow = ["a", "b"\n[run]\n', code: 'RS0003', severity: 'error', line: 3 },
  { name: 'inline table redefined by a header', spec: '[cluster]\nslurm = { partition = "x" }\n[cluster.slurm]\nqos = "y"\n', code: 'RS0003', severity: 'error', line: 3 },
];

const reading: Case[] = [
  { name: 'empty file', spec: '', code: 'RS0004', severity: 'error', line: null },
  { name: 'whitespace-only file', spec: '  \n\t\n', code: 'RS0004', severity: 'error', line: null },
  { name: 'comment-only file', spec: '# nothing here\n# at all\n', code: 'RS0004', severity: 'error', line: null, message: 'no keys' },
  { name: 'binary garbage (invalid UTF-8)', spec: { 'spec.toml': Uint8Array.from([0xff, 0xfe, 0x00, 0x81, 0xc3, 0x28, 0x9f, 0x00, 0x41]) }, code: 'RS0002', severity: 'error', line: null },
  { name: 'NUL byte in otherwise valid text', spec: '[run]\nname = "a"\0\n', code: 'RS0002', severity: 'error', line: 2, col: 11 },
  { name: 'a directory instead of a file', spec: { 'spec.toml/inner.toml': 'x = 1\n' }, entry: 'spec.toml', code: 'RS0001', severity: 'error', line: null, file: 'spec.toml', message: 'directory' },
  { name: 'missing file', spec: { 'other.toml': 'x = 1\n' }, entry: 'spec.toml', code: 'RS0001', severity: 'error', line: null, file: 'spec.toml', message: 'does not exist' },
  // issue 11: the locator (toml-eslint-parser) overflowed the stack on a ~120k-character token (RS9001).
  { name: 'a 125k-character string', spec: `[run]\nname = "${'x'.repeat(125_000)}" #<\n`, code: 'RS0006', severity: 'error', message: '125000 characters' },
  { name: 'a 200k-digit number', spec: `[run]\nmax_steps = ${'9'.repeat(200_000)} #<\n`, code: 'RS0006', severity: 'error' },
];

const unknownKeys: Case[] = [
  { name: 'top level, with suggestion', spec: 'trainr = 1 #<\n[run]\nname = "x"\n', code: 'RS0201', severity: 'error', col: 'key', path: 'trainr', hint: 'did you mean trainer?' },
  { name: 'top level, no close key lists the keys', spec: 'zzzzzz = 1 #<\n', code: 'RS0201', severity: 'error', col: 'key', hint: 'keys of the spec: extends, unset, run' },
  { name: 'nested', spec: '[run]\nname = "x"\nmax_step = 3 #<\n', code: 'RS0201', severity: 'error', col: 'key', path: 'run.max_step', hint: 'did you mean run.max_steps?' },
  { name: 'deeply nested', spec: '[trainer.optimizer]\n  wieght_decay = 0.1 #<\n', code: 'RS0201', severity: 'error', col: 'key', hint: 'did you mean trainer.optimizer.weight_decay?' },
  { name: 'in [[environments]]', spec: tiny({ tail: 'tasket = "x" #<' }), code: 'RS0201', severity: 'error', col: 'key', path: 'environments[0].tasket', hint: 'did you mean environments[0].taskset?' },
  {
    name: 'in [cluster.pools.x]',
    spec: tiny({ tail: '[cluster.pools.cpu]\nnodes = 1\ngpus_per_nod = 0 #<' }),
    code: 'RS0201',
    severity: 'error',
    col: 'key',
    path: 'cluster.pools.cpu.gpus_per_nod',
    hint: 'did you mean cluster.pools.cpu.gpus_per_node?',
  },
  { name: 'dotted key', spec: 'run.nmae = "x" #<\n', code: 'RS0201', severity: 'error', col: 'key', hint: 'did you mean run.name?' },
  { name: 'inline table', spec: '[cluster]\nslurm = { partiton = "gpu" } #<\n', code: 'RS0201', severity: 'error', col: 11, hint: 'did you mean cluster.slurm.partition?' },
];

const types: Case[] = [
  { name: 'string for an integer', spec: '[run]\nmax_steps = "10" #<\n', code: 'RS0202', severity: 'error', path: 'run.max_steps', hint: 'write the number without quotes: 10' },
  { name: 'integer for a string', spec: '[run]\nname = 5 #<\n', code: 'RS0202', severity: 'error', path: 'run.name', hint: 'quote it: "5"' },
  { name: 'float for an integer', spec: '[cluster]\nnodes = 1.5 #<\n', code: 'RS0202', severity: 'error', path: 'cluster.nodes' },
  { name: 'boolean for a number', spec: '[inference]\ngpu_memory_utilization = true #<\n', code: 'RS0202', severity: 'error' },
  { name: 'table for a scalar', spec: '[run.name] #<\nx = 1\n', code: 'RS0202', severity: 'error', col: 1, path: 'run.name', message: 'not a table' },
  { name: 'array for a table', spec: 'run = [1, 2] #<\n', code: 'RS0202', severity: 'error', path: 'run', message: 'not a list' },
  { name: 'table for an array of tables', spec: '[environments] #<\nname = "x"\n', code: 'RS0202', severity: 'error', col: 1, path: 'environments' },
  { name: 'string for a list of strings', spec: '[sandboxes]\nallow = "pypi.org" #<\n', code: 'RS0202', severity: 'error', path: 'sandboxes.allow' },
  { name: 'ep neither integer nor "auto"', spec: '[trainer]\nep = "eight" #<\n', code: 'RS0202', severity: 'error', path: 'trainer.ep', message: '"auto"' },
  { name: 'env value is a table', spec: '[env]\nFOO = { a = 1 } #<\n', code: 'RS0202', severity: 'error', path: 'env.FOO' },
  { name: 'required taskset missing', spec: '[[environments]] #<\nname = "x"\n', code: 'RS0206', severity: 'error', col: 1, path: 'environments[0].taskset' },
];

const ranges: Case[] = [
  { name: 'negative nodes', spec: '[cluster]\nnodes = -1 #<\n', code: 'RS0203', severity: 'error', path: 'cluster.nodes', message: '≥ 1' },
  { name: 'tp 0', spec: '[inference]\ntp = 0 #<\n', code: 'RS0203', severity: 'error', path: 'inference.tp' },
  { name: 'gpu_memory_utilization 1.5', spec: '[inference]\ngpu_memory_utilization = 1.5 #<\n', code: 'RS0203', severity: 'error', message: '≤ 1' },
  { name: 'port 70000', spec: '[inference]\nport = 70000 #<\n', code: 'RS0203', severity: 'error', path: 'inference.port', message: '65535' },
  { name: 'ssh port 0', spec: '[cluster.ssh]\nport = 0 #<\n', code: 'RS0203', severity: 'error', path: 'cluster.ssh.port' },
  { name: '17 GPUs per node', spec: '[cluster]\ngpus_per_node = 17 #<\n', code: 'RS0203', severity: 'error' },
  { name: 'lr 0', spec: '[trainer.optimizer]\nlr = 0.0 #<\n', code: 'RS0203', severity: 'error', path: 'trainer.optimizer.lr' },
  { name: 'run name longer than 63', spec: `[run]\nname = "${'a'.repeat(64)}" #<\n`, code: 'RS0203', severity: 'error', path: 'run.name', message: 'too long' },
  { name: 'ssh max_parallel 0', spec: '[cluster.ssh]\nmax_parallel = 0 #<\n', code: 'RS0203', severity: 'error', path: 'cluster.ssh.max_parallel' },
  { name: 'NaN weight', spec: tiny({ tail: 'weight = nan #<' }), code: 'RS0203', severity: 'error', path: 'environments[0].weight' },
];

const enums: Case[] = [
  { name: 'backend "slrum"', spec: '[cluster]\nbackend = "slrum" #<\n', code: 'RS0204', severity: 'error', hint: 'did you mean "slurm"?' },
  { name: 'cp_style "ulyses"', spec: '[trainer]\ncp_style = "ulyses" #<\n', code: 'RS0204', severity: 'error', hint: 'did you mean "ulysses"?' },
  { name: 'weights_dtype "fp9"', spec: '[inference]\nweights_dtype = "fp9" #<\n', code: 'RS0204', severity: 'error', hint: 'did you mean "fp8"?' },
  { name: 'weights_dtype "bfloat16" (no close value)', spec: '[inference]\nweights_dtype = "bfloat16" #<\n', code: 'RS0204', severity: 'error', message: '"bf16", "fp8"' },
  { name: 'environment split "trian"', spec: tiny({ tail: 'split = "trian" #<' }), code: 'RS0204', severity: 'error', path: 'environments[0].split', hint: 'did you mean "train"?' },
  { name: 'secret role "trainers"', spec: '[secrets]\nHF_TOKEN = ["trainers"] #<\n', code: 'RS0204', severity: 'error', col: 13, path: 'secrets.HF_TOKEN[0]', hint: 'did you mean "trainer"?' },
];

const patterns: Case[] = [
  { name: 'run.name "My Run"', spec: '[run]\nname = "My Run" #<\n', code: 'RS0205', severity: 'error', path: 'run.name' },
  { name: 'environment name with a space', spec: tiny({ tail: '[[environments]]\nname = "my env" #<\ntaskset = "x"' }), code: 'RS0205', severity: 'error', path: 'environments[1].name' },
  { name: 'Slurm signal without @', spec: '[cluster.slurm]\nsignal = "USR1" #<\n', code: 'RS0205', severity: 'error', path: 'cluster.slurm.signal' },
  { name: 'run.name starting with a dash', spec: '[run]\nname = "-x" #<\n', code: 'RS0205', severity: 'error', path: 'run.name' },
];

const trainerRules: Case[] = [
  { name: 'RS1201 cp does not divide the world', spec: shared({ trainer: 'gpus = 4\ncp = 3 #<', inference: 'gpus = 4' }), code: 'RS1201', severity: 'error', path: 'trainer.cp', hint: 'valid values: 1, 2, 4' },
  { name: 'RS1202 dp_replicate does not divide the world', spec: multi({ model: 'Qwen/Qwen3-0.6B', trainer: 'dp_replicate = 3 #<' }), code: 'RS1202', severity: 'error', hint: 'valid values: 1, 2, 4, 8' },
  { name: 'RS1203 ep does not divide the experts', spec: multi({ model: TINY_MOE, trainerNodes: 2, trainer: 'ep = 16 #<' }), code: 'RS1203', severity: 'error', path: 'trainer.ep', message: '8 experts' },
  { name: 'RS1204 ep does not divide dp_shard x cp', spec: multi({ model: QWEN_MOE, trainer: 'ep = 16 #<' }), code: 'RS1204', severity: 'error', message: 'dp_shard × cp = 8 × 1 = 8' },
  { name: 'RS1205 ep not a multiple of cp', spec: multi({ model: QWEN_MOE, trainerNodes: 2, trainer: 'ep = 2 #<\ncp = 4' }), code: 'RS1205', severity: 'error', message: 'is not a multiple of trainer.cp = 4', hint: 'valid values: 1, 4, 8, 16' },
  { name: 'RS1206 ulysses cp does not divide the heads', spec: shared({ trainer: 'gpus = 6\ncp = 3 #<\ncp_style = "ulysses"', inference: 'gpus = 2' }), code: 'RS1206', severity: 'error', path: 'trainer.cp', hint: 'cp_style = "ring"' },
  { name: 'RS1207 ep on a dense model', spec: multi({ model: 'Qwen/Qwen3-0.6B', trainer: 'ep = 2 #<' }), code: 'RS1207', severity: 'error' },
  {
    name: 'RS1203 ep = "auto" resolving to 6 for 8 experts',
    spec: shared({ model: TINY_MOE, trainer: 'gpus = 6', inference: 'gpus = 2' }),
    code: 'RS1203',
    severity: 'error',
    line: 8, // ep is a default: the diagnostic points at [trainer]
    col: 2,
    path: 'trainer.ep',
    message: 'ep = "auto" resolves to min(6 / 1, 8) = 6',
  },
];

const inferenceRules: Case[] = [
  { name: 'RS1301 tp does not divide the GPUs per node', spec: multi({ model: 'Qwen/Qwen3-0.6B', gpn: 6, inference: 'tp = 4 #<' }), code: 'RS1301', severity: 'error', hint: 'valid values: 1, 2, 3, 6' },
  { name: 'RS1302 tp does not divide the heads', spec: shared({ trainer: 'gpus = 5', inference: 'gpus = 3\ntp = 3 #<' }), code: 'RS1302', severity: 'error', message: '16 attention heads' },
  { name: 'RS1303 tp above the KV heads is a warning', spec: multi({ model: QWEN_MOE, trainer: 'ep = 8', inference: 'tp = 8 #<' }), code: 'RS1303', severity: 'warning', message: '4 KV heads' },
  { name: 'RS1304 inference GPUs not a multiple of tp', spec: shared({ trainer: 'gpus = 5', inference: 'gpus = 3 #<\ntp = 2' }), code: 'RS1304', severity: 'error', path: 'inference.gpus', hint: 'tp in 1, 3' },
  {
    name: 'RS1305 replica over nodes without expert parallel',
    spec: multi({ model: QWEN_MOE, inferenceNodes: 2, trainer: 'ep = 8', inference: 'nodes_per_replica = 2 #<' }),
    code: 'RS1305',
    severity: 'error',
    hint: 'expert_parallel = true',
  },
  {
    name: 'RS1306 inference nodes not a multiple of nodes_per_replica',
    spec: multi({ model: QWEN_MOE, inferenceNodes: 3, trainer: 'ep = 8', inference: 'expert_parallel = true\nnodes_per_replica = 2 #<' }),
    code: 'RS1306',
    severity: 'error',
    hint: 'multiple of 2',
  },
  { name: 'RS1307 max_model_len beyond the model', spec: tiny({ inference: 'max_model_len = 50000 #<' }), code: 'RS1307', severity: 'error', message: '40960' },
];

const orchestratorRules: Case[] = [
  { name: 'RS1401 batch not a multiple of group', spec: tiny({ orchestrator: 'batch_size = 100 #<' }).replace('batch_size = 64\n', ''), code: 'RS1401', severity: 'error', hint: 'batch_size = 96 or 104' },
  { name: 'RS1402 max_inflight below group', spec: tiny({ orchestrator: 'max_inflight = 4 #<' }), code: 'RS1402', severity: 'error', hint: '≥ 8' },
  { name: 'RS1403 max_tokens beyond max_model_len', spec: tiny({ inference: 'max_model_len = 1024', orchestrator: 'max_tokens = 2000 #<' }), code: 'RS1403', severity: 'error', hint: '≤ 1024' },
  { name: 'RS1406 max_tokens beyond seq_len is a warning', spec: tiny({ inference: 'max_model_len = 4096', orchestrator: 'max_tokens = 3000 #<' }), code: 'RS1406', severity: 'warning' },
  { name: 'RS1407 mean prompt at the default mean rollout (max_tokens / 2)', spec: tiny({ orchestrator: 'max_tokens = 1024\nmean_prompt_tokens = 512 #<' }), code: 'RS1407', severity: 'error', path: 'orchestrator.mean_prompt_tokens', hint: 'mean_prompt_tokens ≤ 511, or set orchestrator.mean_rollout_tokens' },
  { name: 'RS1407 mean prompt above mean_rollout_tokens', spec: tiny({ orchestrator: 'mean_rollout_tokens = 700\nmean_prompt_tokens = 800 #<' }), code: 'RS1407', severity: 'error', message: 'not below orchestrator.mean_rollout_tokens = 700', hint: 'mean_prompt_tokens ≤ 699, or raise orchestrator.mean_rollout_tokens' },
  { name: 'RS1407 mean prompt at max_tokens (a mean rollout above max_tokens)', spec: tiny({ orchestrator: 'max_tokens = 1024\nmean_rollout_tokens = 2000\nmean_prompt_tokens = 1024 #<' }), code: 'RS1407', severity: 'error', message: 'not below orchestrator.max_tokens = 1024', hint: 'mean_prompt_tokens ≤ 1023, or raise orchestrator.max_tokens' },
  { name: 'RS1404 orchestrator on inference without inference', spec: multi({ model: 'Qwen/Qwen3-0.6B', inferenceNodes: 0, nodes: 1, tail: '[orchestrator]\nplacement = "inference" #<' }), code: 'RS1404', severity: 'error' },
];

const modelRules: Case[] = [
  { name: 'RS1101 unknown model with suggestion', spec: tiny().replace('name = "Qwen/Qwen3-0.6B"', 'name = "Qwen/Qwen3-0.7B" #<'), code: 'RS1101', severity: 'error', path: 'model.name', hint: 'did you mean "Qwen/Qwen3-0.6B"?' },
  { name: 'RS1101 unknown model.arch with suggestion', spec: tiny().replace('seq_len = 2048', 'seq_len = 2048\narch = "qwen3-4" #<'), code: 'RS1101', severity: 'error', path: 'model.arch', hint: 'did you mean "qwen3-4b"?' },
  { name: 'RS1102 seq_len beyond the model', spec: tiny().replace('seq_len = 2048', 'seq_len = 50000 #<'), code: 'RS1102', severity: 'error', message: '40960 positions' },
  {
    name: 'RS1103 MoE architecture without num_experts_per_tok',
    spec: tiny().replace('name = "Qwen/Qwen3-0.6B"', 'name = "me/custom"') + '\n[model.architecture] #<\nnum_hidden_layers = 2\nhidden_size = 256\nintermediate_size = 512\nmoe_intermediate_size = 128\nnum_attention_heads = 4\nvocab_size = 1000\nnum_experts = 4\n',
    code: 'RS1103',
    severity: 'error',
    col: 1,
    message: 'needs num_experts_per_tok',
  },
  {
    name: 'RS1103 two names of the expert count that disagree',
    spec:
      tiny().replace('name = "Qwen/Qwen3-0.6B"', 'name = "me/custom"') +
      '\n[model.architecture]\nnum_hidden_layers = 2\nhidden_size = 256\nintermediate_size = 512\nnum_attention_heads = 4\nvocab_size = 1000\nnum_experts = 4\nnum_local_experts = 8 #<\nnum_experts_per_tok = 2\n',
    code: 'RS1103',
    severity: 'error',
    path: 'model.architecture.num_local_experts',
    message: 'num_experts = 4 and num_local_experts = 8 disagree',
  },
  {
    name: 'RS1103 MoE architecture without an expert width',
    spec: tiny().replace('name = "Qwen/Qwen3-0.6B"', 'name = "me/custom"') + '\n[model.architecture] #<\nnum_hidden_layers = 2\nhidden_size = 256\nintermediate_size = 512\nnum_attention_heads = 4\nvocab_size = 1000\nn_routed_experts = 4\nnum_experts_per_tok = 2\n',
    code: 'RS1103',
    severity: 'error',
    col: 1,
    message: 'needs moe_intermediate_size',
  },
];

const clusterRules: Case[] = [
  { name: 'RS1007 unknown GPU with suggestion', spec: tiny().replace('gpu = "a6000"', 'gpu = "h10" #<'), code: 'RS1007', severity: 'error', path: 'cluster.gpu', hint: 'did you mean "h100"?' },
  { name: 'RS1007 unknown GPU of a pool', spec: multi({ model: 'Qwen/Qwen3-0.6B', nodes: 1, trainer: 'pool = "big"', tail: '[cluster.pools.big]\nnodes = 1\ngpu = "a100-80gb" #<' }), code: 'RS1007', severity: 'error', path: 'cluster.pools.big.gpu', hint: 'did you mean "a100-80g"?' },
  { name: 'RS1001 unknown pool with suggestion', spec: multi({ model: 'Qwen/Qwen3-0.6B', trainer: 'pool = "gpu2" #<', tail: '[cluster.pools.gpus]\nnodes = 1' }), code: 'RS1001', severity: 'error', hint: 'did you mean "gpus"?' },
  { name: 'RS1001 unknown sandbox pool', spec: multi({ model: 'Qwen/Qwen3-0.6B', nodes: 3, tail: 'runtime = "sandbox"\n[sandboxes]\nprovider = "docker"\nnodes = 1\npool = "cpus" #<\n[cluster.pools.cpu]\nnodes = 1\ngpus_per_node = 0' }), code: 'RS1001', severity: 'error', path: 'sandboxes.pool', hint: 'did you mean "cpu"?' },
  { name: 'RS1002 trainer wants more nodes than the pool has', spec: multi({ model: 'Qwen/Qwen3-0.6B', nodes: 3, trainerNodes: 4 }).replace('nodes = 4', 'nodes = 4 #<'), code: 'RS1002', severity: 'error', path: 'trainer.nodes', also: ['RS1901'] },
  { name: 'RS1002 trainer gpus beyond one node', spec: shared({ trainer: 'gpus = 9 #<', inference: 'gpus = 1' }), code: 'RS1002', severity: 'error', path: 'trainer.gpus', also: ['RS1902'] },
  { name: 'RS1003 nodes and gpus both set', spec: shared({ trainer: 'gpus = 4 #<\nnodes = 1', inference: 'gpus = 4' }), code: 'RS1003', severity: 'error', path: 'trainer.gpus', also: ['RS1901', 'RS1902'] },
  {
    name: 'RS1009 GPU role on a CPU pool (gpus)',
    spec: shared({ trainer: 'gpus = 2\npool = "cpu" #<', inference: 'gpus = 4', tail: '[cluster.pools.cpu]\nnodes = 1\ngpus_per_node = 0' }).replace('[cluster]', '[cluster]\nbackend = "slurm"'),
    code: 'RS1009',
    severity: 'error',
    path: 'trainer.pool',
    also: ['RS1902'],
  },
  { name: 'RS1901 pool over-subscribed', spec: multi({ model: 'Qwen/Qwen3-0.6B', trainerNodes: 2 }).replace('nodes = 3', 'nodes = 2 #<'), code: 'RS1901', severity: 'error', path: 'cluster.nodes', message: 'inference 1 + trainer 2' },
  { name: 'RS1902 shared node GPUs over-subscribed', spec: shared({ trainer: 'gpus = 6 #<', inference: 'gpus = 4' }), code: 'RS1902', severity: 'error', path: 'trainer.gpus', message: '10 GPUs' },
  { name: 'RS1004 local backend on many nodes', spec: multi({ model: 'Qwen/Qwen3-0.6B' }).replace('backend = "slurm"', 'backend = "local" #<'), code: 'RS1004', severity: 'error', path: 'cluster.backend', message: '2 nodes' },
  { name: 'RS1005 ssh host count mismatch', spec: multi({ model: 'Qwen/Qwen3-0.6B', nodes: 2, cluster: '[cluster.ssh]\nhosts = "gpu-[1-3]" #<' }).replace('"slurm"', '"ssh"') + SSH_DIR, code: 'RS1005', severity: 'error', message: '3 hosts but the default pool has 2 nodes' },
  { name: 'RS1005 ssh host named twice', spec: multi({ model: 'Qwen/Qwen3-0.6B', nodes: 2, cluster: '[cluster.ssh]\nhosts = ["a", "a"] #<' }).replace('"slurm"', '"ssh"') + SSH_DIR, code: 'RS1005', severity: 'error', message: 'twice' },
  { name: 'RS1005 ssh without hosts', spec: multi({ model: 'Qwen/Qwen3-0.6B' }).replace('backend = "slurm"', 'backend = "ssh"') + SSH_DIR, code: 'RS1005', severity: 'error', line: 1, col: 2, path: 'cluster.ssh.hosts' },
  { name: 'RS1006 bad hostlist', spec: multi({ model: 'Qwen/Qwen3-0.6B', nodes: 2, cluster: '[cluster.ssh]\nhosts = "gpu-[1-" #<' }).replace('"slurm"', '"ssh"') + SSH_DIR, code: 'RS1006', severity: 'error', message: 'unmatched "["' },
  { name: 'RS1006 backwards hostlist range', spec: multi({ model: 'Qwen/Qwen3-0.6B', nodes: 2, cluster: '[cluster.ssh]\nhosts = "gpu-[9-2]" #<' }).replace('"slurm"', '"ssh"') + SSH_DIR, code: 'RS1006', severity: 'error', message: 'backwards' },
  // issue 11: host names were not checked ("a\nb" became two lines of the hosts file, "" was a node).
  { name: 'RS1013 ssh host with a newline', spec: sshSpec('hosts = ["gpu-1", "a\\nb"] #<'), code: 'RS1013', severity: 'error', col: 19, path: 'cluster.ssh.hosts[1]', hint: 'no white space' },
  { name: 'RS1013 empty ssh host', spec: sshSpec('hosts = ["gpu-1", ""] #<'), code: 'RS1013', severity: 'error', col: 19, path: 'cluster.ssh.hosts[1]', message: 'empty' },
  { name: 'RS1013 ssh host taken as an option', spec: sshSpec('hosts = "-x,gpu-2" #<'), code: 'RS1013', severity: 'error', path: 'cluster.ssh.hosts', message: 'starts with "-"' },
  {
    name: 'RS1013 per-pool ssh host with a space',
    spec: sshSpec('hosts = "gpu-[1-2]"', '[cluster.pools.cpu]\nnodes = 1\ngpus_per_node = 0\nssh = { hosts = ["cpu 1"] } #<\n[sandboxes]\nprovider = "docker"\npool = "cpu"\nnodes = 1'),
    code: 'RS1013',
    severity: 'error',
    col: 18,
    path: 'cluster.pools.cpu.ssh.hosts[0]',
  },
  // issue 11: a relative prime_rl_dir was ~/<dir> to the ssh preflight but /<dir> to node.sh (started in /).
  { name: 'RS1014 relative prime_rl_dir on ssh', spec: sshSpec('hosts = "gpu-[1-2]"').replace(SSH_DIR, '\n[run]\nprime_rl_dir = "prime-rl" #<\n'), code: 'RS1014', severity: 'error', path: 'run.prime_rl_dir', hint: 'absolute path' },
  { name: 'RS1014 prime_rl_dir with ~', spec: tiny({ tail: '[run]\nprime_rl_dir = "~/prime-rl" #<' }), code: 'RS1014', severity: 'error', path: 'run.prime_rl_dir', hint: '/home/<user>/prime-rl' },
  { name: 'RS1010 Slurm partition injection', spec: multi({ model: 'Qwen/Qwen3-0.6B', cluster: '[cluster.slurm]\npartition = "gpu\\n#SBATCH --x" #<' }), code: 'RS1010', severity: 'error', path: 'cluster.slurm.partition' },
  { name: 'RS1010 extra_sbatch with #SBATCH', spec: multi({ model: 'Qwen/Qwen3-0.6B', cluster: '[cluster.slurm]\nextra_sbatch = ["#SBATCH --exclusive"] #<' }), code: 'RS1010', severity: 'error', col: 17, path: 'cluster.slurm.extra_sbatch[0]' },
  { name: 'RS1010 bad Slurm time', spec: multi({ model: 'Qwen/Qwen3-0.6B', cluster: '[cluster.slurm]\ntime = "1 day" #<' }), code: 'RS1010', severity: 'error', path: 'cluster.slurm.time' },
  { name: 'RS1011 ports beyond 65535', spec: tiny({ inference: 'port = 40000', tail: '[ports]\nbase = 5000 #<' }), code: 'RS1011', severity: 'error', path: 'ports.base', message: '66000' },
];

const weights: Case[] = [
  { name: 'RS1504 fp8 on A6000', spec: tiny({ inference: 'weights_dtype = "fp8" #<' }), code: 'RS1504', severity: 'error', message: 'fp8 tensor cores' },
  { name: 'RS1504 fp8 with filesystem broadcast', spec: shared({ trainer: 'gpus = 4', inference: 'gpus = 4\nweights_dtype = "fp8" #<', tail: '[weights]\nbroadcast = "filesystem"' }), code: 'RS1504', severity: 'error', message: 'NCCL weight broadcast' },
  { name: 'RS1501 LoRA with nccl', spec: tiny({ trainer: 'lora_rank = 16', tail: '[weights]\nbroadcast = "nccl" #<' }), code: 'RS1501', severity: 'error', hint: 'filesystem' },
  { name: 'RS1502 nccl without inference', spec: multi({ model: 'Qwen/Qwen3-0.6B', nodes: 1, inferenceNodes: 0, tail: '[weights]\nbroadcast = "nccl" #<' }), code: 'RS1502', severity: 'error' },
];

const environments: Case[] = [
  { name: 'RS1601 duplicate environment name', spec: tiny({ tail: '[[environments]]\nname = "math" #<\ntaskset = "other"' }), code: 'RS1601', severity: 'error', path: 'environments[1].name' },
  { name: 'RS1602 no train environment', spec: tiny({ tail: 'split = "eval"' }), code: 'RS1602', severity: 'error', line: 20, col: 1, path: 'environments' },
  { name: 'RS1603 reserved name "agg"', spec: tiny().replace('name = "math"', 'name = "agg" #<'), code: 'RS1603', severity: 'error' },
  { name: 'RS1604 sandbox runtime without a provider', spec: tiny({ tail: 'runtime = "sandbox" #<' }), code: 'RS1604', severity: 'error', path: 'environments[0].runtime' },
  { name: 'RS1701 docker fleet with no nodes', spec: multi({ model: 'Qwen/Qwen3-0.6B', tail: 'runtime = "sandbox"\n[sandboxes]\nprovider = "docker"\nnodes = 0 #<' }), code: 'RS1701', severity: 'error', path: 'sandboxes.nodes' },
  { name: 'RS1702 fleet without sandboxed environments is a warning', spec: tiny({ tail: '[sandboxes]\nprovider = "prime" #<' }), code: 'RS1702', severity: 'warning' },
];

const envVars: Case[] = [
  { name: 'RS1801 invalid env var name', spec: tiny({ tail: '[env]\n"1BAD" = "x" #<' }), code: 'RS1801', severity: 'error', col: null, path: 'env.1BAD', message: '"1BAD"' },
  { name: 'RS1801 env var name with a dash, per role', spec: tiny({ tail: '[trainer.env]\n"MY-VAR" = "x" #<' }), code: 'RS1801', severity: 'error', col: null, path: 'trainer.env.MY-VAR' },
  { name: 'RS1802 reserved env var', spec: tiny({ tail: '[inference.env]\nCUDA_VISIBLE_DEVICES = "0" #<' }), code: 'RS1802', severity: 'error', col: 'key', path: 'inference.env.CUDA_VISIBLE_DEVICES' },
  { name: 'RS1803 secret with a plain env value', spec: tiny({ tail: '[secrets]\nHF_TOKEN = ["trainer"]\n[env]\nHF_TOKEN = "hf_abc" #<' }), code: 'RS1803', severity: 'error', path: 'env.HF_TOKEN' },
  { name: 'RS1804 bad secret name', spec: tiny({ tail: '[secrets]\n"hf-token" = ["trainer"] #<' }), code: 'RS1804', severity: 'error', col: null, path: 'secrets.hf-token' },
  { name: 'RS1804 reserved secret name', spec: tiny({ tail: '[secrets]\nRANK = ["trainer"] #<' }), code: 'RS1804', severity: 'error', col: null, message: 'reserved' },
  { name: 'RS1805 secret for no role is a warning', spec: tiny({ tail: '[secrets]\nHF_TOKEN = [] #<' }), code: 'RS1805', severity: 'warning' },
];

const composition: Case[] = [
  {
    name: 'RS0101 extends cycle of two files',
    spec: { 'a.toml': 'extends = "./b.toml"\n[run]\nname = "a"\n', 'b.toml': 'extends = "./a.toml" #<\n[run]\nmax_steps = 3\n' },
    code: 'RS0101',
    severity: 'error',
    file: 'b.toml',
    message: /a\.toml → b\.toml → a\.toml/,
  },
  { name: 'RS0101 a file extending itself', spec: { 'spec.toml': 'extends = "./spec.toml" #<\n' }, code: 'RS0101', severity: 'error' },
  { name: 'RS0102 missing preset with suggestion', spec: 'extends = "intellect" #<\n', code: 'RS0102', severity: 'error', hint: 'did you mean "intellect3"?' },
  { name: 'RS0102 missing preset in a list', spec: 'extends = [\n  "tiny",\n  "singlenode", #<\n]\n', code: 'RS0102', severity: 'error', col: 3, hint: 'did you mean "single-node"?' },
  { name: 'RS0103 missing extended file', spec: 'extends = "./base.toml" #<\n', code: 'RS0103', severity: 'error', path: 'extends' },
  // issue 11: /dev/zero was read without bound (its size says 0); a FIFO blocked (no-stack-trace.test.ts).
  { name: 'RS0103 extends a character device', spec: 'extends = "/dev/zero" #<\n', code: 'RS0103', severity: 'error', path: 'extends', message: 'character device, not a regular file' },
  { name: 'RS0106 extends of the wrong type', spec: 'extends = 3 #<\n', code: 'RS0106', severity: 'error' },
  { name: 'RS0106 extends a table', spec: '[extends] #<\nname = "tiny"\n', code: 'RS0106', severity: 'error', col: 1 },
  { name: 'syntax error in an extended file', spec: { 'spec.toml': 'extends = "./base.toml"\n', 'base.toml': '[run]\nname = \n' }, code: 'RS0003', severity: 'error', line: 2, file: 'base.toml' },
  { name: 'unknown key in an extended file', spec: { 'spec.toml': 'extends = "./base.toml"\n', 'base.toml': '[trainer]\nepp = 2 #<\n' }, code: 'RS0201', severity: 'error', col: 'key', file: 'base.toml', hint: 'did you mean trainer.ep?' },
  {
    name: 'rule error located in an extended file',
    spec: { 'spec.toml': 'extends = "./base.toml"\n[trainer]\ngpus = 4\n', 'base.toml': shared({ trainer: 'gpus = 6\ncp = 3 #<', inference: 'gpus = 4' }) },
    code: 'RS1201',
    severity: 'error',
    file: 'base.toml',
  },
  {
    name: 'rule error located in a preset',
    spec: 'extends = "intellect3"\n[model]\nname = "Qwen/Qwen3-4B-Instruct-2507"\n',
    code: 'RS1207',
    severity: 'error',
    file: () => presetFile('intellect3'),
    line: presetLine('intellect3', 'ep = 8'),
    col: 6,
    path: 'trainer.ep',
  },
];

const sets: Case[] = [
  { name: 'RS0104 --set without =', spec: tiny(), sets: ['trainer.ep'], code: 'RS0104', severity: 'error', line: 1, col: 1 },
  { name: 'RS0104 --set with an empty key', spec: tiny(), sets: ['run.max_steps=3', '=4'], code: 'RS0104', severity: 'error', line: 2, col: 1 },
  { name: 'RS0104 --set with a bad key path', spec: tiny(), sets: ['trainer..ep=4'], code: 'RS0104', severity: 'error', line: 1, col: 1 },
  { name: 'RS0104 --set into a missing array element', spec: tiny(), sets: ['environments[5].weight=2'], code: 'RS0104', severity: 'error', line: 1, col: 1 },
  { name: 'RS0105 --set of an unknown key with suggestion', spec: tiny(), sets: ['trainer.epp=4'], code: 'RS0105', severity: 'error', line: 1, col: 1, hint: 'did you mean trainer.ep?' },
  { name: 'RS0105 --set of an unknown nested key', spec: tiny(), sets: ['run.name=x', 'inference.gpu_mem=0.5'], code: 'RS0105', severity: 'error', line: 2, col: 1, path: 'inference.gpu_mem' },
  { name: '--set with a wrong-typed value', spec: tiny(), sets: ['trainer.cp=abc'], code: 'RS0202', severity: 'error', line: 1, col: 12, path: 'trainer.cp' },
  { name: '--set with an out-of-range value', spec: tiny(), sets: ['run.max_steps=3', 'inference.tp=0'], code: 'RS0203', severity: 'error', line: 2, col: 14, path: 'inference.tp' },
  { name: '--set with a bad enum value', spec: tiny(), sets: ['cluster.backend=slrum'], code: 'RS0204', severity: 'error', line: 1, col: 17, hint: 'did you mean "slurm"?' },
  // group_size comes from the --set, but the rule points at batch_size, which is in the spec (line 17).
  { name: '--set causing a rule error', spec: tiny(), sets: ['orchestrator.group_size=7'], code: 'RS1401', severity: 'error', line: 17, col: 14, file: 'spec.toml', path: 'orchestrator.batch_size' },
  { name: '--set of a value that a rule rejects is located at the --set', spec: tiny(), sets: ['run.max_steps=3', 'trainer.cp=3'], code: 'RS1201', severity: 'error', line: 2, col: 12, path: 'trainer.cp' },
];

// issue 11: ports were never compared (they planned fine and failed at start); env values beyond the OS
// argument limit planned fine, then every process exited 126.
const bigEnv = (n: number, chars: number, marked: string, markedChars: number) =>
  tiny({ tail: ['[env]', `${marked} = "${'y'.repeat(markedChars)}" #<`, ...Array.from({ length: n }, (_, i) => `V${i} = "${'x'.repeat(chars)}"`)].join('\n') });

const processes: Case[] = [
  { name: 'RS1903 weights.port on the orchestrator\'s rollout port', spec: tiny({ tail: '[weights]\nport = 5555 #<' }), code: 'RS1903', severity: 'error', path: 'weights.port', message: 'both 5555 on node 0', hint: 'e.g. weights.port = 5557;' },
  { name: 'RS1903 inference.port on an env server\'s port', spec: tiny({ inference: 'port = 5000 #<' }), code: 'RS1903', severity: 'error', path: 'inference.port', message: /router's router port \(inference\.port\) and .*'s env server port \(5000 \+ 0 \+ ports\.base\) are both 5000 on node 0/, hint: 'move inference.port' },
  { name: 'RS1903 weights.port on the torch rendezvous port of the same process', spec: tiny({ tail: '[weights]\nport = 29500 #<' }), code: 'RS1903', severity: 'error', path: 'weights.port', message: 'and its NCCL weight broadcast port' },
  { name: 'RS1806 one [env] value beyond MAX_ARG_STRLEN', spec: tiny({ tail: `[env]\nBIG = "${'€'.repeat(44_000)}" #<` }), code: 'RS1806', severity: 'error', path: 'env.BIG', message: 'MAX_ARG_STRLEN' },
  { name: 'RS1806 a role env value beyond MAX_ARG_STRLEN', spec: tiny({ trainer: `env = { BIG = "${'€'.repeat(44_000)}" } #<` }), code: 'RS1806', severity: 'error', col: 15, path: 'trainer.env.BIG' },
  { name: 'RS1806 [env] values beyond ARG_MAX in all', spec: bigEnv(32, 60_000, 'LARGEST', 64_000), code: 'RS1806', severity: 'error', path: 'env.LARGEST', message: 'ARG_MAX' },
];

export const groups: [string, Case[]][] = [
  ['TOML syntax', syntax],
  ['reading files', reading],
  ['unknown keys', unknownKeys],
  ['wrong types', types],
  ['out of range', ranges],
  ['enum values', enums],
  ['patterns', patterns],
  ['trainer parallelism', trainerRules],
  ['inference', inferenceRules],
  ['orchestrator', orchestratorRules],
  ['model', modelRules],
  ['cluster, pools, backends', clusterRules],
  ['weight transfer', weights],
  ['environments and sandboxes', environments],
  ['env vars and secrets', envVars],
  ['processes: ports and environment size', processes],
  ['composition', composition],
  ['--set', sets],
];

