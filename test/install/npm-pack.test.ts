/**
 * Issue 13 part 8: rlstack installs from its tarball and works outside the checkout, as README's Install says:
 * `npm pack`, then `npm install -g` (into a temporary prefix) and `npm install` into a project. Presets by
 * name, templates (compile), init's `#:schema` line reaching the installed schema (relative inside the
 * project, a file:// URL from anywhere else), `rlstack schema`. Every command runs from a folder outside the
 * checkout, so nothing can be found through the working directory.
 *
 * Slow (packing builds dist/, each install unpacks the dependencies): it is in the integration config, run
 * alone with `npx vitest run --config vitest.integration.config.ts test/install/npm-pack.test.ts`.
 * The dependencies come from npm's cache when they are there (--prefer-offline), else from the registry.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const SCHEMA = join('schema', 'rlstack.schema.json');
const NPM_QUIET = ['--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error'];

let base: string;
let files: string[];
let globalBin: string;
let globalPackage: string;
let project: string;
let projectBin: string;

/** A fresh folder that is neither the checkout nor below it. */
const elsewhere = () => realpathSync(mkdtempSync(join(base, 'user-')));

beforeAll(() => {
  base = realpathSync(mkdtempSync(join(tmpdir(), 'rlstack-pack-')));
  const packed = execFileSync('npm', ['pack', '--json', '--pack-destination', base], { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  const [info] = JSON.parse(packed.slice(packed.indexOf('['))) as { filename: string; files: { path: string }[] }[];
  files = info!.files.map((f) => f.path);
  const tarball = join(base, info!.filename);

  // README: npm install -g ./rlstack-0.1.0.tgz — here into a prefix of its own instead of the machine's
  const prefix = join(base, 'global');
  execFileSync('npm', ['install', '-g', '--prefix', prefix, ...NPM_QUIET, tarball], { cwd: base, stdio: 'pipe' });
  globalBin = join(prefix, 'bin', 'rlstack');
  globalPackage = join(prefix, 'lib', 'node_modules', 'rlstack');

  // README: npm install ./rlstack-0.1.0.tgz in a project
  project = join(base, 'project');
  mkdirSync(project);
  execFileSync('npm', ['install', '--prefix', project, ...NPM_QUIET, tarball], { cwd: project, stdio: 'pipe' });
  projectBin = join(project, 'node_modules', '.bin', 'rlstack');
}, 300_000);

afterAll(() => {
  if (base) rmSync(base, { recursive: true, force: true });
});

const run = (bin: string, args: string[], cwd: string) => {
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1' };
  delete env.FORCE_COLOR;
  return spawnSync(bin, args, { cwd, encoding: 'utf8', env });
};

const schemaLine = (spec: string) => readFileSync(spec, 'utf8').split('\n')[0]!.replace(/^#:schema /, '');

describe('npm pack', () => {
  it('packs what rlstack reads at run time and nothing of the tests or TypeScript sources', () => {
    for (const needed of ['bin/rlstack.js', 'dist/src/cli/main.js', 'presets/intellect3.toml', 'presets/tiny.toml', SCHEMA, 'templates/node.sh.hbs', 'templates/job.sbatch.hbs', 'src/compiler/memory/calibration-benchmarks.json']) {
      expect(files, needed).toContain(needed);
    }
    expect(files.some((f) => /^src\/compiler\/emit\/prime-rl\/maps\/config-keys-[0-9a-f]+\.json$/.test(f))).toBe(true);
    expect(files.filter((f) => f.startsWith('test/') || (f.endsWith('.ts') && !f.endsWith('.d.ts')))).toEqual([]);
  });
});

describe('installed with npm install -g (a prefix of its own)', () => {
  it('plans a preset by name from a folder outside the checkout', () => {
    const r = run(globalBin, ['plan', 'intellect3'], elsewhere());
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^rlstack plan — run intellect3 \(/);
    expect(r.stdout).toContain('inference     nodes 0-47 (48)      384 GPUs');
    expect(run(globalBin, ['presets'], elsewhere()).stdout).toMatch(/^intellect3\s/m);
    expect(run(globalBin, ['gpus'], elsewhere()).stdout).toMatch(/^h200\s/m);
  });

  it('compiles with the packaged templates and prime-rl key maps', () => {
    const dir = elsewhere();
    const r = run(globalBin, ['compile', 'tiny', '-o', 'out'], dir);
    expect(r.status, r.stderr).toBe(0);
    expect(readFileSync(join(dir, 'out', 'node.sh'), 'utf8')).toMatch(/^#!/);
    expect(existsSync(join(dir, 'out', 'plan.json'))).toBe(true);
  });

  it('init writes a spec whose #:schema file URL is the installed schema, and it plans', () => {
    const dir = elsewhere();
    const init = run(globalBin, ['init', '--preset', 'i3-mini', 'my-run.toml'], dir);
    expect(init.status, init.stderr).toBe(0);
    const url = schemaLine(join(dir, 'my-run.toml'));
    expect(url).toMatch(/^file:\/\//);
    expect(fileURLToPath(url)).toBe(join(globalPackage, SCHEMA));
    const plan = run(globalBin, ['plan', 'my-run.toml'], dir);
    expect(plan.status, plan.stderr).toBe(0);
    expect(plan.stdout).toContain('run my-run (my-run.toml');
  });

  it('rlstack schema prints the schema it installed, the one the checkout commits', () => {
    const r = run(globalBin, ['schema'], elsewhere());
    expect(r.status, r.stderr).toBe(0);
    const printed: unknown = JSON.parse(r.stdout);
    expect(printed).toEqual(JSON.parse(readFileSync(join(globalPackage, SCHEMA), 'utf8')));
    expect(printed).toEqual(JSON.parse(readFileSync(join(ROOT, SCHEMA), 'utf8')));
  });
});

describe('installed into a project with npm install', () => {
  it('init in the project (and a folder below it) points #:schema relatively at node_modules/rlstack', () => {
    const top = run(projectBin, ['init', '--preset', 'tiny', 'mine.toml'], project);
    expect(top.status, top.stderr).toBe(0);
    expect(schemaLine(join(project, 'mine.toml'))).toBe('./node_modules/rlstack/schema/rlstack.schema.json');

    const runs = join(project, 'runs');
    mkdirSync(runs);
    expect(run(projectBin, ['init', '--preset', 'tiny', 'deeper.toml'], runs).status).toBe(0);
    const rel = schemaLine(join(runs, 'deeper.toml'));
    expect(rel).toBe('../node_modules/rlstack/schema/rlstack.schema.json');
    // Taplo resolves the path against the spec's folder
    expect(existsSync(resolve(runs, rel))).toBe(true);

    for (const [spec, cwd] of [['mine.toml', project], ['deeper.toml', runs]] as const) {
      const plan = run(projectBin, ['plan', spec], cwd);
      expect(plan.status, plan.stderr).toBe(0);
    }
  });

  it('a spec outside the project gets a file URL of the project\'s rlstack', () => {
    const dir = elsewhere();
    expect(run(projectBin, ['init', '--preset', 'i3-mini', 'spec.toml'], dir).status).toBe(0);
    const url = schemaLine(join(dir, 'spec.toml'));
    expect(fileURLToPath(url)).toBe(join(project, 'node_modules', 'rlstack', SCHEMA));
    expect(dirname(fileURLToPath(url))).not.toContain(ROOT);
  });
});
