/**
 * A typed view of prime-rl's config classes at the pinned revision (config-keys-559b447.json, read from
 * `packages/prime-rl-configs` with Python's `ast`): which keys a class accepts, what type each value has, and
 * which class a dotted key path lands in — following `config_classes` through optionals, unions, lists,
 * dicts and discriminated unions selected by `type` (the default variant when `type` is absent, as
 * prime-rl's loader injects it). prime-rl's `BaseConfig` forbids unknown keys everywhere except in
 * `VllmConfig`, which passes extras to vLLM; fields typed with verifiers/renderers classes (`vf.EnvConfig`,
 * `vf.ServeConfig`, `renderers.RendererConfig`) are not described in the file and are treated as open.
 *
 * The JSON file ships in the package under src/ (tsc does not copy JSON) and is read at run time.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PACKAGE_ROOT } from '../../../paths.js';
import { didYouMean } from '../../diagnostics/did-you-mean.js';
import { isPlainTable, type KeyPart } from '../../spec/key-path.js';

export const PRIME_RL_REVISION = '559b447';
/** Relative to the package root. */
export const CONFIG_KEYS_FILE = `src/compiler/emit/prime-rl/config-keys-${PRIME_RL_REVISION}.json`;

export interface FieldInfo {
  name: string;
  /** The Python annotation as written (`int | None`, `Literal['ring', 'ulysses']`, `list[TrainSourceConfig]`). */
  type: string;
  /** The default as written (`'auto'`, `ModelConfig()`, `<factory VllmConfig>`), null when required. */
  default: string | null;
  required: boolean;
  /** Config classes reachable from the annotation (`<module>.<Class>`), type aliases expanded. */
  config_classes: string[];
  /** verifiers/renderers types the file does not describe (values below are not checked). */
  external?: string[];
  inherited_from?: string;
}

export type ConfigKeys = Readonly<Record<string, readonly FieldInfo[]>>;

/** The class each component's config file is read as. */
export const ROOT_CLASSES = {
  trainer: 'trainer.TrainerConfig',
  orchestrator: 'orchestrator.OrchestratorConfig',
  inference: 'inference.InferenceConfig',
  env_server: 'env_server.EnvServerConfig',
} as const;
export type Component = keyof typeof ROOT_CLASSES;

/** Classes that accept keys they do not declare (passed through verbatim). */
export const EXTRA_KEY_CLASSES: ReadonlySet<string> = new Set(['inference.VllmConfig']);

let cached: ConfigKeys | undefined;

/** The keys file (read once). */
export function configKeys(): ConfigKeys {
  cached ??= JSON.parse(readFileSync(join(PACKAGE_ROOT, CONFIG_KEYS_FILE), 'utf8')) as ConfigKeys;
  return cached;
}

const fieldMaps = new Map<string, ReadonlyMap<string, FieldInfo>>();

/** The fields of a class by name; undefined for a class the file does not know. */
export function fieldsOf(className: string): ReadonlyMap<string, FieldInfo> | undefined {
  let fields = fieldMaps.get(className);
  if (!fields) {
    const list = configKeys()[className];
    if (!list) return undefined;
    fields = new Map(list.map((f) => [f.name, f]));
    fieldMaps.set(className, fields);
  }
  return fields;
}

/** `trainer.ModelConfig` → `ModelConfig`. */
export function shortName(className: string): string {
  return className.slice(className.lastIndexOf('.') + 1);
}

// ---------------------------------------------------------------------------------------------------------
// Annotations

export type TypeExpr =
  | { kind: 'int' | 'float' | 'bool' | 'str' | 'path' | 'none' | 'any' }
  | { kind: 'literal'; values: (string | number | boolean)[] }
  | { kind: 'list'; item: TypeExpr }
  | { kind: 'dict'; value: TypeExpr }
  /** A config class (or a union of them), resolved through the field's `config_classes`. */
  | { kind: 'config'; name: string }
  /** A verifiers/renderers type: open. */
  | { kind: 'external'; name: string }
  /** A type alias the file does not expand (`AttnImplementation`, `ModelReference`): not checked. */
  | { kind: 'alias'; name: string }
  | { kind: 'union'; options: TypeExpr[] };

