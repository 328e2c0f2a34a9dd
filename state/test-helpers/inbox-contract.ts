// Inbox batching's store operations (state/inbox.ts), the same on both backends: fenced
// enqueue, one outstanding notification per key, two-step drains that lose nothing when killed
// between the steps, TTL expiry, and re-notification after a drain.

import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { openStore } from '../open.js';
import type { InboxEnqueue, IngestItem, Store } from '../store.js';
import { ingestItem } from '../sqlite/test-helpers/fixtures.js';
import type { Backend } from './contract.js';

export function describeInboxContract(backend: Backend): void {
  const opened: Store[] = [];
  let now = Date.parse('2026-03-01T00:00:00Z');
  async function open(): Promise<Store> {
    const s = await openStore(await backend.newLocation(), { clock: () => now });
    opened.push(s);
    return s;
  }
  afterEach(async () => {
    while (opened.length) await opened.pop()!.close();
  });

  /** an event with one delivery of route `r` leased to `owner`, as a worker holds it */
  async function leased(s: Store, owner = 'ex-1'): Promise<{ delivery: string; event: string }> {
    const item = ingestItem({ routes: ['r'] });
    const [r] = await s.ingest([{ ...item, leaseTo: { owner, leaseMs: 60_000 } }]);
    return { delivery: r!.leased![0]!.id, event: r!.event_id };
  }

  const notification = (): IngestItem => ({ ...ingestItem({ source: 'orgloop', dedupe: null, routes: ['r'] }) });

  function entry(key: string, d: { delivery: string; event: string }, n: number, owner = 'ex-1'): InboxEnqueue {
    return {
      delivery_id: d.delivery,
      owner,
      session_key: key,
      route: 'r',
      actor: 'agent',
      event_id: d.event,
      event_json: JSON.stringify({ n }),
      ttl_ms: 3_600_000,
      route_config: JSON.stringify({ session_key: key }),
      max_batch: 2,
      notify: notification(),
    };
  }

  describe(`inbox (${backend.name})`, () => {
    it('the first entry of a key notifies; later ones wait silently; a retried enqueue is one entry; a lost lease writes nothing', async () => {
      const s = await open();
      const a = await leased(s);
      const first = entry('pr-1', a, 1);
      expect(await s.inboxEnqueue(first)).toEqual({ held: true, notified: true });
      expect((await s.delivery(a.delivery))!.status).toBe('delivered');
      const note = await s.deliveries({ event_id: first.notify.event.id });
      expect(note).toHaveLength(1);
      expect(note[0]).toMatchObject({ status: 'pending', route: 'r', actor: 'agent' });

      const b = await leased(s);
      expect(await s.inboxEnqueue(entry('pr-1', b, 2))).toEqual({ held: true, notified: false });
      // the same delivery again (its lease is gone once completed): nothing written
      expect(await s.inboxEnqueue(entry('pr-1', b, 2))).toEqual({ held: false, notified: false });
      const c = await leased(s, 'ex-2');
      expect(await s.inboxEnqueue(entry('pr-1', c, 3, 'ex-1'))).toEqual({ held: false, notified: false });
      expect((await s.delivery(c.delivery))!.status).toBe('leased');

      const info = await s.inboxSession('pr-1');
      expect(info).toMatchObject({ session_key: 'pr-1', route: 'r', actor: 'agent', max_batch: 2, pending: 2, notified: true, oldest_enqueued_at: now });
      expect(await s.inboxSession('other')).toBeNull();
      expect((await s.inboxSessions()).map((x) => x.session_key)).toEqual(['pr-1']);
    });

    it('drains in two steps: taken entries are handed out again when the drain never confirmed; confirmed ones are gone', async () => {
      const s = await open();
      for (let n = 1; n <= 3; n++) await s.inboxEnqueue(entry('k', await leased(s), n));
      const t1 = randomUUID();
      const took = await s.inboxTake('k', 2, 60_000, t1);
      expect(took.entries.map((e) => JSON.parse(e.event_json).n)).toEqual([1, 2]);
      expect(took.remaining).toBe(1);
      // a second drain meanwhile gets only what the first did not take
      now += 30_000;
      const t2 = randomUUID();
      expect((await s.inboxTake('k', 10, 60_000, t2)).entries.map((e) => JSON.parse(e.event_json).n)).toEqual([3]);
      // the first drain was killed before confirming: after its hold its entries come back
      now += 31_000;
      const t3 = randomUUID();
      expect((await s.inboxTake('k', 10, 60_000, t3)).entries.map((e) => JSON.parse(e.event_json).n)).toEqual([1, 2]);
      expect(await s.inboxAck('k', t3, notification())).toEqual({ remaining: 0, notified: false });
      expect(await s.inboxAck('k', t2, notification())).toEqual({ remaining: 0, notified: false });
      expect((await s.inboxSession('k'))).toBeNull(); // empty and forgotten: the next event starts afresh
      expect(await s.inboxTake('k', 10, 60_000, randomUUID())).toEqual({ entries: [], remaining: 0 });
    });

    it('after a drain that leaves entries, the key notifies again, but not while a notification is still unsent', async () => {
      const s = await open();
      const e1 = entry('k', await leased(s), 1);
      await s.inboxEnqueue(e1);
      await s.inboxEnqueue(entry('k', await leased(s), 2));
      await s.inboxEnqueue(entry('k', await leased(s), 3));
      // the notification is still pending (not sent): a drain leaves it to tell of the rest
      const t = randomUUID();
      await s.inboxTake('k', 1, 60_000, t);
      expect(await s.inboxAck('k', t, notification())).toEqual({ remaining: 2, notified: false });
      // it was delivered; the next drain leaves entries: a new notification
      const [note] = await s.claim('ex-1', 10, 60_000, now + 1);
      expect(note!.event_id).toBe(e1.notify.event.id);
      expect(await s.complete(note!.id, 'ex-1')).toBe(true);
      expect((await s.inboxSession('k'))!.notified).toBe(true);
      const t2 = randomUUID();
      await s.inboxTake('k', 1, 60_000, t2);
      const again = notification();
      expect(await s.inboxAck('k', t2, again)).toEqual({ remaining: 1, notified: true });
      expect(await s.deliveries({ event_id: again.event.id })).toHaveLength(1);
      // a new event while that one is outstanding: silent
      expect(await s.inboxEnqueue(entry('k', await leased(s), 4))).toEqual({ held: true, notified: false });
    });

    it('a dead notification does not silence the key: the next event notifies', async () => {
      const s = await open();
      const e1 = entry('k', await leased(s), 1);
      await s.inboxEnqueue(e1);
      const [note] = await s.claim('ex-1', 10, 60_000, now + 1);
      expect(await s.fail(note!.id, 'ex-1', 'agent gone', 'dead')).toBe(true);
      expect((await s.inboxSession('k'))!.notified).toBe(false);
      expect(await s.inboxEnqueue(entry('k', await leased(s), 2))).toEqual({ held: true, notified: true });
    });

    it('entries past their ttl are neither counted nor handed out, and are deleted', async () => {
      const s = await open();
      await s.inboxEnqueue({ ...entry('k', await leased(s), 1), ttl_ms: 1000 });
      await s.inboxEnqueue({ ...entry('k', await leased(s), 2), ttl_ms: 10_000 });
      now += 5000;
      expect((await s.inboxSession('k'))!.pending).toBe(1);
      const t = randomUUID();
      expect((await s.inboxTake('k', 10, 60_000, t)).entries.map((e) => JSON.parse(e.event_json).n)).toEqual([2]);
    });

    it('the retention pruner deletes entries past their ttl on keys nobody touches again, a step at a time; live ones stay', async () => {
      const s = await open();
      for (let n = 1; n <= 3; n++) await s.inboxEnqueue({ ...entry(`quiet-${n}`, await leased(s), n), ttl_ms: 1000 });
      await s.inboxEnqueue({ ...entry('busy', await leased(s), 4), ttl_ms: 10_000 });
      const step = { before: 0, keysBefore: 0, limit: 2 };
      // nothing has expired yet
      expect(await s.prune(step)).toMatchObject({ inbox: 0 });
      now += 1000; // the ttl ends at enqueue + ttl, as enqueues and drains judge it
      expect(await s.prune(step)).toMatchObject({ inbox: 2 });
      expect(await s.prune(step)).toMatchObject({ inbox: 1 });
      expect(await s.prune(step)).toMatchObject({ inbox: 0 });
      expect((await s.inboxSession('busy'))!.pending).toBe(1);
      now += 9000;
      expect(await s.prune(step)).toMatchObject({ inbox: 1 });
      expect(await s.inboxSessions()).toEqual(expect.arrayContaining([expect.objectContaining({ session_key: 'busy', pending: 0 })]));
      // the key still works: its notification, still queued, tells of the new entry
      expect(await s.inboxEnqueue(entry('busy', await leased(s), 5))).toEqual({ held: true, notified: false });
      expect((await s.inboxSession('busy'))!.pending).toBe(1);
    });

    it('a delivered notification whose entries all expired unread does not silence the key', async () => {
      const s = await open();
      await s.inboxEnqueue({ ...entry('k', await leased(s), 1), ttl_ms: 1000 });
      const [note] = await s.claim('ex-1', 10, 60_000, now + 1);
      expect(await s.complete(note!.id, 'ex-1')).toBe(true);
      expect(await s.inboxEnqueue(entry('k', await leased(s), 2))).toEqual({ held: true, notified: false });
      now += 3_600_001; // both gone unread
      expect(await s.inboxEnqueue(entry('k', await leased(s), 3))).toEqual({ held: true, notified: true });
    });
  });
}
