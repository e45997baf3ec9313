/**
 * Issue 13, part 1: composable specs. A preset scales by writing only what a user would change; a later
 * layer's `nodes` replaces an inherited `gpus` (and the other way round); `unset` / `--unset` remove an
 * inherited key.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { listPresets } from '../../src/compiler/load/compose.js';
import { planSpec } from '../../src/compiler/pipeline.js';
import { workspace } from '../helpers.js';

const errors = (r: ReturnType<typeof planSpec>) => r.diagnostics.filter((d) => d.severity === 'error').map((d) => `${d.code} ${d.path ?? ''}: ${d.message}`);

/**
 * What a user writes to run a preset on n nodes: the node counts split evenly between trainer and inference,
 * a multi-node back end, and — for intellect3 on one trainer node, whose 2 HSDP replicas × CP 2 leave
 * 2 GPUs per shard group, too few for EP 8 — one replica.
 */
function scaled(preset: string, nodes: number): string {
  const trainerExtra = preset === 'intellect3' && nodes === 2 ? 'dp_replicate = 1\n' : '';
  return `extends = "${preset}"\n[cluster]\nnodes = ${nodes}\nbackend = "slurm"\n[trainer]\nnodes = ${nodes / 2}\n${trainerExtra}[inference]\nnodes = ${nodes / 2}\n`;
}

describe('every preset scales to 2 and 4 nodes with only the node counts', () => {
  for (const preset of listPresets()) {
    for (const nodes of [2, 4]) {
      it(`${preset} on ${nodes} nodes`, () => {
        const dir = workspace({ 'mine.toml': scaled(preset, nodes) });
        const r = planSpec(join(dir, 'mine.toml'));
        expect(errors(r)).toEqual([]);
        if (!r.ok) return;
        const gpuNodes = r.plan.nodes.filter((n) => n.pool === 'default');
        expect(gpuNodes).toHaveLength(nodes);
        const [first, last] = r.plan.roles.trainer.nodes;
        expect(last - first + 1).toBe(nodes / 2);
        expect(r.resolved.spec.trainer.gpus).toBeUndefined();
      });
    }
  }
});

describe('exclusive keys and unset', () => {
  it('a later layer that sets gpus replaces an inherited nodes (and --set does the same)', () => {
    const dir = workspace({ 'mine.toml': 'extends = "i3-mini"\n[cluster]\nnodes = 1\n[trainer]\ngpus = 4\nep = 4\ncp = 1\n[inference]\ngpus = 4\n' });
    const r = planSpec(join(dir, 'mine.toml'));
    expect(r.ok && r.resolved.spec.trainer.nodes).toBeUndefined();
    expect(r.ok && r.resolved.spec.inference.nodes).toBeUndefined();
    const viaSet = planSpec(join(workspace({ 'mine.toml': 'extends = "tiny"\n[cluster]\nnodes = 2\nbackend = "slurm"\n' }), 'mine.toml'), { sets: ['trainer.nodes=1', 'inference.nodes=1'] });
    expect(errors(viaSet)).toEqual([]);
  });

  it('one file that sets both is still RS1003: nothing guesses which one the user meant', () => {
    const dir = workspace({ 'mine.toml': 'extends = "tiny"\n[trainer]\nnodes = 1\ngpus = 1\n' });
    expect(planSpec(join(dir, 'mine.toml')).diagnostics.map((d) => d.code)).toContain('RS1003');
  });

  it('unset = [...] in a file and --unset remove an inherited key; its provenance goes with it', () => {
    const inFile = planSpec(join(workspace({ 'mine.toml': 'extends = "i3-mini"\nunset = ["trainer.ep", "cluster.slurm.exclude"]\n[model]\nname = "Qwen/Qwen3-4B"\n' }), 'mine.toml'));
    expect(inFile.diagnostics.map((d) => d.code)).not.toContain('RS1207');
    expect(inFile.ok && inFile.resolved.spec.trainer.ep).toBe('auto'); // back to the default
    expect(inFile.ok && inFile.resolved.provenance.get('trainer.ep')).toEqual({ source: 'default' });
    const cli = planSpec(join(workspace({ 'mine.toml': 'extends = "i3-mini"\n[model]\nname = "Qwen/Qwen3-4B"\n' }), 'mine.toml'), { unsets: ['trainer.ep'] });
    expect(cli.diagnostics.map((d) => d.code)).not.toContain('RS1207');
    // unset applies before the file's own values and before --set
    const reset = planSpec(join(workspace({ 'mine.toml': 'extends = "tiny"\nunset = ["run.max_steps"]\n[run]\nmax_steps = 7\n' }), 'mine.toml'));
    expect(reset.ok && reset.resolved.spec.run.max_steps).toBe(7);
  });

  it('an unknown or malformed key to unset is RS0107 at its line, with a suggestion', () => {
    const r = planSpec(join(workspace({ 'mine.toml': 'extends = "tiny"\nunset = ["trainer.epp", 3]\n' }), 'mine.toml'));
    const d = r.diagnostics.filter((x) => x.code === 'RS0107');
    expect(d).toHaveLength(1); // the list is not all strings: one diagnostic for the key
    expect(d[0]!.message).toBe('unset must be a list of dotted keys');
    const typo = planSpec(join(workspace({ 'mine.toml': 'extends = "tiny"\nunset = ["trainer.epp"]\n' }), 'mine.toml'));
    const t = typo.diagnostics.find((x) => x.code === 'RS0107')!;
    expect(t).toMatchObject({ message: 'unset trainer.epp: unknown key', line: 2, hint: 'did you mean trainer.ep?' });
    const cli = planSpec(join(workspace({ 'mine.toml': 'extends = "tiny"\n' }), 'mine.toml'), { unsets: ['nope.key'] });
    expect(cli.diagnostics.find((x) => x.code === 'RS0107')).toMatchObject({ file: '--unset', line: 1 });
  });

  it('a problem with a preset value says how to drop it from the user\'s file', () => {
    const file = join(workspace({ 'mine.toml': 'extends = "i3-mini"\n[model]\nname = "Qwen/Qwen3-4B"\n' }), 'mine.toml');
    const ep = planSpec(file).diagnostics.find((d) => d.code === 'RS1207')!;
    expect(ep.related?.[0]?.message).toMatch(/override it in .*mine\.toml \(a value, or unset = \["trainer\.ep"\] to drop it\)$/);
  });
});
