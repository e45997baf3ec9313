/** The local back end: the real node.sh on this machine with the stand-ins (single-node presets). */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { hasJsonType, JSON_VIEWS } from '../../src/cli/json-views.js';
import { useFreshCluster } from './cluster-setup.js';
import { processesMentioning, rlstack, statusJson, waitFor, workspaceOnShared, writeSpec, type FakePrimeRl } from './harness.js';

let primeRl: FakePrimeRl;
let runs: string;
let specs: string;

useFreshCluster();

beforeAll(() => {
  ({ primeRl, runs, specs } = workspaceOnShared('local'));
});

function tinySpec(name: string, extra = ''): string {
  return writeSpec(
    specs,
    name,
    `extends = "tiny"
[run]
name = "${name}"
output_dir = "${runs}"
prime_rl_dir = "${primeRl.dir}"
prime_rl_revision = "${primeRl.revision}"
prime_rl_map = "559b447"
ready_timeout_s = 60
[ports]
base = 20000
${extra}`,
  );
}

describe('local back end', () => {
  it('runs the tiny preset to completion on this machine', async () => {
    const r = await rlstack(['launch', tinySpec('done')], { primeRl });
    expect(r.code, r.stderr).toBe(0);
    const runDir = join(runs, 'done');
    await waitFor('completion', () => existsSync(join(runDir, 'orchestrator.done')), 60_000);
    await waitFor('the run to be marked completed', async () => (await statusJson(runDir, primeRl)).json.run?.state === 'completed', 30_000);
    await waitFor('nothing left', () => processesMentioning(runDir).length === 0, 30_000);
    // `logs` shows each node line once (node.sh's stream copy is not a .log)
    const logs = await rlstack(['logs', runDir], { primeRl });
    expect(logs.code).toBe(0);
    const nodeLines = logs.stdout.split('\n').filter((l) => / node 000 \(localhost\): /.test(l)).map((l) => l.replace(/^\[[^\]]+\] /, ''));
    expect(nodeLines.length).toBeGreaterThan(5);
    expect(new Set(nodeLines).size).toBe(nodeLines.length);
  });

  it('a crashing engine fails the launch with exit 3, names it, and leaves nothing', async () => {
    const spec = tinySpec('crash', `[env]\nRLSTACK_STANDIN_FAIL = "inference:*:1"\n`);
    const r = await rlstack(['launch', spec], { primeRl });
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/RS4006 the run did not start: inference-0 on node 000/);
    const runDir = join(runs, 'crash');
    const { json } = await statusJson(runDir, primeRl);
    expect(json.run?.first_failure).toBe('inference-0');
    await waitFor('nothing left', () => processesMentioning(runDir).length === 0, 30_000);
  });

  it('refuses to launch into a run dir that already holds a run, unless resuming', async () => {
    const again = await rlstack(['launch', tinySpec('done')], { primeRl });
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('RS4002');
  });

  it('a resume shows what changed and refuses a change prime-rl cannot resume from', async () => {
    const spec = tinySpec('done');
    const refused = await rlstack(['launch', spec, '--set', 'run.resume=true', '--set', 'trainer.optimizer.type="muon"'], { primeRl });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('RS4009');
    expect(refused.stdout).toMatch(/~ .*optim/);
    const resumed = await rlstack(['launch', spec, '--set', 'run.resume=true', '--set', 'run.max_steps=30'], { primeRl });
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stdout).toContain('attempt 2');
    await waitFor('nothing left', () => processesMentioning(join(runs, 'done')).length === 0, 60_000);
  });

  it('stop leaves nothing running', async () => {
    const spec = tinySpec('stop', `[env]\nRLSTACK_STANDIN_STEP_SECONDS = "1"\n`).toString();
    const r = await rlstack(['launch', spec, '--set', 'run.max_steps=100'], { primeRl });
    expect(r.code, r.stderr).toBe(0);
    const runDir = join(runs, 'stop');
    const stop = await rlstack(['stop', runDir], { primeRl });
    expect(stop.code, stop.stderr).toBe(0);
    const { json } = await statusJson(runDir, primeRl);
    expect(json.run?.state).toBe('stopped');
    expect(processesMentioning(runDir)).toEqual([]);
  });

  it('launch DIR starts a compiled folder as compiled: the run completes, status and logs take the folder too', async () => {
    const spec = tinySpec('bundle');
    const bundle = join(specs, 'bundle-out');
    const compiled = await rlstack(['compile', spec, '-o', bundle], { primeRl });
    expect(compiled.code, compiled.stderr).toBe(0);
    const r = await rlstack(['launch', bundle], { primeRl });
    expect(r.code, r.stderr + r.stdout).toBe(0);
    expect(r.stdout).toContain(`(starting ${bundle} as compiled)`);
    const runDir = join(runs, 'bundle');
    await waitFor('the run to be marked completed', async () => (await statusJson(bundle, primeRl)).json.run?.state === 'completed', 60_000);
    // node.sh ran from the folder, in the spec's run dir; the run dir keeps a copy as the record.
    const logs = await rlstack(['logs', bundle, '--role', 'trainer'], { primeRl });
    expect(logs.stdout).toContain(`${bundle}/configs/trainer.toml`);
    expect(existsSync(join(runDir, 'launcher', 'manifest.json'))).toBe(true);
    await waitFor('nothing left', () => processesMentioning(runDir).length === 0 && processesMentioning(bundle).length === 0, 30_000);
  });

  it('--json: launch and logs write JSON lines ending in their envelope; status and stop one envelope each', async () => {
    const spec = tinySpec('json', `[env]\nRLSTACK_STANDIN_STEP_SECONDS = "1"\n`).toString();
    const runDir = join(runs, 'json');
    const launch = await rlstack(['launch', spec, '--set', 'run.max_steps=100', '--json'], { primeRl });
    expect(launch.code, launch.stderr).toBe(0);
    const events = launch.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>); // every line is JSON
    expect(events.at(-1)).toMatchObject({ type: 'result', ok: true, exit_code: 0, run_dir: runDir, backend: 'local', outcome: 'ready', attempt: 1 });
    expect(events.filter((e) => e['type'] === 'process' && e['state'] === 'ready').map((e) => e['name'])).toEqual(expect.arrayContaining(['inference-0', 'orchestrator', 'trainer-0']));
    expectView('launch', events.at(-1)!);
    const status = await rlstack(['status', runDir, '--json'], { primeRl });
    const envelope = JSON.parse(status.stdout) as Record<string, unknown>;
    expect(envelope).toMatchObject({ ok: true, diagnostics: [], run_dir: runDir, attempt: 1 });
    expectView('status', envelope);
    const logs = await rlstack(['logs', runDir, '--json', '--role', 'trainer'], { primeRl });
    const logLines = logs.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(logLines.filter((e) => e['type'] === 'log').every((e) => e['source'] === 'trainer-0')).toBe(true);
    expect(logLines.some((e) => e['type'] === 'log')).toBe(true);
    expect(logLines.at(-1)).toMatchObject({ type: 'result', ok: true });
    const stop = await rlstack(['stop', runDir, '--json'], { primeRl });
    expect(stop.code, stop.stderr).toBe(0);
    const stopped = JSON.parse(stop.stdout) as Record<string, unknown>; // nothing but the envelope on stdout
    expect(stopped).toMatchObject({ ok: true, run_dir: runDir, stopped: true, backend: 'local' });
    expectView('stop', stopped);
    expect(processesMentioning(runDir)).toEqual([]);
  });
});

/** The envelope carries every field docs/json-output.md promises (src/cli/json-views.ts), with its type. */
function expectView(command: string, envelope: Record<string, unknown>): void {
  for (const [field, type] of Object.entries(JSON_VIEWS[command]!.fields)) expect(hasJsonType(envelope[field], type), `${command}: ${field} should be ${type}`).toBe(true);
}