/** Splits at `sep` outside brackets and quotes. */
function splitTop(text: string, sep: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let quote: string | undefined;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quote) {
      if (c === quote) quote = undefined;
    } else if (c === "'" || c === '"') quote = c;
    else if (c === '[' || c === '(') depth++;
    else if (c === ']' || c === ')') depth--;
    else if (c === sep && depth === 0) {
      parts.push(text.slice(start, i).trim());
      start = i + 1;
    }
  }
  parts.push(text.slice(start).trim());
  return parts.filter((p) => p !== '');
}

function literalValue(text: string): string | number | boolean {
  const t = text.trim();
  if ((t.startsWith("'") && t.endsWith("'")) || (t.startsWith('"') && t.endsWith('"'))) return t.slice(1, -1);
  if (t === 'True') return true;
  if (t === 'False') return false;
  const n = Number(t);
  return Number.isFinite(n) ? n : t;
}

const parsedTypes = new Map<string, TypeExpr>();

/** Parses a Python annotation as written in the keys file. */
export function parseType(annotation: string): TypeExpr {
  let expr = parsedTypes.get(annotation);
  if (!expr) {
    expr = parseUncached(annotation);
    parsedTypes.set(annotation, expr);
  }
  return expr;
}

function parseUncached(annotation: string): TypeExpr {
  let t = annotation.trim();
  // Forward references are written as strings: 'VLMConfig | None'.
  if (t.length >= 2 && (t[0] === "'" || t[0] === '"') && t[t.length - 1] === t[0]) t = t.slice(1, -1).trim();
  const parts = splitTop(t, '|');
  if (parts.length > 1) return { kind: 'union', options: parts.map(parseUncached) };
  switch (t) {
    case 'int':
      return { kind: 'int' };
    case 'float':
      return { kind: 'float' };
    case 'bool':
      return { kind: 'bool' };
    case 'str':
      return { kind: 'str' };
    case 'Path':
      return { kind: 'path' };
    case 'None':
      return { kind: 'none' };
    case 'Any':
    case 'object':
      return { kind: 'any' };
    case 'list':
      return { kind: 'list', item: { kind: 'any' } };
    case 'dict':
    case 'EnvVars':
      return { kind: 'dict', value: { kind: 'any' } };
  }
  const generic = /^([A-Za-z_][\w.]*)\[(.*)\]$/s.exec(t);
  if (generic) {
    const name = generic[1]!;
    const args = splitTop(generic[2]!, ',');
    switch (name) {
      case 'Literal':
        return { kind: 'literal', values: args.map(literalValue) };
      case 'list':
      case 'List':
      case 'Sequence':
      case 'tuple':
      case 'set':
        return { kind: 'list', item: parseUncached(args[0] ?? 'Any') };
      case 'dict':
      case 'Dict':
      case 'Mapping':
        return { kind: 'dict', value: parseUncached(args[1] ?? 'Any') };
      case 'Optional':
        return { kind: 'union', options: [parseUncached(args[0] ?? 'Any'), { kind: 'none' }] };
      case 'SerializeAsAny':
      case 'Annotated':
        return parseUncached(args[0] ?? 'Any');
      default:
        return { kind: 'alias', name: t };
    }
  }
  if (/^(vf|renderers)\./.test(t)) return { kind: 'external', name: t };
  if (/Config$/.test(t)) return { kind: 'config', name: t };
  return { kind: 'alias', name: t };
}

/** How a type reads in a message. */
export function describeType(expr: TypeExpr): string {
  switch (expr.kind) {
    case 'literal':
      return expr.values.map((v) => JSON.stringify(v)).join(' | ');
    case 'list':
      return `list of ${describeType(expr.item)}`;
    case 'dict':
      return 'table';
    case 'config':
      return `table (${expr.name})`;
    case 'external':
      return `table (${expr.name})`;
    case 'alias':
      return expr.name;
    case 'union':
      return expr.options.map(describeType).join(' | ');
    case 'none':
      return '"None"';
    case 'path':
      return 'path string';
    case 'str':
      return 'string';
    default:
      return expr.kind;
  }
}

