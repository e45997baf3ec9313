import { execFileSync } from 'node:child_process';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fileTree } from '../../src/file-tree.js';
import { tempDirs } from '../helpers.js';

const tempDir = tempDirs('rlstack-tree-');

describe('fileTree: what a compiled folder holds', () => {
  it('lists regular files by relative path at any depth; links and FIFOs apart, never followed', () => {
    const root = tempDir();
    const elsewhere = tempDir();
    writeFileSync(join(elsewhere, 'secret.txt'), 'x');
    mkdirSync(join(root, 'configs', 'envs'), { recursive: true });
    writeFileSync(join(root, 'plan.json'), '{}');
    writeFileSync(join(root, 'configs', 'envs', 'math.toml'), '');
    symlinkSync(elsewhere, join(root, 'configs', 'link'));
    execFileSync('mkfifo', [join(root, 'pipe')]);
    const tree = fileTree(root);
    expect(tree.files.sort()).toEqual(['configs/envs/math.toml', 'plan.json']);
    expect(tree.others.sort((a, b) => (a.path < b.path ? -1 : 1))).toEqual([
      { path: 'configs/link', kind: 'symbolic link' },
      { path: 'pipe', kind: 'not a regular file' },
    ]);
  });

  it('an empty folder holds nothing', () => {
    expect(fileTree(tempDir())).toEqual({ files: [], others: [] });
  });
});
