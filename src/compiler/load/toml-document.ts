/**
 * Reads one TOML file into values plus the position of every key and value. smol-toml gives the values
 * (TOML 1.0/1.1 correct); toml-eslint-parser gives positions, which smol-toml does not expose.
 */
import { parse as parseToml, TomlError } from 'smol-toml';
import { parseTOML } from 'toml-eslint-parser';
import type { AST } from 'toml-eslint-parser';
import { readBoundedFile } from '../../bounded-read.js';
import { diagnostic, type Diagnostic, type SourcePosition } from '../diagnostics/diagnostic.js';
import { joinPath, type KeyPart } from '../spec/key-path.js';

export interface Located {
  key: SourcePosition;
  value: SourcePosition;
}

export interface TomlDocument {
  /** Name shown to the user (relative to the working directory when below it). */
  file: string;
  text: string;
  value: Record<string, unknown>;
  /** key path → where its key and value stand. */
  positions: Map<string, Located>;
}

export type ReadResult = { ok: true; doc: TomlDocument } | { ok: false; diagnostics: Diagnostic[]; text?: string };

const MAX_SPEC_BYTES = 4 * 1024 * 1024;

export function readTomlFile(absolutePath: string, displayName: string): ReadResult {
  // Bounded whatever the file's size claims (/dev/zero says 0), and only a regular file (a FIFO would block).
  const read = readBoundedFile(absolutePath, MAX_SPEC_BYTES);
  if (!read.ok) {
    const hint =
      read.reason === 'missing'
        ? 'check the path; presets are named without a path (e.g. extends = "tiny")'
        : read.reason === 'directory'
          ? 'pass the path of a .toml file'
          : read.reason === 'too-large'
            ? 'a spec is at most 4 MiB: is this the right file?'
            : read.reason === 'not-regular'
              ? 'a spec is a regular .toml file; write the text to a file first'
              : 'check the file\'s permissions';
    return fail('RS0001', displayName, `${displayName} ${read.message}`, hint);
  }
  return parseTomlText(read.bytes, displayName);
}

export function parseTomlText(bytes: Uint8Array, file: string): ReadResult {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return fail('RS0002', file, `${file} is not UTF-8 text`, 'a spec is a TOML text file; is this a binary file?');
  }
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  const nul = text.indexOf('\0');
  if (nul >= 0) {
    const at = positionOf(text, nul, file);
    return { ok: false, text, diagnostics: [diagnostic('RS0002', { message: `${file} contains a NUL byte: it is not a text file`, at, hint: 'a spec is a TOML text file' })] };
  }
  if (text.trim() === '') {
    return fail('RS0004', file, `${file} is empty`, 'start from a preset: rlstack init --preset tiny');
  }
  let value: Record<string, unknown>;
  try {
    value = parseToml(text, { integersAsBigInt: 'asNeeded' }) as Record<string, unknown>;
  } catch (error) {
    if (error instanceof TomlError) {
      const message = describeSyntaxError(error.message.split('\n')[0]!.replace(/^Invalid TOML document: /, ''), text.split(/\r?\n/)[error.line - 1] ?? '');
      return {
        ok: false,
        text,
        diagnostics: [
          diagnostic('RS0003', {
            message: `TOML syntax error: ${message}`,
            at: { file, line: error.line, column: error.column },
            hint: syntaxHint(message),
          }),
        ],
      };
    }
    throw error;
  }
  const onlyComments = Object.keys(value).length === 0;
  if (onlyComments) return fail('RS0004', file, `${file} has no keys`, 'start from a preset: rlstack init --preset tiny', text);
  const tooDeep = deeperThan(value, MAX_DEPTH);
  if (tooDeep) {
    return { ok: false, text, diagnostics: [diagnostic('RS0003', { message: `keys and values are nested more than ${MAX_DEPTH} levels deep`, at: { file, line: 1, column: 1 }, hint: 'a spec nests a few tables deep; is this the right file?' })] };
  }
  // toml-eslint-parser (the locator) builds each token with String.fromCodePoint(...codePoints): a token of
  // ~120k characters overflows the stack. No spec needs one; refuse it where it stands.
  const long = firstLongToken(text, MAX_TOKEN_CHARS);
  if (long) {
    return {
      ok: false,
      text,
      diagnostics: [
        diagnostic('RS0006', {
          message: `${long.kind === 'string' ? 'a string' : 'a value or key'} of ${long.length} characters: rlstack reads strings, numbers and keys of at most ${MAX_TOKEN_CHARS} characters`,
          at: positionOf(text, long.index, file),
          hint: 'is this the right file? Long text belongs in a file the spec names (an environment value is at most 128 KiB anyway)',
        }),
      ],
    };
  }
  let positions: Map<string, Located>;
  try {
    positions = locate(text, file);
  } catch (error) {
    if (!(error instanceof RangeError)) throw error;
    return fail('RS0006', file, `${file} is too large or too deeply structured to read (${error.message})`, 'is this the right file?', text);
  }
  const problems: Diagnostic[] = [];
  const plain = toPlain(value, [], (path, problem) => {
    const at = positions.get(joinPath(path));
    const where = joinPath(path);
    if (problem === 'forbidden-key') problems.push(diagnostic('RS0201', { message: `the key ${where} is not allowed`, path: where, at: at?.key, hint: '__proto__ is never a valid key' }));
    else if (problem === 'date') problems.push(diagnostic('RS0202', { message: `${where} is a TOML date/time; no spec value is one`, path: where, at: at?.value, hint: 'quote it if you mean text: "1979-05-27"' }));
    else if (problem === 'unsafe-integer') problems.push(diagnostic('RS0203', { message: `${where} is an integer beyond 2^53, which cannot be represented exactly`, path: where, at: at?.value, hint: 'use a smaller number' }));
    else problems.push(diagnostic('RS0203', { message: `${where} is ${problem === 'infinite' ? 'infinite' : 'not a number'}`, path: where, at: at?.value, hint: 'use a finite number' }));
  });
  if (problems.length) return { ok: false, text, diagnostics: problems };
  return { ok: true, doc: { file, text, value: plain as Record<string, unknown>, positions } };
}

