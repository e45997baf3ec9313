import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { rlstack, workspace } from '../helpers.js';

const ROOT = new URL('../..', import.meta.url).pathname;
const BIN = join(ROOT, 'bin', 'rlstack.js');


describe('rlstack plan', () => {
  it('prints the 64-node placement of intellect3 and exits 0', () => {
    const r = rlstack(['plan', 'presets/intellect3.toml']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('nodes 0-47 (48)');
    expect(r.stdout).toContain('nodes 48-63 (16)');
    expect(r.stdout).toMatch(/49-63 \(15\)\s+TTTTTTTT\s+trainer/);
    expect(r.stdout).toMatch(/cpu 0-28 \(29\)\s+-\s+env_server\+sandboxes/);
    expect(r.stdout).toMatch(/trainer GPU\s+48\.\d \/ 139\.8 GiB/);
    expect(r.stdout).not.toMatch(/\u001b\[/); // NO_COLOR: no escape codes
  });

  it('--json has the SPEC §4 fields', () => {
    const r = rlstack(['plan', 'presets/intellect3.toml', '--json']);
    expect(r.code).toBe(0);
    const plan = JSON.parse(r.stdout);
    expect(plan.run).toEqual({ name: 'intellect3', dir: '/shared/runs/intellect3', max_steps: 10000 });
    expect(plan.cluster).toMatchObject({ nodes: 64, gpus_per_node: 8, gpu: { id: 'h200', memory_gib: 139.8 } });
    expect(plan.nodes).toHaveLength(64 + 30); // 64 GPU nodes and the 30-node CPU pool of the sandbox fleet
    expect(plan.nodes[0]).toMatchObject({ index: 0, pool: 'default', host: null, roles: ['inference', 'router'], processes: ['inference-0', 'router'] });
    expect(plan.nodes[0].gpus[3]).toEqual({ index: 3, role: 'inference', process: 'inference-0' });
    for (const key of ['name', 'role', 'node', 'gpus', 'ports', 'after', 'ready']) expect(plan.processes[0]).toHaveProperty(key);
    expect(plan.roles.trainer).toMatchObject({ nodes: [48, 63], gpus: 128, dp_replicate: 2, dp_shard: 32, ep: 8, cp: 2 });
    expect(plan.roles.inference).toMatchObject({ nodes: [0, 47], gpus: 384, replicas: 48, tp: 8, engines_per_node: 1 });
    expect(plan.roles.orchestrator).toMatchObject({ node: 48 });
    expect(plan.memory.trainer).toMatchObject({ capacity_gib: 139.8 });
    for (const key of ['peak_gib', 'host_gib']) expect(plan.memory.trainer[key]).toBeGreaterThan(0);
    for (const key of ['params', 'grads', 'optimizer', 'activations', 'logits', 'buffers']) expect(plan.memory.trainer.breakdown_gib).toHaveProperty(key);
    for (const key of ['weights_gib', 'kv_cache_gib', 'kv_tokens_per_replica', 'full_length_seqs_per_replica', 'inflight_per_replica']) expect(plan.memory.inference).toHaveProperty(key);
    for (const key of ['run_dir_gib', 'checkpoint_gib']) expect(plan.memory.disk).toHaveProperty(key);
    expect(plan.roles.sandboxes).toHaveProperty('slots');
    expect(plan.roles.sandboxes).toHaveProperty('demand');
    expect(Array.isArray(plan.diagnostics)).toBe(true);
  });

  it('exits 1 with located diagnostics on a bad spec, and --json reports them', () => {
    const dir = workspace({ 'bad.toml': 'extends = "intellect3"\n\n[trainer]\nep = 12\n' });
    const human = rlstack(['plan', 'bad.toml'], dir);
    expect(human.code).toBe(1);
    expect(human.stderr).toContain('bad.toml:4:6 error RS1203 trainer.ep = 12 does not divide the 128 experts of glm4_moe-106b-a12b');
    expect(human.stderr).toContain('  4 | ep = 12');
    expect(human.stderr).toContain('hint: valid values: 1, 2, 4, 8, 16, 32, 64');
    // one mistake, one diagnostic: both constraints it breaks in one message (was RS1203 and RS1204 apart)
    expect(human.stderr).toContain('RS1203 trainer.ep = 12 does not divide the 128 experts of glm4_moe-106b-a12b, and does not divide dp_shard × cp = 32 × 2 = 64');
    expect(human.stderr).not.toContain('RS1204');
    expect(human.stderr).toMatch(/\n1 error\n?$/);
    const json = JSON.parse(rlstack(['plan', 'bad.toml', '--json'], dir).stdout);
    expect(json.ok).toBe(false);
    expect(json.diagnostics[0]).toMatchObject({ code: 'RS1203', severity: 'error', path: 'trainer.ep', file: 'bad.toml', line: 4, column: 6 });
  });

  it('applies --set overrides and shows them in diagnostics', () => {
    const r = rlstack(['plan', 'presets/tiny.toml', '--set', 'orchestrator.group_size=3']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('error RS1401 orchestrator.batch_size = 128 is not a multiple of group_size = 3');
  });

  it('exits 2 on usage errors', () => {
    expect(rlstack(['plna', 'x']).code).toBe(2);
    expect(rlstack(['plan']).code).toBe(2);
    expect(rlstack(['plan', 'presets/tiny.toml', '--bogus']).code).toBe(2);
  });
});

describe('other commands', () => {
  it('explain: value and origin; derived values say how', () => {
    const r = rlstack(['explain', 'presets/intellect3.toml', 'trainer.cp']);
    expect(r.code).toBe(0);
    const line = readFileSync(join(ROOT, 'presets', 'intellect3.toml'), 'utf8').split('\n').findIndex((l) => l.startsWith('cp = 2')) + 1;
    expect(r.stdout).toContain(`trainer.cp = 2\n  from: presets/intellect3.toml:${line}:6`);
    const auto = rlstack(['explain', 'presets/i3-mini.toml', 'trainer.dp_replicate']);
    expect(auto.stdout).toContain('from: default');
    const derived = rlstack(['explain', 'presets/tiny.toml', 'orchestrator.max_tokens']);
    expect(derived.stdout).toContain('from: presets/tiny.toml');
    const json = JSON.parse(rlstack(['explain', 'presets/i3-mini.toml', 'inference.gpus', '--json']).stdout);
    expect(json).toMatchObject({ ok: true, diagnostics: [], key: 'inference.gpus' });
    expect(json.values[0]).toMatchObject({ key: 'inference.gpus', value: null });
    const bad = rlstack(['explain', 'presets/tiny.toml', 'trainr.ep']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('did you mean trainer.ep?');
  });

  it('schema prints the committed JSON Schema', () => {
    const r = rlstack(['schema']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual(JSON.parse(readFileSync(join(ROOT, 'schema', 'rlstack.schema.json'), 'utf8')));
  });

  it('presets lists every preset with its summary', () => {
    const r = rlstack(['presets']);
    expect(r.code).toBe(0);
    for (const name of ['intellect3', 'i3-mini', 'single-node', 'tiny']) expect(r.stdout).toMatch(new RegExp(`^${name}\\s+\\S`, 'm'));
  });

  it('init writes a starter spec that plans, and refuses to overwrite', () => {
    const dir = workspace({});
    const r = rlstack(['init', '--preset', 'tiny', 'mine.toml'], dir);
    expect(r.code).toBe(0);
    expect(existsSync(join(dir, 'mine.toml'))).toBe(true);
    expect(readFileSync(join(dir, 'mine.toml'), 'utf8')).toContain('extends = "tiny"');
    expect(rlstack(['plan', 'mine.toml'], dir).code).toBe(0);
    writeFileSync(join(dir, 'mine.toml'), 'keep me');
    const again = rlstack(['init', '--preset', 'tiny', 'mine.toml'], dir);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('RS0005');
    expect(readFileSync(join(dir, 'mine.toml'), 'utf8')).toBe('keep me');
    const unknown = rlstack(['init', '--preset', 'tinny', 'x.toml'], dir);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('did you mean "tiny"?');
  });
});

describe('launch-time problems with the spec point at the key', () => {
  it('a secret missing from the environment: RS4001 at its line, exit 1, nothing written', () => {
    const dir = workspace({ 'run.toml': 'extends = "tiny"\n\n[secrets]\nWANDB_API_KEY = ["trainer"]\n' });
    const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1' };
    delete env['WANDB_API_KEY'];
    const r = spawnSync(process.execPath, [BIN, 'launch', 'run.toml'], { cwd: dir, encoding: 'utf8', env });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/run\.toml:4:\d+ error RS4001 secret WANDB_API_KEY is not set in the launcher's environment/);
    expect(r.stderr).toContain('hint: export WANDB_API_KEY=');
    expect(existsSync(join(dir, 'runs'))).toBe(false);
  });

  it('an inventory that does not match the plan is refused by the checks, before any node is contacted', () => {
    const dir = workspace({ 'run.toml': 'extends = "tiny"\n[cluster]\nbackend = "ssh"\n[cluster.ssh]\nhosts = []\n' });
    for (const command of ['launch', 'preflight']) {
      const r = rlstack([command, 'run.toml'], dir);
      expect(r.code, r.stderr).toBe(1);
      expect(r.stderr).toMatch(/run\.toml:5:9 error RS1005 the ssh backend needs the hosts of the default pool/);
      expect(r.stdout).not.toContain('preflight on');
    }
  });

  it('preflight of a spec that does not use SSH: RS4108 at cluster.backend', () => {
    const dir = workspace({ 'run.toml': 'extends = "tiny"\n[cluster]\nbackend = "slurm"\n' });
    const r = rlstack(['preflight', 'run.toml'], dir);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/run\.toml:3:11 error RS4108 preflight checks nodes over SSH; this spec's cluster.backend is "slurm"/);
  });

  it('a ProxyJump cycle in the ssh config is RS4109 naming the loop, not a stack overflow (issue 11)', () => {
    const dir = workspace({
      'ssh_config': 'Host node*\n  ProxyJump gw1\nHost gw1\n  ProxyJump gw2\nHost gw2\n  ProxyJump gw1\n',
      'run.toml': `extends = "tiny"\n[run]\nprime_rl_dir = "/opt/prime-rl"\n[cluster]\nbackend = "ssh"\n[cluster.ssh]\nhosts = ["node1"]\nconfig = "ssh_config"\nconnect_timeout_s = 2\n`,
    });
    const r = rlstack(['preflight', 'run.toml'], dir);
    expect(r.stderr).toMatch(/^ssh_config:6:1 error RS4109 ProxyJump cycle reaching node1: node1 → gw1 → gw2 → gw1/m);
    expect(r.stderr).toContain('hint: a jump host is reached through its own ProxyJump: end the chain (ProxyJump none for gw2)');
    expect(r.stderr).not.toMatch(/RangeError|call stack|RS9001|\n\s+at /);
    expect(r.code).not.toBe(0);
    expect(r.stdout).not.toContain('preflight on');
  });

  it('cluster.ssh.config = "/dev/zero" is RS4110, read no further (issue 11)', () => {
    const dir = workspace({ 'run.toml': `extends = "tiny"\n[run]\nprime_rl_dir = "/opt/prime-rl"\n[cluster]\nbackend = "ssh"\n[cluster.ssh]\nhosts = ["node1"]\nconfig = "/dev/zero"\n` });
    const r = rlstack(['preflight', 'run.toml'], dir);
    expect(r.stderr).toMatch(/^\/dev\/zero error RS4110 client config \(cluster\.ssh\.config\) \/dev\/zero is a character device/m);
    expect(r.code).not.toBe(0);
  });
});

describe('presets by name (issue 13)', () => {
  it('rlstack plan NAME plans the preset from any folder; a file of that name here wins', () => {
    const dir = workspace({});
    const byName = rlstack(['plan', 'i3-mini'], dir);
    expect(byName.code, byName.stderr).toBe(0);
    expect(byName.stdout).toContain('run i3-mini (');
    const own = workspace({ 'i3-mini': 'extends = "tiny"\n[run]\nname = "mine"\n' });
    expect(rlstack(['plan', 'i3-mini'], own).stdout).toContain('run mine (');
    expect(rlstack(['plan', 'i3-mini-typo'], dir).stderr).toContain('RS0001');
  });

  it('init writes a #:schema line that reaches this rlstack\'s schema', () => {
    const dir = workspace({});
    expect(rlstack(['init', 'a.toml', '--preset', 'tiny'], dir).code).toBe(0);
    const url = readFileSync(join(dir, 'a.toml'), 'utf8').split('\n')[0]!.replace('#:schema ', '');
    expect(url).toBe(`file://${join(ROOT, 'schema', 'rlstack.schema.json')}`);
  });
});

describe('in a pipeline (issue 13)', () => {
  it('a reader that goes away ends the command quietly with its own exit code', () => {
    const piped = (args: string) => spawnSync('bash', ['-c', `node ${BIN} ${args} 2>err.txt | head -1 > /dev/null; echo "\${PIPESTATUS[0]}"; cat err.txt`], { cwd: workspace({}), encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
    const diff = piped(`diff ${join(ROOT, 'presets/tiny.toml')} ${join(ROOT, 'presets/single-node.toml')}`);
    expect(diff.stdout.split('\n')[0]).toBe('4');
    expect(diff.stdout).not.toMatch(/EPIPE|\n\s+at /);
    const plan = piped(`plan ${join(ROOT, 'presets/intellect3.toml')} --json`);
    expect(plan.stdout.split('\n')[0]).toBe('0');
    expect(plan.stdout).not.toMatch(/EPIPE|\n\s+at /);
  });
});
