import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { renderArtifacts, type Artifact } from '../../src/compiler/emit/artifacts.js';
import { listPresets, presetPath } from '../../src/compiler/load/compose.js';
import { planSpec } from '../../src/compiler/pipeline.js';
import { shQuote, shWord } from '../../src/runtime/shell.js';
import { writeArtifacts } from '../../src/launcher/artifacts-dir.js';
import { HOSTILE, workspace } from '../helpers.js';
import { PACKAGE_ROOT } from '../../src/paths.js';

function artifactsOf(path: string, sets: string[] = []) {
  const r = planSpec(path, { sets });
  if (!r.ok) throw new Error(r.diagnostics.map((d) => `${d.code} ${d.message}`).join('\n'));
  return renderArtifacts(r.resolved, r.derived, r.plan);
}


function bashEcho(script: string): string {
  return execFileSync('bash', ['-c', script], { encoding: 'utf8' });
}

describe('the quoting helper', () => {
  it('round-trips every hostile string through bash', () => {
    for (const value of HOSTILE) expect(bashEcho(`printf %s ${shQuote(value)}`), JSON.stringify(value)).toBe(value);
  });

  it('refuses NUL', () => {
    expect(() => shQuote('a\0b')).toThrow(/NUL/);
  });

  it('expands only the runtime references node.sh defines', () => {
    const word = shWord("http://${RLSTACK_HOST:2}:8100/v1 '$(x)'");
    expect(bashEcho(`RLSTACK_HOSTS=(a b 'node-2'); printf %s ${word}`)).toBe("http://node-2:8100/v1 '$(x)'");
    expect(bashEcho(`RLSTACK_RUN_DIR='/r u n'; printf %s ${shWord('${RLSTACK_RUN_DIR}/x')}`)).toBe('/r u n/x');
    expect(() => shWord('${RLSTACK_NOPE}')).toThrow(/unknown runtime reference/);
    expect(bashEcho(`printf %s ${shWord('${HOME}')}`)).toBe('${HOME}');
  });
});

