/**
 * How node.sh takes a signal (issue 11). The shell the back end knows only receives signals and writes them
 * down; the node's runtime (the same file, run a second time) ignores TERM/INT/HUP and so never runs a trap,
 * and acts on the written signal at its next check. A teardown run from a trap was not safe on bash 5.2,
 * which aborted ("reader_loop: bad jump") when a trap ran inside one of the runtime's command substitutions
 * (seen on the Slurm cluster, and reproduced by the conformance suite's SIGTERM storm on every back end).
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { renderArtifacts } from '../../src/compiler/emit/artifacts.js';
import { presetPath } from '../../src/compiler/load/compose.js';
import { planSpec } from '../../src/compiler/pipeline.js';
import { bashFunctions, tempDirs } from '../helpers.js';

const tempDir = tempDirs('rlstack-signals-');

function nodeSh(): string {
  const r = planSpec(presetPath('tiny'));
  if (!r.ok) throw new Error(r.diagnostics.map((d) => d.message).join('\n'));
  return renderArtifacts(r.resolved, r.derived, r.plan).artifacts.find((a) => a.path === 'node.sh')!.content;
}

const NODE_SH = nodeSh();
/** The receiver: node.sh from its first line to the end of the `if` that runs only in the first shell. */
const RECEIVER = NODE_SH.slice(0, NODE_SH.indexOf('\nfi\n', NODE_SH.indexOf('if [[ -z ${RLS_SIGNAL_FILE:-} ]]')) + 4);
/** What the runtime does right after it: ignore the signals the receiver takes. */
const RUNTIME_START = NODE_SH.slice(RECEIVER.length).split('\n')[0]!;

/**
 * node.sh's receiver in front of a stand-in runtime that, like node.sh's, polls the signal file once every
 * 0.2 s in a loop full of command substitutions, then "tears down" and exits with the code of on_signal.
 */
function script(runtimeBody: string): string {
  const dir = tempDir();
  const path = join(dir, 'node.sh');
  writeFileSync(path, `${RECEIVER}${RUNTIME_START}\n${runtimeBody}\n`);
  return path;
}

function run(path: string, tmp: string, signals: { count: number; afterMs: number }): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn('bash', [path], { env: { PATH: process.env['PATH']!, TMPDIR: tmp } });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    setTimeout(async () => {
      for (let i = 0; i < signals.count; i++) {
        child.kill('SIGTERM');
        await new Promise((r) => setTimeout(r, 3 + (i % 7)));
      }
    }, signals.afterMs);
    child.on('exit', (code) => resolve({ code, out }));
  });
}

