/**
 * Reading the spec schema as data: the published JSON Schema, the schema of a key path, defaults, and the
 * key names allowed at a place (for "did you mean"). Everything here derives from schema.ts.
 */
import { didYouMean } from '../diagnostics/did-you-mean.js';
import { isPlainTable, joinPath, type KeyPart } from './key-path.js';
import { SpecSchema } from './schema.js';

export interface JsonSchema {
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  patternProperties?: Record<string, JsonSchema>;
  additionalProperties?: boolean | JsonSchema;
  required?: string[];
  items?: JsonSchema;
  anyOf?: JsonSchema[];
  const?: unknown;
  default?: unknown;
  description?: string;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  pattern?: string;
  minLength?: number;
  maxLength?: number;
  [key: string]: unknown;
}

export const SCHEMA_ID = 'https://rlstack.dev/schema/v1/rlstack.schema.json';

/** The JSON Schema users and editors see: keys with defaults are optional, draft-07 keywords only. */
export function publishedSchema(): JsonSchema {
  const clone = JSON.parse(JSON.stringify(SpecSchema)) as JsonSchema;
  const relax = (node: JsonSchema) => {
    if (node.properties) {
      Object.values(node.properties).forEach(relax);
      // A key may be left out when it has a default, or is a table whose own keys all may be left out.
      const optional = (prop: JsonSchema) => prop.default !== undefined || (prop.type === 'object' && prop.properties !== undefined && !prop.required);
      node.required = (node.required ?? []).filter((key) => !optional(node.properties![key]!));
      if (node.required.length === 0) delete node.required;
    }
    if (node.patternProperties) Object.values(node.patternProperties).forEach(relax);
    if (node.items) relax(node.items);
    node.anyOf?.forEach(relax);
  };
  relax(clone);
  return { $schema: 'http://json-schema.org/draft-07/schema#', $id: SCHEMA_ID, ...clone };
}

const SCHEMA = publishedSchema();

function childSchema(schema: JsonSchema, key: KeyPart): JsonSchema | undefined {
  if (typeof key === 'number') return schema.items ?? schema.anyOf?.find((s) => s.items)?.items;
  if (schema.properties && Object.hasOwn(schema.properties, key)) return schema.properties[key];
  if (schema.patternProperties) {
    const entry = Object.entries(schema.patternProperties).find(([pattern]) => new RegExp(pattern).test(key));
    if (entry) return entry[1];
  }
  if (isOpenTable(schema)) return {};
  return undefined;
}

/** A table whose keys are free (taskset args, `extra` tables): anything below it is allowed. */
function isOpenTable(schema: JsonSchema): boolean {
  if (schema.properties || schema.patternProperties || schema.items || schema.anyOf || schema.const !== undefined) return false;
  return schema.type === undefined || (schema.type === 'object' && schema.additionalProperties !== false);
}

export function schemaAt(parts: readonly KeyPart[]): JsonSchema | undefined {
  let node: JsonSchema | undefined = SCHEMA;
  for (const part of parts) {
    if (!node) return undefined;
    node = childSchema(node, part);
  }
  return node;
}

export function keysAt(parts: readonly KeyPart[]): string[] {
  return Object.keys(schemaAt(parts)?.properties ?? {});
}

export function checkKnownPath(parts: readonly KeyPart[]): { known: true } | { known: false; suggestion?: string } {
  let node: JsonSchema | undefined = SCHEMA;
  for (let i = 0; i < parts.length; i++) {
    const next: JsonSchema | undefined = childSchema(node!, parts[i]!);
    if (!next) {
      const guess = typeof parts[i] === 'string' ? didYouMean(parts[i] as string, Object.keys(node!.properties ?? {})) : undefined;
      if (!guess) return { known: false };
      // Suggest the whole corrected path when the rest of it then exists (trainr.ep → trainer.ep).
      const corrected = [...parts.slice(0, i), guess, ...parts.slice(i + 1)];
      const whole = checkKnownPath(corrected).known;
      return { known: false, suggestion: joinPath(whole ? corrected : [...parts.slice(0, i), guess]) };
    }
    node = next;
  }
  return { known: true };
}

/**
 * Fills every absent key that has a default, creating required tables on the way; calls `onDefault` for each
 * value it sets so provenance can say "default". Mutates `value`.
 */
export function applyDefaults(value: Record<string, unknown>, onDefault: (path: string) => void): void {
  const fill = (node: Record<string, unknown>, schema: JsonSchema, prefix: KeyPart[]) => {
    if (schema.properties) {
      const required = new Set(requiredOf(prefix));
      for (const [key, prop] of Object.entries(schema.properties)) {
        const parts = [...prefix, key];
        if (node[key] === undefined) {
          if (prop.default !== undefined) {
            node[key] = structuredClone(prop.default);
            onDefault(joinPath(parts));
            continue;
          }
          if (prop.type === 'object' && prop.properties && required.has(key)) node[key] = {};
          else continue;
        }
        descend(node[key], prop, parts);
      }
    }
    if (schema.patternProperties) {
      const [, valueSchema] = Object.entries(schema.patternProperties)[0]!;
      for (const [key, child] of Object.entries(node)) descend(child, valueSchema, [...prefix, key]);
    }
  };
  const descend = (child: unknown, schema: JsonSchema, parts: KeyPart[]) => {
    if (isPlainTable(child)) fill(child, schema, parts);
    else if (Array.isArray(child) && schema.items) child.forEach((item, i) => isPlainTable(item) && fill(item, schema.items!, [...parts, i]));
  };
  fill(value, SCHEMA, []);
}

/** Required keys of the full (internal) schema at a path: the ones every resolved spec has. */
function requiredOf(parts: readonly KeyPart[]): string[] {
  let node = SpecSchema as unknown as JsonSchema | undefined;
  for (const part of parts) node = node ? childSchema(node, part) : undefined;
  return node?.required ?? [];
}

/** A short phrase for what a schema accepts: `an integer ≥ 1 or "auto"`. */
export function describeSchema(schema: JsonSchema): string {
  if (schema.anyOf) {
    const consts = schema.anyOf.filter((s) => s.const !== undefined).map((s) => JSON.stringify(s.const));
    const others = schema.anyOf.filter((s) => s.const === undefined).map(describeSchema);
    return [...others, ...consts].join(' or ');
  }
  if (schema.const !== undefined) return JSON.stringify(schema.const);
  const type = Array.isArray(schema.type) ? schema.type.join(' or ') : schema.type;
  const bounds: string[] = [];
  if (schema.minimum !== undefined) bounds.push(`≥ ${schema.minimum}`);
  if (schema.exclusiveMinimum !== undefined) bounds.push(`> ${schema.exclusiveMinimum}`);
  if (schema.maximum !== undefined) bounds.push(`≤ ${schema.maximum}`);
  const noun =
    type === 'integer' ? 'an integer' : type === 'number' ? 'a number' : type === 'boolean' ? 'true or false' : type === 'string' ? 'a string' : type === 'array' ? 'a list' : type === 'object' ? 'a table' : 'a value';
  return bounds.length ? `${noun} ${bounds.join(' and ')}` : noun;
}
