// End-to-end tests (cmd/*.test.ts, test/**) run the built CLI in dist/. So that `npx vitest` never
// tests stale code, dist/ is rebuilt first when it was not built from the sources as they are now
// (npm test builds before running, so there this finds dist/ current and costs ~10 ms).
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DIGEST_FILE, sourceDigest } from '../scripts/source-digest.mjs';

export default function setup(): void {
  const root = join(import.meta.dirname, '..');
  const file = join(root, DIGEST_FILE);
  const built = existsSync(file) ? readFileSync(file, 'utf8').trim() : null;
  if (built === sourceDigest(root)) return;
  process.stderr.write(`${built ? 'dist/ is older than the sources' : 'dist/ has not been built'}: running npm run build first\n`);
  const r = spawnSync('npm', ['run', 'build', '--silent'], { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) throw new Error('npm run build failed: the end-to-end tests would run stale code in dist/, so none run');
}