/** How a value reads in a message. */
export function describeValue(value: unknown): string {
  if (typeof value === 'string') return `string ${JSON.stringify(value)}`;
  if (typeof value === 'number') return Number.isInteger(value) ? `integer ${value}` : `float ${value}`;
  if (typeof value === 'bigint') return `integer ${value}`;
  if (typeof value === 'boolean') return `boolean ${value}`;
  if (Array.isArray(value)) return 'array';
  if (value instanceof Date) return 'date-time';
  if (isPlainTable(value)) return 'table';
  return String(value);
}

/** Does `value` have the outer shape of `expr` (children are checked separately)? */
function shallowMatch(expr: TypeExpr, value: unknown): boolean {
  switch (expr.kind) {
    case 'int':
      return (typeof value === 'number' && Number.isInteger(value)) || typeof value === 'bigint';
    case 'float':
      return (typeof value === 'number' && !Number.isNaN(value)) || typeof value === 'bigint';
    case 'bool':
      return typeof value === 'boolean';
    case 'str':
    case 'path':
      return typeof value === 'string';
    case 'none':
      // TOML has no null: prime-rl's loader reads the string "None" as None.
      return value === 'None' || value === null;
    case 'literal':
      return expr.values.includes(value as string);
    case 'list':
      return Array.isArray(value);
    case 'dict':
    case 'config':
      return isPlainTable(value);
    case 'any':
    case 'external':
    case 'alias':
      return true;
    case 'union':
      return expr.options.some((o) => shallowMatch(o, value));
  }
}

/** The most specific option of a union that takes the value (a table goes to a config, "None" to None). */
function pickOption(expr: TypeExpr, value: unknown): TypeExpr | undefined {
  if (expr.kind !== 'union') return shallowMatch(expr, value) ? expr : undefined;
  const matching = expr.options.flatMap((o) => {
    const picked = pickOption(o, value);
    return picked ? [picked] : [];
  });
  const rank = (e: TypeExpr) => (e.kind === 'any' || e.kind === 'alias' || e.kind === 'external' ? 2 : e.kind === 'str' || e.kind === 'path' ? 1 : 0);
  return matching.sort((a, b) => rank(a) - rank(b))[0];
}

/** Removes `None` from a union (what a path below the value can still be). */
function withoutNone(expr: TypeExpr): TypeExpr[] {
  if (expr.kind === 'union') return expr.options.flatMap(withoutNone);
  return expr.kind === 'none' ? [] : [expr];
}

// ---------------------------------------------------------------------------------------------------------
// Variants

function discriminatorValues(className: string): (string | number | boolean)[] | undefined {
  const type = fieldsOf(className)?.get('type');
  if (!type) return undefined;
  const expr = parseType(type.type);
  return expr.kind === 'literal' ? expr.values : undefined;
}

export type VariantChoice = { ok: true; className: string } | { ok: false; message: string };

/**
 * The class a table value of `field` is read as: the only config class, or the variant whose `type`
 * literal matches the value's `type`, or (no `type`) the default variant.
 */
export function variantFor(field: FieldInfo, value: unknown): VariantChoice {
  const classes = field.config_classes.filter((c) => fieldsOf(c) !== undefined);
  if (classes.length === 0) return { ok: false, message: `${field.name} has no known config class` };
  if (classes.length === 1) return { ok: true, className: classes[0]! };
  const typed = classes.map((c) => ({ c, values: discriminatorValues(c) ?? [] }));
  const all = typed.flatMap((t) => t.values);
  const given = isPlainTable(value) ? value.type : undefined;
  if (given !== undefined) {
    const match = typed.find((t) => t.values.includes(given as string));
    return match ? { ok: true, className: match.c } : { ok: false, message: `type = ${JSON.stringify(given)} is not one of ${all.map((v) => JSON.stringify(v)).join(', ')}` };
  }
  const dflt = /^(?:<factory\s+)?([A-Za-z_]\w*)(?:\(.*\))?>?$/.exec(field.default ?? '');
  const byDefault = dflt ? classes.find((c) => shortName(c) === dflt[1]) : undefined;
  if (byDefault) return { ok: true, className: byDefault };
  return { ok: false, message: `${field.name} needs type = one of ${all.map((v) => JSON.stringify(v)).join(', ')}` };
}

// ---------------------------------------------------------------------------------------------------------
// Paths

