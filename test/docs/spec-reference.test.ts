/**
 * Issue 13 part 7: docs/spec-reference.md is what the schema renders now. When the schema changes this fails
 * until `npm run docs:spec` rewrites the file; the second test reads the committed page independently of the
 * generator, so a generator that dropped keys or defaults would not pass by agreeing with itself.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { publishedSchema, type JsonSchema } from '../../src/compiler/spec/schema-walk.js';
import { renderSpecReference, SPEC_REFERENCE_FILE } from '../../src/tools/spec-reference.js';

const ROOT = new URL('../..', import.meta.url).pathname;
const committed = readFileSync(join(ROOT, SPEC_REFERENCE_FILE), 'utf8');

/** The committed page as section heading ([path] or [[path]], top level "") → key → its row's cells. */
function rowsBySection(page: string): Map<string, Map<string, string[]>> {
  const sections = new Map<string, Map<string, string[]>>();
  let current = '';
  for (const line of page.split('\n')) {
    const heading = /^### `\[\[?([^\]]+)\]\]?`$/.exec(line);
    if (heading) current = heading[1]!;
    const row = /^\| `([^`]+)` \| (.*) \|$/.exec(line);
    if (row) {
      if (!sections.has(current)) sections.set(current, new Map());
      sections.get(current)!.set(row[1]!, row[2]!.split(' | '));
    }
  }
  return sections;
}

/** Every key of the schema with the table it belongs to, as a spec writes it. */
function schemaKeys(): { table: string; key: string; node: JsonSchema; required: boolean }[] {
  const keys: { table: string; key: string; node: JsonSchema; required: boolean }[] = [];
  const walk = (node: JsonSchema, table: string) => {
    const forms = [node, ...(node.anyOf ?? [])];
    for (const form of forms) {
      const t = form.type === 'array' && form.items ? form.items : form;
      for (const [key, p] of Object.entries(t.properties ?? {})) {
        const child = table ? `${table}.${key}` : key;
        const isTable = (n: JsonSchema) => (n.type === 'object' && (n.properties || n.patternProperties)) || (n.type === 'array' && n.items?.type === 'object' && n.items.properties);
        if (!isTable(p)) keys.push({ table, key, node: p, required: (t.required ?? []).includes(key) });
        walk(p, child);
      }
      for (const p of Object.values(t.patternProperties ?? {})) if (p.type === 'object' && p.properties) walk(p, `${table}.<name>`);
    }
  };
  walk(publishedSchema(), '');
  return keys;
}

describe('docs/spec-reference.md', () => {
  it('is what the schema renders now (run `npm run docs:spec` after changing src/compiler/spec/schema.ts)', () => {
    const rendered = renderSpecReference();
    if (committed !== rendered) {
      const a = committed.split('\n');
      const b = rendered.split('\n');
      const line = a.findIndex((l, i) => l !== b[i]);
      const at = line === -1 ? b.length : line;
      expect.fail(`docs/spec-reference.md is stale: run \`npm run docs:spec\` and commit it.\nfirst difference at line ${at + 1}:\n  committed: ${a[at] ?? '(end of file)'}\n  schema:    ${b[at] ?? '(end of file)'}`);
    }
    expect(renderSpecReference()).toBe(rendered); // deterministic: nothing but the schema goes in
  });

  it('lists every key of the schema under its table, with its type, default and allowed values', () => {
    const sections = rowsBySection(committed);
    const keys = schemaKeys();
    expect(keys.length).toBeGreaterThan(150);
    const missing: string[] = [];
    for (const { table, key, node, required } of keys) {
      const cells = sections.get(table)?.get(key);
      if (!cells) {
        missing.push(`${table || '(top level)'} ${key}`);
        continue;
      }
      const [type, def, allowed, description] = cells;
      expect(type, `${table}.${key} type`).not.toBe('');
      if (node.default !== undefined) expect(def, `${table}.${key} default`).toBe(`\`${JSON.stringify(node.default).replace(/\|/g, '\\|')}\``);
      else expect(def, `${table}.${key} default`).toBe(required ? '**required**' : '(none)');
      for (const c of node.anyOf?.filter((m) => m.const !== undefined) ?? []) expect(allowed, `${table}.${key} allowed`).toContain(JSON.stringify(c.const));
      if (node.minimum !== undefined) expect(allowed, `${table}.${key} minimum`).toContain(`≥ ${node.minimum}`);
      if (node.maximum !== undefined) expect(allowed, `${table}.${key} maximum`).toContain(`≤ ${node.maximum}`);
      if (node.description) expect(description, `${table}.${key} description`).not.toBe('');
    }
    expect(missing, 'keys without a row in docs/spec-reference.md (run `npm run docs:spec`)').toEqual([]);
  });

  it('is rewritten by one command, npm run docs:spec', () => {
    const scripts = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;
    expect(scripts['docs:spec']).toBe('npm run build && node dist/src/tools/spec-reference.js');
  });
});
