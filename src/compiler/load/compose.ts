/**
 * load: one spec file → the merged raw spec with provenance. Resolves `extends` depth-first (presets by name,
 * files relative to the extending file, lists left to right), merges tables key by key and replaces arrays
 * whole (later wins), then applies `--set` overrides. Reads files; nothing else.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { parse as parseToml } from 'smol-toml';
import { kindOf } from '../../bounded-read.js';
import { PRESETS_DIR } from '../../paths.js';
import { diagnostic, type Diagnostic, type SourcePosition } from '../diagnostics/diagnostic.js';
import { didYouMean } from '../diagnostics/did-you-mean.js';
import { isPlainTable, joinPath, splitPath, type KeyPart } from '../spec/key-path.js';
import { dropBelow, type Origin, type Provenance } from './provenance.js';
import { readTomlFile, type TomlDocument } from './toml-document.js';

export interface LoadedSpec {
  /** The spec the user named, as shown in messages. */
  file: string;
  raw: Record<string, unknown>;
  provenance: Provenance;
  /** Every file that was read, by display name (for code frames). */
  sources: Map<string, string>;
  diagnostics: Diagnostic[];
}

export interface LoadOptions {
  /** `--unset key` arguments: keys removed from the merged files before the `--set`s apply. */
  unsets?: readonly string[];
  /** `--set key=value` arguments, applied last, in order. */
  sets?: readonly string[];
  /** Working directory for display names (default: process.cwd()). */
  cwd?: string;
  /** Decides whether a `--set` path names a known key (the schema's job; injected to keep load independent of it). */
  isKnownPath?: (parts: readonly KeyPart[]) => { known: true } | { known: false; suggestion?: string };
}

export const SET_SOURCE = '--set';
export const UNSET_SOURCE = '--unset';

/**
 * Keys of which a spec sets one or the other: a later layer (file or `--set`) that sets one replaces the
 * other, so `trainer.nodes = 2` over a preset's `trainer.gpus = 1` scales it instead of failing RS1003.
 */
const EXCLUSIVE_KEYS: readonly (readonly [string, string])[] = [
  ['trainer.nodes', 'trainer.gpus'],
  ['inference.nodes', 'inference.gpus'],
];

function partnerOf(path: string): string | undefined {
  for (const [a, b] of EXCLUSIVE_KEYS) {
    if (path === a) return b;
    if (path === b) return a;
  }
  return undefined;
}

/** Removes the key at `parts` (value and provenance); an unknown key is an error, an absent one a no-op. */
function unsetAt(
  target: { raw?: Record<string, unknown>; value?: Record<string, unknown>; provenance: Provenance },
  parts: KeyPart[],
  at: SourcePosition | undefined,
  isKnownPath: LoadOptions['isKnownPath'],
  diagnostics: Diagnostic[],
): void {
  const path = joinPath(parts);
  const known = isKnownPath?.(parts) ?? { known: true };
  if (!known.known) {
    diagnostics.push(diagnostic('RS0107', { message: `unset ${path}: unknown key`, path, at, hint: known.suggestion ? `did you mean ${known.suggestion}?` : 'rlstack schema lists every key' }));
    return;
  }
  let table: unknown = target.raw ?? target.value;
  for (const part of parts.slice(0, -1)) table = isPlainTable(table) || Array.isArray(table) ? (table as Record<string, unknown>)[part as string] : undefined;
  const last = parts[parts.length - 1]!;
  if (isPlainTable(table) && typeof last === 'string') delete table[last];
  else if (Array.isArray(table) && typeof last === 'number' && last < table.length) table.splice(last, 1);
  dropBelow(target.provenance, path);
}

/** Keys that would reach Object.prototype when assigned. */
const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

export function listPresets(): string[] {
  if (!existsSync(PRESETS_DIR)) return [];
  return readdirSync(PRESETS_DIR)
    .filter((f) => f.endsWith('.toml'))
    .map((f) => f.slice(0, -'.toml'.length))
    .sort();
}

export function presetPath(name: string): string {
  return join(PRESETS_DIR, `${name}.toml`);
}