export type ResolvedPath =
  /** The path names a config table of this class. */
  | { kind: 'class'; className: string }
  /** The path names a value of a field (a scalar, a list or a dict). */
  | { kind: 'value'; className: string; field: FieldInfo; type: TypeExpr }
  /** Below here nothing is described: an external type, a class that takes extras, a dict or an alias. */
  | { kind: 'open'; className: string; reason: 'external' | 'extra' | 'dict' | 'untyped' }
  /** A key the class does not have. */
  | { kind: 'unknown'; className: string; key: string; suggestion?: string };

interface Cursor {
  className: string;
  field: FieldInfo;
  expr: TypeExpr;
  value: unknown;
}

/** A suggestion for an unknown key: the kebab → snake spelling, else the closest key. */
export function suggestKey(key: string, className: string): string | undefined {
  const fields = fieldsOf(className);
  if (!fields) return undefined;
  const snake = key.replace(/-/g, '_');
  if (snake !== key && fields.has(snake)) return snake;
  return didYouMean(key, fields.keys());
}

/**
 * The class (or field) a key path lands in, from a root class. `value` is the config at the root, used to
 * pick discriminated-union variants by `type`; without it the default variants are taken. List items are
 * addressed by index or skipped (`train.source.env` = `train.source[0].env`).
 */
export function resolveKeyPath(root: string, path: string | readonly KeyPart[], value?: unknown): ResolvedPath {
  const parts: KeyPart[] = typeof path === 'string' ? (path === '' ? [] : path.split('.')) : [...path];
  let className = root;
  let table: unknown = value;
  let cursor: Cursor | undefined;
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i]!;
    if (cursor) {
      const step = descend(cursor, part);
      if (step.kind === 'cursor') {
        cursor = step.cursor;
        continue;
      }
      if (step.kind === 'class') {
        className = step.className;
        table = step.value;
        cursor = undefined;
        i--; // look the same part up in the class
        continue;
      }
      return step.result;
    }
    if (typeof part === 'number') return { kind: 'unknown', className, key: String(part) };
    const fields = fieldsOf(className);
    if (!fields) return { kind: 'open', className, reason: 'untyped' };
    const field = fields.get(part);
    if (!field) {
      if (EXTRA_KEY_CLASSES.has(className)) return { kind: 'open', className, reason: 'extra' };
      const suggestion = suggestKey(part, className);
      return suggestion ? { kind: 'unknown', className, key: part, suggestion } : { kind: 'unknown', className, key: part };
    }
    if (field.external?.length) return { kind: 'open', className, reason: 'external' };
    cursor = { className, field, expr: parseType(field.type), value: isPlainTable(table) ? table[part] : undefined };
  }
  if (!cursor) return { kind: 'class', className };
  const options = withoutNone(cursor.expr);
  const picked = pickOption({ kind: 'union', options }, cursor.value) ?? options[0];
  if (picked && (picked.kind === 'config' || (picked.kind === 'alias' && cursor.field.config_classes.length > 0 && isPlainTable(cursor.value)))) {
    const variant = variantFor(cursor.field, cursor.value);
    if (variant.ok) return { kind: 'class', className: variant.className };
  }
  if (picked?.kind === 'external') return { kind: 'open', className: cursor.className, reason: 'external' };
  return { kind: 'value', className: cursor.className, field: cursor.field, type: cursor.expr };
}

type Step = { kind: 'cursor'; cursor: Cursor } | { kind: 'class'; className: string; value: unknown } | { kind: 'done'; result: ResolvedPath };

