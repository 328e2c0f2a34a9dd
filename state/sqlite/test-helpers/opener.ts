// Child process for the concurrent-migration test: opens (creating and migrating) the store
// and prints its lineage.
import { openStore } from '../../open.js';

const store = await openStore(process.argv[2]);
process.stdout.write((await store.meta()).lineage);
await store.close();
