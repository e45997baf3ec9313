import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compareWithLaunched, loadCompiledFolder, loadSide } from '../../src/cli/commands/diff.js';
import { writeArtifacts } from '../../src/launcher/artifacts-dir.js';
import { compiledFromArtifacts, diffCompiled, foldNumbers, renderDiff, resumeConflicts, wordHunks, type Compiled } from '../../src/compiler/diff.js';
import { renderArtifacts } from '../../src/compiler/emit/artifacts.js';
import { planSpec } from '../../src/compiler/pipeline.js';
import { rlstack, workspace } from '../helpers.js';



const MINI_ENVIRONMENTS = `
[[environments]]
name = "math"
taskset = "i3_math"
weight = 0.6

[[environments]]
name = "code"
taskset = "i3_code"
weight = 0.4
runtime = "sandbox"

[[environments]]
name = "aime25"
taskset = "aime25"
split = "eval"
`;

/** Specs next to each other in one folder, so the goldens name them by relative path. */
const dir = workspace({
  'mini.toml': 'extends = "i3-mini"\n',
  'mini-again.toml': '# the same run, written differently\nextends = ["i3-mini"]\n\n[trainer]\nnodes = 1\n',
  'mini-more-trainer.toml': 'extends = "i3-mini"\n\n[cluster]\nnodes = 3\n\n[trainer]\nnodes = 2\n',
  'mini-adamw.toml': 'extends = "i3-mini"\n\n[trainer.optimizer]\ntype = "adamw"\n',
  'mini-new-env.toml': `extends = "i3-mini"\n${MINI_ENVIRONMENTS}\n[[environments]]\nname = "logic"\ntaskset = "i3_logic"\nweight = 0.2\n`,
  'mini-lora.toml': 'extends = "i3-mini"\n\n[trainer]\nlora_rank = 32\n\n[weights]\nbroadcast = "filesystem"\n',
  'mini-other-model.toml': 'extends = "i3-mini"\n\n[model]\nname = "Qwen/Qwen3-30B-A3B-Thinking-2507"\n',
  'mini-dense.toml': 'extends = "i3-mini"\n\n[model]\nname = "Qwen/Qwen3-4B"\n\n[trainer]\nep = 1\n',
  'i3.toml': 'extends = "intellect3"\n',
  'i3-tp4.toml': 'extends = "intellect3"\n\n[inference]\ntp = 4\n',
  'broken.toml': 'extends = "i3-mini"\n\n[trainer]\nep = 12\n',
  'not-compiled/readme.txt': 'just a folder\n',
});

function compiled(name: string): Compiled {
  const side = loadSide(join(dir, name));
  if (!side.ok) throw new Error(side.diagnostics.map((d) => `${d.code} ${d.message}`).join('\n'));
  return side.side.compiled;
}

function diffText(a: string, b: string): string {
  return `${renderDiff(diffCompiled(compiled(a), compiled(b)), { a, b })}\n`;
}

describe('rlstack diff: typical changes (golden)', () => {
  it('one more trainer node', async () => {
    const text = diffText('mini.toml', 'mini-more-trainer.toml');
    expect(text).toContain('+ node  trainer; GPUs 0-7 trainer-1');
    expect(text).toContain('~ trainer-0 command  --nnodes=1 → --nnodes=2');
    expect(text).toContain('~ roles.trainer.gpus  8 → 16');
    // the count comes right after the header, before the changes
    expect(text.split('\n')[1]).toMatch(/^\d+ changes \(\d+ to add, \d+ to change, \d+ to remove\)/);
    await expect(text).toMatchFileSnapshot('../golden/diff/more-trainer-node.txt');
  });

  it('TP 8 → 4 on the 64-node INTELLECT-3 run: the 48 inference nodes fold into ranges', async () => {
    const text = diffText('i3.toml', 'i3-tp4.toml');
    expect(text).toContain('nodes 1-23 (23)');
    expect(text).toContain('+ router command  http://${RLSTACK_HOST:{0..47}}:8101');
    expect(text).toContain('~ vllm.tensor_parallel_size  8 → 4');
    expect(text.split('\n').length).toBeLessThan(80);
    await expect(text).toMatchFileSnapshot('../golden/diff/tp-8-to-4.txt');
  });

  it('a new environment', async () => {
    const text = diffText('mini.toml', 'mini-new-env.toml');
    expect(text).toContain('+ env-train-logic');
    expect(text).toContain('+ file  ');
    expect(text).toMatch(/configs\/envs\/train\/logic\.toml/);
    expect(text).toMatch(/\+ train\.source\[name=logic\]\.env\.taskset\.id  i3_logic/);
    await expect(text).toMatchFileSnapshot('../golden/diff/new-environment.txt');
  });

  it('an optimizer change', async () => {
    const text = diffText('mini.toml', 'mini-adamw.toml');
    expect(text).toContain('~ optim.type  muon → adamw');
    await expect(text).toMatchFileSnapshot('../golden/diff/optimizer-change.txt');
  });
});

