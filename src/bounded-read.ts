/**
 * Reading a user-named file without trusting it: at most `limit` bytes whatever its size claims (/dev/zero
 * and /proc files report 0), and only a regular file (a FIFO or a device would block or never end). The
 * file is opened non-blocking, so opening a FIFO with no writer returns at once; its type is then checked on
 * the open descriptor (no race between a stat and the read).
 */
import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';

export type BoundedRead =
  | { ok: true; bytes: Buffer }
  | { ok: false; reason: 'missing' | 'directory' | 'not-regular' | 'too-large' | 'unreadable'; message: string };

/** `message` completes "<file> …": "does not exist", "is a FIFO, not a regular file", … */
export function readBoundedFile(path: string, limit: number): BoundedRead {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return { ok: false, reason: 'missing', message: 'does not exist' };
    if (code === 'EISDIR') return { ok: false, reason: 'directory', message: 'is a directory, not a file' };
    return { ok: false, reason: 'unreadable', message: `cannot be read (${code ?? (e as Error).message})` };
  }
  try {
    const stat = fstatSync(fd);
    if (stat.isDirectory()) return { ok: false, reason: 'directory', message: 'is a directory, not a file' };
    if (!stat.isFile()) return { ok: false, reason: 'not-regular', message: `is ${kindOf(stat)}, not a regular file` };
    if (stat.size > limit) return { ok: false, reason: 'too-large', message: `is ${stat.size} bytes; at most ${describeBytes(limit)} is read` };
    // One byte more than the limit tells "exactly at the limit" from "beyond it".
    const buffer = Buffer.alloc(limit + 1);
    let length = 0;
    for (;;) {
      let n: number;
      try {
        n = readSync(fd, buffer, length, buffer.length - length, null);
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        return { ok: false, reason: 'unreadable', message: `cannot be read (${code ?? (e as Error).message})` };
      }
      if (n === 0) break;
      length += n;
      if (length > limit) return { ok: false, reason: 'too-large', message: `is larger than ${describeBytes(limit)} (its size claimed ${stat.size} bytes)` };
    }
    return { ok: true, bytes: buffer.subarray(0, length) };
  } finally {
    closeSync(fd);
  }
}

/** What a file that is not a regular file is: "a FIFO (named pipe)", "a character device", … */
export function kindOf(stat: import('node:fs').Stats): string {
  if (stat.isFIFO()) return 'a FIFO (named pipe)';
  if (stat.isCharacterDevice()) return 'a character device';
  if (stat.isBlockDevice()) return 'a block device';
  if (stat.isSocket()) return 'a socket';
  return 'a special file';
}

export function describeBytes(n: number): string {
  if (n % (1024 * 1024) === 0) return `${n / (1024 * 1024)} MiB`;
  if (n % 1024 === 0) return `${n / 1024} KiB`;
  return `${n} bytes`;
}
