import { existsSync, mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openStore } from '../../state/open.js';
import { writePlanFile } from '../plan/planfile.js';
import { diffSnapshots } from '../plan/diff.js';

const mode = (f: string) => statSync(f).mode & 0o777;

describe('state files are readable by their owner only', () => {
  it('a new SQLite store, its -wal and -shm, and its directory', async () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'orgloop-perm-')), '.orgloop');
    const file = join(dir, 'state.db');
    const store = await openStore(file);
    try {
      await store.meta();
      expect(mode(dir)).toBe(0o700);
      for (const f of [file, `${file}-wal`, `${file}-shm`]) {
        expect(existsSync(f), f).toBe(true);
        expect(mode(f), f).toBe(0o600);
      }
    } finally {
      await store.close();
    }
  });

  it('a saved plan file', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'orgloop-perm-')), 'plan.json');
    writePlanFile(file, diffSnapshots(null, { format_version: 1, project: { name: 'p', dir: '/p' }, resources: {} }, () => null));
    expect(mode(file)).toBe(0o600);
  });
});
