/**
 * Host-key verification against OpenSSH known_hosts files: plain names, patterns with `*`/`?` and `!`
 * negation, `[host]:port` for non-22 ports, hashed `|1|salt|hash` entries (HMAC-SHA1 of the name keyed by
 * the salt), `@revoked` markers. An unknown or changed key is never accepted: the caller turns the verdict
 * into an error that says how to accept the key.
 */
import { createHash, createHmac } from 'node:crypto';
import { readSshFile } from './config.js';

export interface KnownHostEntry {
  file: string;
  line: number;
  marker: '' | '@revoked' | '@cert-authority';
  patterns: string;
  keyType: string;
  key: Buffer;
}

export type HostKeyVerdict =
  | { kind: 'match'; entry: KnownHostEntry }
  | { kind: 'unknown' }
  | { kind: 'changed'; entries: KnownHostEntry[] }
  | { kind: 'revoked'; entry: KnownHostEntry };

export function parseKnownHosts(text: string, file: string): KnownHostEntry[] {
  const out: KnownHostEntry[] = [];
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (!line || line.startsWith('#')) return;
    const fields = line.split(/\s+/);
    let marker: KnownHostEntry['marker'] = '';
    if (fields[0] === '@revoked' || fields[0] === '@cert-authority') marker = fields.shift() as KnownHostEntry['marker'];
    const [patterns, keyType, key64] = fields;
    if (!patterns || !keyType || !key64) return;
    out.push({ file, line: i + 1, marker, patterns, keyType, key: Buffer.from(key64, 'base64') });
  });
  return out;
}

/** known_hosts of a large site runs to a few MiB; read bounded all the same (a FIFO or /dev/zero is refused). */
const KNOWN_HOSTS_LIMIT = 64 * 1024 * 1024;

export function readKnownHosts(files: string[]): KnownHostEntry[] {
  return files.flatMap((f) => {
    const text = readSshFile(f, 'known_hosts file', KNOWN_HOSTS_LIMIT);
    return text === undefined ? [] : parseKnownHosts(text, f);
  });
}

/** The name OpenSSH looks up: `host`, or `[host]:port` when the port is not 22. */
export function hostKeyName(host: string, port: number): string {
  return port === 22 ? host : `[${host}]:${port}`;
}

function globToRegExp(glob: string): RegExp {
  return new RegExp(`^${glob.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`, 'i');
}

/** Does the entry's host field name this host? (hashed entries included) */
export function entryMatches(patterns: string, name: string): boolean {
  if (patterns.startsWith('|1|')) {
    const [, , salt64, hash64] = patterns.split('|');
    if (!salt64 || !hash64) return false;
    const digest = createHmac('sha1', Buffer.from(salt64, 'base64')).update(name).digest('base64');
    return digest === hash64;
  }
  let matched = false;
  for (const p of patterns.split(',')) {
    if (p.startsWith('!')) {
      if (globToRegExp(p.slice(1)).test(name)) return false;
    } else if (globToRegExp(p).test(name)) matched = true;
  }
  return matched;
}

/** The key type inside an SSH wire-format public key blob (first length-prefixed string). */
export function keyTypeOf(blob: Buffer): string {
  if (blob.length < 4) return '';
  const n = blob.readUInt32BE(0);
  return blob.subarray(4, 4 + n).toString('latin1');
}

export function fingerprint(blob: Buffer): string {
  return `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`;
}

export function verifyHostKey(entries: KnownHostEntry[], names: string[], key: Buffer): HostKeyVerdict {
  const mine = entries.filter((e) => e.marker !== '@cert-authority' && names.some((n) => entryMatches(e.patterns, n)));
  const revoked = entries.find((e) => e.marker === '@revoked' && e.key.equals(key));
  if (revoked) return { kind: 'revoked', entry: revoked };
  const exact = mine.find((e) => e.marker === '' && e.key.equals(key));
  if (exact) return { kind: 'match', entry: exact };
  // Only a key of the same type counts as "changed" (as OpenSSH: another type may simply not be recorded).
  const type = keyTypeOf(key);
  const sameType = mine.filter((e) => e.marker === '' && e.keyType === type);
  if (sameType.length) return { kind: 'changed', entries: sameType };
  return { kind: 'unknown' };
}

/** The text of the error for a refused key, with the way to accept it. */
export function hostKeyProblem(verdict: Exclude<HostKeyVerdict, { kind: 'match' }>, alias: string, name: string, port: number, key: Buffer, files: string[], jump?: string): { message: string; hint: string } {
  const fp = fingerprint(key);
  const scan = `ssh-keyscan${port === 22 ? '' : ` -p ${port}`} -t ${keyTypeOf(key).replace(/^ssh-/, '')} ${name}`;
  const where = files[0] ?? '~/.ssh/known_hosts';
  const through = jump ? ` (run it on ${jump}, the jump host: the node is reachable only through it)` : '';
  if (verdict.kind === 'revoked') {
    return { message: `host key of ${alias} (${name}) is revoked in ${verdict.entry.file}:${verdict.entry.line} (${fp})`, hint: 'the host presents a key marked @revoked: do not connect; ask the node\'s admin' };
  }
  if (verdict.kind === 'changed') {
    const e = verdict.entries[0]!;
    return {
      message: `host key of ${alias} (${name}) CHANGED: it presents ${keyTypeOf(key)} ${fp}, ${e.file}:${e.line} records ${fingerprint(e.key)}`,
      hint: `if the node was reinstalled, check the new fingerprint out of band, then: ssh-keygen -R ${hostKeyName(name, port)} -f ${e.file} && ${scan} >> ${e.file}${through}`,
    };
  }
  return {
    message: `host key of ${alias} (${name}) is not in ${files.join(', ') || 'any known_hosts file'}: it presents ${keyTypeOf(key)} ${fp}`,
    hint: `check the fingerprint out of band, then accept it: ${scan} >> ${where}${through} (or ssh ${alias} once and answer yes)`,
  };
}