describe('compiled artifacts', () => {
  for (const preset of listPresets()) {
    it(`${preset}: deterministic, hashed in the manifest, pinned by golden files`, async () => {
      const a = artifactsOf(presetPath(preset));
      const b = artifactsOf(presetPath(preset));
      expect(b.artifacts).toEqual(a.artifacts);
      const byPath = new Map(a.artifacts.map((f) => [f.path, f]));
      for (const entry of a.manifest.files) {
        expect(createHash('sha256').update(byPath.get(entry.path)!.content).digest('hex')).toBe(entry.sha256);
      }
      expect(byPath.has('manifest.json')).toBe(true);
      // node.sh is one template: its text is pinned once (intellect3); the manifest pins every file's hash.
      for (const path of [...(preset === 'intellect3' ? ['node.sh', 'bin/docker'] : []), 'slurm/job.sbatch', 'nodes/node-000.sh', 'manifest.json']) {
        const file = byPath.get(path);
        if (file) await expect(file.content).toMatchFileSnapshot(join('..', 'golden', 'artifacts', preset, path));
      }
    });
  }

  it('has one node plan per node, and no secret value anywhere', () => {
    process.env['WANDB_API_KEY'] = 'wandb-planted-secret';
    process.env['HF_TOKEN'] = 'hf-planted-secret';
    try {
      const { artifacts } = artifactsOf(presetPath('intellect3'));
      expect(artifacts.filter((f) => /^nodes\/node-\d{3}\.json$/.test(f.path))).toHaveLength(94);
      for (const f of artifacts) {
        expect(f.content).not.toContain('wandb-planted-secret');
        expect(f.content).not.toContain('hf-planted-secret');
      }
    } finally {
      delete process.env['WANDB_API_KEY'];
      delete process.env['HF_TOKEN'];
    }
  });

  it('passes shellcheck (every generated shell file of every preset)', () => {
    const found = spawnSync('shellcheck', ['--version']);
    if (found.error) {
      expect(process.env['CI'], 'shellcheck must be installed in CI (.ci/run)').toBeUndefined();
      return;
    }
    for (const preset of listPresets()) {
      const dir = mkdtempSync(join(tmpdir(), `rlstack-sc-${preset}-`));
      const { artifacts } = artifactsOf(presetPath(preset));
      expect(writeArtifacts(dir, artifacts)).toBeUndefined();
      const scripts = artifacts.filter((f) => f.path.endsWith('.sh') || f.path.endsWith('.sbatch')).map((f) => join(dir, f.path));
      const r = spawnSync('shellcheck', ['-x', ...scripts.slice(0, 40)], { encoding: 'utf8' });
      expect(r.stdout + r.stderr, preset).toBe('');
      expect(r.status).toBe(0);
    }
  }, 60_000);

  it('carries hostile paths and env values into the scripts exactly', () => {
    const weird = "/tmp/rls dir/it's $(x) `y`";
    const dir = workspace({
      'spec.toml': `extends = "tiny"\n[run]\nprime_rl_dir = ${JSON.stringify(weird)}\n[env]\nODD = ${JSON.stringify(HOSTILE.join('|'))}\n`,
    });
    const { artifacts } = artifactsOf(join(dir, 'spec.toml'));
    const out = mkdtempSync(join(tmpdir(), 'rlstack-hostile-'));
    writeArtifacts(out, artifacts);
    const plan = join(out, 'nodes', 'node-000.sh');
    const printed = bashEcho(`source ${shQuote(plan)}; rls_proc_p0; for e in "\${RLS_ENV[@]}"; do [[ $e == ODD=* ]] && printf %s "\${e#ODD=}"; done; true`);
    expect(printed).toBe(HOSTILE.join('|'));
    const nodeSh = readFileSync(join(out, 'node.sh'), 'utf8');
    const line = nodeSh.split('\n').find((l) => l.startsWith('PRIME_RL_DIR='))!;
    expect(bashEcho(`${line}; printf %s "$PRIME_RL_DIR"`)).toBe(weird);
  });

  it('writes into an empty folder or over an earlier compile, never over other files', () => {
    const out = mkdtempSync(join(tmpdir(), 'rlstack-out-'));
    const tiny = artifactsOf(presetPath('tiny')).artifacts;
    expect(writeArtifacts(out, tiny)).toBeUndefined();
    expect(writeArtifacts(out, tiny)).toBeUndefined();
    const other = mkdtempSync(join(tmpdir(), 'rlstack-other-'));
    writeFileSync(join(other, 'precious.txt'), 'x');
    expect(writeArtifacts(other, tiny as Artifact[])).toMatch(/not empty/);
    expect(readFileSync(join(other, 'precious.txt'), 'utf8')).toBe('x');
  });
});

describe('determinism across locales (issue 11)', () => {
  it('compiles byte-identical artifacts under cs_CZ and en_US (Czech sorts CH after H)', () => {
    const dir = workspace({ 'spec.toml': 'extends = "tiny"\n[env]\nH_A = "1"\nCH_A = "2"\nD_A = "3"\n[secrets]\nHF_TOKEN = ["trainer"]\nCH_TOKEN = ["trainer"]\n' });
    const manifests = ['cs_CZ.UTF-8', 'en_US.UTF-8'].map((lang) => {
      const out = join(dir, `out-${lang}`);
      const r = spawnSync(process.execPath, [join(PACKAGE_ROOT, 'bin', 'rlstack.js'), 'compile', join(dir, 'spec.toml'), '-o', out], { encoding: 'utf8', env: { ...process.env, LANG: lang, LC_ALL: lang } });
      expect(r.status, r.stderr).toBe(0);
      // The manifest names the folder it was compiled into; everything else must match byte for byte.
      return readFileSync(join(out, 'manifest.json'), 'utf8').replace(out, 'OUT');
    });
    expect(manifests[0]).toBe(manifests[1]);
    expect(manifests[0]).toContain('nodes/node-000.sh');
  });
});
