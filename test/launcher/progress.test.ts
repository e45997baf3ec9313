import { Writable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { LaunchPlan } from '../../src/compiler/plan/types.js';
import { startProgress, type ProcessChange } from '../../src/launcher/progress.js';

/** Two inference engines, a router and a trainer: enough for roles that complete at different times. */
const plan = {
  processes: [
    { name: 'inference-0', role: 'inference' },
    { name: 'inference-1', role: 'inference' },
    { name: 'router', role: 'router' },
    { name: 'trainer-0', role: 'trainer' },
  ],
} as unknown as LaunchPlan;

const change = (name: string, state: string, reason = ''): ProcessChange => ({ name, state, node: name === 'trainer-0' ? 1 : 0, host: name === 'trainer-0' ? 'node02' : 'node01', reason });

describe('plain progress', () => {
  it('prints the state lines and each role line once, when its last process is ready or exited', async () => {
    const lines: string[] = [];
    const progress = startProgress(plan, { tty: false, out: (l) => lines.push(l) });
    for (const c of [
      change('inference-0', 'starting'),
      change('router', 'starting'),
      change('inference-0', 'ready'),
      change('router', 'ready'),
      change('inference-1', 'starting', 'waiting for GPUs'),
      change('inference-1', 'ready'),
      change('trainer-0', 'starting'),
      change('trainer-0', 'exited'),
      change('router', 'starting'),
      change('router', 'ready'),
    ])
      progress.update(c);
    await progress.end('ready');
    expect(lines).toEqual([
      '  starting inference-0 (node 0, node01)',
      '  starting router (node 0, node01)',
      '  ready    inference-0 (node 0, node01)',
      '  ready    router (node 0, node01)',
      '  router: all 1 ready',
      '  starting inference-1 (node 0, node01): waiting for GPUs',
      '  ready    inference-1 (node 0, node01)',
      '  inference: all 2 ready',
      '  starting trainer-0 (node 1, node02)',
      '  exited   trainer-0 (node 1, node02)',
      '  trainer: all 1 ready',
      '  starting router (node 0, node01)',
      '  ready    router (node 0, node01)',
    ]);
  });

  it('prints nothing at the end: the launcher reports the outcome', async () => {
    const lines: string[] = [];
    const progress = startProgress(plan, { tty: false, out: (l) => lines.push(l) });
    progress.update(change('inference-0', 'failed', 'exit 1'));
    await progress.end('failed', 'inference-0 failed');
    expect(lines).toEqual(['  failed   inference-0 (node 0, node01): exit 1']);
  });

  it('is plain on a terminal that reports no width (listr2 would draw one character per line)', async () => {
    const lines: string[] = [];
    const stream = Object.assign(new Writable(), { isTTY: true, columns: 0 }) as unknown as NodeJS.WriteStream;
    const progress = startProgress(plan, { tty: true, out: (l) => lines.push(l), stream });
    progress.update(change('router', 'ready'));
    await progress.end('ready');
    expect(lines).toEqual(['  ready    router (node 0, node01)', '  router: all 1 ready']);
  });
});

describe('terminal progress (listr2)', () => {
  // listr2 picks its default renderer only when process.stdout is a TTY; it draws on the fake terminal below.
  let wasTTY: boolean | undefined;
  beforeEach(() => {
    wasTTY = process.stdout.isTTY;
    process.stdout.isTTY = true;
  });
  afterEach(() => {
    process.stdout.isTTY = wasTTY as boolean;
  });

  function fakeTerminal(): { stream: NodeJS.WriteStream; text(): string } {
    let written = '';
    const stream = new Writable({
      write(chunk: Buffer, _enc, done) {
        written += chunk.toString();
        done();
      },
    }) as unknown as NodeJS.WriteStream;
    Object.assign(stream, { isTTY: true, columns: 120, rows: 40 });
    // eslint-disable-next-line no-control-regex
    return { stream, text: () => written.replace(/\u001b\[[0-9;?]*[A-Za-z]/g, '') };
  }

  /** The final drawing: what listr2 leaves on the screen after end(). */
  const finalLines = (text: string) => text.split('\n').map((l) => l.trimEnd()).filter(Boolean).slice(-3);

  it('completes every role when all its processes are ready', async () => {
    const term = fakeTerminal();
    const progress = startProgress(plan, { tty: true, out: () => expect.fail('no plain lines on a terminal'), stream: term.stream });
    progress.update(change('inference-0', 'starting'));
    progress.update(change('inference-1', 'starting'));
    await new Promise((r) => setTimeout(r, 250));
    expect(term.text()).toContain('inference  0/2 ready · starting inference-1 (node01)');
    for (const name of ['inference-0', 'inference-1', 'router', 'trainer-0']) progress.update(change(name, 'ready'));
    await progress.end('ready');
    expect(finalLines(term.text())).toEqual(['✔ inference  2/2 ready', '✔ router     1/1 ready', '✔ trainer    1/1 ready']);
  });

  it('fails the role of a failed process with its node, host and reason, and the open roles at end', async () => {
    const term = fakeTerminal();
    const progress = startProgress(plan, { tty: true, out: () => undefined, stream: term.stream });
    progress.update(change('router', 'ready'));
    progress.update(change('inference-0', 'ready'));
    progress.update(change('inference-1', 'failed', 'exit 1'));
    await progress.end('failed', 'the run failed');
    expect(finalLines(term.text())).toEqual([
      '✖ inference  1/2 ready · inference-1 failed (node 0, node01): exit 1',
      '✔ router     1/1 ready',
      '✖ trainer    0/1 ready · the run failed',
    ]);
  });

  it('end() before any update resolves, for ready and for failed', async () => {
    for (const outcome of ['ready', 'failed'] as const) {
      const term = fakeTerminal();
      const progress = startProgress(plan, { tty: true, out: () => undefined, stream: term.stream });
      await progress.end(outcome, 'interrupted');
      const want = { ready: ['✔ inference  0/2 ready', '✔ router     0/1 ready', '✔ trainer    0/1 ready'], failed: ['✖ inference  0/2 ready · interrupted', '✖ router     0/1 ready · interrupted', '✖ trainer    0/1 ready · interrupted'] };
      expect(finalLines(term.text())).toEqual(want[outcome]);
    }
  });

  it('does not take over SIGINT (the launcher tears down on Ctrl-C)', async () => {
    const before = process.listenerCount('SIGINT');
    const progress = startProgress(plan, { tty: true, out: () => undefined, stream: fakeTerminal().stream });
    expect(process.listenerCount('SIGINT')).toBe(before);
    await progress.end('ready');
  });
});
