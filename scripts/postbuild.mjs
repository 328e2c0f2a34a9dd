// Make the built CLI executable so `npm install` leaves a runnable `orgloop` bin.
import { chmodSync, existsSync } from 'node:fs';

const bin = new globalThis.URL('../dist/cmd/main.js', import.meta.url);
if (existsSync(bin)) chmodSync(bin, 0o755);
