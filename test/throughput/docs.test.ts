import { describe, expect, it } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { DOC, generatedSections, sectionOf, withSections } from './generated.js';

function firstDifference(a: string, b: string): string {
  const x = a.split('\n');
  const y = b.split('\n');
  for (let i = 0; i < Math.max(x.length, y.length); i++) {
    if (x[i] !== y[i]) return `line ${i + 1}:\n  docs: ${x[i] ?? '(none)'}\n  code: ${y[i] ?? '(none)'}`;
  }
  return '';
}

describe('docs/throughput-model.md', () => {
  const sections = generatedSections();
  if (process.env.UPDATE_DOCS) writeFileSync(DOC, withSections(readFileSync(DOC, 'utf8'), sections));
  const doc = readFileSync(DOC, 'utf8');

  for (const name of Object.keys(sections)) {
    it(`its ${name} table is what the code computes (regenerate: UPDATE_DOCS=1 npx vitest run test/throughput/docs.test.ts)`, () => {
      const inDoc = sectionOf(doc, name);
      expect(inDoc, `${DOC} lacks <!-- generated: ${name} -->`).toBeDefined();
      expect(inDoc === sections[name], firstDifference(inDoc!, sections[name]!)).toBe(true);
    });
  }

  it('cites prime-rl for the async level and the staleness bound, and marks every anchor fitted or not', () => {
    expect(doc).toContain('src/prime_rl/orchestrator/orchestrator.py:101-104');
    expect(doc).toContain('packages/prime-rl-configs/src/prime_rl/configs/orchestrator.py:532');
    for (const line of sections.anchors!.split('\n').slice(2)) expect(line).toMatch(/\| (fitted|not fitted) \|/);
  });
});
