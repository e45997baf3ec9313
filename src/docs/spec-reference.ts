/**
 * docs/spec-reference.md, generated from the spec's schema (the one source of truth): every table and key
 * with its type, default, allowed values and description. `npm run docs:spec` writes it; a test fails
 * when the committed file differs from what this renders.
 */
import { publishedSchema, type JsonSchema } from '../compiler/spec/schema-walk.js';

/** A schema node's type as a reader writes it in TOML. */
function typeOf(node: JsonSchema): string {
  if (node.anyOf) {
    const consts = node.anyOf.filter((n) => n.const !== undefined);
    if (consts.length === node.anyOf.length) return consts.map((n) => JSON.stringify(n.const)).join(' \\| ');
    return node.anyOf.map(typeOf).join(' or ');
  }
  if (node.const !== undefined) return JSON.stringify(node.const);
  if (node.type === 'array') return `array of ${node.items ? typeOf(node.items) : 'values'}`;
  if (node.type === 'object') return node.properties ? 'table' : 'table of values';
  return String(node.type ?? 'value');
}

function range(node: JsonSchema): string {
  const parts: string[] = [];
  if (node.minimum !== undefined) parts.push(`≥ ${node.minimum}`);
  if (node.exclusiveMinimum !== undefined) parts.push(`> ${node.exclusiveMinimum}`);
  if (node.maximum !== undefined) parts.push(`≤ ${node.maximum}`);
  if (node.pattern) parts.push(`matches \`${node.pattern}\``);
  if (node.maxLength !== undefined) parts.push(`at most ${node.maxLength} characters`);
  return parts.join(', ');
}

const cell = (text: string) => text.replace(/\|/g, '\\|').replace(/\n/g, ' ');

function defaultOf(node: JsonSchema, required: boolean): string {
  if (node.default !== undefined) return `\`${JSON.stringify(node.default)}\``;
  return required ? '**required**' : '(none)';
}

/** A scalar row, or a section of its own for a table (or a list of tables). */
function isSection(node: JsonSchema): boolean {
  return (node.type === 'object' && (node.properties !== undefined || node.patternProperties !== undefined)) || (node.type === 'array' && node.items?.type === 'object' && node.items.properties !== undefined);
}

function section(path: string, node: JsonSchema, out: string[]): void {
  const table = node.type === 'array' ? node.items! : node;
  const heading = node.type === 'array' ? `[[${path}]]` : `[${path}]`;
  const pattern = table.patternProperties ? Object.entries(table.patternProperties)[0] : undefined;
  if (pattern && !table.properties) {
    // A table keyed by name (pools, env, secrets): one entry stands for every key.
    const [, inner] = pattern;
    if (isSection(inner)) return section(`${path}.<name>`, inner, out);
    out.push(`### ${heading}`, '', cell(node.description ?? ''), '', `Keys: any name (\`${pattern[0]}\`); values: ${typeOf(inner)}${inner.description ? ` — ${cell(inner.description)}` : ''}.`, '');
    return;
  }
  out.push(`### ${heading}`, '', cell(node.description ?? table.description ?? ''), '');
  const props = Object.entries(table.properties ?? {});
  const rows = props.filter(([, p]) => !isSection(p));
  if (rows.length) {
    out.push('| key | type | default | description |', '| --- | --- | --- | --- |');
    for (const [key, p] of rows) {
      const limits = range(p);
      out.push(`| \`${key}\` | ${cell(typeOf(p))} | ${cell(defaultOf(p, (table.required ?? []).includes(key)))} | ${cell(p.description ?? '')}${limits ? ` (${cell(limits)})` : ''} |`);
    }
    out.push('');
  }
  for (const [key, p] of props.filter(([, q]) => isSection(q))) section(`${path}.${key}`, p, out);
}

export function renderSpecReference(): string {
  const schema = publishedSchema();
  const out = [
    '# Spec reference',
    '',
    '<!-- Generated from src/compiler/spec/schema.ts by `npm run docs:spec`; do not edit. -->',
    '',
    'Every key of an rlstack spec, table by table: its type, its default (a key without one is derived in the',
    'plan when absent, or required), and what it means. The same schema checks every spec (`rlstack schema`',
    'prints it as JSON Schema). Worked examples: the presets in presets/, docs/catalogues.md for GPUs and',
    'models the catalogues lack, README.md for composing specs (`extends`, `unset`, `--set`).',
    '',
    '## Top level',
    '',
    '| key | type | default | description |',
    '| --- | --- | --- | --- |',
  ];
  const top = Object.entries(schema.properties ?? {});
  for (const [key, p] of top.filter(([, q]) => !isSection(q))) out.push(`| \`${key}\` | ${cell(typeOf(p))} | ${cell(defaultOf(p, false))} | ${cell(p.description ?? '')} |`);
  out.push('', '## Tables', '');
  for (const [key, p] of top.filter(([, q]) => isSection(q))) section(key, p, out);
  return `${out.join('\n').replace(/\n{3,}/g, '\n\n').trimEnd()}\n`;
}
