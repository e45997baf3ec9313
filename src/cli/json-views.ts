/**
 * The JSON view of every command (docs/json-output.md): the fields each envelope carries beside `ok` and
 * `diagnostics` on success. A test runs every command and holds its output to these; the docs list them.
 * `schema` is the exception: it prints the JSON Schema itself (an editor reads it as is).
 */
export type JsonType = 'string' | 'number' | 'boolean' | 'object' | 'array' | 'string|null' | 'number|null' | 'object|null' | 'boolean|null';

export interface JsonView {
  /** `envelope`: one JSON document; `lines`: JSON lines, the last of type `result` is the envelope. */
  form: 'envelope' | 'lines';
  /** Fields of a successful envelope and their JSON types. */
  fields: Readonly<Record<string, JsonType>>;
  /** Event types of the lines form (besides `result`). */
  events?: readonly string[];
}

export const JSON_VIEWS: Readonly<Record<string, JsonView>> = {
  plan: { form: 'envelope', fields: { rlstack_version: 'string', run: 'object', cluster: 'object', model: 'object', nodes: 'array', processes: 'array', roles: 'object', weights: 'object', launch: 'object', memory: 'object', throughput: 'object' } },
  'plan --auto': { form: 'envelope', fields: { auto: 'object' } },
  compile: { form: 'envelope', fields: { dir: 'string', files: 'array' } },
  explain: { form: 'envelope', fields: { key: 'string', values: 'array' } },
  diff: { form: 'envelope', fields: { a: 'object', b: 'object', identical: 'boolean' } },
  presets: { form: 'envelope', fields: { presets: 'array' } },
  gpus: { form: 'envelope', fields: { gpus: 'array' } },
  models: { form: 'envelope', fields: { models: 'array' } },
  init: { form: 'envelope', fields: { file: 'string', preset: 'string' } },
  status: { form: 'envelope', fields: { run_dir: 'string', attempt: 'number', run: 'object|null', backend: 'object|null', node_checks: 'array', processes: 'array' } },
  stop: { form: 'envelope', fields: { run_dir: 'string', attempt: 'number', backend: 'string', stopped: 'boolean', survivors: 'array', killed: 'array', left: 'array', unreachable: 'array' } },
  preflight: { form: 'envelope', fields: { nodes: 'number', checks: 'array' } },
  launch: {
    form: 'lines',
    events: ['line', 'process', 'diagnostic'],
    fields: { run_dir: 'string', backend: 'string', detach: 'boolean', outcome: 'string', attempt: 'number' },
  },
  'launch --dry-run': {
    form: 'lines',
    events: ['line', 'diagnostic'],
    fields: { dry_run: 'boolean', backend: 'string', scheduler_asked: 'boolean|null', would_start: 'boolean', missing_secrets: 'array', kept: 'string|null', job_script: 'string|null', commands: 'array', nodes: 'array' },
  },
  logs: { form: 'lines', events: ['log', 'line', 'diagnostic'], fields: {} },
};

/** Whether `value` has JSON type `type` (a `|null` type also takes null). */
export function hasJsonType(value: unknown, type: JsonType): boolean {
  return type.split('|').some((t) => {
    if (t === 'null') return value === null;
    if (t === 'array') return Array.isArray(value);
    if (t === 'object') return typeof value === 'object' && value !== null && !Array.isArray(value);
    return typeof value === t;
  });
}