export function loadSpec(specPath: string, options: LoadOptions = {}): LoadedSpec {
  const cwd = options.cwd ?? process.cwd();
  const display = (abs: string) => {
    const rel = relative(cwd, abs);
    return rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel : abs;
  };
  const sources = new Map<string, string>();
  const diagnostics: Diagnostic[] = [];

  interface Layer {
    value: Record<string, unknown>;
    provenance: Provenance;
  }

  const loadFile = (absolutePath: string, preset: string | undefined, stack: string[]): Layer | undefined => {
    const file = display(absolutePath);
    const result = readTomlFile(absolutePath, file);
    if (!result.ok) {
      if (result.text !== undefined) sources.set(file, result.text);
      diagnostics.push(...result.diagnostics);
      return undefined;
    }
    const doc = result.doc;
    sources.set(file, doc.text);
    const merged: Layer = { value: {}, provenance: new Map() };
    for (const base of extendsOf(doc)) {
      const target = resolveExtends(base.name, absolutePath);
      if ('error' in target) {
        diagnostics.push(diagnostic(target.code, { message: target.error, path: 'extends', at: base.at, hint: target.hint }));
        continue;
      }
      if (stack.includes(target.path)) {
        const chain = [...stack.slice(stack.indexOf(target.path)), target.path].map(display).join(' → ');
        diagnostics.push(
          diagnostic('RS0101', { message: `extends cycle: ${chain}`, path: 'extends', at: base.at, hint: 'remove one of the extends entries in the cycle' }),
        );
        continue;
      }
      const layer = loadFile(target.path, target.preset, [...stack, target.path]);
      if (layer) mergeLayer(merged, layer, []);
    }
    // `unset = ["trainer.gpus", …]`: inherited keys this file removes, before its own values apply.
    for (const { parts, at } of unsetsOf(doc)) unsetAt(merged, parts, at, options.isKnownPath, diagnostics);
    const own: Layer = { value: { ...doc.value }, provenance: provenanceOf(doc, preset) };
    for (const key of ['extends', 'unset']) {
      delete own.value[key];
      dropBelow(own.provenance, key);
    }
    mergeLayer(merged, own, []);
    return merged;
  };

  const extendsOf = (doc: TomlDocument): { name: string; at: SourcePosition | undefined }[] => {
    const value = doc.value['extends'];
    if (value === undefined) return [];
    const at = atOf(doc, 'extends');
    if (typeof value === 'string') return [{ name: value, at }];
    if (Array.isArray(value) && value.every((v) => typeof v === 'string')) {
      return value.map((name, i) => ({ name, at: atOf(doc, joinPath(['extends', i])) }));
    }
    diagnostics.push(
      diagnostic('RS0106', {
        message: 'extends must be a preset name, a relative path, or a list of them',
        path: 'extends',
        at,
        hint: 'e.g. extends = "tiny" or extends = ["i3-mini", "./site.toml"]',
      }),
    );
    return [];
  };

  const unsetsOf = (doc: TomlDocument): { parts: KeyPart[]; at: SourcePosition | undefined }[] => {
    const value = doc.value['unset'];
    if (value === undefined) return [];
    if (!Array.isArray(value) || !value.every((v) => typeof v === 'string')) {
      diagnostics.push(
        diagnostic('RS0107', { message: 'unset must be a list of dotted keys', path: 'unset', at: atOf(doc, 'unset'), hint: 'e.g. unset = ["trainer.gpus", "cluster.slurm.exclude"]' }),
      );
      return [];
    }
    const out: { parts: KeyPart[]; at: SourcePosition | undefined }[] = [];
    value.forEach((text, i) => {
      const at = atOf(doc, joinPath(['unset', i]));
      const parts = splitPath(text);
      if (!parts || parts.some((p) => FORBIDDEN_KEYS.has(String(p))) || parts[0] === 'extends') {
        diagnostics.push(diagnostic('RS0107', { message: `unset: "${text}" is not a key that can be removed`, path: joinPath(['unset', i]), at, hint: 'a dotted key such as "trainer.gpus"' }));
        return;
      }
      out.push({ parts, at });
    });
    return out;
  };

  // A preset by name (`rlstack plan intellect3`) when no file of that name is here: an installed rlstack has
  // its presets in its own folder, not beside the user.
  const root = !existsSync(resolve(cwd, specPath)) && listPresets().includes(specPath) ? presetPath(specPath) : resolve(cwd, specPath);
  const top = loadFile(root, undefined, [root]);
  const loaded: LoadedSpec = {
    file: display(root),
    raw: top?.value ?? {},
    provenance: top?.provenance ?? new Map(),
    sources,
    diagnostics,
  };
  if (top && options.unsets?.length) {
    loaded.sources.set(UNSET_SOURCE, options.unsets.join('\n'));
    options.unsets.forEach((text, i) => {
      const at = { file: UNSET_SOURCE, line: i + 1, column: 1 };
      const parts = splitPath(text);
      if (!parts || parts.some((p) => FORBIDDEN_KEYS.has(String(p))) || parts[0] === 'extends') {
        diagnostics.push(diagnostic('RS0107', { message: `--unset ${text}: not a key that can be removed`, at, hint: 'a dotted key such as trainer.gpus' }));
        return;
      }
      unsetAt(loaded, parts, at, options.isKnownPath, diagnostics);
    });
  }
  if (top && options.sets?.length) applySets(loaded, options.sets, options.isKnownPath);
  return loaded;
}

