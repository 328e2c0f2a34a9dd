// Scenario 9: model-based tests of the runtime plane against the real SQLite store.
//
// The delivery state machine (claim, complete, fail -> retry | dead, lease expiry, extension,
// release, cancel, redrive, fencing by owner) already has a fast-check model test shared by both
// backends: state/test-helpers/delivery-model.ts, run by state/sqlite/deliveries.model.test.ts.
// It is run here too, with other seeds, so the reliability suite names and exercises it.
// This file extends it to what that model does not cover: the intake side — webhook dedupe
// (source + dedupe_key), poll leases with fencing terms, and polled batches committed together
// with their cursor — checked against a plain in-memory model after every step.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { openStore } from '../../state/open.js';
import type { Store } from '../../state/store.js';
import { describeDeliveryModel } from '../../state/test-helpers/delivery-model.js';
import { ingestItem, tempStorePath } from '../../state/sqlite/test-helpers/fixtures.js';

describeDeliveryModel({ name: 'sqlite (reliability run)', newLocation: async () => tempStorePath() }, 100);

const SOURCES = ['hook', 'poller'] as const;
const HOLDERS = ['X', 'Y'] as const;
const TTL = 1000;
const LEASE = 'source:poller';

interface Model {
  now: number;
  /** `${source}\u0000${key}` -> deliveries made for it */
  events: Map<string, number>;
  cursor: string | null;
  lease: { holder: string; term: number; expires: number } | null;
  /** the term each holder last obtained (what it would fence its commit with) */
  terms: Map<string, number | null>;
  cursorSeq: number;
}
interface Real {
  store: Store;
  clock: { now: number };
}

async function check(m: Model, r: Real): Promise<void> {
  const events = await r.store.events({});
  expect(events.length).toBe(m.events.size);
  for (const e of events) expect(m.events.has(`${e.source}\u0000${e.dedupe_key}`)).toBe(true);
  const deliveries = await r.store.deliveries({});
  expect(deliveries.length).toBe([...m.events.values()].reduce((a, b) => a + b, 0));
  // every delivery belongs to a stored event: an event and its deliveries are written together
  const ids = new Set(events.map((e) => e.id));
  for (const d of deliveries) expect(ids.has(d.event_id)).toBe(true);
  expect((await r.store.cursor('poller'))?.cursor ?? null).toBe(m.cursor);
}

type Cmd = fc.AsyncCommand<Model, Real>;

class Ingest implements Cmd {
  constructor(
    readonly source: string,
    readonly key: string,
    readonly routes: number,
  ) {}
  check = () => true;
  async run(m: Model, r: Real) {
    const k = `${this.source}\u0000${this.key}`;
    const dup = m.events.has(k);
    const [res] = await r.store.ingest([ingestItem({ source: this.source, dedupe: this.key, routes: Array.from({ length: this.routes }, (_, i) => `r${i}`) })]);
    expect(res!.inserted).toBe(!dup);
    if (!dup) m.events.set(k, this.routes);
    await check(m, r);
  }
  toString = () => `ingest(${this.source}, ${this.key}, ${this.routes})`;
}

class Acquire implements Cmd {
  constructor(readonly holder: string) {}
  check = () => true;
  async run(m: Model, r: Real) {
    const l = m.lease;
    let want: number | null;
    if (!l) want = 1;
    else if (l.expires > m.now && l.holder !== this.holder) want = null;
    else want = l.expires > m.now ? l.term : l.term + 1;
    expect(await r.store.acquireLease(LEASE, this.holder, TTL)).toBe(want);
    if (want !== null) m.lease = { holder: this.holder, term: want, expires: m.now + TTL };
    m.terms.set(this.holder, want);
    await check(m, r);
  }
  toString = () => `acquire(${this.holder})`;
}

class Release implements Cmd {
  constructor(readonly holder: string) {}
  check = () => true;
  async run(m: Model, r: Real) {
    await r.store.releaseLease(LEASE, this.holder);
    if (m.lease && m.lease.holder === this.holder) m.lease.expires = 0;
    await check(m, r);
  }
  toString = () => `release(${this.holder})`;
}

class CommitPoll implements Cmd {
  constructor(
    readonly holder: string,
    readonly keys: string[],
  ) {}
  check = () => true;
  async run(m: Model, r: Real) {
    const term = m.terms.get(this.holder) ?? 0;
    const cursor = `c${++m.cursorSeq}`;
    const ok = !!m.lease && m.lease.term === term && m.lease.expires > m.now;
    const items = this.keys.map((k) => ingestItem({ source: 'poller', dedupe: k, routes: ['r0'] }));
    const res = await r.store.commitPoll('poller', term, cursor, null, items);
    expect(res.ok).toBe(ok);
    if (ok) {
      m.cursor = cursor;
      // duplicates inside one batch or across polls (overlapping windows) dedupe to one event
      this.keys.forEach((k, i) => {
        const key = `poller\u0000${k}`;
        expect(res.results[i]!.inserted).toBe(!m.events.has(key));
        if (!m.events.has(key)) m.events.set(key, 1);
      });
    } else {
      // a fenced-out poller writes nothing: neither its cursor nor its events
      expect(res.results).toEqual([]);
    }
    await check(m, r);
  }
  toString = () => `commitPoll(${this.holder}, [${this.keys.join(',')}])`;
}

class Tick implements Cmd {
  constructor(readonly ms: number) {}
  check = () => true;
  async run(m: Model, r: Real) {
    m.now += this.ms;
    r.clock.now = m.now;
    await check(m, r);
  }
  toString = () => `tick(${this.ms})`;
}

const key = fc.constantFrom('k1', 'k2', 'k3', 'k4', 'k5', 'k6');
const holder = fc.constantFrom(...HOLDERS);
const commands = [
  fc.tuple(fc.constantFrom(...SOURCES), key, fc.integer({ min: 0, max: 2 })).map(([s, k, n]) => new Ingest(s, k, n)),
  holder.map((h) => new Acquire(h)),
  holder.map((h) => new Release(h)),
  fc.tuple(holder, fc.array(key, { maxLength: 4 })).map(([h, ks]) => new CommitPoll(h, ks)),
  fc.oneof(fc.integer({ min: 1, max: 700 }), fc.constant(TTL), fc.constant(TTL - 1)).map((ms) => new Tick(ms)),
];

describe('reliability: intake model (scenario 9, extension)', () => {
  it('dedupe, poll leases and cursor-with-events commits match the model after every step', async () => {
    await fc.assert(
      fc.asyncProperty(fc.commands(commands, { maxCommands: 50 }), async (cmds) => {
        const clock = { now: 5_000_000 };
        const store = await openStore(tempStorePath(), { clock: () => clock.now });
        try {
          await fc.asyncModelRun(
            () => ({
              model: { now: clock.now, events: new Map(), cursor: null, lease: null, terms: new Map(), cursorSeq: 0 },
              real: { store, clock },
            }),
            cmds,
          );
        } finally {
          await store.close();
        }
      }),
      { numRuns: 150 },
    );
  }, 120_000);
});
