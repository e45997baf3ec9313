/**
 * `plan --auto --write FILE`: the chosen candidate as a layer over the original spec — `extends` the
 * original, then the command line's --unset/--set (so the layer plans what was searched), then only the
 * keys the search changed. Pure text; the CLI writes it. The first line marks the file as written by
 * `plan --auto`, which is what lets a later --write replace it (docs/plan-auto.md).
 */
import type { Overrides, OverrideValue } from './types.js';

export const LAYER_MARKER = '# rlstack plan --auto layer';

export interface LayerInput {
  /** `extends` value: the original spec, relative to the layer's folder */
  extendsPath: string;
  /** --unset keys, in order */
  unsets: readonly string[];
  /** --set arguments as given ("key=value", TOML value syntax), in order */
  sets: readonly string[];
  overrides: Overrides;
  /** comment lines about the choice (objective, prediction, reason) */
  notes: readonly string[];
}

export function layerText(input: LayerInput): string {
  const lines = [LAYER_MARKER, ...input.notes.map((n) => `# ${n}`), `extends = ${tomlString(input.extendsPath)}`];
  if (input.unsets.length) lines.push(`unset = [${input.unsets.map(tomlString).join(', ')}]`);
  // a key the search changed wins over the --set of the same key (one TOML key may not appear twice)
  const sets = input.sets.map(splitSet).filter(([key]) => !(key in input.overrides));
  if (sets.length) {
    lines.push('', '# from the command line (--set)');
    for (const [key, value] of sets) lines.push(`${key} = ${value}`);
  }
  // dotted keys at the top level throughout: a --set and a search key may share a table, and TOML forbids a
  // [table] header for a table that dotted keys already defined
  const entries = Object.entries(input.overrides);
  if (entries.length) lines.push('', '# chosen by rlstack plan --auto');
  for (const [key, value] of entries) lines.push(`${key} = ${tomlValue(value)}`);
  return `${lines.join('\n')}\n`;
}

/** A --set argument as a dotted key and its TOML value text; keys with array indices have no TOML spelling. */
export function splitSet(argument: string): [string, string] {
  const eq = argument.indexOf('=');
  return [argument.slice(0, eq).trim(), argument.slice(eq + 1).trim()];
}

export function setWritable(argument: string): boolean {
  const eq = argument.indexOf('=');
  return eq > 0 && /^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/.test(argument.slice(0, eq).trim());
}

function tomlValue(value: OverrideValue): string {
  return typeof value === 'string' ? tomlString(value) : String(value);
}

function tomlString(s: string): string {
  return JSON.stringify(s);
}
