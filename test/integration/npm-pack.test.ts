/**
 * Issue 13 part 8: rlstack installs from its tarball and works outside the checkout — presets by name,
 * init's `#:schema` line pointing at the installed schema (relative inside the project, a file:// URL from
 * elsewhere), `rlstack schema`. Slow (npm pack builds, npm install fetches the dependencies): integration suite.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';

const ROOT = new URL('../..', import.meta.url).pathname;
let project: string;
let bin: string;

beforeAll(() => {
  const base = mkdtempSync(join(tmpdir(), 'rlstack-pack-'));
  execFileSync('npm', ['pack', '--pack-destination', base], { cwd: ROOT, stdio: 'pipe' });
  const tarball = join(base, readdirSync(base).find((f) => f.endsWith('.tgz'))!);
  project = join(base, 'project');
  mkdirSync(project);
  execFileSync('npm', ['install', '--prefix', project, '--no-audit', '--no-fund', '--prefer-offline', tarball], { stdio: 'pipe' });
  bin = join(project, 'node_modules', '.bin', 'rlstack');
}, 240_000);

const run = (args: string[], cwd: string) => spawnSync(bin, args, { cwd, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });

describe('installed from npm pack', () => {
  it('plans a preset by name from a folder that is not the checkout', () => {
    const elsewhere = mkdtempSync(join(tmpdir(), 'rlstack-user-'));
    const r = run(['plan', 'intellect3'], elsewhere);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain('nodes 0-47 (48)');
    expect(run(['presets'], elsewhere).stdout).toMatch(/^intellect3\s/m);
    expect(run(['gpus'], elsewhere).stdout).toMatch(/^h200\s/m);
  });

  it('init writes a #:schema line that reaches the installed schema: relative in the project, a file URL elsewhere', () => {
    const inProject = run(['init', 'mine.toml', '--preset', 'tiny'], project);
    expect(inProject.status, inProject.stderr).toBe(0);
    const line = readFileSync(join(project, 'mine.toml'), 'utf8').split('\n')[0]!;
    expect(line).toBe('#:schema ./node_modules/rlstack/schema/rlstack.schema.json');
    expect(existsSync(resolve(project, line.slice('#:schema '.length)))).toBe(true);
    expect(run(['plan', 'mine.toml'], project).status).toBe(0);

    const elsewhere = mkdtempSync(join(tmpdir(), 'rlstack-user-'));
    expect(run(['init', 'spec.toml', '--preset', 'i3-mini'], elsewhere).status).toBe(0);
    const url = readFileSync(join(elsewhere, 'spec.toml'), 'utf8').split('\n')[0]!.slice('#:schema '.length);
    expect(url).toMatch(/^file:\/\//);
    const schemaFile = fileURLToPath(url);
    expect(schemaFile).toBe(join(project, 'node_modules', 'rlstack', 'schema', 'rlstack.schema.json'));
    expect(JSON.parse(run(['schema'], elsewhere).stdout)).toEqual(JSON.parse(readFileSync(schemaFile, 'utf8')));
    expect(run(['plan', 'spec.toml'], elsewhere).status).toBe(0);
  });
});
