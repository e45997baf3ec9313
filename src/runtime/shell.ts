/**
 * The one quoting helper: every value that reaches a shell goes through `shQuote` (POSIX single quotes;
 * NUL is refused because no shell word can hold it). `shWord` renders a plan word for bash, expanding only
 * the runtime references node.sh defines (docs/runtime.md) and quoting everything else literally.
 */
import { RUNTIME_REFERENCE } from './components/common.js';

export function shQuote(value: string): string {
  if (value.includes('\0')) throw new Error('a shell word cannot contain a NUL byte');
  if (value !== '' && /^[A-Za-z0-9_@%+=:./-]+$/.test(value)) return value;
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/** Runtime variables node.sh sets; a reference to anything else is a bug in the plan. */
export const RUNTIME_VARIABLES = new Set(['RLSTACK_ARTIFACTS', 'RLSTACK_LOG_DIR', 'RLSTACK_RUN_ID', 'RLSTACK_RUN_DIR', 'RLSTACK_RENDERED', 'RLSTACK_HOST', 'RLSTACK_ADDR']);

/** Indexed runtime references and the bash array node.sh fills for each. */
const INDEXED: Readonly<Record<string, string>> = { RLSTACK_HOST: 'RLSTACK_HOSTS', RLSTACK_ADDR: 'RLSTACK_ADDRS' };

/** A plan word as one bash word: literal text single-quoted, `${RLSTACK_X}`, `${RLSTACK_HOST:N}` and `${RLSTACK_ADDR:N}` expanded. */
export function shWord(word: string): string {
  const parts: string[] = [];
  let last = 0;
  for (const match of word.matchAll(RUNTIME_REFERENCE)) {
    const [text, name, index] = match;
    if (!RUNTIME_VARIABLES.has(name!) || (index !== undefined) !== (name! in INDEXED)) throw new Error(`unknown runtime reference ${text}`);
    if (match.index! > last) parts.push(shQuote(word.slice(last, match.index)));
    parts.push(index !== undefined ? `"\${${INDEXED[name!]}[${Number(index)}]}"` : `"\${${name}}"`);
    last = match.index! + text.length;
  }
  if (last < word.length || parts.length === 0) parts.push(shQuote(word.slice(last)));
  return parts.join('');
}

/** A line that puts `path` first on PATH (empty when there are none): remote commands' cluster.ssh.path. */
export function pathPrefix(path: string[]): string {
  return path.length ? `export PATH=${path.map(shQuote).join(':')}:"$PATH"\n` : '';
}