describe('node.sh signals', () => {
  it('only the receiver traps signals; its traps only set a variable; the runtime ignores TERM, INT and HUP', () => {
    const traps = NODE_SH.split('\n').filter((l) => /^\s*trap /.test(l));
    const receiverTraps = RECEIVER.split('\n').filter((l) => /^\s*trap /.test(l));
    for (const t of receiverTraps) expect(t.trim()).toMatch(/^trap '(received=[A-Z]+|)' [A-Z]+$/);
    expect(RUNTIME_START).toBe("trap '' TERM INT HUP");
    // after the receiver, a trap either ignores or restores the default — never a handler that runs code
    for (const t of traps.filter((l) => !receiverTraps.includes(l))) expect(t.trim()).toMatch(/^(\(?trap (''|-) [A-Z ]+;?|trap '' [A-Z ]+)/);
  });

  it('a storm of SIGTERMs: the runtime is told once, tears down, and the receiver exits with its code', async () => {
    const tmp = tempDir();
    const path = script(`
take_signal() { [[ -s $RLS_SIGNAL_FILE ]] && { read -r s < "$RLS_SIGNAL_FILE"; echo "runtime: $s"; sleep 0.3; exit 143; }; return 0; }
echo "runtime: pid $$, receiver $RLS_SIGNAL_RECEIVER"
while :; do x=$(echo a); y=$(printf '%s' "$(echo "$x")"); take_signal; sleep 0.2; done`);
    const r = await run(path, tmp, { count: 40, afterMs: 400 });
    expect(r.out).toMatch(/^runtime: pid \d+, receiver \d+\nruntime: TERM\n$/);
    expect(r.code).toBe(143);
    // the receiver removed its file
    expect(readdirSync(tmp).filter((f) => f.startsWith('rlstack-node-signal'))).toEqual([]);
  });

  it("the runtime's own end passes through, signals or not", async () => {
    const tmp = tempDir();
    const path = script('sleep 0.5; exit 7');
    expect((await run(path, tmp, { count: 0, afterMs: 0 })).code).toBe(7);
    // signals while it runs are written down, not acted on by the receiver (this runtime never reads them)
    expect((await run(path, tmp, { count: 20, afterMs: 100 })).code).toBe(7);
  });

  it('the runtime acts on a written signal once, and stops by itself when the receiver was killed', () => {
    const fns = bashFunctions(NODE_SH, ['take_signal']);
    const dir = tempDir();
    const bash = (body: string) =>
      spawnSync('bash', ['-c', `set -uo pipefail\nTEARING_DOWN=0 NODE_ID=000 HOST=h\nrun_state() { echo running; }\nmark_run() { echo "mark $1: $2"; }\non_signal() { echo "teardown for $1"; TEARING_DOWN=1; }\nteardown() { echo "teardown $1: $2"; TEARING_DOWN=1; }\n${fns}\n${body}`], {
        encoding: 'utf8',
        env: { PATH: process.env['PATH']!, RLS_SIGNAL_FILE: join(dir, 'signal'), RLS_SIGNAL_RECEIVER: String(process.pid) },
      }).stdout;
    writeFileSync(join(dir, 'signal'), '');
    expect(bash('take_signal; echo quiet')).toBe('quiet\n');
    writeFileSync(join(dir, 'signal'), 'HUP\n');
    expect(bash('take_signal; take_signal; echo done')).toBe('teardown for HUP\ndone\n');
    // anything else in the file is taken as TERM: its text would end up in run.json
    writeFileSync(join(dir, 'signal'), 'x", "state": "completed\n');
    expect(bash('take_signal')).toBe('teardown for TERM\n');
    // a receiver pid that no longer exists
    const gone = spawnSync('bash', ['-c', 'echo $$'], { encoding: 'utf8' }).stdout.trim();
    writeFileSync(join(dir, 'signal'), '');
    const out = spawnSync('bash', ['-c', `set -uo pipefail\nTEARING_DOWN=0 NODE_ID=000 HOST=h\nrun_state() { echo running; }\nmark_run() { echo "mark $1: $2"; }\nteardown() { echo "teardown $1: $2"; TEARING_DOWN=1; }\n${fns}\ntake_signal`], {
      encoding: 'utf8',
      env: { PATH: process.env['PATH']!, RLS_SIGNAL_FILE: join(dir, 'signal'), RLS_SIGNAL_RECEIVER: gone },
    }).stdout;
    expect(out).toBe(`mark failed: node.sh (pid ${gone}) on node 000 (h) was killed\nteardown 137: node.sh (pid ${gone}) was killed\n`);
    expect(existsSync(join(dir, 'signal'))).toBe(true);
  });

  it('every loop that waits checks for a written signal (supervise, the node barrier, process starts)', () => {
    for (const fn of ['supervise_once', 'barrier', 'start_process']) expect(bashFunctions(NODE_SH, [fn]), fn).toContain('take_signal');
    for (const fn of ['wait_ready', 'wait_for_dependencies', 'fetch_model']) expect(bashFunctions(NODE_SH, [fn]), fn).toContain('supervise_once');
  });

  it('what the runtime starts gets TERM and HUP back (processes, the guard, the model download)', () => {
    expect(bashFunctions(NODE_SH, ['start_process'])).toMatch(/\(\n\s+#[^\n]*\n\s+trap - TERM HUP\n/);
    expect(bashFunctions(NODE_SH, ['start_guard'])).toContain('(trap - TERM HUP; exec setsid bash -c "$GUARD_SCRIPT"');
    expect(bashFunctions(NODE_SH, ['fetch_model'])).toContain('(trap - TERM HUP; cd "$PRIME_RL_DIR"');
  });
});
