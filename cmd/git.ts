// The git commit a version is applied from: read here, in cmd/, from the project directory and
// handed to the engine, which stores it with the version (`orgloop history` shows it).

import { execFileSync } from 'node:child_process';
import { dirname, resolve } from 'node:path';
import type { VersionGit } from '../state/config-plane.js';

function git(dir: string, args: string[]): string {
  return execFileSync('git', ['-C', dir, ...args], { stdio: ['ignore', 'pipe', 'ignore'], timeout: 5_000, encoding: 'utf8' });
}

/**
 * HEAD of the git work tree the project file is in, and whether the project directory has
 * uncommitted changes (the state directory `.orgloop` aside). Null outside a work tree, without
 * git, or before the first commit.
 */
export function projectGit(configFile: string): VersionGit | null {
  const dir = dirname(resolve(configFile));
  try {
    const commit = git(dir, ['rev-parse', '--verify', '--quiet', 'HEAD']).trim();
    if (!/^[0-9a-f]{40,64}$/.test(commit)) return null;
    const status = git(dir, ['status', '--porcelain', '--', '.', ':(exclude).orgloop']);
    return { commit, dirty: status.trim().length > 0 };
  } catch {
    return null;
  }
}
