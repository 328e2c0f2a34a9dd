// The pruner on a real SQLite store: an inbox entry past its ttl goes in a round even when its key
// is never written to or drained again (enqueues and drains only expire entries of keys in use).
import { afterEach, describe, expect, it } from 'vitest';
import type { LogEntry } from '../../providers/types.js';
import { openStore } from '../../state/open.js';
import type { Store } from '../../state/store.js';
import { ingestItem, tempStorePath } from '../../state/sqlite/test-helpers/fixtures.js';
import { Pruner } from './retention.js';

const opened: Store[] = [];
afterEach(async () => {
  while (opened.length) await opened.pop()!.close();
});

describe('retention', () => {
  it('prunes inbox entries past their ttl, whatever the event retention, and says so', async () => {
    let now = Date.parse('2026-03-01T00:00:00Z');
    const store = await openStore(tempStorePath(), { clock: () => now });
    opened.push(store);
    const item = ingestItem({ routes: ['r'] });
    const [r] = await store.ingest([{ ...item, leaseTo: { owner: 'ex-1', leaseMs: 60_000 } }]);
    const notify = ingestItem({ source: 'orgloop', dedupe: null, routes: ['r'] });
    const enqueue = { owner: 'ex-1', session_key: 'pr-1', route: 'r', actor: 'agent', route_config: '{}', max_batch: 10, notify };
    await store.inboxEnqueue({ ...enqueue, delivery_id: r!.leased![0]!.id, event_id: r!.event_id, event_json: '{"n":1}', ttl_ms: 60_000 });

    const logs: LogEntry[] = [];
    const pruner = new Pruner({ store, owner: 'ex-1', retentionMs: 30 * 86_400_000, log: (e) => logs.push(e), now: () => now });
    expect(await pruner.prune()).toMatchObject({ inbox: 0 });
    now += 60_000;
    expect(await pruner.prune()).toMatchObject({ inbox: 1, deliveries: 0, events: 0 });
    expect(logs.map((l) => l.message)).toEqual(['retention: pruned 0 deliveries, 0 events, 0 log rows, 0 dedupe keys, 1 expired inbox entries']);
    await pruner.stop();
  });
});
