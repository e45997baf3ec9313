// prime-rl's command line, as pydantic-config parses it (prime-rl 559b447 pins deps/pydantic-config at
// 65b15df, src/pydantic_config/cli.py), checked against the machine-readable key map of every prime-rl
// config class (src/compiler/emit/prime-rl/maps/config-keys-559b447.json: fields, types, defaults).
//
//   cli.py _process_args:            `@ file` (root) — several are deep-merged in order (dicts merge, lists
//                                    and scalars replace); `--a.b @ file` nests a file under a.b.
//   cli.py _expand_bare_optional_flags: flags under an Optional[Model] / union field (weight_broadcast,
//                                    rollout_transport, eval, ckpt, resume, …) → nested override, one value
//                                    (JSON if it starts with { or [); a bare flag → {} / True.
//   cli.py _extract_json_value_args: a list/dict field given a JSON value.
//   cli.py _parse_cli_to_dict:       leaves: list fields take every value up to the next --flag, bool
//                                    fields take true/false/1/0 or nothing (True), `--no-x`; a config group
//                                    path is an error; an UNKNOWN path is stored under its raw (snake) path
//                                    with one value — so `--train.source.1.serve.address X` becomes
//                                    {train: {source: {"1": {...}}}}, replaces the TOML's list, and pydantic
//                                    says "Input should be a valid list"; leftover words → "Unrecognized
//                                    arguments".
//   cli.py cli():                    merged = deep_merge(files, CLI overrides) → cls.model_validate.
//   BaseConfig: extra="forbid" ("Extra inputs are not permitted"), "None" strings → None, a union field
//   without `type` gets its default's type (_default_discriminator_types). inference VllmConfig has
//   extra="allow" (packages/prime-rl-configs/src/prime_rl/configs/inference.py:55): extras go to vLLM.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseToml } from '../../node_modules/smol-toml/dist/index.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
export const KEY_MAP_FILE = path.join(HERE, '..', '..', 'src', 'compiler', 'emit', 'prime-rl', 'maps', 'config-keys-559b447.json');
let keyMap;
function classes() {
  if (!keyMap) keyMap = JSON.parse(fs.readFileSync(KEY_MAP_FILE, 'utf8'));
  return keyMap;
}
/** Classes whose model_config allows extra keys (passed through). */
const EXTRA_ALLOWED = new Set(['inference.VllmConfig']);

export class ConfigError extends Error {}

const clone = (v) => (v === undefined ? v : JSON.parse(JSON.stringify(v)));
const isDict = (v) => v !== null && typeof v === 'object' && !Array.isArray(v);

export function deepMerge(base, override) {
  const out = clone(base) ?? {};
  for (const [k, v] of Object.entries(override)) {
    if (isDict(out[k]) && isDict(v)) out[k] = deepMerge(out[k], v);
    else out[k] = clone(v);
  }
  return out;
}

function nest(snakePath, value) {
  let out = value;
  for (const part of snakePath.split('.').reverse()) out = { [part]: out };
  return out;
}

export function loadConfigFile(file) {
  let text;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    if (e.code === 'ENOENT') throw new ConfigError(`Config file not found: ${file}`);
    throw new ConfigError(`Cannot read ${file}: ${e.code || e.message}`);
  }
  if (file.endsWith('.json')) {
    try {
      return JSON.parse(text);
    } catch (e) {
      throw new ConfigError(`Invalid JSON in ${file}: ${e.message}`);
    }
  }
  if (file.endsWith('.toml')) {
    try {
      return parseToml(text);
    } catch (e) {
      throw new ConfigError(`Invalid TOML in ${file}: ${String(e.message).split('\n')[0]}`);
    }
  }
  throw new ConfigError(`Unsupported file type: ${file}. Supported: .json, .yaml, .yml, .toml`);
}

// ---------------------------------------------------------------------------------------------------
// Types from the key map

