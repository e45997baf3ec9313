/**
 * Issue 13 part 7: the README's tour is what rlstack does. Every code block of the tour section (from
 * "## A short tour" to the next "## ") that holds a command carries a marker, and the test acts on it:
 *
 *   <!-- tour -->                 each `$ …` line runs through sh with the built CLI; exit code and output checked
 *   <!-- tour: file NAME -->      the block is written to NAME before the commands run
 *   <!-- tour: needs a cluster --> not run; every command in it must be launch/preflight/status/logs/stop
 *   <!-- tour: written by rlstack init --preset P in the checkout -->  init is run in the checkout, output compared
 *
 * Commands run in a scratch folder whose `presets` is the checkout's, so a tour command that writes a file
 * (or a file block) never touches the checkout and paths print as they do there.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { schemaReference } from '../../src/cli/commands/presets.js';

const ROOT = new URL('../..', import.meta.url).pathname;
const BIN = join(ROOT, 'bin', 'rlstack.js');
const README = readFileSync(join(ROOT, 'README.md'), 'utf8');

interface Block {
  marker: string | undefined;
  lang: string;
  body: string;
  line: number;
}

interface Command {
  command: string;
  exit: number;
  shown: string[];
  line: number;
}

function tourSection(): { text: string; offset: number } {
  const start = README.indexOf('\n## A short tour\n');
  if (start === -1) throw new Error('README.md has no "## A short tour" section');
  const end = README.indexOf('\n## ', start + 1);
  return { text: README.slice(start, end === -1 ? undefined : end), offset: start };
}

function blocks(): Block[] {
  const { text, offset } = tourSection();
  // a marker is the comment on the line right above the fence; the tour's fences start at column 0
  return [...text.matchAll(/(?:<!-- (tour[^>]*?) -->\n)?^```(\w*)\n([\s\S]*?)^```$/gm)].map((m) => ({
    marker: m[1],
    lang: m[2]!,
    body: m[3]!,
    line: README.slice(0, offset + m.index).split('\n').length + (m[1] ? 1 : 0),
  }));
}

/** `$ cmd` lines of a transcript with the output shown under each; an sh block is all commands. */
function commands(block: Block): Command[] {
  const lines = block.body.replace(/\n$/, '').split('\n');
  if (block.lang === 'sh' && !lines.some((l) => l.startsWith('$ '))) {
    return lines.map((l, i) => ({ l, i })).filter(({ l }) => l.trim() !== '' && !l.startsWith('#')).map(({ l, i }) => ({ command: l, exit: 0, shown: [], line: block.line + 1 + i }));
  }
  const out: Command[] = [];
  lines.forEach((l, i) => {
    if (l.startsWith('$ ')) {
      const command = l.slice(2);
      out.push({ command, exit: Number(/#\s*exits (\d+)/.exec(command)?.[1] ?? 0), shown: [], line: block.line + 1 + i });
    } else out.at(-1)?.shown.push(l);
  });
  for (const c of out) while (c.shown.at(-1) === '') c.shown.pop(); // the blank line before the next `$`
  return out;
}

const hasCommand = (block: Block) => block.lang === 'sh' || /^\$ /m.test(block.body);

/** A README line ending in ` …` is a shortened line; a line that is just `…` stands for any number of lines. */
function lineMatches(shown: string, printed: string): boolean {
  const want = shown.trimEnd();
  const got = printed.trimEnd();
  return want.endsWith(' …') ? got.startsWith(want.slice(0, -2)) : got === want;
}

/** Undefined when the output is what the README shows; else where it first departs. */
function compare(shown: string[], printed: string[]): string | undefined {
  let furthest = { i: -1, j: 0 };
  const match = (i: number, j: number): boolean => {
    if (i > furthest.i) furthest = { i, j };
    if (i === shown.length) return j === printed.length;
    if (shown[i] === '…') {
      for (let k = j; k <= printed.length; k++) if (match(i + 1, k)) return true;
      return false;
    }
    return j < printed.length && lineMatches(shown[i]!, printed[j]!) && match(i + 1, j + 1);
  };
  if (match(0, 0)) return undefined;
  const { i, j } = furthest;
  return `README line ${i + 1} of the output: ${shown[i] ?? '(end)'}\nprinted line ${j + 1}: ${printed[j] ?? '(end)'}\nprinted:\n${printed.join('\n')}`;
}

/** The README says `npx rlstack` (or `rlstack`); the test runs the built CLI of this checkout. */
const withBuiltCli = (command: string) => command.replace(/^(npx )?rlstack /, `'${process.execPath}' '${BIN}' `);

const env = () => {
  const e: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1' };
  delete e.FORCE_COLOR;
  return e;
};

const all = blocks();
let scratch: string;

beforeAll(() => {
  expect(existsSync(join(ROOT, 'dist', 'src', 'cli', 'main.js')), 'dist/ is missing: npm run build').toBe(true);
  scratch = mkdtempSync(join(tmpdir(), 'rlstack-tour-'));
  symlinkSync(join(ROOT, 'presets'), join(scratch, 'presets'));
  for (const b of all) {
    const file = /^tour: file (\S+)$/.exec(b.marker ?? '')?.[1];
    if (file) writeFileSync(join(scratch, file), b.body);
  }
});

afterAll(() => {
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

describe('the README tour', () => {
  it('marks every block of the tour that holds a command', () => {
    const unmarked = all.filter((b) => !b.marker && hasCommand(b)).map((b) => `README.md:${b.line}: ${b.body.split('\n')[0]}`);
    expect(unmarked, 'add <!-- tour --> (or <!-- tour: needs a cluster --> for launch/status/logs/stop) above these blocks').toEqual([]);
    const unknown = all.filter((b) => b.marker && !/^tour(: (file \S+|needs a cluster|written by rlstack init --preset \S+ in the checkout))?$/.test(b.marker)).map((b) => `README.md:${b.line}: ${b.marker}`);
    expect(unknown, 'unknown tour markers').toEqual([]);
  });

  it('runs every command but those that need a cluster, and those are only launch/preflight/status/logs/stop', () => {
    const run = all.filter((b) => b.marker === 'tour').flatMap(commands);
    expect(run.length).toBeGreaterThanOrEqual(6);
    const skipped = all.filter((b) => b.marker === 'tour: needs a cluster').flatMap(commands);
    expect(skipped.length).toBeGreaterThan(0);
    for (const c of skipped) expect(c.command, `README.md:${c.line}`).toMatch(/^(export [A-Z_]+=|(npx )?rlstack (launch|preflight|status|logs|stop) )/);
  });

  it('keeps the two set-up commands', () => {
    const setup = /## Two commands\n\n```sh\n([\s\S]*?)```/.exec(README)?.[1] ?? '';
    expect(setup).toMatch(/^npm ci && npx rlstack plan presets\/intellect3\.toml /m);
    expect(setup).toMatch(/^npm test /m);
  });

  it('names the #:schema forms init writes: relative in the checkout at any depth, a file URL outside it', () => {
    expect(schemaReference(join(ROOT, 'my-run.toml'))).toBe('./schema/rlstack.schema.json');
    expect(schemaReference(join(ROOT, 'runs', 'my-run.toml'))).toBe('../schema/rlstack.schema.json');
    expect(schemaReference(join(scratch, 'my-run.toml'))).toBe(`file://${join(ROOT, 'schema', 'rlstack.schema.json')}`);
  });

  for (const block of all.filter((b) => b.marker === 'tour')) {
    for (const c of commands(block)) {
      it(`README.md:${c.line} $ ${c.command}`, () => {
        const r = spawnSync('sh', ['-c', `exec 2>&1\n${withBuiltCli(c.command)}`], { cwd: scratch, encoding: 'utf8', env: env() });
        expect(r.status, `exit code of ${c.command}\n${r.stdout}`).toBe(c.exit);
        expect(c.shown.length, 'the README shows some output').toBeGreaterThan(0);
        const mismatch = compare(c.shown, r.stdout.replace(/\n$/, '').split('\n'));
        if (mismatch) expect.fail(`README.md:${c.line} shows other output than \`${c.command}\` prints:\n${mismatch}`);
      });
    }
  }

  for (const block of all.filter((b) => b.marker?.startsWith('tour: written by rlstack init'))) {
    const preset = /--preset (\S+)/.exec(block.marker!)![1]!;
    it(`README.md:${block.line} is the spec rlstack init --preset ${preset} writes in the checkout`, () => {
      // in the checkout itself, where the schema line is relative; a name nobody else uses, removed at once
      const name = `.readme-tour-${process.pid}.toml`;
      try {
        const r = spawnSync(process.execPath, [BIN, 'init', '--preset', preset, name], { cwd: ROOT, encoding: 'utf8', env: env() });
        expect(r.status, r.stderr).toBe(0);
        expect(readFileSync(join(ROOT, name), 'utf8')).toBe(block.body);
      } finally {
        rmSync(join(ROOT, name), { force: true });
      }
    });
  }
});
