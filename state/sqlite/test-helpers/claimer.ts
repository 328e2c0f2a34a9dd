// Child process for the cross-process claim test. Opens the store, says "ready" on stderr,
// waits for FILE.go to appear, then claims and completes until nothing has been due for a
// while, and prints the ids it completed as JSON.
// Usage: node --import tsx claimer.ts DB OWNER
import fs from 'node:fs';
import { openStore } from '../../open.js';

const [file, owner] = process.argv.slice(2);
const store = await openStore(file);
process.stderr.write('ready\n');
while (!fs.existsSync(`${file}.go`)) await new Promise((r) => setTimeout(r, 5));
const completed: string[] = [];
let idle = 0;
while (idle < 20) {
  const batch = await store.claim(owner, 7, 60_000);
  if (batch.length === 0) {
    idle++;
    await new Promise((r) => setTimeout(r, 5));
    continue;
  }
  idle = 0;
  const ok = await Promise.all(batch.map((d) => store.complete(d.id, owner)));
  batch.forEach((d, i) => ok[i] && completed.push(d.id));
}
await store.close();
process.stdout.write(JSON.stringify(completed));