/** Longest string, number or key (as written) the locator is given; see firstLongToken. */
const MAX_TOKEN_CHARS = 65_536;

const isBareChar = (c: number) =>
  (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || c === 0x5f || c === 0x2d || c === 0x2b || c === 0x2e || c === 0x3a;

/**
 * The first token of (valid) TOML text longer than `limit` characters as written: a string of any of the
 * four kinds (its content), or a run of bare-key/number/date characters. Comments are skipped.
 */
export function firstLongToken(text: string, limit: number): { index: number; length: number; kind: 'string' | 'bare' } | undefined {
  const n = text.length;
  let i = 0;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (c === 0x23 /* # */) {
      const end = text.indexOf('\n', i);
      i = end < 0 ? n : end + 1;
    } else if (c === 0x22 /* " */ || c === 0x27 /* ' */) {
      const q = text[i]!;
      const triple = text.startsWith(q.repeat(3), i);
      const open = triple ? 3 : 1;
      let j = i + open;
      if (q === "'") {
        const close = text.indexOf(triple ? "'''" : "'", j);
        j = close < 0 ? n : close;
      } else {
        while (j < n) {
          const d = text.charCodeAt(j);
          if (d === 0x5c /* \\ */) j += 2;
          else if (d === 0x22 && (!triple || text.startsWith('"""', j))) break;
          else if (d === 0x0a && !triple) break;
          else j++;
        }
      }
      const length = Math.min(j, n) - (i + open);
      if (length > limit) return { index: i, length, kind: 'string' };
      j += open;
      // """a"""" ends in a quote of the content and the closing three: the extra quotes are skipped here.
      if (triple) while (j < n && text[j] === q) j++;
      i = j;
    } else if (isBareChar(c)) {
      let j = i + 1;
      while (j < n && isBareChar(text.charCodeAt(j))) j++;
      if (j - i > limit) return { index: i, length: j - i, kind: 'bare' };
      i = j;
    } else i++;
  }
  return undefined;
}

/** Deeper than any spec needs, and shallow enough for the recursive walks that follow. */
const MAX_DEPTH = 64;

function deeperThan(root: unknown, limit: number): boolean {
  const stack: [unknown, number][] = [[root, 0]];
  while (stack.length) {
    const [node, depth] = stack.pop()!;
    if (depth > limit) return true;
    if (typeof node === 'object' && node !== null) for (const child of Object.values(node)) stack.push([child, depth + 1]);
  }
  return false;
}

function fail(code: 'RS0001' | 'RS0002' | 'RS0004' | 'RS0006', file: string, message: string, hint: string, text?: string): ReadResult {
  const result: ReadResult = { ok: false, diagnostics: [diagnostic(code, { message, at: { file, line: 0, column: 0 }, hint })] };
  if (text !== undefined) result.text = text;
  // A file-level problem has no line; keep only the file name.
  delete result.diagnostics[0]!.line;
  delete result.diagnostics[0]!.column;
  return result;
}