function atOf(doc: TomlDocument, path: string) {
  return doc.positions.get(path)?.value;
}

type ExtendsTarget = { path: string; preset?: string } | { error: string; code: 'RS0102' | 'RS0103'; hint: string };

function resolveExtends(name: string, fromFile: string): ExtendsTarget {
  const looksLikePath = name.includes('/') || name.endsWith('.toml') || name.startsWith('.');
  if (!looksLikePath) {
    const path = presetPath(name);
    if (existsSync(path)) return { path, preset: name };
    const presets = listPresets();
    const guess = didYouMean(name, presets);
    return {
      code: 'RS0102',
      error: `unknown preset "${name}"`,
      hint: `${guess ? `did you mean "${guess}"? ` : ''}presets: ${presets.join(', ')}; a file is named by a path (./${name}.toml)`,
    };
  }
  const path = resolve(dirname(fromFile), name);
  let stat: import('node:fs').Stats | undefined;
  try {
    stat = statSync(path, { throwIfNoEntry: false });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== 'ENOTDIR') return { code: 'RS0103', error: `extended path ${name} cannot be read (${code ?? (e as Error).message})`, hint: 'check the path and its permissions' };
  }
  if (stat?.isDirectory()) {
    return { code: 'RS0103', error: `extended path ${name} is a directory, not a spec file`, hint: 'name a .toml file' };
  }
  // A FIFO would block the read, a device (/dev/zero) would never end: only regular files are specs.
  if (stat && !stat.isFile()) return { code: 'RS0103', error: `extended path ${name} is ${kindOf(stat)}, not a regular file`, hint: 'extends names presets or .toml files' };
  if (stat) return { path };
  return { code: 'RS0103', error: `extended file ${name} does not exist (looked at ${path})`, hint: 'paths in extends are relative to the file that names them' };
}

function provenanceOf(doc: TomlDocument, preset: string | undefined): Provenance {
  const provenance: Provenance = new Map();
  for (const [path, located] of doc.positions) {
    const origin: Origin = { source: 'file', file: doc.file, key: located.key, value: located.value };
    if (preset) origin.preset = preset;
    provenance.set(path, origin);
  }
  return provenance;
}

/** Tables merge key by key; anything else (scalars, arrays, arrays of tables) replaces what was there. */
function mergeLayer(
  target: { value: Record<string, unknown>; provenance: Provenance },
  layer: { value: Record<string, unknown>; provenance: Provenance },
  prefix: KeyPart[],
): void {
  const into = prefix.reduce<Record<string, unknown>>((obj, key) => obj[key as string] as Record<string, unknown>, target.value);
  const from = prefix.reduce<Record<string, unknown>>((obj, key) => obj[key as string] as Record<string, unknown>, layer.value);
  for (const [key, value] of Object.entries(from)) {
    const parts = [...prefix, key];
    const path = joinPath(parts);
    if (isPlainTable(value) && isPlainTable(into[key])) {
      const tableOrigin = layer.provenance.get(path);
      if (tableOrigin && !target.provenance.has(path)) target.provenance.set(path, tableOrigin);
      mergeLayer(target, layer, parts);
      continue;
    }
    into[key] = structuredClone(value);
    dropBelow(target.provenance, path);
    const partner = partnerOf(path);
    const partnerKey = partner?.slice(partner.lastIndexOf('.') + 1);
    if (partner && partnerKey && !(partnerKey in from) && partnerKey in into) {
      delete into[partnerKey];
      dropBelow(target.provenance, partner);
    }
    for (const [p, origin] of layer.provenance) if (p === path || p.startsWith(`${path}.`) || p.startsWith(`${path}[`)) target.provenance.set(p, origin);
  }
}

