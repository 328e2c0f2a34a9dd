// Make the built CLI executable so `npm install` leaves a runnable `orgloop` bin, and record
// which sources dist/ was built from (see source-digest.mjs).
import { chmodSync, existsSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { DIGEST_FILE, sourceDigest } from './source-digest.mjs';

const root = fileURLToPath(new globalThis.URL('..', import.meta.url));
const bin = new globalThis.URL('../dist/cmd/main.js', import.meta.url);
if (existsSync(bin)) chmodSync(bin, 0o755);
writeFileSync(new globalThis.URL(`../${DIGEST_FILE}`, import.meta.url), sourceDigest(root) + '\n');
