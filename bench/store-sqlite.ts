// Measures the SQLite store's hot paths with synchronous=FULL on a real file:
//   ingest  — 10,000 events (one delivery each) in batches of 64, one ingest() per batch
//   claim+complete — workers claim 64 at a time and complete each delivery individually
//                    (as the executor does); the store group-commits the completions
// Run: npx tsx bench/store-sqlite.ts   (prints JSON)
// BENCH_STATE=postgres://... measures the Postgres backend instead (use a ?schema=NAME of its own).

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { openStore } from '../state/open.js';
import type { IngestItem } from '../state/store.js';

const EVENTS = Number(process.env.BENCH_EVENTS ?? 10_000);
const BATCH = 64;

function item(i: number): IngestItem {
  const id = randomUUID();
  return {
    event: {
      id,
      source: 'github',
      type: 'resource.changed',
      dedupe_key: `delivery-${i}`,
      event_json: JSON.stringify({ id, type: 'resource.changed', payload: { n: i, title: 'x'.repeat(200) } }),
      trace_id: randomUUID(),
      parent_id: null,
      hops: 0,
      received_at: new Date().toISOString(),
    },
    deliveries: [{ id: randomUUID(), route: 'pr-review', actor: 'engineering-agent', state_serial: 1 }],
  };
}

async function main(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'orgloop-bench-'));
  const location = process.env.BENCH_STATE ?? path.join(dir, 'state.db');
  const store = await openStore(location);

  const items = Array.from({ length: EVENTS }, (_, i) => item(i));
  let t0 = performance.now();
  for (let i = 0; i < items.length; i += BATCH) await store.ingest(items.slice(i, i + BATCH));
  const ingestMs = performance.now() - t0;

  // concurrent ingest calls of single events: the batcher group-commits them
  const singles = Array.from({ length: EVENTS }, (_, i) => item(EVENTS + i));
  t0 = performance.now();
  for (let i = 0; i < singles.length; i += 256) await Promise.all(singles.slice(i, i + 256).map((it) => store.ingest([it])));
  const ingestSinglesMs = performance.now() - t0;

  t0 = performance.now();
  let done = 0;
  for (;;) {
    const claimed = await store.claim('bench', BATCH, 30_000);
    if (claimed.length === 0) break;
    const ok = await Promise.all(claimed.map((d) => store.complete(d.id, 'bench')));
    done += ok.filter(Boolean).length;
  }
  const claimCompleteMs = performance.now() - t0;

  // one-at-a-time completion (no group commit possible): shows the fsync cost per transaction
  const few = Array.from({ length: 500 }, (_, i) => item(3 * EVENTS + i));
  await store.ingest(few);
  const claimed = await store.claim('bench', 500, 30_000);
  t0 = performance.now();
  for (const d of claimed) await store.complete(d.id, 'bench');
  const serialCompleteMs = performance.now() - t0;

  await store.close();
  fs.rmSync(dir, { recursive: true, force: true });
  const rate = (n: number, ms: number) => Math.round((n / ms) * 1000);
  console.log(
    JSON.stringify(
      {
        backend: store.kind,
        ingest_batches_of_64: { events: EVENTS, ms: Math.round(ingestMs), events_per_s: rate(EVENTS, ingestMs) },
        ingest_single_concurrent_256: { events: EVENTS, ms: Math.round(ingestSinglesMs), events_per_s: rate(EVENTS, ingestSinglesMs) },
        claim64_complete_each: { deliveries: done, ms: Math.round(claimCompleteMs), per_s: rate(done, claimCompleteMs) },
        complete_one_at_a_time: { deliveries: claimed.length, ms: Math.round(serialCompleteMs), per_s: rate(claimed.length, serialCompleteMs) },
      },
      null,
      2,
    ),
  );
}

await main();
