/**
 * Key paths name a value in the spec: `trainer.ep`, `environments[0].name`, `env."A.B"`. The same text is
 * used in diagnostics, provenance, `explain` and `--set`.
 */
export type KeyPart = string | number;

const BARE_KEY = /^[A-Za-z0-9_-]+$/;

export function joinPath(parts: readonly KeyPart[]): string {
  let out = '';
  for (const part of parts) {
    if (typeof part === 'number') out += `[${part}]`;
    else {
      const key = BARE_KEY.test(part) ? part : JSON.stringify(part);
      out += out ? `.${key}` : key;
    }
  }
  return out;
}

/** Parses `a.b[0]."c.d"`; returns undefined when the text is not a key path. */
export function splitPath(text: string): KeyPart[] | undefined {
  const parts: KeyPart[] = [];
  let i = 0;
  const expectKey = () => {
    if (text[i] === '"') {
      const end = text.indexOf('"', i + 1);
      if (end < 0) return false;
      parts.push(text.slice(i + 1, end));
      i = end + 1;
      return true;
    }
    const match = /^[A-Za-z0-9_-]+/.exec(text.slice(i));
    if (!match) return false;
    parts.push(match[0]);
    i += match[0].length;
    return true;
  };
  if (!expectKey()) return undefined;
  while (i < text.length) {
    if (text[i] === '.') {
      i++;
      if (!expectKey()) return undefined;
    } else if (text[i] === '[') {
      const match = /^\[(\d+)\]/.exec(text.slice(i));
      if (!match) return undefined;
      parts.push(Number(match[1]));
      i += match[0].length;
    } else return undefined;
  }
  return parts;
}

export function isPlainTable(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Date);
}
