/**
 * What a folder holds, for the commands that judge a compiled folder by its files (compile over an earlier
 * compile, launch DIR, diff of folders): regular files and everything else, as '/'-separated paths relative
 * to the folder. Symbolic links are listed, never followed.
 */
import { readdirSync } from 'node:fs';
import { join, relative } from 'node:path';

export interface FileTree {
  files: string[];
  /** symbolic links, FIFOs, sockets, devices */
  others: { path: string; kind: 'symbolic link' | 'not a regular file' }[];
}

export function fileTree(root: string, dir = root, tree: FileTree = { files: [], others: [] }): FileTree {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = join(dir, entry.name);
    const path = relative(root, full).split('\\').join('/');
    if (entry.isDirectory()) fileTree(root, full, tree);
    else if (entry.isFile()) tree.files.push(path);
    else tree.others.push({ path, kind: entry.isSymbolicLink() ? 'symbolic link' : 'not a regular file' });
  }
  return tree;
}
