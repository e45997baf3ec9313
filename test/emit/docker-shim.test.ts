/**
 * bin/docker, first on a Docker-sandboxed env server's PATH: labels every box it creates with the run id
 * and passes every other call through to the real docker (the next one on PATH), never to itself.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { presetPath } from '../../src/compiler/load/compose.js';
import { renderArtifacts } from '../../src/compiler/emit/artifacts.js';
import { planSpec } from '../../src/compiler/pipeline.js';
import { workspace } from '../helpers.js';

function shim(): string {
  const r = planSpec(presetPath('intellect3'));
  if (!r.ok) throw new Error('intellect3 does not plan');
  return renderArtifacts(r.resolved, r.derived, r.plan).artifacts.find((a) => a.path === 'bin/docker')!.content;
}

describe('bin/docker (the sandbox label shim)', () => {
  const dir = workspace({});
  const shimDir = join(dir, 'artifacts', 'bin');
  const realDir = join(dir, 'real');
  mkdirSync(shimDir, { recursive: true });
  mkdirSync(realDir, { recursive: true });
  writeFileSync(join(shimDir, 'docker'), shim());
  chmodSync(join(shimDir, 'docker'), 0o755);
  // The "real" docker prints its arguments, one per line.
  writeFileSync(join(realDir, 'docker'), '#!/bin/bash\nprintf "%s\\n" "$@"\n');
  chmodSync(join(realDir, 'docker'), 0o755);
  const docker = (args: string[], env: Record<string, string> = { RLSTACK_SANDBOX_LABEL: 'run id 7' }) =>
    spawnSync(join(shimDir, 'docker'), args, { encoding: 'utf8', env: { PATH: `${shimDir}:${realDir}:/usr/bin:/bin`, ...env } });

  it('labels run and create (also as `container run|create`), with the value kept intact', () => {
    expect(docker(['run', '--detach', '--name', 'abc', 'img', 'sleep', 'infinity']).stdout.split('\n')).toEqual(['run', '--label', 'rlstack.run=run id 7', '--detach', '--name', 'abc', 'img', 'sleep', 'infinity', '']);
    expect(docker(['create', 'img']).stdout).toBe('create\n--label\nrlstack.run=run id 7\nimg\n');
    expect(docker(['container', 'run', 'img']).stdout).toBe('container\nrun\n--label\nrlstack.run=run id 7\nimg\n');
  });

  it('passes everything else through unchanged, to the next docker on PATH', () => {
    expect(docker(['exec', '--env', 'A=$(x)', 'abc', 'cat']).stdout).toBe('exec\n--env\nA=$(x)\nabc\ncat\n');
    expect(docker(['rm', '--force', 'abc']).stdout).toBe('rm\n--force\nabc\n');
    expect(docker(['container', 'ls']).stdout).toBe('container\nls\n');
  });

  it('refuses to create an unlabelled box when the label is missing', () => {
    const r = docker(['run', 'img'], {});
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('RLSTACK_SANDBOX_LABEL is not set');
  });
});
