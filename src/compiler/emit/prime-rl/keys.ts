/**
 * A typed view of prime-rl's config classes at a revision (maps/config-keys-<rev7>.json, one map per
 * prime-rl revision, read from `packages/prime-rl-configs` with Python's `ast` by scripts/prime-rl-map.py —
 * `npm run prime-rl:map -- /path/to/prime-rl`): which keys a class accepts, what type each value has, and
 * which class a dotted key path lands in — following `config_classes` through optionals, unions, lists,
 * dicts and discriminated unions selected by `type` (the default variant when `type` is absent, as
 * prime-rl's loader injects it). prime-rl's `BaseConfig` forbids unknown keys everywhere except in
 * `VllmConfig`, which passes extras to vLLM; fields typed with verifiers/renderers classes (`vf.EnvConfig`,
 * `vf.ServeConfig`, `renderers.RendererConfig`) are not described in the file and are treated as open.
 *
 * `run.prime_rl_map`, or when it is empty `run.prime_rl_revision`, selects the map (selectMap); every
 * function below takes the map's revision and defaults to PRIME_RL_REVISION. The JSON files ship in the
 * package under src/ (tsc does not copy JSON) and are read at run time.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PACKAGE_ROOT } from '../../../paths.js';
import { didYouMean } from '../../diagnostics/did-you-mean.js';
import { isPlainTable, type KeyPart } from '../../spec/key-path.js';

/** The revision of the default map: the default of run.prime_rl_revision. */
export const PRIME_RL_REVISION = '559b447';
/** The maps, one pair of files per prime-rl revision; relative to the package root. */
export const MAPS_DIR = 'src/compiler/emit/prime-rl/maps';
/** The keys map of a revision (7 hex digits), relative to the package root. */
export function configKeysFile(revision: string): string {
  return `${MAPS_DIR}/config-keys-${revision}.json`;
}
/** The default map, relative to the package root. */
export const CONFIG_KEYS_FILE = configKeysFile(PRIME_RL_REVISION);
/** How to add a map for another revision. */
export const ADD_MAP_COMMAND = 'npm run prime-rl:map -- /path/to/prime-rl';
const MAP_FILE = /^config-keys-([0-9a-f]{7})\.json$/;
export const REVISION_PATTERN = /^[0-9a-f]{7,40}$/;

let known: string[] | undefined;

/** The revisions that have a map, sorted. */
export function knownRevisions(): readonly string[] {
  known ??= readdirSync(join(PACKAGE_ROOT, MAPS_DIR))
    .flatMap((f) => MAP_FILE.exec(f)?.[1] ?? [])
    .sort();
  return known;
}

/** The spec keys that select the map: run.prime_rl_map when set, else run.prime_rl_revision. */
export interface MapKeys {
  prime_rl_revision: string;
  /** "" = the map of prime_rl_revision; else names a stored map (a fork, a checkout whose commit has none). */
  prime_rl_map: string;
}

export type MapChoice =
  /** `revision`: the map's (7 hex digits); `key`: the spec key that selected it. */
  | { ok: true; revision: string; key: MapKey }
  | { ok: false; reason: 'format' | 'unknown'; revision: string; key: MapKey; known: readonly string[] };
export type MapKey = 'run.prime_rl_revision' | 'run.prime_rl_map';

/**
 * The map for a prime-rl revision (7 to 40 hex digits of a commit): the stored map whose 7-digit revision
 * the given one starts with. `map` (run.prime_rl_map), when not empty, names the map instead; the artifacts
 * still target `revision` (the nodes check their checkout against it).
 */
export function selectMap(revision: string, map = ''): MapChoice {
  const key: MapKey = map.trim() ? 'run.prime_rl_map' : 'run.prime_rl_revision';
  const given = key === 'run.prime_rl_map' ? map : revision;
  const wanted = given.trim().toLowerCase();
  if (!REVISION_PATTERN.test(wanted)) return { ok: false, reason: 'format', revision: given, key, known: knownRevisions() };
  const match = knownRevisions().find((r) => wanted.startsWith(r));
  return match ? { ok: true, revision: match, key } : { ok: false, reason: 'unknown', revision: given, key, known: knownRevisions() };
}

/** The revision of the map the spec selects; the selecting value itself when there is none (check reports it). */
export function mapRevision(run: MapKeys): string {
  const choice = selectMap(run.prime_rl_revision, run.prime_rl_map);
  return choice.revision;
}

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