describe('rlstack diff: the command', () => {
  it('identical inputs exit 0 and say so', () => {
    const r = rlstack(['diff', 'mini.toml', 'mini-again.toml'], dir);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('no changes');
  });

  it('a spec against the folder it compiles to is identical; against another spec it differs (exit 4)', () => {
    expect(rlstack(['compile', 'mini.toml', '-o', 'compiled'], dir).code).toBe(0);
    const same = rlstack(['diff', 'compiled', 'mini.toml'], dir);
    expect(same.code).toBe(0);
    expect(same.stdout).toContain('no changes');
    const changed = rlstack(['diff', 'compiled', 'mini-adamw.toml'], dir);
    expect(changed.code).toBe(4);
    expect(changed.stdout.split('\n')[0]).toBe('rlstack diff  compiled/ → mini-adamw.toml');
    // Same changes as spec against spec: the folder reads back exactly what compile wrote.
    expect(changed.stdout.split('\n').slice(1).join('\n').trimEnd()).toBe(diffText('mini.toml', 'mini-adamw.toml').split('\n').slice(1).join('\n').trimEnd());
  });

  it('a folder whose files were edited after compile is compared as it is, with a note', () => {
    const folder = workspace({});
    const planned = planSpec(join(dir, 'mini.toml'));
    if (!planned.ok) throw new Error('mini.toml does not plan');
    writeArtifacts(folder, renderArtifacts(planned.resolved, planned.derived, planned.plan).artifacts);
    const trainer = join(folder, 'configs', 'trainer.toml');
    writeFileSync(trainer, readFileSync(trainer, 'utf8').replace('type = "muon"', 'type = "sign_sgd"'));
    const r = rlstack(['diff', folder, 'mini.toml'], dir);
    expect(r.code).toBe(4);
    expect(r.stderr).toContain('configs/trainer.toml no longer matches manifest.json');
    expect(r.stdout).toContain('~ optim.type  sign_sgd → muon');
    expect(loadCompiledFolder(folder)).toMatchObject({ ok: true, edited: ['configs/trainer.toml'] });
  });

  it('--json: every change with its component, node and values, and the summary', () => {
    const r = rlstack(['diff', 'mini.toml', 'mini-more-trainer.toml', '--json'], dir);
    expect(r.code).toBe(4);
    const json = JSON.parse(r.stdout);
    expect(json).toMatchObject({ ok: true, identical: false, a: { path: 'mini.toml', kind: 'spec' }, b: { path: 'mini-more-trainer.toml', kind: 'spec' } });
    expect(json.changes).toContainEqual({ op: '+', component: 'placement', scope: 'node 2', node: { pool: 'default', pool_index: 2 }, key: 'node', after: 'trainer; GPUs 0-7 trainer-1' });
    expect(json.changes).toContainEqual({ op: '~', component: 'configs', scope: 'configs/orchestrator.toml', key: 'num_train_workers', before: 4, after: 8 });
    expect(json.summary.total).toBe(json.changes.length);
    expect(json.summary.added + json.summary.changed + json.summary.removed).toBe(json.summary.total);
    expect(json.summary.by_component.placement).toEqual({ added: 1, changed: 0, removed: 0 });
    const identical = JSON.parse(rlstack(['diff', 'mini.toml', 'mini-again.toml', '--json'], dir).stdout);
    expect(identical).toMatchObject({ identical: true, changes: [], summary: { total: 0 } });
  });

  it('exit 1 on errors: a missing path, a folder that is not compiled, a spec with errors', () => {
    const missing = rlstack(['diff', 'nope.toml', 'mini.toml'], dir);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('RS0001 nope.toml does not exist');
    const folder = rlstack(['diff', 'not-compiled', 'mini.toml'], dir);
    expect(folder.code).toBe(1);
    expect(folder.stderr).toContain('not-compiled is a folder without manifest.json: not a compiled artifact folder');
    const broken = rlstack(['diff', 'mini.toml', 'broken.toml'], dir);
    expect(broken.code).toBe(1);
    expect(broken.stderr).toContain('broken.toml:4:6 error RS1203');
    expect(broken.stderr).not.toMatch(/at .*\.js:\d+/);
    expect(rlstack(['diff', 'mini.toml'], dir).code).toBe(2);
  });
});

