import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CODES } from '../../src/compiler/diagnostics/codes.js';
import { applyDefaults, checkKnownPath, publishedSchema } from '../../src/compiler/spec/schema-walk.js';

describe('the published JSON Schema', () => {
  it('is committed and up to date (regenerate with npm run schema:write)', () => {
    const committed = JSON.parse(readFileSync(new URL('../../schema/rlstack.schema.json', import.meta.url), 'utf8'));
    expect(committed).toEqual(publishedSchema());
  });

  it('requires nothing that has a default, so an almost empty spec is valid for editors', () => {
    const schema = publishedSchema();
    expect(schema.required).toBeUndefined();
    expect(schema.properties!['trainer']!.required).toBeUndefined();
    // an environment still needs its name and taskset
    expect(schema.properties!['environments']!.items!.required).toEqual(['name', 'taskset']);
  });

  it('uses draft-07 keywords only', () => {
    const text = JSON.stringify(publishedSchema());
    for (const keyword of ['prefixItems', 'unevaluatedProperties', '$dynamicRef', '$defs']) expect(text).not.toContain(`"${keyword}"`);
  });
});

describe('defaults and key paths', () => {
  it('fills nested defaults and reports each one', () => {
    const value: Record<string, unknown> = { environments: [{ name: 'm', taskset: 't' }] };
    const seen: string[] = [];
    applyDefaults(value, (p) => seen.push(p));
    expect((value as { trainer: { optimizer: { type: string } } }).trainer.optimizer.type).toBe('adamw');
    expect((value as { environments: { weight: number }[] }).environments[0]!.weight).toBe(1);
    expect(seen).toContain('environments[0].runtime');
    expect(seen).toContain('cluster.ssh.port');
    expect(value).not.toHaveProperty('monitors.wandb');
  });

  it('knows which paths exist and suggests near misses', () => {
    expect(checkKnownPath(['trainer', 'ep'])).toEqual({ known: true });
    expect(checkKnownPath(['environments', 3, 'weight'])).toEqual({ known: true });
    expect(checkKnownPath(['trainer', 'extra', 'anything', 'below'])).toEqual({ known: true });
    expect(checkKnownPath(['cluster', 'pools', 'cpu', 'nodes'])).toEqual({ known: true });
    expect(checkKnownPath(['trainer', 'epp'])).toEqual({ known: false, suggestion: 'trainer.ep' });
    expect(checkKnownPath(['trainr', 'ep'])).toEqual({ known: false, suggestion: 'trainer.ep' });
    expect(checkKnownPath(['trainr', 'nope'])).toEqual({ known: false, suggestion: 'trainer' });
  });
});

describe('the diagnostic catalogue', () => {
  it('has unique, well-formed codes with titles', () => {
    const codes = Object.keys(CODES);
    expect(new Set(codes).size).toBe(codes.length);
    for (const [code, info] of Object.entries(CODES)) {
      expect(code).toMatch(/^RS\d{4}$/);
      expect(info.title.length).toBeGreaterThan(5);
    }
  });

  it('every code used in src/ is in the catalogue', async () => {
    const { readdirSync, statSync } = await import('node:fs');
    const { join } = await import('node:path');
    const files: string[] = [];
    const walk = (dir: string) => {
      for (const name of readdirSync(dir)) {
        const p = join(dir, name);
        if (statSync(p).isDirectory()) walk(p);
        else if (p.endsWith('.ts')) files.push(p);
      }
    };
    walk(new URL('../../src', import.meta.url).pathname);
    const used = new Set(files.flatMap((f) => readFileSync(f, 'utf8').match(/'RS\d{4}'/g) ?? []).map((s) => s.slice(1, -1)));
    for (const code of used) expect(CODES, code).toHaveProperty(code);
  });
});
