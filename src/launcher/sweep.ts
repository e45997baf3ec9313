/**
 * What is left of a run on a node, checked on that node itself (never by a process list that sees other
 * nodes): every process whose command line names the run's artifacts or logs (`<run dir>/launcher/`,
 * `<run dir>/logs/`), or that carries the run's RLSTACK_RUN_ID in its environment (node.sh exports it, so
 * every descendant — vLLM or torchrun workers included — inherits it). With `kill`, TERM then KILL them
 * first and report what was there. The script travels on stdin and skips itself.
 */
import { shQuote } from '../runtime/shell.js';

export interface Survivor {
  node: number;
  host: string;
  pid: number;
  args: string;
}

/** Lists (and with `kill`, first TERMs then KILLs) the run's processes on one node; see sweepRun. */
export function sweepScript(runDir: string, runIdValue: string, kill: boolean): string {
  return `RUNDIR=${shQuote(runDir)}
ID=${shQuote(runIdValue)}
self=$$
find_run() {
  local p pid args
  for p in /proc/[0-9]*; do
    pid=\${p#/proc/}
    [[ $pid == "$self" || $pid == "$BASHPID" ]] && continue
    args=$(tr '\\0' ' ' < "$p/cmdline" 2>/dev/null) || continue
    [[ -n $args ]] || continue
    if [[ $args == *"$RUNDIR/launcher/"* || $args == *"$RUNDIR/logs/"* ]] || grep -qzxF "RLSTACK_RUN_ID=$ID" "$p/environ" 2>/dev/null; then
      printf '%s %s\\n' "$pid" "\${args:0:200}"
    fi
  done
}
${kill ? `before=$(find_run)
if [[ -n $before ]]; then
  printf '%s\\n' "$before" | sed 's/^/K /'
  pids=$(cut -d' ' -f1 <<< "$before")
  # shellcheck disable=SC2086
  kill -TERM $pids 2>/dev/null; sleep 2
  # shellcheck disable=SC2086
  kill -KILL $pids 2>/dev/null; sleep 0.5
fi
` : ''}find_run
`;
}

/** The sweep script's output on one node: what it killed (`K pid args`) and what is still there (`pid args`). */
export function parseSweep(output: string, node: number, host: string): { killed: Survivor[]; left: Survivor[] } {
  const killed: Survivor[] = [];
  const left: Survivor[] = [];
  for (const line of output.split('\n')) {
    const k = /^K (\d+) (.*)$/.exec(line);
    const m = /^(\d+) (.*)$/.exec(line);
    if (k) killed.push({ node, host, pid: Number(k[1]), args: k[2]! });
    else if (m) left.push({ node, host, pid: Number(m[1]), args: m[2]! });
  }
  return { killed, left };
}
