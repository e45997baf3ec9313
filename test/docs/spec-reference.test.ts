/** Issue 13 part 7: docs/spec-reference.md is what the schema renders now (`npm run docs:spec` rewrites it). */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { renderSpecReference } from '../../src/docs/spec-reference.js';
import { publishedSchema, type JsonSchema } from '../../src/compiler/spec/schema-walk.js';

const ROOT = new URL('../..', import.meta.url).pathname;

describe('docs/spec-reference.md', () => {
  const committed = readFileSync(join(ROOT, 'docs', 'spec-reference.md'), 'utf8');

  it('is up to date with the schema (run npm run docs:spec after changing src/compiler/spec/schema.ts)', () => {
    expect(committed === renderSpecReference(), 'docs/spec-reference.md is stale: run npm run docs:spec').toBe(true);
  });

  it('names every key of the schema with its default', () => {
    const keys: [string, JsonSchema][] = [];
    const walk = (node: JsonSchema) => {
      const table = node.type === 'array' && node.items ? node.items : node;
      for (const [key, p] of Object.entries(table.properties ?? {})) {
        keys.push([key, p]);
        walk(p);
      }
      for (const p of Object.values(table.patternProperties ?? {})) walk(p);
    };
    walk(publishedSchema());
    expect(keys.length).toBeGreaterThan(150);
    for (const [key, p] of keys) {
      // a key is a row (`key`), or a table of its own (### [a.key] / ### [[key]])
      const asHeading = new RegExp(`^### \\[\\[?([a-z_<>]+\\.)*${key}(\\.[a-z_<>]+)*\\]\\]?$`, 'm');
      expect(committed.includes(`\`${key}\``) || asHeading.test(committed), key).toBe(true);
      if (p.default !== undefined && typeof p.default !== 'object') expect(committed, `${key} default`).toContain(`\`${JSON.stringify(p.default)}\``);
    }
  });
});