function applySets(loaded: LoadedSpec, sets: readonly string[], isKnownPath: LoadOptions['isKnownPath']): void {
  loaded.sources.set(SET_SOURCE, sets.join('\n'));
  sets.forEach((argument, index) => {
    const line = index + 1;
    const eq = argument.indexOf('=');
    const keyText = eq >= 0 ? argument.slice(0, eq).trim() : argument;
    const parts = eq > 0 ? splitPath(keyText) : undefined;
    if (!parts) {
      loaded.diagnostics.push(
        diagnostic('RS0104', {
          message: `--set ${argument}: expected KEY=VALUE with a dotted key`,
          at: { file: SET_SOURCE, line, column: 1 },
          hint: 'e.g. --set trainer.ep=4 --set run.name=my-run --set environments[0].weight=2',
        }),
      );
      return;
    }
    if (parts[0] === 'extends' || parts.some((p) => FORBIDDEN_KEYS.has(String(p)))) {
      loaded.diagnostics.push(
        diagnostic('RS0105', {
          message: `--set ${keyText}: ${parts[0] === 'extends' ? 'extends is resolved before overrides and cannot be set' : 'this key is not allowed'}`,
          path: joinPath(parts),
          at: { file: SET_SOURCE, line, column: 1 },
          hint: parts[0] === 'extends' ? 'put extends in the spec file' : 'rlstack schema lists every key',
        }),
      );
      return;
    }
    const known = isKnownPath?.(parts) ?? { known: true };
    if (!known.known) {
      loaded.diagnostics.push(
        diagnostic('RS0105', {
          message: `--set ${keyText}: unknown key`,
          path: joinPath(parts),
          at: { file: SET_SOURCE, line, column: 1 },
          hint: known.suggestion ? `did you mean ${known.suggestion}?` : 'rlstack schema lists every key',
        }),
      );
      return;
    }
    const valueText = argument.slice(eq + 1).trim();
    const value = parseSetValue(valueText);
    const at = { file: SET_SOURCE, line, column: eq + 2 };
    if (!setAt(loaded.raw, parts, value)) {
      loaded.diagnostics.push(
        diagnostic('RS0104', {
          message: `--set ${keyText}: ${joinPath(parts.slice(0, -1))} is not a table or list that can hold it`,
          at: { file: SET_SOURCE, line, column: 1 },
          hint: 'array elements must exist before they are overridden',
        }),
      );
      return;
    }
    const path = joinPath(parts);
    dropBelow(loaded.provenance, path);
    loaded.provenance.set(path, { source: 'set', argument: `--set ${argument}`, value: at });
    const partner = partnerOf(path);
    if (partner && loaded.provenance.get(partner)?.source !== 'set') unsetAt(loaded, splitPath(partner)!, undefined, undefined, []);
  });
}

/** TOML value syntax (`4`, `true`, `"x"`, `[1, 2]`, `{ a = 1 }`); anything that is not valid TOML is a bare string. */
export function parseSetValue(text: string): unknown {
  try {
    const parsed = parseToml(`v = ${text}`) as Record<string, unknown>;
    const value = parsed['v'];
    return typeof value === 'bigint' ? Number(value) : JSON.parse(JSON.stringify(value));
  } catch {
    return text;
  }
}

function setAt(root: Record<string, unknown>, parts: readonly KeyPart[], value: unknown): boolean {
  let node: unknown = root;
  for (let i = 0; i < parts.length - 1; i++) {
    const key = parts[i]!;
    const next = parts[i + 1]!;
    if (typeof key === 'number') {
      if (!Array.isArray(node) || key >= node.length) return false;
      node = node[key];
      continue;
    }
    if (!isPlainTable(node)) return false;
    if (!Object.hasOwn(node, key)) node[key] = typeof next === 'number' ? [] : {};
    node = node[key];
  }
  const last = parts[parts.length - 1]!;
  if (typeof last === 'number') {
    if (!Array.isArray(node) || last > node.length) return false;
    node[last] = value;
    return true;
  }
  if (!isPlainTable(node)) return false;
  node[last] = value;
  return true;
}
