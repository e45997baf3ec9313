/**
 * Writes compiled artifacts into a folder (`compile -o DIR`, a run dir's `launcher/`), atomically and only
 * over what rlstack wrote: the files go into a sibling folder first, which then replaces the target by
 * rename. A target that is not empty must be an earlier compile — its manifest.json lists every file in
 * it (no symbolic links, nothing else) — or it is refused and left untouched.
 */
import { chmodSync, existsSync, lstatSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { Artifact } from '../compiler/emit/artifacts.js';
import { fileTree } from '../file-tree.js';
import { readBounded, RunDirError } from './run-dir.js';

/** Why `outDir` may not be written over, or undefined when it is missing, empty or an earlier compile. */
export function foreignContent(outDir: string): string | undefined {
  if (!existsSync(outDir)) return undefined;
  if (!lstatSync(outDir).isDirectory()) return `${outDir} is not a folder`;
  const { files, others } = fileTree(outDir);
  if (others[0]) return `${outDir} holds something rlstack did not write: ${join(outDir, others[0].path)} is ${others[0].kind === 'symbolic link' ? 'a symbolic link' : 'not a regular file'}`;
  if (files.length === 0) return undefined;
  const manifestPath = join(outDir, 'manifest.json');
  if (!files.includes('manifest.json')) return `${outDir} is not empty and was not written by rlstack compile (no manifest.json)`;
  let listed: Set<string>;
  try {
    const manifest = JSON.parse(readBounded(manifestPath, 16 << 20)) as { rlstack_version?: unknown; files?: { path?: unknown; sha256?: unknown }[] };
    if (typeof manifest.rlstack_version !== 'string' || !Array.isArray(manifest.files) || !manifest.files.every((f) => typeof f.path === 'string' && typeof f.sha256 === 'string')) throw new Error('shape');
    listed = new Set(manifest.files.map((f) => f.path as string));
  } catch (e) {
    return e instanceof RunDirError ? e.message : `${manifestPath} is not an rlstack manifest`;
  }
  const other = files.find((f) => f !== 'manifest.json' && !listed.has(f));
  return other ? `${outDir} holds ${other}, which its manifest does not list (not rlstack's)` : undefined;
}

/** Writes the artifacts (see above). Returns why it refused; throws RunDirError when the file system fails. */
export function writeArtifacts(outDir: string, artifacts: readonly Artifact[]): string | undefined {
  const refusal = foreignContent(outDir);
  if (refusal) return refusal;
  const parent = dirname(outDir);
  const staged = join(parent, `.${basename(outDir)}.rlstack-new-${process.pid}`);
  const previous = join(parent, `.${basename(outDir)}.rlstack-old-${process.pid}`);
  const fsStep = <T>(path: string, what: string, step: () => T): T => {
    try {
      return step();
    } catch (e) {
      rmSync(staged, { recursive: true, force: true });
      throw new RunDirError(path, `${what} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
    }
  };
  fsStep(parent, 'cannot be created', () => mkdirSync(parent, { recursive: true }));
  rmSync(staged, { recursive: true, force: true });
  // Tests widen the window in which a signal can arrive mid-write (test/cli/interrupt.test.ts).
  const pauseMs = Number(process.env['RLSTACK_TEST_WRITE_PAUSE_MS'] ?? 0);
  for (const artifact of artifacts) {
    if (pauseMs > 0) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, pauseMs);
    const target = join(staged, artifact.path);
    fsStep(target, 'cannot be written', () => {
      mkdirSync(dirname(target), { recursive: true });
      writeFileSync(target, artifact.content, { mode: artifact.mode });
      chmodSync(target, artifact.mode);
    });
  }
  const existed = existsSync(outDir);
  if (existed) fsStep(outDir, 'cannot be replaced', () => renameSync(outDir, previous));
  try {
    renameSync(staged, outDir);
  } catch (e) {
    if (existed) renameSync(previous, outDir);
    rmSync(staged, { recursive: true, force: true });
    throw new RunDirError(outDir, `cannot be replaced (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  if (existed) rmSync(previous, { recursive: true, force: true });
  return undefined;
}