const unquote = (t) => t.replace(/^'(.*)'$/, '$1');
/** Top-level `|` members of a type string. */
function members(t) {
  const out = [];
  let depth = 0;
  let cur = '';
  for (let i = 0; i < t.length; i++) {
    const c = t[i];
    if (c === '[') depth++;
    if (c === ']') depth--;
    if (depth === 0 && t.startsWith(' | ', i)) {
      out.push(cur.trim());
      cur = '';
      i += 2;
      continue;
    }
    cur += c;
  }
  out.push(cur.trim());
  return out;
}
const fieldsOf = (cls) => classes()[cls] ?? [];
const fieldOf = (cls, name) => fieldsOf(cls).find((f) => f.name === name);
const optional = (f) => members(unquote(f.type)).includes('None');
const isListType = (f) => members(unquote(f.type)).some((m) => m.startsWith('list['));
const isDictType = (f) => members(unquote(f.type)).some((m) => m.startsWith('dict[') || m === 'EnvVars');
const isBoolType = (f) => {
  const m = members(unquote(f.type)).filter((x) => x !== 'None');
  return m.length === 1 && m[0] === 'bool';
};
/** A plain nested model (pydantic-config recurses into it): one config class, not Optional, not a list. */
function plainModel(f) {
  if (f.external && f.external.length) return unquote(f.type).startsWith('SerializeAsAny[') || f.type.startsWith('vf.') ? 'external' : undefined;
  if (f.config_classes.length !== 1 || optional(f) || isListType(f)) return undefined;
  return f.config_classes[0];
}
/** Optional[Model] or a union of several models (pydantic-config's "optional paths"). */
const optionalModel = (f) => !isListType(f) && ((f.config_classes.length === 1 && optional(f)) || f.config_classes.length > 1);

function leafMap(cls, prefix = '', leaves = new Map(), interior = new Set(), optionals = new Set(), json = new Set()) {
  for (const f of fieldsOf(cls)) {
    const kebab = f.name.replace(/_/g, '-');
    const full = prefix ? `${prefix}.${kebab}` : kebab;
    if (optionalModel(f)) optionals.add(full);
    if (isListType(f) || (isDictType(f) && !f.config_classes.length)) json.add(full);
    const inner = plainModel(f);
    if (inner === 'external') {
      interior.add(full);
    } else if (inner) {
      interior.add(full);
      leafMap(inner, full, leaves, interior, optionals, json);
    } else {
      leaves.set(full, { snake: (prefix ? prefix.replace(/-/g, '_') + '.' : '') + f.name, isBool: isBoolType(f), isList: isListType(f) });
    }
  }
  return { leaves, interior, optionals, json };
}

// ---------------------------------------------------------------------------------------------------
// The command line

/**
 * Parses a prime-rl command line (`@ a.toml @ b.json --x.y v …`) like pydantic-config and validates the
 * merged config against `rootClass`. Returns { config, files, cliOverrides }. Throws ConfigError with
 * pydantic-config's wording.
 */
