// The digest of what `npm run build` compiles: every non-test .ts file under the build's roots,
// plus the tsconfig files. postbuild writes it into dist/; the test setup compares it, so tests
// that run the built CLI never run code older than the sources.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';

const ROOTS = ['cmd', 'engine', 'providers', 'state', 'web'];
const CONFIGS = ['tsconfig.json', 'tsconfig.build.json', 'web/tsconfig.json'];
export const DIGEST_FILE = 'dist/.source-digest';

function walk(dir, out) {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) {
      if (e.name !== 'test-helpers' && e.name !== 'node_modules') walk(p, out);
    } else if (/\.(ts|html|css)$/.test(e.name) && !e.name.endsWith('.test.ts')) out.push(p);
  }
  return out;
}

export function sourceDigest(root) {
  const files = [...ROOTS.flatMap((r) => walk(join(root, r), [])), ...CONFIGS.map((c) => join(root, c))].sort();
  const h = createHash('sha256');
  for (const f of files) h.update(relative(root, f)).update('\0').update(readFileSync(f)).update('\0');
  return h.digest('hex');
}
