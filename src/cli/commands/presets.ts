import { existsSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
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
 * Where an editor finds the schema from the spec at `specFile` (Taplo's `#:schema`, which resolves a relative
 * path against the spec's folder): this rlstack's own schema/rlstack.schema.json. Relative when the spec's
 * folder or one above it holds this rlstack — the checkout itself, or a project whose node_modules/rlstack is
 * it (as npx would find it) — because such a line survives moving, cloning or mounting the project elsewhere
 * and matches the rlstack the project runs. Otherwise (a global install, a spec outside any project) only an
 * absolute file:// URL reaches it; it pins this machine's install path, which is all such a spec can use.
 */
export function schemaReference(specFile: string): string {
  const home = realOrSelf(PACKAGE_ROOT);
  const specDir = dirname(resolve(specFile));
  for (let dir = specDir; ; dir = dirname(dir)) {
    const installed = join(dir, 'node_modules', 'rlstack');
    const root = realOrSelf(dir) === home ? dir : existsSync(installed) && realOrSelf(installed) === home ? installed : undefined;
    if (root) {
      const rel = relative(specDir, join(root, 'schema', 'rlstack.schema.json')).split(sep).join('/');
      return rel.startsWith('../') ? rel : `./${rel}`;
    }
    if (dirname(dir) === dir) break;
  }
  return pathToFileURL(join(PACKAGE_ROOT, 'schema', 'rlstack.schema.json')).href;
}

/** Symlinked folders (npm link, `npm install ../checkout`, /tmp on macOS) compare by where they lead. */
function realOrSelf(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return path;
  }
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
