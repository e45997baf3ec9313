/**
 * Launch progress per role until every process is ready. On a terminal: a listr2 list, one task per role
 * (completed when all its processes are ready, failed when one of them fails). Elsewhere (CI logs, pipes):
 * one plain line per change and one when a role is all ready — the lines scripts and the tests read.
 */
import { Listr, ListrLogger, ProcessOutput } from 'listr2';
import type { LaunchPlan } from '../compiler/plan/types.js';

export interface ProcessChange {
  name: string;
  state: string;
  node: number;
  host: string;
  reason?: string;
}

export interface Progress {
  update(change: ProcessChange): void;
  /** Closes the display (a failure fails the roles still open); resolves once it is drawn for good. */
  end(outcome: 'ready' | 'failed', summary?: string): Promise<void>;
}

export interface ProgressOptions {
  tty: boolean;
  /** Plain mode: one line each (without the newline). */
  out: (line: string) => void;
  /** TTY mode: where listr2 draws (process.stdout by default; tests pass a fake terminal). */
  stream?: NodeJS.WriteStream;
}

const DONE = ['ready', 'exited'];

/** The processes of each role, in plan order, and the last change seen of each. */
class Roles {
  readonly names = new Map<string, string[]>();
  private readonly roleOf = new Map<string, string>();
  private readonly last = new Map<string, ProcessChange>();
  private readonly order: string[] = [];

  constructor(plan: LaunchPlan) {
    for (const p of plan.processes) {
      this.roleOf.set(p.name, p.role);
      this.names.set(p.role, [...(this.names.get(p.role) ?? []), p.name]);
    }
  }

  /** Records a change; returns the role of a planned process. */
  record(change: ProcessChange): string | undefined {
    this.last.set(change.name, change);
    this.order.splice(0, this.order.length, ...this.order.filter((n) => n !== change.name), change.name);
    return this.roleOf.get(change.name);
  }

  ready(role: string): number {
    return this.names.get(role)!.filter((n) => DONE.includes(this.last.get(n)?.state ?? '')).length;
  }

  complete(role: string): boolean {
    return this.ready(role) === this.names.get(role)!.length;
  }

  /** The process of the role that changed last and is not ready yet. */
  pending(role: string): ProcessChange | undefined {
    for (let i = this.order.length - 1; i >= 0; i--) {
      const last = this.last.get(this.order[i]!)!;
      if (this.roleOf.get(last.name) === role && !DONE.includes(last.state)) return last;
    }
    return undefined;
  }
}

const where = (c: ProcessChange) => `node ${c.node}, ${c.host}`;

export function startProgress(plan: LaunchPlan, options: ProgressOptions): Progress {
  const roles = new Roles(plan);
  // A terminal that reports no width (a pty nobody sized) would get one character per line from listr2.
  const sized = (options.stream ?? process.stdout).columns !== 0;
  return options.tty && sized ? terminal(roles, options.stream) : plain(roles, options.out);
}

function plain(roles: Roles, out: (line: string) => void): Progress {
  const announced = new Set<string>();
  return {
    update(change) {
      out(`  ${change.state.padEnd(8)} ${change.name} (${where(change)})${change.reason ? `: ${change.reason}` : ''}`);
      const role = roles.record(change);
      if (role === undefined || announced.has(role) || !roles.complete(role)) return;
      announced.add(role);
      out(`  ${role}: all ${roles.names.get(role)!.length} ready`);
    },
    end: async () => {},
  };
}

interface RoleTask {
  /** Set once the role is settled: null when completed, the error when failed. */
  result?: Error | null;
  /** Set once listr2 runs the task (it may run after the first updates, or after end). */
  retitle?: (title: string) => void;
  settle?: (error: Error | null) => void;
}

function terminal(roles: Roles, stream: NodeJS.WriteStream | undefined): Progress {
  const width = Math.max(...[...roles.names.keys()].map((r) => r.length));
  const open = new Map<string, RoleTask>([...roles.names.keys()].map((role) => [role, {}]));
  const counts = (role: string) => `${role.padEnd(width)}  ${roles.ready(role)}/${roles.names.get(role)!.length} ready`;
  const title = (role: string) => {
    const pending = roles.pending(role);
    return pending ? `${counts(role)} · ${pending.state} ${pending.name} (${pending.host})` : counts(role);
  };
  /** Completes the role's task, or fails it: listr2 then shows the error in place of the title. */
  const settle = (role: string, why?: string) => {
    const t = open.get(role)!;
    if (t.result !== undefined) return;
    t.result = why === undefined ? null : new Error(`${counts(role)} · ${why}`);
    t.settle?.(t.result);
  };
  const list = new Listr<unknown, 'default', 'simple'>(
    [...open].map(([role, t]) => ({
      title: title(role),
      task: (_ctx, task) =>
        new Promise<void>((resolve, reject) => {
          t.retitle = (text) => (task.title = text);
          task.title = title(role);
          t.settle = (error) => (error ? reject(error) : resolve());
          if (t.result !== undefined) t.settle(t.result);
        }),
    })),
    {
      concurrent: true,
      exitOnError: false,
      // The launcher's own SIGINT handler tears down what was started; listr2 must not exit the process.
      registerSignalListeners: false,
      rendererOptions: stream ? { logger: new ListrLogger({ processOutput: new ProcessOutput(stream, stream) }) } : {},
    },
  );
  const drawn = list.run().then(
    () => undefined,
    () => undefined,
  );
  return {
    update(change) {
      const role = roles.record(change);
      const t = role === undefined ? undefined : open.get(role);
      if (!role || !t || t.result !== undefined) return;
      t.retitle?.(title(role));
      if (change.state === 'failed') settle(role, `${change.name} failed (${where(change)})${change.reason ? `: ${change.reason}` : ''}`);
      else if (roles.complete(role)) settle(role);
    },
    async end(outcome, summary) {
      for (const role of open.keys()) settle(role, outcome === 'failed' ? (summary ?? 'the launch failed') : undefined);
      await drawn;
    },
  };
}