/** smol-toml's terse wording, made specific where the line shows what went wrong. */
function describeSyntaxError(message: string, line: string): string {
  const quotes = (line.replace(/\\./g, '').match(/"/g) ?? []).length;
  if (/control character|unterminated|end of (document|string)/i.test(message) && quotes % 2 === 1) return 'unterminated string: a quote is not closed on this line';
  return message;
}

function syntaxHint(message: string): string {
  if (/unterminated/.test(message)) return 'close the string on the same line, or use """ for text over several lines';
  if (/redefine/i.test(message)) return 'each key and table may be defined once; merge the two definitions';
  if (/string|quote/i.test(message)) return 'strings are quoted: name = "value"';
  return 'TOML syntax: key = value, [table], [[array of tables]]; strings are quoted';
}

function positionOf(text: string, index: number, file: string): SourcePosition {
  const before = text.slice(0, index);
  const line = before.split('\n').length;
  return { file, line, column: index - before.lastIndexOf('\n') };
}

type ValueProblem = 'forbidden-key' | 'date' | 'unsafe-integer' | 'infinite' | 'nan';

/**
 * smol-toml returns null-prototype tables, dates and BigInt for huge integers; the rest of rlstack wants
 * plain JSON-like data. What cannot become that (a date, an inexact integer, inf, nan, a `__proto__` key) is
 * reported instead of being rounded or dropped.
 */
function toPlain(value: unknown, path: KeyPart[], problem: (path: KeyPart[], kind: ValueProblem) => void): unknown {
  if (Array.isArray(value)) return value.map((v, i) => toPlain(v, [...path, i], problem));
  if (value instanceof Date) {
    problem(path, 'date');
    return null;
  }
  if (typeof value === 'bigint') {
    if (value > BigInt(Number.MAX_SAFE_INTEGER) || value < BigInt(Number.MIN_SAFE_INTEGER)) problem(path, 'unsafe-integer');
    return Number(value);
  }
  if (typeof value === 'number' && !Number.isFinite(value)) {
    problem(path, Number.isNaN(value) ? 'nan' : 'infinite');
    return 0;
  }
  if (typeof value === 'object' && value !== null) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      if (k === '__proto__') {
        problem([...path, k], 'forbidden-key');
        continue;
      }
      out[k] = toPlain(v, [...path, k], problem);
    }
    return out;
  }
  return value;
}

function pos(file: string, loc: AST.SourceLocation['start']): SourcePosition {
  return { file, line: loc.line, column: loc.column + 1 };
}

/** Walks the TOML AST and records where each key path is defined. */
function locate(text: string, file: string): Map<string, Located> {
  const positions = new Map<string, Located>();
  const ast = parseTOML(text, { tomlVersion: '1.1.0' });
  const keyName = (k: AST.TOMLBare | AST.TOMLQuoted) => (k.type === 'TOMLBare' ? k.name : k.value);

  const visitValue = (parts: KeyPart[], node: AST.TOMLContentNode, keyAt: SourcePosition) => {
    positions.set(joinPath(parts), { key: keyAt, value: pos(file, node.loc.start) });
    if (node.type === 'TOMLInlineTable') visitKeyValues(parts, node.body);
    else if (node.type === 'TOMLArray') node.elements.forEach((el, i) => visitValue([...parts, i], el, pos(file, el.loc.start)));
  };
  const visitKeyValues = (prefix: KeyPart[], body: AST.TOMLKeyValue[]) => {
    for (const kv of body) {
      const names = kv.key.keys.map(keyName);
      // Dotted keys (a.b = 1) define their intermediate tables at the key.
      for (let i = 1; i < names.length; i++) {
        const path = joinPath([...prefix, ...names.slice(0, i)]);
        if (!positions.has(path)) positions.set(path, { key: pos(file, kv.key.loc.start), value: pos(file, kv.key.loc.start) });
      }
      visitValue([...prefix, ...names], kv.value, pos(file, kv.key.loc.start));
    }
  };
  for (const top of ast.body) {
    for (const node of top.body) {
      if (node.type === 'TOMLKeyValue') visitKeyValues([], [node]);
      else {
        const parts = node.resolvedKey as KeyPart[];
        const header = pos(file, node.loc.start);
        const headerKey = pos(file, node.key.loc.start);
        for (let i = 1; i <= parts.length; i++) {
          const path = joinPath(parts.slice(0, i));
          if (!positions.has(path) || i === parts.length) positions.set(path, { key: headerKey, value: header });
        }
        visitKeyValues(parts, node.body);
      }
    }
  }
  return positions;
}
