/**
 * The map generator (scripts/prime-rl-map.py, `npm run prime-rl:map -- PATH`): regenerates a map of prime-rl's
 * config classes from a checkout with Python's `ast`. CI has no prime-rl checkout: the generator runs on a small
 * committed tree of config classes (test/fixtures/prime-rl-mini) and must write the expected files byte for
 * byte. Where the prime-rl mirror exists (/work/.mirror/...), it also regenerates the shipped 559b447 map.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { appendFileSync, cpSync, existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PACKAGE_ROOT } from '../../src/paths.js';
import { configKeys, flagOf, knownRevisions, MAPS_DIR } from '../../src/compiler/emit/prime-rl/keys.js';
import { workspace } from '../helpers.js';

const SCRIPT = join(PACKAGE_ROOT, 'scripts', 'prime-rl-map.py');
const FIXTURE = join(PACKAGE_ROOT, 'test', 'fixtures', 'prime-rl-mini');
const EXPECTED = join(FIXTURE, 'expected');
const MIRROR = '/work/.mirror/PrimeIntellect-ai+prime-rl/repo';
const HAS_PYTHON = spawnSync('python3', ['--version']).status === 0;

function generate(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync('python3', [SCRIPT, ...args], { encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

const GIT_ENV = {
  ...process.env,
  GIT_AUTHOR_NAME: 'rlstack tests',
  GIT_AUTHOR_EMAIL: 'tests@rlstack.invalid',
  GIT_COMMITTER_NAME: 'rlstack tests',
  GIT_COMMITTER_EMAIL: 'tests@rlstack.invalid',
  GIT_CONFIG_NOSYSTEM: '1',
  GIT_CONFIG_GLOBAL: '/dev/null',
};

/** A git checkout of the fixture; returns its path and HEAD. */
function fixtureCheckout(): { dir: string; head: string } {
  const dir = workspace({});
  cpSync(join(FIXTURE, 'packages'), join(dir, 'packages'), { recursive: true });
  const git = (...args: string[]) => execFileSync('git', ['-C', dir, '-c', 'commit.gpgsign=false', ...args], { env: GIT_ENV, encoding: 'utf8' }).trim();
  git('init', '-q');
  git('add', '-A');
  git('commit', '-q', '-m', 'mini prime-rl');
  return { dir, head: git('rev-parse', 'HEAD') };
}

