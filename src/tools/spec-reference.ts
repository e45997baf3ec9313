/**
 * docs/spec-reference.md, generated from the spec's schema (src/compiler/spec/schema.ts, the one source of
 * truth): every table and key with its type, default, allowed values or range, and description.
 * `npm run docs:spec` runs this file to rewrite it; test/docs/spec-reference.test.ts fails when the committed
 * file differs from what renderSpecReference() gives now. The output depends on the schema alone (its key
 * order, no dates or paths), so regenerating without a schema change is a no-op.
 */
import { realpathSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { publishedSchema, type JsonSchema } from '../compiler/spec/schema-walk.js';
import { PACKAGE_ROOT } from '../paths.js';

export const SPEC_REFERENCE_FILE = join('docs', 'spec-reference.md');

/** Text in a table cell or paragraph: a `|` would end the cell; `<name>` would vanish as an HTML tag; `**` in `2**30` would start bold. */
const text = (s: string) => s.replace(/\n/g, ' ').replace(/([\\|<*])/g, '\\$1');
/** A code span in a table cell: only `|` needs escaping there (GFM splits cells before parsing spans). */
const code = (s: string) => `\`${s.replace(/\|/g, '\\|')}\``;
const literal = (value: unknown) => code(JSON.stringify(value));

/** A schema node's shape as a reader writes it in TOML; allowed values and limits go to their own column. */
function typeOf(node: JsonSchema): string {
  if (node.anyOf) return [...new Set(node.anyOf.map(typeOf))].join(' or ');
  if (node.const !== undefined) return typeof node.const === 'number' ? (Number.isInteger(node.const) ? 'integer' : 'number') : typeof node.const;
  if (node.type === 'array') return `array of ${node.items ? typeOf(node.items) : 'values'}`;
  if (node.type === 'object') return 'table';
  if (Array.isArray(node.type)) return node.type.join(' or ');
  return node.type ?? 'any value';
}

function limits(node: JsonSchema): string[] {
  const parts: string[] = [];
  if (node.minimum !== undefined) parts.push(`≥ ${node.minimum}`);
  if (node.exclusiveMinimum !== undefined) parts.push(`> ${node.exclusiveMinimum}`);
  if (node.maximum !== undefined) parts.push(`≤ ${node.maximum}`);
  if (node.exclusiveMaximum !== undefined) parts.push(`< ${String(node.exclusiveMaximum)}`);
  if (node.minLength !== undefined) parts.push(node.minLength === 1 ? 'not empty' : `at least ${node.minLength} characters`);
  if (node.maxLength !== undefined) parts.push(`at most ${node.maxLength} characters`);
  if (node.pattern) parts.push(`matches ${code(node.pattern)}`);
  if (node.minItems !== undefined) parts.push(`at least ${String(node.minItems)} entries`);
  if (node.uniqueItems) parts.push('no duplicates');
  return parts;
}

/** Allowed values and ranges, empty when any value of the type goes. */
function allowed(node: JsonSchema): string {
  if (node.const !== undefined) return literal(node.const);
  if (node.anyOf) {
    const members = node.anyOf.map((m) => ({ m, rule: allowed(m) }));
    if (members.every(({ m }) => m.const !== undefined)) return members.map(({ rule }) => rule).join(', ');
    if (members.every(({ rule }) => rule === '')) return '';
    // a mixed union (e.g. an integer ≥ 1 or "auto"): say which rule belongs to which form
    return members.map(({ m, rule }) => (m.const !== undefined ? rule : rule ? `${typeOf(m)} ${rule}` : `any ${typeOf(m)}`)).join('; or ');
  }
  const each = node.type === 'array' && node.items ? allowed(node.items) : '';
  return each ? [`each: ${each}`, ...limits(node)].join('; ') : limits(node).join(', ');
}

function defaultOf(node: JsonSchema, required: boolean): string {
  if (node.default !== undefined) return literal(node.default);
  return required ? '**required**' : '(none)';
}

const isTable = (node: JsonSchema) => node.type === 'object' && (node.properties !== undefined || node.patternProperties !== undefined);
const isTableList = (node: JsonSchema) => node.type === 'array' && node.items !== undefined && isTable(node.items);
/** A key that is a table (or a list of tables) gets a section of its own instead of a row. */
const isSection = (node: JsonSchema) => isTable(node) || isTableList(node);
/** The table forms of a key that takes either a value or a table (`"h100"` or `{ memory_gib = … }`): a row and a section. */
const tableForms = (node: JsonSchema) => (node.anyOf ?? []).filter(isSection);

function row(key: string, node: JsonSchema, required: boolean): string {
  const cells = [code(key), text(typeOf(node)), defaultOf(node, required), allowed(node), text(node.description ?? '')];
  return `| ${cells.join(' | ')} |`;
}

const TABLE_HEAD = ['| key | type | default | allowed | description |', '| --- | --- | --- | --- | --- |'];

function section(path: string, node: JsonSchema, out: string[], note = ''): void {
  const list = isTableList(node);
  const table = list ? node.items! : node;
  // `note` is markdown already (it may hold a code span), a paragraph of its own after the schema's description
  const description = [text(node.description ?? table.description ?? ''), note].filter(Boolean).join('\n\n');
  const keyed = table.patternProperties ? Object.entries(table.patternProperties)[0] : undefined;
  if (keyed && !table.properties) {
    // A table keyed by names (pools, env, extra, secrets): one entry stands for every name.
    const [pattern, inner] = keyed;
    const names = pattern === '^(.*)$' ? 'any name' : `a name matching ${code(pattern)}`;
    if (isSection(inner)) return section(`${path}.<name>`, inner, out, `${code('<name>')}: ${names}.`);
    const rule = allowed(inner);
    out.push(`### ${code(`[${path}]`)}`, '', description, '');
    out.push(`Keys: ${names}. Values: ${text(typeOf(inner))}${rule ? ` (${rule})` : ''}${inner.description ? ` — ${text(inner.description)}` : ''}.`, '');
    return;
  }
  out.push(`### ${code(list ? `[[${path}]]` : `[${path}]`)}`, '', description, '');
  if (list && allowed(node)) out.push(`The list: ${allowed(node)}.`, '');
  const props = Object.entries(table.properties ?? {});
  const rows = props.filter(([, p]) => !isSection(p));
  if (rows.length) out.push(...TABLE_HEAD, ...rows.map(([key, p]) => row(key, p, (table.required ?? []).includes(key))), '');
  for (const [key, p] of props) {
    if (isSection(p)) section(`${path}.${key}`, p, out);
    for (const form of tableForms(p)) section(`${path}.${key}`, form, out, `(the table form of ${code(key)})`);
  }
}

export function renderSpecReference(): string {
  const schema = publishedSchema();
  const out = [
    '# Spec reference',
    '',
    '<!-- Generated from src/compiler/spec/schema.ts by `npm run docs:spec` (src/tools/spec-reference.ts); do not edit. -->',
    '',
    'Every key of an rlstack spec, table by table: its type, its default, the values or range it allows, and',
    'what it means. A key without a default is required where marked, else optional: left out, it is derived in',
    'the plan or means "none" (its description says which). The same schema checks every spec',
    '(`rlstack schema` prints it as JSON Schema; `rlstack explain SPEC KEY` gives a resolved value and where it',
    'came from). Worked examples: the presets in presets/, docs/catalogues.md for GPUs and models the',
    'catalogues lack, README.md for composing specs (`extends`, `unset`, `--set`).',
    '',
    '## Top level',
    '',
    ...TABLE_HEAD,
  ];
  const top = Object.entries(schema.properties ?? {});
  for (const [key, p] of top.filter(([, q]) => !isSection(q))) out.push(row(key, p, (schema.required ?? []).includes(key)));
  out.push('', '## Tables', '');
  for (const [key, p] of top) {
    if (isSection(p)) section(key, p, out);
    for (const form of tableForms(p)) section(key, form, out, `(the table form of ${code(key)})`);
  }
  return `${out.join('\n').replace(/\n{3,}/g, '\n\n').trimEnd()}\n`;
}

/** `npm run docs:spec`: node dist/src/tools/spec-reference.js rewrites the committed file. */
function isMain(): boolean {
  try {
    return process.argv[1] !== undefined && realpathSync(process.argv[1]) === fileURLToPath(import.meta.url);
  } catch {
    return false;
  }
}

if (isMain()) {
  writeFileSync(join(PACKAGE_ROOT, SPEC_REFERENCE_FILE), renderSpecReference());
  process.stdout.write(`wrote ${SPEC_REFERENCE_FILE}\n`);
}
