/**
 * How node.sh takes a signal (issue 11): its traps only note it, and the script acts on it at its next check.
 * A teardown run inside the trap was not safe on bash 5.2, whose command-substitution children can run a
 * trap their parent had pending: one such child ran a teardown of its own and bash aborted ("reader_loop:
 * bad jump"), leaving the node's teardown half done (seen on the Slurm cluster). The race itself is
 * exercised on every back end by the conformance suite's SIGTERM storm; these tests pin the pieces.
 */
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { renderArtifacts } from '../../src/compiler/emit/artifacts.js';
import { presetPath } from '../../src/compiler/load/compose.js';
import { planSpec } from '../../src/compiler/pipeline.js';
import { bashFunctions } from '../helpers.js';

function nodeSh(): string {
  const r = planSpec(presetPath('tiny'));
  if (!r.ok) throw new Error(r.diagnostics.map((d) => d.message).join('\n'));
  return renderArtifacts(r.resolved, r.derived, r.plan).artifacts.find((a) => a.path === 'node.sh')!.content;
}

const NODE_SH = nodeSh();
const TRAPS = NODE_SH.split('\n').filter((line) => /^trap .* (TERM|INT|HUP)$/.test(line));
/** What node.sh sets up before the traps use it. */
const SIGNAL_STATE = NODE_SH.split('\n').filter((line) => /^(PENDING_SIGNAL|SIGNALS_SEEN|TEARING_DOWN)=/.test(line));

function bash(script: string): string {
  return execFileSync('bash', ['-c', `set -uo pipefail\n${script}`], { encoding: 'utf8', env: { PATH: process.env['PATH']! } });
}

describe('node.sh signals', () => {
  it('its traps for TERM, INT and HUP only set variables: no function, no substitution, no exit', () => {
    expect(TRAPS.map((t) => t.split(' ').at(-1)).sort()).toEqual(['HUP', 'INT', 'TERM']);
    for (const trap of TRAPS) {
      const body = /^trap '(.*)' [A-Z]+$/.exec(trap)?.[1] ?? '';
      for (const command of body.split(';')) expect(command.trim(), trap).toMatch(/^[A-Z_]+=(?:[A-Z]+|\$\(\([A-Z_]+ \+ 1\)\))$/);
    }
  });

  it('a signal during the wait for a process does not pass for the process\'s exit code', () => {
    // The process exits 7 after 0.6 s; a TERM cuts the first wait short at 0.2 s (status 143).
    const out = bash(`${SIGNAL_STATE.join('\n')}
${TRAPS.join('\n')}
${bashFunctions(NODE_SH, ['exit_code_of'])}
( sleep 0.6; exit 7 ) &
child=$!
( sleep 0.2; kill -TERM $$ ) &
exit_code_of "$child"
echo "code=$? pending=$PENDING_SIGNAL seen=$SIGNALS_SEEN"`);
    expect(out.trim()).toBe('code=7 pending=TERM seen=1');
  });

  it('acts on a noted signal once: later signals do not restart a teardown under way', () => {
    const out = bash(`${SIGNAL_STATE.join('\n')}
${TRAPS.join('\n')}
on_signal() { echo "teardown for $1"; TEARING_DOWN=1; }
${bashFunctions(NODE_SH, ['take_signal'])}
take_signal; echo "quiet until a signal"
kill -HUP $$; take_signal
kill -TERM $$; take_signal; echo "pending=$PENDING_SIGNAL seen=$SIGNALS_SEEN"`);
    expect(out.trim().split('\n')).toEqual(['quiet until a signal', 'teardown for HUP', 'pending=TERM seen=2']);
  });

  it('every loop that waits checks for a noted signal (supervise, the node barrier, process starts)', () => {
    for (const fn of ['supervise_once', 'barrier', 'start_process']) expect(bashFunctions(NODE_SH, [fn]), fn).toContain('take_signal');
    // the waits for readiness, dependencies and the model download all go through supervise_once
    for (const fn of ['wait_ready', 'wait_for_dependencies', 'fetch_model']) expect(bashFunctions(NODE_SH, [fn]), fn).toContain('supervise_once');
  });
});