describe.skipIf(!HAS_PYTHON)('npm run prime-rl:map (scripts/prime-rl-map.py)', () => {
  it('writes the expected map and flags of the fixture tree, byte for byte', () => {
    const out = workspace({});
    const r = generate([FIXTURE, '--revision', 'abcdef1', '--out-dir', out]);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('21 config classes');
    expect(readdirSync(out).sort()).toEqual(['config-flags-abcdef1.json', 'config-keys-abcdef1.json']);
    for (const file of readdirSync(out)) expect(readFileSync(join(out, file), 'utf8'), file).toBe(readFileSync(join(EXPECTED, file), 'utf8'));
  });

  it('understands inheritance, aliases, discriminated unions, Annotated fields, forward references and externals', () => {
    const keys = JSON.parse(readFileSync(join(EXPECTED, 'config-keys-abcdef1.json'), 'utf8')) as Record<string, { name: string; [k: string]: unknown }[]>;
    const field = (cls: string, name: string) => keys[cls]!.find((f) => f.name === name);
    // own fields first, then inherited ones with their declaring class; an override stays an own field
    expect(keys['trainer.AdamWConfig']!.map((f) => [f.name, f.inherited_from])).toEqual([['type', undefined], ['lr', undefined], ['max_norm', 'trainer.BaseOptimizerConfig']]);
    expect(field('trainer.ModelConfig', 'vlm')).toMatchObject({ type: "'VLMConfig | None'", config_classes: ['shared.VLMConfig'], inherited_from: 'shared.BaseModelConfig' });
    // discriminated unions through a type alias imported from another module
    expect(field('orchestrator.OrchestratorConfig', 'optim')).toMatchObject({ type: 'OptimizerConfig | None', config_classes: ['trainer.SGDConfig', 'trainer.AdamWConfig'] });
    expect(field('orchestrator.OrchestratorConfig', 'log')).toMatchObject({ type: 'SharedLogConfig', config_classes: ['shared.LogConfig'] });
    expect(field('orchestrator.TrainSourceConfig', 'gates')).toMatchObject({ config_classes: ['orchestrator.GateConfig'], default: '<factory dict>' });
    // plain `X = Annotated[...]` aliases, defaults in Field(...) and in Annotated metadata, required fields
    expect(field('trainer.ModelConfig', 'offload')).toMatchObject({ type: 'Offload', default: 'None', config_classes: ['trainer.CompileConfig'] });
    expect(field('trainer.ModelConfig', 'chunk')).toMatchObject({ default: '8192', required: false });
    expect(field('shared.CPUTier', 'num_bytes')).toMatchObject({ default: null, required: true });
    expect(field('shared.VLMConfig', 'vision_encoder_attr')).toMatchObject({ default: null, required: true });
    expect(field('shared.LogConfig', 'level')).toMatchObject({ default: "<factory lambda: os.environ.get('PRIME_LOG_LEVEL', 'info')>" });
    // ClassVar and private attributes are not fields; classes that are not pydantic models are not configs
    expect(field('trainer.ModelConfig', 'kind')).toBeUndefined();
    expect(field('trainer.ModelConfig', '_private')).toBeUndefined();
    expect(keys['orchestrator.NotAConfig']).toBeUndefined();
    expect(keys['orchestrator.EnvConfig']).toBeDefined(); // a BaseModel
    // verifiers / renderers types are external
    expect(field('orchestrator.TrainSourceConfig', 'env')).toMatchObject({ external: ['vf.EnvConfig'], inherited_from: 'orchestrator.EnvConfig' });
    expect(field('orchestrator.OrchestratorConfig', 'renderer')).toMatchObject({ external: ['renderers.RendererConfig'], config_classes: [] });
    // a relative import inside the config package
    expect(field('env_server.EnvServerConfig', 'log')).toMatchObject({ config_classes: ['shared.LogConfig'] });
  });

  it('records how each field is spelled on the command line', () => {
    const flags = JSON.parse(readFileSync(join(EXPECTED, 'config-flags-abcdef1.json'), 'utf8')) as Record<string, Record<string, unknown>>;
    expect(flags['orchestrator.OrchestratorConfig']!['admin_base_url']).toEqual({ flag: '--admin-base-url', kinds: ['list'], optional: true });
    expect(flags['orchestrator.OrchestratorConfig']!['use_fast']).toEqual({ flag: '--use-fast', kinds: ['bool'], optional: true });
    expect(flags['trainer.ModelConfig']!['compile']).toEqual({ flag: '--compile', kinds: ['config'], optional: true });
    expect(flags['trainer.ModelConfig']!['rank_hint']).toEqual({ flag: '--rank-hint', kinds: ['scalar'], optional: true });
    expect(flags['trainer.TrainerConfig']!['env_vars']).toEqual({ flag: '--env-vars', kinds: ['dict'], optional: false });
    expect(flags['inference.VllmConfig']!['rope_scaling']).toEqual({ flag: '--rope-scaling', kinds: ['dict', 'scalar'], optional: true });
  });

  it('takes the revision from the checkout HEAD, and names the files by its first 7 hex digits', () => {
    const { dir, head } = fixtureCheckout();
    const out = workspace({});
    const r = generate([dir, '--out-dir', out]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain(`prime-rl ${head}:`);
    expect(readFileSync(join(out, `config-keys-${head.slice(0, 7)}.json`), 'utf8')).toBe(readFileSync(join(EXPECTED, 'config-keys-abcdef1.json'), 'utf8'));
    // --revision must agree with HEAD
    const wrong = generate([dir, '--revision', 'abcdef1', '--out-dir', out]);
    expect(wrong.status).toBe(2);
    expect(wrong.stderr).toContain(`is at ${head}`);
    expect(generate([dir, '--revision', head.slice(0, 10), '--out-dir', out]).status).toBe(0);
    // uncommitted changes to the config package: written, with a warning
    appendFileSync(join(dir, 'packages/prime-rl-configs/src/prime_rl/configs/shared.py'), '\n\nclass ExtraConfig(BaseConfig):\n    x: int = 1\n');
    const dirty = generate([dir, '--out-dir', out]);
    expect(dirty.status).toBe(0);
    expect(dirty.stderr).toContain(`has uncommitted changes: the map describes the files, not ${head.slice(0, 7)}`);
  });

  it('refuses a path that is not a prime-rl checkout, an export without --revision and a bad --revision, with a clear error', () => {
    const empty = workspace({ 'README.md': 'not prime-rl\n' });
    const r = generate([empty]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/^prime-rl:map: error: .* is not a prime-rl checkout: it has none of packages\/prime-rl-configs\/src\/prime_rl\/configs\/, src\/prime_rl\/configs\//);
    expect(r.stderr).not.toContain('Traceback');

    const missing = generate([join(empty, 'nope')]);
    expect(missing.status).toBe(2);
    expect(missing.stderr).toContain('no such directory');

    const noRevision = generate([FIXTURE, '--out-dir', workspace({})]);
    expect(noRevision.status).toBe(2);
    expect(noRevision.stderr).toContain('is not a git checkout, so its revision is unknown');
    expect(noRevision.stderr).toContain('--revision <commit>');

    const badRevision = generate([FIXTURE, '--revision', 'main']);
    expect(badRevision.status).toBe(2);
    expect(badRevision.stderr).toContain('--revision main: not a commit hash (7 to 40 hex digits)');

    const old = workspace({ 'src/prime_rl/trainer/config.py': 'class TrainerConfig: pass\n' });
    const before = generate([old, '--revision', 'abcdef1']);
    expect(before.status).toBe(2);
    expect(before.stderr).toContain('is a prime-rl checkout from before its config package');

    const broken = workspace({ 'src/prime_rl/configs/trainer.py': 'class TrainerConfig(:\n' });
    const syntax = generate([broken, '--revision', 'abcdef1']);
    expect(syntax.status).toBe(2);
    expect(syntax.stderr).toMatch(/trainer\.py:1: cannot parse/);
  });
});

describe('the shipped maps', () => {
  it('are one keys map and one flags map per revision, and keys.ts reads them', () => {
    const files = readdirSync(join(PACKAGE_ROOT, MAPS_DIR)).sort();
    expect(files).toEqual(knownRevisions().flatMap((r) => [`config-flags-${r}.json`, `config-keys-${r}.json`]));
    expect(knownRevisions()).toContain('559b447');
    expect(Object.keys(configKeys('559b447'))).toHaveLength(127);
    expect(flagOf('inference.VllmConfig', 'max_model_len', '559b447')).toEqual({ flag: '--max-model-len', kinds: ['scalar'], optional: true });
    expect(flagOf('shared.ClientConfig', 'admin_base_url', '559b447')).toMatchObject({ kinds: ['list'], optional: true });
    expect(flagOf('trainer.ModelConfig', 'nope', '559b447')).toBeUndefined();
  });

  it('ship with the package', () => {
    const pkg = JSON.parse(readFileSync(join(PACKAGE_ROOT, 'package.json'), 'utf8')) as { files: string[]; scripts: Record<string, string> };
    expect(pkg.files).toContain(MAPS_DIR);
    expect(pkg.scripts['prime-rl:map']).toBe('python3 scripts/prime-rl-map.py');
  });
});

describe.skipIf(!HAS_PYTHON || !existsSync(MIRROR))('regenerating the shipped 559b447 map from the prime-rl mirror', () => {
  it('reproduces both files byte for byte', () => {
    const src = workspace({});
    mkdirSync(src, { recursive: true });
    execFileSync('bash', ['-c', `git --git-dir="$1" archive 559b447 packages/prime-rl-configs | tar -x -C "$2"`, '_', MIRROR, src]);
    const out = workspace({});
    const r = generate([src, '--revision', '559b447', '--out-dir', out]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain('127 config classes, 623 fields');
    for (const file of ['config-keys-559b447.json', 'config-flags-559b447.json']) {
      expect(readFileSync(join(out, file), 'utf8'), file).toBe(readFileSync(join(PACKAGE_ROOT, MAPS_DIR, file), 'utf8'));
    }
  });
});
