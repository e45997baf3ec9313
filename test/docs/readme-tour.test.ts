/**
 * Issue 13 part 7: the README's tour is what rlstack prints. Every ```text block of README.md that starts
 * with `$ npx rlstack …` is run (from the checkout, as the README says) and compared line by line; a README
 * line ending in ` …` is a shortened line: the real one starts with it.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = new URL('../..', import.meta.url).pathname;
const README = readFileSync(join(ROOT, 'README.md'), 'utf8');
const blocks = [...README.matchAll(/```text\n\$ npx rlstack ([^\n]+)\n([\s\S]*?)```/g)].map((m) => ({ args: m[1]!.split(' '), shown: m[2]!.replace(/\n$/, '').split('\n') }));

describe('the README tour', () => {
  it('has the tour blocks (plan of intellect3, explain)', () => {
    expect(blocks.map((b) => b.args.join(' '))).toEqual(['plan presets/intellect3.toml', 'explain presets/intellect3.toml trainer.ep']);
  });

  for (const block of blocks) {
    it(`rlstack ${block.args.join(' ')} prints what the README shows`, () => {
      const r = spawnSync(process.execPath, [join(ROOT, 'bin', 'rlstack.js'), ...block.args], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
      expect(r.status, r.stderr).toBe(0);
      const printed = r.stdout.replace(/\n$/, '').split('\n');
      expect(printed.length, 'line count').toBe(block.shown.length);
      block.shown.forEach((line, i) => {
        if (line.endsWith(' …')) expect(printed[i]!.startsWith(line.slice(0, -2)), `line ${i + 1}: ${printed[i]}`).toBe(true);
        else expect(printed[i], `line ${i + 1}`).toBe(line);
      });
    });
  }
});
