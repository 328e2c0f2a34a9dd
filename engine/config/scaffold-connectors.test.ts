// `init --connectors X` writes a project that loads for every built-in source and actor: fields a
// provider needs beyond its schema's `required` (github's repo, gmail's OAuth client) get
// placeholders too.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { allProviders } from '../../providers/registry.js';
import { resolveConnectors } from '../providers/catalog.js';
import { loadProject } from './load.js';
import { scaffoldProject } from './scaffold.js';

describe('init --connectors', () => {
  const names = [...new Set(allProviders().filter((p) => p.kind === 'source' || p.kind === 'actor').map((p) => p.name))].sort();
  it.each(names)('%s: the scaffold loads (variables unset are warnings only)', async (name) => {
    const dir = mkdtempSync(join(tmpdir(), 'orgloop-scaffold-'));
    scaffoldProject(dir, { connectors: await resolveConnectors(dir, [name]) });
    const project = await loadProject(join(dir, 'orgloop.yaml'), { unsetVars: 'warn' }); // as validate loads it
    expect(project.resources.some((r) => r.provider === name)).toBe(true);
  });
});