const cached = new Map<string, ConfigKeys>();

/** Adds a map held in memory (tests: a revision whose keys differ from the shipped ones). */
export function addMap(revision: string, keys: ConfigKeys): void {
  cached.set(revision, keys);
  for (const id of [...fieldMaps.keys()]) if (id.startsWith(`${revision}:`)) fieldMaps.delete(id);
  known = [...new Set([...knownRevisions(), revision])].sort();
}

/** The keys map of a revision (its 7 hex digits, as selectMap returns them; read once). */
export function configKeys(revision: string = PRIME_RL_REVISION): ConfigKeys {
  let keys = cached.get(revision);
  if (!keys) {
    keys = JSON.parse(readFileSync(join(PACKAGE_ROOT, configKeysFile(revision)), 'utf8')) as ConfigKeys;
    cached.set(revision, keys);
  }
  return keys;
}

const fieldMaps = new Map<string, ReadonlyMap<string, FieldInfo>>();

/** The fields of a class by name; undefined for a class the map does not know. */
export function fieldsOf(className: string, revision: string = PRIME_RL_REVISION): ReadonlyMap<string, FieldInfo> | undefined {
  const id = `${revision}:${className}`;
  let fields = fieldMaps.get(id);
  if (!fields) {
    const list = configKeys(revision)[className];
    if (!list) return undefined;
    fields = new Map(list.map((f) => [f.name, f]));
    fieldMaps.set(id, fields);
  }
  return fields;
}

/** How a field is spelled on prime-rl's command line (maps/config-flags-<rev7>.json). */
export interface FlagInfo {
  /** `--max-model-len`: the kebab-case flag, relative to the class. */
  flag: string;
  /** bool: paired `--x` / `--no-x`; list: space-separated values or a JSON list; dict: a JSON object; config: a sub-table. */
  kinds: ('bool' | 'list' | 'dict' | 'config' | 'scalar' | 'any')[];
  /** Takes None: `--no-x` for an optional sub-config, `None` as a value. */
  optional: boolean;
}

const flagMaps = new Map<string, Readonly<Record<string, Readonly<Record<string, FlagInfo>>>>>();