export function parsePrimeRlArgs(args, rootClass) {
  const title = rootClass.split('.').pop();
  // _process_args
  let root = {};
  const files = [];
  const nested = [];
  const remaining = [];
  for (let i = 0; i < args.length; ) {
    const a = args[i];
    if (a === '@') {
      if (i + 1 >= args.length) throw new ConfigError('@ must be followed by a config file path');
      files.push(args[i + 1]);
      root = deepMerge(root, loadConfigFile(args[i + 1]));
      i += 2;
      continue;
    }
    if (a.startsWith('--') && args[i + 1] === '@') {
      if (i + 2 >= args.length) throw new ConfigError(`@ after ${a} must be followed by a config file path`);
      nested.push([a.slice(2), loadConfigFile(args[i + 2])]);
      files.push(args[i + 2]);
      i += 3;
      continue;
    }
    if (a.startsWith('--') && args[i + 1]?.startsWith('@') && args[i + 1].length > 1) {
      nested.push([a.slice(2), loadConfigFile(args[i + 1].slice(1))]);
      files.push(args[i + 1].slice(1));
      i += 2;
      continue;
    }
    remaining.push(a);
    i++;
  }
  let fileDict = root;
  for (const [key, cfg] of nested) fileDict = deepMerge(fileDict, nest(key, cfg));

  const { leaves, interior, optionals, json } = leafMap(rootClass);
  const matchOptional = (p) => [...optionals].find((o) => p.startsWith(o + '.'));
  let overrides = {};
  // _expand_bare_optional_flags
  let rest = [];
  for (let i = 0; i < remaining.length; ) {
    const a = remaining[i];
    if (a.startsWith('--')) {
      const p = a.slice(2);
      const next = remaining[i + 1];
      if (p.startsWith('no-') && optionals.has(p.slice(3))) {
        overrides = deepMerge(overrides, nest(p.slice(3).replace(/-/g, '_'), 'None'));
        i += 1;
        continue;
      }
      if (p.startsWith('no-') && matchOptional(p.slice(3)) !== undefined) {
        overrides = deepMerge(overrides, nest(p.slice(3).replace(/-/g, '_'), false));
        i += 1;
        continue;
      }
      if (optionals.has(p)) {
        const nextIsValue = next !== undefined && !next.startsWith('-') && !next.startsWith('@');
        if (nextIsValue && next === 'None') {
          overrides = deepMerge(overrides, nest(p.replace(/-/g, '_'), 'None'));
          i += 2;
          continue;
        }
        if (!nextIsValue) {
          overrides = deepMerge(overrides, nest(p.replace(/-/g, '_'), {}));
          i += 1;
          continue;
        }
      }
      if (matchOptional(p) !== undefined) {
        const snake = p.replace(/-/g, '_');
        if (next !== undefined && !next.startsWith('--') && !next.startsWith('@')) {
          let value = next;
          if (/^[{[]/.test(value)) value = parseJsonValue(value, a);
          overrides = deepMerge(overrides, nest(snake, value));
          i += 2;
        } else {
          overrides = deepMerge(overrides, nest(snake, true));
          i += 1;
        }
        continue;
      }
    }
    rest.push(a);
    i++;
  }
  // _extract_json_value_args
  const rest2 = [];
  for (let i = 0; i < rest.length; ) {
    const a = rest[i];
    if (a.startsWith('--') && json.has(a.slice(2)) && /^[{[]/.test(rest[i + 1] ?? '')) {
      overrides = deepMerge(overrides, nest(a.slice(2).replace(/-/g, '_'), parseJsonValue(rest[i + 1], a)));
      i += 2;
      continue;
    }
    rest2.push(a);
    i++;
  }
  // _parse_cli_to_dict
  const flagOverrides = {};
  const set = (snake, value) => {
    const parts = snake.split('.');
    let node = flagOverrides;
    for (const part of parts.slice(0, -1)) {
      if (!(part in node)) node[part] = {};
      node = node[part];
      if (!isDict(node)) return;
    }
    node[parts[parts.length - 1]] = value;
  };
  const words = [];
  for (let i = 0; i < rest2.length; ) {
    const tok = rest2[i];
    if (!tok.startsWith('--')) {
      words.push(tok);
      i++;
      continue;
    }
    const body = tok.slice(2);
    const eq = body.indexOf('=');
    const flag = eq >= 0 ? body.slice(0, eq) : body;
    const eqValue = eq >= 0 ? body.slice(eq + 1) : undefined;
    const next = rest2[i + 1];
    // 1. Paths of Optional/union models left over (e.g. `--ckpt 5`): kept as unrecognised words.
    if (optionals.has(flag) || matchOptional(flag) !== undefined) {
      words.push(tok);
      i++;
      continue;
    }
    if (flag.startsWith('no-') && leaves.get(flag.slice(3))?.isBool) {
      set(leaves.get(flag.slice(3)).snake, false);
      i++;
      continue;
    }
    if (interior.has(flag)) {
      const sub = [...leaves.keys()].filter((p) => p.startsWith(flag + '.')).sort();
      throw new ConfigError(`--${flag} is a config group, not a leaf field.${sub.length ? ` Try one of: ${sub.slice(0, 5).map((p) => '--' + p).join(', ')}` : ''}`);
    }
    const meta = leaves.get(flag);
    if (!meta) {
      const snake = flag.replace(/-/g, '_');
      if (eqValue !== undefined) {
        set(snake, eqValue);
        i++;
      } else if (next !== undefined && !next.startsWith('--')) {
        set(snake, next);
        i += 2;
      } else {
        set(snake, true);
        i++;
      }
      continue;
    }
    if (meta.isBool) {
      const lit = (v) => (['true', 'True', '1'].includes(v) ? true : ['false', 'False', '0'].includes(v) ? false : undefined);
      if (eqValue !== undefined) {
        set(meta.snake, lit(eqValue) ?? eqValue);
        i++;
      } else if (next !== undefined && lit(next) !== undefined) {
        set(meta.snake, lit(next));
        i += 2;
      } else {
        set(meta.snake, true);
        i++;
      }
      continue;
    }
    if (meta.isList && eqValue === undefined) {
      const values = [];
      let j = i + 1;
      while (j < rest2.length && !rest2[j].startsWith('--')) values.push(rest2[j++]);
      set(meta.snake, values);
      i = values.length ? j : i + 1;
      continue;
    }
    if (eqValue !== undefined) {
      set(meta.snake, eqValue);
      i++;
      continue;
    }
    if (next === undefined) throw new ConfigError(`--${flag} requires a value`);
    set(meta.snake, next);
    i += 2;
  }
  overrides = deepMerge(overrides, flagOverrides);
  if (words.length) throw new ConfigError(`Unrecognized arguments: ${words.join(' ')}`);

  const merged = deepMerge(fileDict, overrides);
  const errors = [];
  const config = validateModel(merged, rootClass, [], errors);
  if (errors.length) {
    const lines = errors.map((e) => `${locToFlag(e.loc)}: ${e.msg}${e.input !== undefined && e.input !== null && typeof e.input !== 'object' ? ` (got ${pyRepr(e.input)})` : ''}`);
    throw new ConfigError(`Failed to validate config: ${errors.length} validation error${errors.length === 1 ? '' : 's'} for ${title}: ${lines.join('; ')}`);
  }
  return { config, files, overrides };
}

function parseJsonValue(text, flag) {
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new ConfigError(`${flag}: invalid JSON value ${text} (${e.message})`);
  }
}

const pyRepr = (v) => (typeof v === 'string' ? `'${v}'` : v === true ? 'True' : v === false ? 'False' : String(v));

/** cli.py _loc_to_cli_flag: ("train", "source", 0, "name") → --train.source[0].name */
function locToFlag(loc) {
  if (!loc.length) return '<root>';
  const parts = [];
  for (const seg of loc) {
    if (typeof seg === 'number') {
      if (parts.length) parts[parts.length - 1] += `[${seg}]`;
      else parts.push(`[${seg}]`);
    } else parts.push(String(seg).replace(/_/g, '-'));
  }
  return '--' + parts.join('.');
}

// ---------------------------------------------------------------------------------------------------
// Validation (pydantic, lax mode: CLI strings are coerced to the field's type)

function validateModel(data, cls, loc, errors) {
  if (!isDict(data)) {
    errors.push({ loc, msg: `Input should be a valid dictionary or instance of ${cls.split('.').pop()}`, input: data });
    return data;
  }
  const out = {};
  const known = new Map(fieldsOf(cls).map((f) => [f.name, f]));
  for (const [k, raw] of Object.entries(data)) {
    const v = raw === 'None' ? null : raw; // BaseConfig._none_str_to_none
    const f = known.get(k);
    if (!f) {
      if (EXTRA_ALLOWED.has(cls)) out[k] = v;
      else errors.push({ loc: [...loc, k], msg: 'Extra inputs are not permitted', input: v });
      continue;
    }
    out[k] = validateField(v, f, [...loc, k], errors);
  }
  for (const f of fieldsOf(cls)) if (f.required && !(f.name in data)) errors.push({ loc: [...loc, f.name], msg: 'Field required' });
  return out;
}

function variantFor(f, value, loc, errors) {
  if (f.config_classes.length === 1) return f.config_classes[0];
  let tag = value.type;
  if (tag === undefined) {
    // BaseConfig._default_discriminator_types: the default's type.
    const m = /^(\w+)\(/.exec(f.default ?? '');
    const cls = m && f.config_classes.find((c) => c.endsWith('.' + m[1]));
    if (!cls) {
      errors.push({ loc, msg: `Unable to extract tag using discriminator 'type'` });
      return undefined;
    }
    return cls;
  }
  for (const c of f.config_classes) {
    const t = fieldOf(c, 'type');
    if (t && t.default === `'${tag}'`) return c;
  }
  const tags = f.config_classes.map((c) => fieldOf(c, 'type')?.default).filter(Boolean);
  errors.push({ loc, msg: `Input tag '${tag}' found using 'type' does not match any of the expected tags: ${tags.join(', ')}`, input: tag });
  return undefined;
}

function validateField(v, f, loc, errors) {
  const t = unquote(f.type);
  const ms = members(t);
  if (v === null) {
    if (ms.includes('None')) return null;
    errors.push({ loc, msg: `Input should be a valid ${ms[0]}`, input: v });
    return v;
  }
  if (f.external && f.external.length) return v; // verifiers / renderers types: not in the map
  if (ms.some((m) => m.startsWith('list['))) {
    if (!Array.isArray(v)) {
      errors.push({ loc, msg: 'Input should be a valid list', input: v });
      return v;
    }
    const inner = ms.find((m) => m.startsWith('list[')).slice(5, -1);
    return v.map((item, i) => {
      if (f.config_classes.length) {
        const cls = variantFor(f, isDict(item) ? item : {}, [...loc, i], errors);
        return cls ? validateModel(item, cls, [...loc, i], errors) : item;
      }
      return validateScalar(item, members(inner), [...loc, i], errors);
    });
  }
  if (f.config_classes.length && isDict(v)) {
    const cls = variantFor(f, v, loc, errors);
    return cls ? validateModel(v, cls, loc, errors) : v;
  }
  if (f.config_classes.length && !ms.some((m) => /^(str|Literal|ModelReference|int)/.test(m))) {
    errors.push({ loc, msg: `Input should be a valid dictionary or instance of ${f.config_classes[0].split('.').pop()}`, input: v });
    return v;
  }
  return validateScalar(v, ms, loc, errors);
}

function validateScalar(v, ms, loc, errors) {
  const problems = [];
  for (const m of ms) {
    const r = coerce(v, m);
    if (r.ok) return r.value;
    problems.push(r.msg);
  }
  errors.push({ loc, msg: problems[0], input: v });
  return v;
}

function coerce(v, m) {
  const str = typeof v === 'string';
  if (m === 'None') return v === null ? { ok: true, value: null } : { ok: false, msg: 'Input should be None' };
  if (m === 'int') {
    if (Number.isInteger(v)) return { ok: true, value: v };
    if (str && /^\s*[-+]?\d+\s*$/.test(v)) return { ok: true, value: Number(v) };
    return { ok: false, msg: str ? 'Input should be a valid integer, unable to parse string as an integer' : 'Input should be a valid integer' };
  }
  if (m === 'float') {
    if (typeof v === 'number') return { ok: true, value: v };
    if (str && v.trim() !== '' && Number.isFinite(Number(v))) return { ok: true, value: Number(v) };
    return { ok: false, msg: str ? 'Input should be a valid number, unable to parse string as a number' : 'Input should be a valid number' };
  }
  if (m === 'bool') {
    if (typeof v === 'boolean') return { ok: true, value: v };
    if (v === 0 || v === 1) return { ok: true, value: v === 1 };
    if (str && ['true', 't', 'yes', 'y', 'on', '1'].includes(v.toLowerCase())) return { ok: true, value: true };
    if (str && ['false', 'f', 'no', 'n', 'off', '0'].includes(v.toLowerCase())) return { ok: true, value: false };
    return { ok: false, msg: str ? 'Input should be a valid boolean, unable to interpret input' : 'Input should be a valid boolean' };
  }
  if (m === 'str' || m === 'Path') return str ? { ok: true, value: v } : { ok: false, msg: m === 'str' ? 'Input should be a valid string' : 'Input is not a valid path' };
  if (m.startsWith('Literal[')) {
    const choices = [...m.slice(8, -1).matchAll(/'([^']*)'/g)].map((x) => x[1]);
    if (choices.includes(v)) return { ok: true, value: v };
    const quoted = choices.map((c) => `'${c}'`);
    return { ok: false, msg: `Input should be ${quoted.length > 1 ? quoted.slice(0, -1).join(', ') + ' or ' + quoted[quoted.length - 1] : quoted[0]}` };
  }
  if (m.startsWith('dict[') || m === 'EnvVars') return isDict(v) ? { ok: true, value: v } : { ok: false, msg: 'Input should be a valid dictionary' };
  return { ok: true, value: v }; // a type alias the map does not expand (AttnImplementation, …)
}
