import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { pathToFileURL } from 'node:url';
import { PACKAGE_ROOT } from '../../paths.js';
import { diagnostic } from '../../compiler/diagnostics/diagnostic.js';
import { didYouMean } from '../../compiler/diagnostics/did-you-mean.js';
import { listPresets, presetPath } from '../../compiler/load/compose.js';
import { EXIT } from '../exit-codes.js';
import type { Output } from '../output.js';

/** A preset's summary is its first comment line. */
export function presetSummary(name: string): string {
  const first = readFileSync(presetPath(name), 'utf8').split('\n').find((line) => line.startsWith('#'));
  return first ? first.replace(/^#\s*/, '') : '';
}

export function presetsCommand(options: { json: boolean }, io: Output): number {
  const presets = listPresets().map((name) => ({ name, summary: presetSummary(name) }));
  if (options.json) io.result({ presets });
  else {
    const width = Math.max(...presets.map((p) => p.name.length));
    for (const p of presets) io.out(`${p.name.padEnd(width)}  ${p.summary}`);
  }
  return EXIT.ok;
}

export function initCommand(file: string | undefined, options: { preset: string; force: boolean }, io: Output): number {
  const presets = listPresets();
  const target = file ?? 'rlstack.toml';
  if (!presets.includes(options.preset)) {
    const guess = didYouMean(options.preset, presets);
    io.diagnostics([diagnostic('RS0102', { message: `unknown preset "${options.preset}"`, hint: `${guess ? `did you mean "${guess}"? ` : ''}presets: ${presets.join(', ')}` })], new Map());
    return EXIT.specErrors;
  }
  const path = resolve(target);
  if (existsSync(path) && !options.force) {
    io.diagnostics([diagnostic('RS0005', { message: `${target} already exists`, hint: 'choose another file name, or pass --force to overwrite it' })], new Map());
    return EXIT.specErrors;
  }
  writeFileSync(path, starterSpec(options.preset, schemaReference(path)));
  io.result({ file: path, preset: options.preset });
  io.out(`wrote ${target} (extends preset ${options.preset}); next: rlstack plan ${target}`);
  return EXIT.ok;
}

/**
 * Where an editor finds the schema from the spec at `specFile` (Taplo's `#:schema`): this rlstack's own
 * schema/rlstack.schema.json — relative when the package lives below the spec's folder (a checkout, a local
 * `npm install`), so the line survives moving the project; a file:// URL otherwise (a global install).
 */
export function schemaReference(specFile: string): string {
  const schema = join(PACKAGE_ROOT, 'schema', 'rlstack.schema.json');
  const rel = relative(dirname(specFile), schema).split(sep).join('/');
  return rel.startsWith('../') || isAbsolute(rel) ? pathToFileURL(schema).href : `./${rel}`;
}

export function starterSpec(preset: string, schema: string): string {
  return [
    `#:schema ${schema}`,
    `# Starter spec: everything not set here comes from the ${preset} preset (rlstack explain <this file> <key> says where).`,
    `# ${presetSummary(preset)}`,
    `extends = "${preset}"`,
    '',
    '[run]',
    'name = "my-run"',
    '',
  ].join('\n');
}