describe('resumeConflicts', () => {
  it('refuses a model change, with the plans alone or with the configs', () => {
    const before = compiled('mini.toml');
    const after = compiled('mini-other-model.toml');
    const withPlans = resumeConflicts(before.plan, after.plan);
    expect(withPlans).toHaveLength(1);
    expect(withPlans[0]).toMatch(/^model\.name changes from Qwen\/Qwen3-30B-A3B-Instruct-2507 to Qwen\/Qwen3-30B-A3B-Thinking-2507/);
    expect(resumeConflicts(before, after)).toEqual(withPlans);
    expect(resumeConflicts(before, compiled('mini-dense.toml'))[0]).toMatch(/^model\.name changes/);
  });

  it('refuses an optimizer change and LoRA on, which only the configs show', () => {
    const before = compiled('mini.toml');
    expect(resumeConflicts(before, compiled('mini-adamw.toml'))).toEqual(['trainer.optimizer.type changes from muon to adamw: the checkpoint holds muon optimizer state']);
    expect(resumeConflicts(before.plan, compiled('mini-adamw.toml').plan)).toEqual([]);
    expect(resumeConflicts(before, compiled('mini-lora.toml'))).toContainEqual('LoRA is turned on (trainer.lora_rank): the checkpoint holds full weights, not an adapter');
  });

  it('compareWithLaunched: a run dir\'s launcher/ against the artifacts about to be launched', () => {
    const runDir = workspace({});
    const launched = planSpec(join(dir, 'mini.toml'));
    const resumed = planSpec(join(dir, 'mini-other-model.toml'));
    if (!launched.ok || !resumed.ok) throw new Error('fixtures do not plan');
    expect(compareWithLaunched(join(runDir, 'launcher'), [])).toBeUndefined();
    writeArtifacts(join(runDir, 'launcher'), renderArtifacts(launched.resolved, launched.derived, launched.plan).artifacts);
    const same = compareWithLaunched(join(runDir, 'launcher'), renderArtifacts(launched.resolved, launched.derived, launched.plan).artifacts)!;
    expect(same.diff.identical).toBe(true);
    expect(same.conflicts).toEqual([]);
    const other = compareWithLaunched(join(runDir, 'launcher'), renderArtifacts(resumed.resolved, resumed.derived, resumed.plan).artifacts)!;
    expect(other.conflicts).toHaveLength(1);
    expect(other.text()).toContain('~ model.name  Qwen/Qwen3-30B-A3B-Instruct-2507 → Qwen/Qwen3-30B-A3B-Thinking-2507');
  });

  it('lets layout changes through: DCP reshards the checkpoint over more nodes, another TP or new environments', () => {
    expect(resumeConflicts(compiled('mini.toml'), compiled('mini-more-trainer.toml'))).toEqual([]);
    expect(resumeConflicts(compiled('mini.toml'), compiled('mini-new-env.toml'))).toEqual([]);
    expect(resumeConflicts(compiled('i3.toml'), compiled('i3-tp4.toml'))).toEqual([]);
    expect(resumeConflicts(compiled('mini.toml'), compiled('mini-again.toml'))).toEqual([]);
  });
});

describe('diff helpers', () => {
  it('folds numbers exactly: ranges, steps, lists', () => {
    expect(foldNumbers(['trainer-1 rank=1', 'trainer-2 rank=2', 'trainer-3 rank=3'])).toBe('trainer-{1..3} rank={1..3}');
    expect(foldNumbers(['inference-2', 'inference-4', 'inference-6'])).toBe('inference-{2..6..2}');
    expect(foldNumbers(['port 8100 x', 'port 8300 x', 'port 8200 x'])).toBe('port {8100,8300,8200} x');
    expect(foldNumbers(['node-007', 'node-008'])).toBe('node-{007,008}');
    expect(foldNumbers(['same 1', 'same 1'])).toBe('same 1');
  });

  it('word hunks name each changed run of a command line', () => {
    expect(wordHunks(['a', 'b', 'c', 'd'], ['a', 'x', 'c', 'd', 'e'])).toEqual([
      { before: ['b'], after: ['x'], at: 1 },
      { before: [], after: ['e'], at: 4 },
    ]);
    expect(wordHunks(['a'], ['a'])).toEqual([]);
  });

  it('compiledFromArtifacts reads plan.json back as a folder would', () => {
    const planned = planSpec(join(dir, 'mini.toml'));
    if (!planned.ok) throw new Error('mini.toml does not plan');
    const c = compiledFromArtifacts(renderArtifacts(planned.resolved, planned.derived, planned.plan).artifacts);
    expect(c.plan.run.name).toBe('i3-mini');
    expect(Object.keys(c.files)).toEqual(expect.arrayContaining(['configs/trainer.toml', 'configs/orchestrator.toml', 'configs/inference.toml', 'node.sh', 'slurm/job.sbatch']));
    expect(Object.keys(c.files).some((p) => p.startsWith('nodes/'))).toBe(false);
  });
});