/** The command-line facts of a field; undefined for a class or field the map does not know. */
export function flagOf(className: string, field: string, revision: string = PRIME_RL_REVISION): FlagInfo | undefined {
  let flags = flagMaps.get(revision);
  if (!flags) {
    flags = JSON.parse(readFileSync(join(PACKAGE_ROOT, MAPS_DIR, `config-flags-${revision}.json`), 'utf8')) as Record<string, Record<string, FlagInfo>>;
    flagMaps.set(revision, flags);
  }
  return flags[className]?.[field];
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

function discriminatorValues(className: string, revision: string): (string | number | boolean)[] | undefined {
  const type = fieldsOf(className, revision)?.get('type');
  if (!type) return undefined;
  const expr = parseType(type.type);
  return expr.kind === 'literal' ? expr.values : undefined;
}

export type VariantChoice = { ok: true; className: string } | { ok: false; message: string };

/**
 * The class a table value of `field` is read as: the only config class, or the variant whose `type`
 * literal matches the value's `type`, or (no `type`) the default variant.
 */
export function variantFor(field: FieldInfo, value: unknown, revision: string = PRIME_RL_REVISION): VariantChoice {
  const classes = field.config_classes.filter((c) => fieldsOf(c, revision) !== undefined);
  if (classes.length === 0) return { ok: false, message: `${field.name} has no known config class` };
  if (classes.length === 1) return { ok: true, className: classes[0]! };
  const typed = classes.map((c) => ({ c, values: discriminatorValues(c, revision) ?? [] }));
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
export function suggestKey(key: string, className: string, revision: string = PRIME_RL_REVISION): string | undefined {
  const fields = fieldsOf(className, revision);
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
export function resolveKeyPath(root: string, path: string | readonly KeyPart[], value?: unknown, revision: string = PRIME_RL_REVISION): ResolvedPath {
  const parts: KeyPart[] = typeof path === 'string' ? (path === '' ? [] : path.split('.')) : [...path];
  let className = root;
  let table: unknown = value;
  let cursor: Cursor | undefined;
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i]!;
    if (cursor) {
      const step = descend(cursor, part, revision);
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
    const fields = fieldsOf(className, revision);
    if (!fields) return { kind: 'open', className, reason: 'untyped' };
    const field = fields.get(part);
    if (!field) {
      if (EXTRA_KEY_CLASSES.has(className)) return { kind: 'open', className, reason: 'extra' };
      const suggestion = suggestKey(part, className, revision);
      return suggestion ? { kind: 'unknown', className, key: part, suggestion } : { kind: 'unknown', className, key: part };
    }
    if (field.external?.length) return { kind: 'open', className, reason: 'external' };
    cursor = { className, field, expr: parseType(field.type), value: isPlainTable(table) ? table[part] : undefined };
  }
  if (!cursor) return { kind: 'class', className };
  const options = withoutNone(cursor.expr);
  const picked = pickOption({ kind: 'union', options }, cursor.value) ?? options[0];
  if (picked && (picked.kind === 'config' || (picked.kind === 'alias' && cursor.field.config_classes.length > 0 && isPlainTable(cursor.value)))) {
    const variant = variantFor(cursor.field, cursor.value, revision);
    if (variant.ok) return { kind: 'class', className: variant.className };
  }
  if (picked?.kind === 'external') return { kind: 'open', className: cursor.className, reason: 'external' };
  return { kind: 'value', className: cursor.className, field: cursor.field, type: cursor.expr };
}

type Step = { kind: 'cursor'; cursor: Cursor } | { kind: 'class'; className: string; value: unknown } | { kind: 'done'; result: ResolvedPath };

function descend(cursor: Cursor, part: KeyPart, revision: string): Step {
  const options = withoutNone(cursor.expr);
  const list = options.find((o): o is Extract<TypeExpr, { kind: 'list' }> => o.kind === 'list');
  if (list) {
    const value = Array.isArray(cursor.value) ? (typeof part === 'number' ? cursor.value[part] : cursor.value[0]) : undefined;
    const next: Cursor = { ...cursor, expr: list.item, value };
    return typeof part === 'number' ? { kind: 'cursor', cursor: next } : descend(next, part, revision);
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
    const variant = variantFor(cursor.field, cursor.value, revision);
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
export function checkConfigKeys(root: string, object: Record<string, unknown>, revision: string = PRIME_RL_REVISION): KeyIssue[] {
  const issues: KeyIssue[] = [];
  checkTable(root, object, [], issues, revision);
  return issues;
}

function checkTable(className: string, table: Record<string, unknown>, path: KeyPart[], issues: KeyIssue[], revision: string): void {
  const fields = fieldsOf(className, revision);
  if (!fields) return;
  for (const [key, value] of Object.entries(table)) {
    const field = fields.get(key);
    const at = [...path, key];
    if (!field) {
      if (EXTRA_KEY_CLASSES.has(className)) continue;
      const suggestion = suggestKey(key, className, revision);
      const issue: KeyIssue = { kind: 'unknown', path: at, className, message: `${shortName(className)} has no key "${key}"` };
      if (suggestion) issue.suggestion = suggestion;
      issues.push(issue);
      continue;
    }
    if (field.external?.length) continue;
    checkValue(parseType(field.type), field, className, value, at, issues, revision);
  }
}

function checkValue(expr: TypeExpr, field: FieldInfo, className: string, value: unknown, path: KeyPart[], issues: KeyIssue[], revision: string): void {
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
      (value as unknown[]).forEach((item, i) => checkValue(picked.item, field, className, item, [...path, i], issues, revision));
      return;
    case 'dict':
      for (const [k, v] of Object.entries(value as Record<string, unknown>)) checkValue(picked.value, field, className, v, [...path, k], issues, revision);
      return;
    case 'config':
      checkVariant(field, className, value, path, issues, revision);
      return;
    case 'alias':
      if (field.config_classes.length > 0 && isPlainTable(value)) checkVariant(field, className, value, path, issues, revision);
      return;
    default:
      return;
  }
}

function checkVariant(field: FieldInfo, className: string, value: unknown, path: KeyPart[], issues: KeyIssue[], revision: string): void {
  const variant = variantFor(field, value, revision);
  if (!variant.ok) {
    issues.push({ kind: 'type', path, className, message: `${shortName(className)}.${field.name}: ${variant.message}`, expected: 'a variant selected by type' });
    return;
  }
  checkTable(variant.className, value as Record<string, unknown>, path, issues, revision);
}
