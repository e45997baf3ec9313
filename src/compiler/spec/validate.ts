/**
 * check, part 1: the merged raw spec against the published JSON Schema (ajv), with ajv's errors turned into
 * located diagnostics: unknown keys with "did you mean", types, ranges, allowed values, patterns.
 */
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { diagnostic, type Diagnostic } from '../diagnostics/diagnostic.js';
import { didYouMean } from '../diagnostics/did-you-mean.js';
import { positionOf, type Provenance } from '../load/provenance.js';
import { joinPath, type KeyPart } from './key-path.js';
import { describeSchema, publishedSchema, type JsonSchema } from './schema-walk.js';

let compiled: ValidateFunction | undefined;

function validator(): ValidateFunction {
  compiled ??= new Ajv({ allErrors: true, verbose: true, strict: false }).compile(publishedSchema());
  return compiled;
}

export function validateSchema(raw: Record<string, unknown>, provenance: Provenance): Diagnostic[] {
  const validate = validator();
  if (validate(raw)) return [];
  const errors = validate.errors ?? [];
  // A failed anyOf reports each branch too; the union's own error says it better.
  const unions = errors.filter((e) => e.keyword === 'anyOf').map((e) => e.schemaPath);
  const relevant = errors.filter((e) => !unions.some((u) => e.schemaPath !== u && e.schemaPath.startsWith(u.replace(/\/anyOf$/, '/anyOf/'))));
  const seen = new Set<string>();
  const out: Diagnostic[] = [];
  for (const error of relevant) {
    const d = toDiagnostic(error, raw, provenance);
    const key = `${d.code} ${d.path} ${d.message}`;
    if (!seen.has(key)) {
      seen.add(key);
      out.push(d);
    }
  }
  return out;
}

function partsOf(instancePath: string, raw: unknown): KeyPart[] {
  if (!instancePath) return [];
  const parts: KeyPart[] = [];
  let node = raw;
  for (const token of instancePath.slice(1).split('/')) {
    const key = token.replace(/~1/g, '/').replace(/~0/g, '~');
    const part: KeyPart = Array.isArray(node) ? Number(key) : key;
    parts.push(part);
    node = (node as Record<string, unknown> | undefined)?.[key];
  }
  return parts;
}

function show(value: unknown): string {
  const text = typeof value === 'string' ? JSON.stringify(value) : Array.isArray(value) ? 'a list' : typeof value === 'object' && value !== null ? 'a table' : String(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

function toDiagnostic(error: ErrorObject, raw: unknown, provenance: Provenance): Diagnostic {
  const parts = partsOf(error.instancePath, raw);
  const path = joinPath(parts);
  const schema = (error.parentSchema ?? {}) as JsonSchema;
  const at = positionOf(provenance, path);
  const label = path || 'the spec';
  switch (error.keyword) {
    case 'additionalProperties': {
      const key = (error.params as { additionalProperty: string }).additionalProperty;
      const keyPath = joinPath([...parts, key]);
      const where = positionOf(provenance, keyPath, 'key');
      if (schema.patternProperties) {
        const pattern = Object.keys(schema.patternProperties)[0]!;
        return diagnostic('RS0205', { message: `${label}: the name "${key}" does not match ${pattern}`, path: keyPath, at: where, hint: 'names are lower case letters, digits, - and _, starting with a letter' });
      }
      const allowed = Object.keys(schema.properties ?? {});
      const guess = didYouMean(key, allowed);
      return diagnostic('RS0201', {
        message: `unknown key ${keyPath}`,
        path: keyPath,
        at: where,
        hint: guess ? `did you mean ${joinPath([...parts, guess])}?` : `keys of ${label}: ${allowed.join(', ')}`,
      });
    }
    case 'type':
      return diagnostic('RS0202', {
        message: `${label} must be ${describeSchema(schema)}, not ${show(error.data)}`,
        path,
        at,
        hint: hintFor(schema, error.data),
      });
    case 'minimum':
    case 'maximum':
    case 'exclusiveMinimum':
    case 'exclusiveMaximum':
      return diagnostic('RS0203', { message: `${label} = ${show(error.data)} is out of range: it must be ${describeSchema(schema)}`, path, at, hint: schema.description });
    case 'minLength':
    case 'maxLength':
      return diagnostic('RS0203', {
        message: `${label} = ${show(error.data)} ${error.keyword === 'minLength' ? 'is too short' : 'is too long'} (${error.message})`,
        path,
        at,
        hint: schema.description,
      });
    case 'anyOf': {
      const consts = (schema.anyOf ?? []).filter((s) => s.const !== undefined).map((s) => String(s.const));
      if (consts.length === (schema.anyOf ?? []).length) {
        const guess = typeof error.data === 'string' ? didYouMean(error.data, consts) : undefined;
        return diagnostic('RS0204', {
          message: `${label} = ${show(error.data)} is not one of ${consts.map((c) => JSON.stringify(c)).join(', ')}`,
          path,
          at,
          hint: guess ? `did you mean "${guess}"?` : schema.description,
        });
      }
      return diagnostic('RS0202', { message: `${label} must be ${describeSchema(schema)}, not ${show(error.data)}`, path, at, hint: schema.description });
    }
    case 'pattern':
      return diagnostic('RS0205', { message: `${label} = ${show(error.data)} does not match ${schema.pattern}`, path, at, hint: schema.description });
    case 'required': {
      const missing = (error.params as { missingProperty: string }).missingProperty;
      const sub = schema.properties?.[missing];
      return diagnostic('RS0206', {
        message: `${joinPath([...parts, missing])} is required`,
        path: joinPath([...parts, missing]),
        at,
        hint: sub?.description ? `${missing}: ${sub.description}` : undefined,
      });
    }
    default:
      return diagnostic('RS0207', { message: `${label}: ${error.message ?? 'invalid value'}`, path, at, hint: schema.description });
  }
}

function hintFor(schema: JsonSchema, data: unknown): string | undefined {
  const expected = Array.isArray(schema.type) ? schema.type[0] : schema.type;
  if (typeof data === 'string' && (expected === 'integer' || expected === 'number') && data.trim() !== '' && !Number.isNaN(Number(data))) {
    return `write the number without quotes: ${data.trim()}`;
  }
  if (expected === 'string' && data !== null && typeof data !== 'object') return `quote it: "${String(data)}"`;
  return schema.description;
}
