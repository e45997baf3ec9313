/**
 * Slurm-style hostlist expressions: `gpu-[001-064]`, `a[1-3],b7`, `r[1-2]n[01-04]`. Zero padding follows the
 * width of the range's first number, as Slurm does.
 */
export interface HostlistError {
  error: string;
  /** 1-based column in the expression. */
  column: number;
}

const MAX_HOSTS = 100_000;

export function expandHostlist(expression: string): string[] | HostlistError {
  const hosts: string[] = [];
  for (const { text, start } of splitTopLevel(expression)) {
    if (text === '') return { error: 'empty host name', column: start + 1 };
    const expanded = expandOne(text, start);
    if (!Array.isArray(expanded)) return expanded;
    hosts.push(...expanded);
    if (hosts.length > MAX_HOSTS) return { error: `more than ${MAX_HOSTS} hosts`, column: start + 1 };
  }
  return hosts;
}

function splitTopLevel(expression: string): { text: string; start: number }[] {
  const parts: { text: string; start: number }[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i <= expression.length; i++) {
    const ch = expression[i];
    if (ch === '[') depth++;
    else if (ch === ']') depth--;
    if ((ch === ',' && depth === 0) || i === expression.length) {
      parts.push({ text: expression.slice(start, i).trim(), start });
      start = i + 1;
    }
  }
  return parts;
}

function expandOne(text: string, offset: number): string[] | HostlistError {
  const open = text.indexOf('[');
  if (open < 0) {
    if (text.includes(']')) return { error: 'unmatched "]"', column: offset + text.indexOf(']') + 1 };
    if (!/^[A-Za-z0-9._@-]+$/.test(text)) return { error: `"${text}" is not a host name`, column: offset + 1 };
    return [text];
  }
  const close = text.indexOf(']', open);
  if (close < 0) return { error: 'unmatched "["', column: offset + open + 1 };
  const prefix = text.slice(0, open);
  const suffix = text.slice(close + 1);
  const suffixes = suffix === '' ? [''] : expandOne(suffix, offset + close + 1);
  if (!Array.isArray(suffixes)) return suffixes;
  const values: string[] = [];
  for (const range of text.slice(open + 1, close).split(',')) {
    const match = /^(\d+)(?:-(\d+))?$/.exec(range.trim());
    if (!match) return { error: `"${range}" is not a number or a range like 01-16`, column: offset + open + 2 };
    const from = Number(match[1]);
    const to = match[2] === undefined ? from : Number(match[2]);
    if (to < from) return { error: `range ${range} runs backwards`, column: offset + open + 2 };
    if (to - from > MAX_HOSTS) return { error: `range ${range} is too large`, column: offset + open + 2 };
    const width = match[1]!.length;
    for (let n = from; n <= to; n++) values.push(String(n).padStart(width, '0'));
  }
  const hosts: string[] = [];
  for (const value of values) for (const suffix of suffixes) hosts.push(`${prefix}${value}${suffix}`);
  if (prefix !== '' && !/^[A-Za-z0-9._@-]*$/.test(prefix)) return { error: `"${prefix}" is not a host name prefix`, column: offset + 1 };
  return hosts;
}

/** The reverse, for output: consecutive numbers collapse into ranges (`gpu-[001-003,007]`). */
export function compressHostlist(hosts: readonly string[]): string {
  const groups = new Map<string, { width: number; numbers: number[] }>();
  const order: string[] = [];
  const plain: string[] = [];
  for (const host of hosts) {
    const match = /^(.*?)(\d+)$/.exec(host);
    if (!match) {
      plain.push(host);
      continue;
    }
    const key = `${match[1]}\u0000${match[2]!.length}`;
    if (!groups.has(key)) {
      groups.set(key, { width: match[2]!.length, numbers: [] });
      order.push(key);
    }
    groups.get(key)!.numbers.push(Number(match[2]));
  }
  const out = order.map((key) => {
    const { width, numbers } = groups.get(key)!;
    const prefix = key.split('\u0000')[0]!;
    if (numbers.length === 1) return `${prefix}${String(numbers[0]).padStart(width, '0')}`;
    return `${prefix}[${numberRanges(numbers, width)}]`;
  });
  return [...out, ...plain].join(',');
}

/** `[0,1,2,5,7,8]` → `0-2,5,7-8`. */
export function numberRanges(numbers: readonly number[], width = 0): string {
  const sorted = [...numbers].sort((a, b) => a - b);
  const pad = (n: number) => String(n).padStart(width, '0');
  const parts: string[] = [];
  for (let i = 0; i < sorted.length; ) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j]! + 1) j++;
    parts.push(i === j ? pad(sorted[i]!) : `${pad(sorted[i]!)}-${pad(sorted[j]!)}`);
    i = j + 1;
  }
  return parts.join(',');
}