function descend(cursor: Cursor, part: KeyPart): Step {
  const options = withoutNone(cursor.expr);
  const list = options.find((o): o is Extract<TypeExpr, { kind: 'list' }> => o.kind === 'list');
  if (list) {
    const value = Array.isArray(cursor.value) ? (typeof part === 'number' ? cursor.value[part] : cursor.value[0]) : undefined;
    const next: Cursor = { ...cursor, expr: list.item, value };
    return typeof part === 'number' ? { kind: 'cursor', cursor: next } : descend(next, part);
  }
  if (typeof part === 'number') return { kind: 'done', result: { kind: 'unknown', className: cursor.className, key: `${cursor.field.name}[${part}]` } };
  const config = options.find((o) => o.kind === 'config' || (o.kind === 'alias' && cursor.field.config_classes.length > 0));
  const dict = options.find((o): o is Extract<TypeExpr, { kind: 'dict' }> => o.kind === 'dict');
  if (dict) {
    if (dict.value.kind === 'config' || (dict.value.kind === 'alias' && cursor.field.config_classes.length > 0)) {
      return { kind: 'cursor', cursor: { ...cursor, expr: dict.value, value: isPlainTable(cursor.value) ? cursor.value[part] : undefined } };
    }
    return { kind: 'done', result: { kind: 'open', className: cursor.className, reason: 'dict' } };
  }
  if (config) {
    const variant = variantFor(cursor.field, cursor.value);
    if (!variant.ok) return { kind: 'done', result: { kind: 'open', className: cursor.className, reason: 'untyped' } };
    return { kind: 'class', className: variant.className, value: cursor.value };
  }
  if (options.some((o) => o.kind === 'external')) return { kind: 'done', result: { kind: 'open', className: cursor.className, reason: 'external' } };
  if (options.some((o) => o.kind === 'any')) return { kind: 'done', result: { kind: 'open', className: cursor.className, reason: 'untyped' } };
  return { kind: 'done', result: { kind: 'unknown', className: cursor.className, key: `${cursor.field.name}.${part}` } };
}

// ---------------------------------------------------------------------------------------------------------
// Checking a whole config

export interface KeyIssue {
  kind: 'unknown' | 'type';
  /** From the root of the checked object. */
  path: KeyPart[];
  /** The class the offending key belongs to. */
  className: string;
  message: string;
  /** For unknown keys: the closest known key of the class. */
  suggestion?: string;
  /** For type issues: the declared type. */
  expected?: string;
}

/**
 * Unknown keys and wrong-typed values of a config read as `root`. Values under external types and the
 * extras of `VllmConfig` are not checked; aliases the file does not expand are not type-checked.
 */
export function checkConfigKeys(root: string, object: Record<string, unknown>): KeyIssue[] {
  const issues: KeyIssue[] = [];
  checkTable(root, object, [], issues);
  return issues;
}

function checkTable(className: string, table: Record<string, unknown>, path: KeyPart[], issues: KeyIssue[]): void {
  const fields = fieldsOf(className);
  if (!fields) return;
  for (const [key, value] of Object.entries(table)) {
    const field = fields.get(key);
    const at = [...path, key];
    if (!field) {
      if (EXTRA_KEY_CLASSES.has(className)) continue;
      const suggestion = suggestKey(key, className);
      const issue: KeyIssue = { kind: 'unknown', path: at, className, message: `${shortName(className)} has no key "${key}"` };
      if (suggestion) issue.suggestion = suggestion;
      issues.push(issue);
      continue;
    }
    if (field.external?.length) continue;
    checkValue(parseType(field.type), field, className, value, at, issues);
  }
}

function checkValue(expr: TypeExpr, field: FieldInfo, className: string, value: unknown, path: KeyPart[], issues: KeyIssue[]): void {
  const picked = pickOption(expr, value);
  if (!picked) {
    issues.push({
      kind: 'type',
      path,
      className,
      message: `${shortName(className)}.${field.name} takes ${describeType(expr)}, not ${describeValue(value)}`,
      expected: describeType(expr),
    });
    return;
  }
  switch (picked.kind) {
    case 'list':
      (value as unknown[]).forEach((item, i) => checkValue(picked.item, field, className, item, [...path, i], issues));
      return;
    case 'dict':
      for (const [k, v] of Object.entries(value as Record<string, unknown>)) checkValue(picked.value, field, className, v, [...path, k], issues);
      return;
    case 'config':
      checkVariant(field, className, value, path, issues);
      return;
    case 'alias':
      if (field.config_classes.length > 0 && isPlainTable(value)) checkVariant(field, className, value, path, issues);
      return;
    default:
      return;
  }
}

function checkVariant(field: FieldInfo, className: string, value: unknown, path: KeyPart[], issues: KeyIssue[]): void {
  const variant = variantFor(field, value);
  if (!variant.ok) {
    issues.push({ kind: 'type', path, className, message: `${shortName(className)}.${field.name}: ${variant.message}`, expected: 'a variant selected by type' });
    return;
  }
  checkTable(variant.className, value as Record<string, unknown>, path, issues);
}
