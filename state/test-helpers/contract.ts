// Backend-independent Store contract: the same tests run against SQLite (always) and
// Postgres (when ORGLOOP_TEST_PG_URL is set), so both backends keep identical semantics.

import { afterEach, describe, expect, it } from 'vitest';
import { openStore } from '../open.js';
import { StaleSerialError, type Store } from '../store.js';
import { ingestItem, newVersion } from '../sqlite/test-helpers/fixtures.js';

export interface Backend {
  name: string;
  /** a fresh, empty store location (file path or URL) */
  newLocation(): Promise<string>;
}

export function describeStoreContract(backend: Backend): void {
  const opened: Store[] = [];
  async function open(location?: string, clock?: () => number): Promise<Store> {
    const s = await openStore(location ?? (await backend.newLocation()), clock ? { clock } : {});
    opened.push(s);
    return s;
  }
  afterEach(async () => {
    while (opened.length) await opened.pop()!.close();
  });
  const describe_ = (name: string, fn: () => void) => describe(`${name} (${backend.name})`, fn);

  describe_('config plane', () => {
    it('writeVersion bumps the serial, links parents, stores blobs, and refuses a stale serial', async () => {
      const s = await open();
      expect(await s.current()).toBeNull();
      const v1 = await s.writeVersion(newVersion(0, 'a'));
      expect(v1).toMatchObject({ serial: 1, parent_serial: null, kind: 'apply', config_digest: 'digest-a' });
      const v2 = await s.writeVersion({ ...newVersion(1, 'b'), kind: 'rollback', rollback_of: 1 });
      expect(v2).toMatchObject({ serial: 2, parent_serial: 1, rollback_of: 1 });
      expect((await s.meta()).serial).toBe(2);
      expect((await s.current())?.message).toBe('apply b');
      expect((await s.version(1))?.snapshot.project.name).toBe('p');
      expect((await s.versions()).map((v) => v.serial)).toEqual([1, 2]);
      expect(await s.blob('sha-a')).toBe('prompt a');
      expect(await s.blob('missing')).toBeNull();

      const stale = await s.writeVersion(newVersion(1, 'c')).catch((e: unknown) => e);
      expect(stale).toBeInstanceOf(StaleSerialError);
      expect((stale as Error).message).toBe('state serial moved from 1 to 2');
      expect((await s.meta()).serial).toBe(2);
      expect(await s.blob('sha-c')).toBeNull(); // nothing of the refused write remains
    });

    it('two stores racing on the same expected serial: exactly one wins', async () => {
      const file = await backend.newLocation();
      const a = await open(file);
      const b = await open(file);
      const results = await Promise.allSettled([a.writeVersion(newVersion(0, 'a')), b.writeVersion(newVersion(0, 'b'))]);
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      const rejected = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
      expect(rejected.reason).toBeInstanceOf(StaleSerialError);
      expect((await a.meta()).serial).toBe(1);
    });

    it('writeVersion stores the git commit with the version (null when not given)', async () => {
      const s = await open();
      await s.writeVersion({ ...newVersion(0, 'a'), git: { commit: 'a'.repeat(40), dirty: true } });
      await s.writeVersion(newVersion(1, 'b'));
      const [v1, v2] = await s.versions();
      expect(v1!.git).toEqual({ commit: 'a'.repeat(40), dirty: true });
      expect(v2!.git).toBeNull();
      expect((await s.version(1))!.git).toEqual({ commit: 'a'.repeat(40), dirty: true });
    });

    it('writeVersion re-keys runtime rows for state mv in the same transaction', async () => {
      const s = await open();
      await s.writeVersion(newVersion(0, 'a'));
      const item = ingestItem({ source: 'gh', routes: ['old-route'] });
      await s.ingest([item]);
      const term = (await s.acquireLease('source:gh', 'A', 60_000))!;
      await s.commitPoll('gh', term, 'c1', null, []);
      await s.writeVersion({
        ...newVersion(1, 'b'),
        kind: 'state-edit',
        runtime_renames: [
          { kind: 'route', from: 'old-route', to: 'new-route' },
          { kind: 'source', from: 'gh', to: 'github' },
        ],
      });
      expect((await s.deliveries({ event_id: item.event.id })).map((d) => d.route)).toEqual(['new-route']);
      expect((await s.event(item.event.id))?.source).toBe('github');
      expect((await s.cursor('github'))?.cursor).toBe('c1');
      expect(await s.cursor('gh')).toBeNull();
    });

    it('importVersion replaces the lineage and writes the given serial above existing history', async () => {
      const s = await open();
      await s.writeVersion(newVersion(0, 'a'));
      const err = await s.importVersion('L2', { ...newVersion(1, 'i'), serial: 1 }).catch((e: unknown) => e);
      expect((err as Error).message).toContain('cannot import serial 1: this store already holds versions up to 1');
      const v = await s.importVersion('L2', { ...newVersion(1, 'i'), kind: 'import', serial: 7 });
      expect(v).toMatchObject({ serial: 7, parent_serial: 1, kind: 'import' });
      expect(await s.meta()).toMatchObject({ lineage: 'L2', serial: 7 });
      const next = await s.writeVersion(newVersion(7, 'n'));
      expect(next).toMatchObject({ serial: 8, parent_serial: 7 });
    });

    it('importVersion takes the pushed secret salt, and keeps the store\'s own when none is given', async () => {
      const s = await open();
      await s.writeVersion(newVersion(0, 'a'));
      const own = (await s.meta()).secret_salt;
      expect(own).toMatch(/\S/);
      await s.importVersion('L2', { ...newVersion(1, 'i'), kind: 'import', serial: 5 });
      expect((await s.meta()).secret_salt).toBe(own);
      await s.importVersion('L3', { ...newVersion(5, 'j'), kind: 'import', serial: 9, secret_salt: 'pushed-salt' });
      expect(await s.meta()).toMatchObject({ lineage: 'L3', serial: 9, secret_salt: 'pushed-salt' });
      // a later write keeps it
      await s.writeVersion(newVersion(9, 'n'));
      expect((await s.meta()).secret_salt).toBe('pushed-salt');
    });

    it('lock: one holder at a time, heartbeat, unlock by id only', async () => {
      const file = await backend.newLocation();
      const a = await open(file);
      const b = await open(file);
      const lock = (id: string) => ({
        id,
        operation: 'apply',
        who: 'me@host',
        host: 'host',
        pid: 42,
        created_at: '2024-01-01T00:00:00.000Z',
        heartbeat_at: '2024-01-01T00:00:00.000Z',
      });
      expect(await a.tryLock(lock('L1'))).toBeNull();
      expect(await b.tryLock(lock('L2'))).toMatchObject({ id: 'L1', pid: 42 });
      await a.heartbeatLock('L1');
      expect((await b.lockHolder())!.heartbeat_at > '2024-01-01T00:00:00.000Z').toBe(true);
      expect(await b.unlock('L2')).toBe(false);
      expect(await b.unlock('L1')).toBe(true);
      expect(await b.lockHolder()).toBeNull();
      expect(await b.tryLock(lock('L2'))).toBeNull();
      expect((await a.lockHolder())?.id).toBe('L2');
    });
  });

  describe_('ingest', () => {
    it('dedupes on (source, dedupe_key) within and across batches; null keys never dedupe', async () => {
      const s = await open();
      const first = ingestItem({ dedupe: 'gh-1', routes: ['r1', 'r2'] });
      const dupSameBatch = ingestItem({ dedupe: 'gh-1', routes: ['r1'] });
      const otherSource = ingestItem({ source: 'linear', dedupe: 'gh-1' });
      const noKeyA = ingestItem({ dedupe: null });
      const noKeyB = ingestItem({ dedupe: null });
      const res = await s.ingest([first, dupSameBatch, otherSource, noKeyA, noKeyB]);
      expect(res).toEqual([
        { inserted: true, event_id: first.event.id },
        { inserted: false, event_id: first.event.id },
        { inserted: true, event_id: otherSource.event.id },
        { inserted: true, event_id: noKeyA.event.id },
        { inserted: true, event_id: noKeyB.event.id },
      ]);
      const again = await s.ingest([ingestItem({ dedupe: 'gh-1' }), { ...noKeyA }]);
      expect(again).toEqual([
        { inserted: false, event_id: first.event.id },
        { inserted: false, event_id: noKeyA.event.id },
      ]);
      expect(await s.events({})).toHaveLength(4);
      expect(await s.events({ source: 'linear' })).toHaveLength(1);
      const ds = await s.deliveries({ event_id: first.event.id });
      expect(ds.map((d) => d.route).sort()).toEqual(['r1', 'r2']);
      expect(ds.every((d) => d.status === 'pending' && d.attempts === 0)).toBe(true);
      expect(await s.deliveries({})).toHaveLength(5);
    });

    it('50 concurrent ingests of the same delivery id from two connections give one event', async () => {
      const file = await backend.newLocation();
      const a = await open(file);
      const b = await open(file);
      const res = await Promise.all(
        Array.from({ length: 50 }, (_, i) => (i % 2 ? a : b).ingest([ingestItem({ dedupe: 'same' })])),
      );
      const inserted = res.flat().filter((r) => r.inserted);
      expect(inserted).toHaveLength(1);
      expect(new Set(res.flat().map((r) => r.event_id))).toEqual(new Set([inserted[0].event_id]));
      expect(await a.deliveries({})).toHaveLength(1);
    });
  });

  describe_('claims and fencing', () => {
    it('claims due work in run_at order, leases it, and skips work not yet due', async () => {
      let now = 1_000_000;
      const s = await open(await backend.newLocation(), () => now);
      expect(await s.claimable()).toBe(false);
      await s.ingest([ingestItem(), ingestItem()]);
      expect(await s.claimable(999_999)).toBe(false); // not due yet
      expect(await s.claimable()).toBe(true);
      now += 10;
      await s.ingest([ingestItem()]);
      const c = await s.claim('w1', 2, 5000, now);
      expect(c).toHaveLength(2);
      expect(c.every((d) => d.status === 'leased' && d.lease_owner === 'w1' && d.lease_until === now + 5000)).toBe(true);
      expect(c.every((d) => d.attempts === 1 && d.run_at === 1_000_000)).toBe(true);
      expect(await s.claim('w2', 10, 5000, 999_999)).toEqual([]); // nothing due that early
      expect(await s.claim('w2', 10, 5000, now)).toHaveLength(1);
      expect(await s.claim('w3', 10, 5000, now)).toEqual([]);
      expect(await s.claimable(now)).toBe(false); // all leased, none expired
      expect(await s.claimable(now + 5001)).toBe(true); // expired leases are claimable
      expect(await s.claim('w4', 10, 5000, now + 5001)).toHaveLength(3);
    });

    it('fencing: only the holder completes; an expired lease is reclaimed and the old owner loses', async () => {
      let now = 5_000_000;
      const s = await open(await backend.newLocation(), () => now);
      await s.ingest([ingestItem()]);
      const [d] = await s.claim('old', 1, 1000);
      expect(await s.complete(d.id, 'intruder')).toBe(false);
      expect(await s.fail(d.id, 'intruder', 'x', 'dead')).toBe(false);
      expect(await s.extendLeases('old', [d.id], 1000)).toEqual([]);
      expect((await s.delivery(d.id))?.lease_until).toBe(now + 1000);

      now += 1001; // lease expired
      const [again] = await s.claim('new', 5, 1000);
      expect(again).toMatchObject({ id: d.id, lease_owner: 'new', attempts: 2 });
      expect(await s.complete(d.id, 'old')).toBe(false);
      expect(await s.extendLeases('old', [d.id], 1000)).toEqual([d.id]);
      expect(await s.complete(d.id, 'new')).toBe(true);
      expect(await s.complete(d.id, 'new')).toBe(false); // delivered is terminal
      expect((await s.delivery(d.id))?.status).toBe('delivered');
      now += 10_000;
      expect(await s.claim('late', 5, 1000)).toEqual([]);
    });

    it('ingest with leaseTo stores the deliveries leased to the owner, returns them, and fences them like a claim', async () => {
      let now = 7_000_000;
      const s = await open(await backend.newLocation(), () => now);
      const item = ingestItem({ dedupe: 'lease-1', routes: ['r1', 'r2'] });
      const plain = ingestItem();
      const [res, plainRes] = await s.ingest([{ ...item, leaseTo: { owner: 'w1', leaseMs: 1000 } }, plain]);
      expect(res).toMatchObject({ inserted: true, event_id: item.event.id });
      expect(plainRes?.leased).toBeUndefined();
      expect(res!.leased!.map((d) => d.id)).toEqual(item.deliveries.map((d) => d.id));
      for (const d of res!.leased!) {
        expect(d).toMatchObject({ event_id: item.event.id, status: 'leased', attempts: 1, run_at: now, lease_owner: 'w1', lease_until: now + 1000, last_error: null });
        // what the result says is what was stored
        expect(await s.delivery(d.id)).toEqual(d);
      }
      // leased work is not claimable while the lease lives; the plain item is
      const claimed = await s.claim('w2', 10, 1000);
      expect(claimed.map((d) => d.id)).toEqual(plain.deliveries.map((d) => d.id));
      expect(await s.complete(claimed[0]!.id, 'w2')).toBe(true);
      const [a, b] = res!.leased!;
      expect(await s.complete(a!.id, 'w2')).toBe(false);
      expect(await s.complete(a!.id, 'w1')).toBe(true);
      // a duplicate is not inserted and leases nothing
      const [dup] = await s.ingest([{ ...ingestItem({ dedupe: 'lease-1' }), leaseTo: { owner: 'w1', leaseMs: 1000 } }]);
      expect(dup).toMatchObject({ inserted: false, event_id: item.event.id });
      expect(dup?.leased).toBeUndefined();
      // the owner crashed: its lease expires and another worker reclaims it (attempt 2)
      now += 1001;
      const [again] = await s.claim('w3', 10, 1000);
      expect(again).toMatchObject({ id: b!.id, lease_owner: 'w3', attempts: 2 });
      expect(await s.complete(b!.id, 'w1')).toBe(false);
      expect(await s.releaseAll('w3')).toBe(1);
    });

    it('fail -> retry at runAt, fail -> dead, redrive, cancel, releaseAll', async () => {
      let now = 10_000;
      const s = await open(await backend.newLocation(), () => now);
      await s.ingest([ingestItem(), ingestItem(), ingestItem()]);
      const [a, b, c] = await s.claim('w', 3, 1000);
      expect(await s.fail(a.id, 'w', 'HTTP 503', { runAt: now + 500 })).toBe(true);
      expect(await s.delivery(a.id)).toMatchObject({ status: 'retry', run_at: now + 500, last_error: 'HTTP 503' });
      expect(await s.claim('w', 5, 1000)).toEqual([]);
      now += 500;
      const [a2] = await s.claim('w', 5, 1000);
      expect(a2).toMatchObject({ id: a.id, attempts: 2 });

      expect(await s.fail(b.id, 'w', 'gave up', 'dead')).toBe(true);
      expect((await s.deliveries({ status: 'dead' })).map((d) => d.id)).toEqual([b.id]);
      expect(await s.redrive(a.id)).toBe(false); // leased, not dead
      expect(await s.redrive(b.id)).toBe(true);
      expect(await s.delivery(b.id)).toMatchObject({ status: 'pending', attempts: 0, run_at: now, lease_owner: null });

      expect(await s.cancel(c.id, 'actor removed')).toBe(true);
      expect(await s.complete(c.id, 'w')).toBe(false);
      expect(await s.delivery(c.id)).toMatchObject({ status: 'cancelled', last_error: 'actor removed' });

      expect(await s.releaseAll('w')).toBe(1); // a2
      expect(await s.delivery(a.id)).toMatchObject({ status: 'pending', attempts: 2, lease_owner: null });
      expect(await s.complete(a.id, 'w')).toBe(false);

      const counts = await s.deliveryCounts();
      expect(counts).toEqual([
        { route: 'r1', status: 'cancelled', count: 1, oldest_run_at: null, oldest_created_at: null },
        { route: 'r1', status: 'pending', count: 2, oldest_run_at: now, oldest_created_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT/) },
      ]);
    });

    it('finds ids by prefix: events, deliveries and traces, in order, with `_` matched literally', async () => {
      const s = await open(await backend.newLocation());
      const ev = (id: string, trace: string) => {
        const it = ingestItem({ id, routes: [] });
        return { ...it, event: { ...it.event, trace_id: trace } };
      };
      await s.ingest([ev('evt_0mxca5xj4aaa', 'trc_0mxca5xj4aaa'), ev('evt_0mxca5xj4aab', 'trc_0mxca5xj4aab'), ev('evt_0mxca5xk0000', 'trc_0mxca5xj4aaa'), ev('evtx0mxca5xj4', 't')]);
      expect(await s.idsWithPrefix('event', 'evt_0mxca5xj', 10)).toEqual(['evt_0mxca5xj4aaa', 'evt_0mxca5xj4aab']);
      expect(await s.idsWithPrefix('event', 'evt_0mxca5x', 2)).toEqual(['evt_0mxca5xj4aaa', 'evt_0mxca5xj4aab']);
      expect(await s.idsWithPrefix('event', 'evt_0mxca5xj4aab', 10)).toEqual(['evt_0mxca5xj4aab']);
      expect(await s.idsWithPrefix('event', 'evt_1', 10)).toEqual([]);
      // a LIKE wildcard would let `_` match the x of evtx...
      expect(await s.idsWithPrefix('event', 'evt_', 10)).not.toContain('evtx0mxca5xj4');
      expect(await s.idsWithPrefix('trace', 'trc_0mxca5xj', 10)).toEqual(['trc_0mxca5xj4aaa', 'trc_0mxca5xj4aab']);
      const [d] = await s.ingest([ingestItem({ routes: ['r1'] })]);
      const dl = (await s.deliveries({ event_id: d!.event_id }))[0]!;
      expect(await s.idsWithPrefix('delivery', dl.id.slice(0, 8), 10)).toEqual([dl.id]);
    });

    it('two Store instances claiming concurrently never share a delivery', async () => {
      const file = await backend.newLocation();
      const a = await open(file);
      const b = await open(file);
      const items = Array.from({ length: 300 }, () => ingestItem({ routes: ['r1', 'r2'] }));
      await a.ingest(items);
      const seen = new Map<string, string>();
      const worker = async (s: Store, owner: string) => {
        for (;;) {
          const batch = await s.claim(owner, 9, 60_000);
          if (batch.length === 0) return;
          for (const d of batch) {
            expect(seen.has(d.id)).toBe(false);
            seen.set(d.id, owner);
          }
          await Promise.all(batch.map(async (d) => expect(await s.complete(d.id, owner)).toBe(true)));
        }
      };
      await Promise.all([worker(a, 'A'), worker(b, 'B'), worker(a, 'A2'), worker(b, 'B2')]);
      expect(seen.size).toBe(600);
      expect((await a.deliveryCounts()).map((c) => [c.status, c.count])).toEqual([
        ['delivered', 300],
        ['delivered', 300],
      ]);
    });

  });

  describe_('retention', () => {
    const DAY = 86_400_000;
    const step = (before: number, keysBefore = 0, limit = 100) => ({ before, keysBefore, limit });
    const log = (time: string) => ({
      time, phase: 'deliver.ok', level: 'info', source: null, route: 'r1', actor: null,
      event_id: null, delivery_id: null, trace_id: null, message: 'm', data: null,
    });

    it('prunes finished deliveries, their events and log rows past the cutoff; pending work and its event stay', async () => {
      let now = Date.parse('2026-01-01T00:00:00.000Z');
      const s = await open(await backend.newLocation(), () => now);
      const at = (t: number) => (item: ReturnType<typeof ingestItem>) => ({ ...item, event: { ...item.event, received_at: new Date(t).toISOString() } });
      const [done, dead, waiting, leased] = [1, 2, 3, 4].map((i) => at(now)(ingestItem({ dedupe: `k${i}` })));
      const half = at(now)(ingestItem({ dedupe: 'k5', routes: ['r1', 'r2'] }));
      await s.ingest([done, dead, leased, half]);
      await s.appendLog([log(new Date(now).toISOString()), log(new Date(now).toISOString())]);
      for (const d of await s.claim('w', 10, 60 * DAY)) {
        if (d.event_id === done.event.id || (d.event_id === half.event.id && d.route === 'r1')) await s.complete(d.id, 'w');
        else if (d.event_id === dead.event.id) await s.fail(d.id, 'w', 'gave up', 'dead');
        else if (d.event_id === half.event.id) await s.fail(d.id, 'w', 'later', { runAt: now + 90 * DAY });
      }
      await s.ingest([waiting]); // never claimed: pending
      const before = await s.deliveryCounts();

      // nothing is older than the cutoff yet: nothing goes
      now += 10 * DAY;
      expect(await s.prune(step(now - 30 * DAY))).toEqual({ deliveries: 0, events: 0, log: 0, dedupe_keys: 0, inbox: 0 });
      expect(await s.deliveryCounts()).toEqual(before);

      now += 30 * DAY;
      expect(await s.prune(step(now - 30 * DAY))).toEqual({ deliveries: 3, events: 2, log: 2, dedupe_keys: 0, inbox: 0 });
      expect(await s.event(done.event.id)).toBeNull();
      expect(await s.event(dead.event.id)).toBeNull();
      // a retrying, a leased and a pending delivery keep themselves and their events
      for (const e of [waiting, leased, half]) expect(await s.event(e.event.id)).not.toBeNull();
      expect((await s.deliveries({})).map((d) => d.status).sort()).toEqual(['leased', 'pending', 'retry']);
      expect((await s.deliveryCounts()).map((c) => [c.route, c.status, c.count])).toEqual([
        ['r1', 'leased', 1],
        ['r1', 'pending', 1],
        ['r2', 'retry', 1],
      ]);
      expect(await s.logs({})).toEqual([]);
      expect(await s.prune(step(now - 30 * DAY))).toEqual({ deliveries: 0, events: 0, log: 0, dedupe_keys: 0, inbox: 0 });
    });

    it('dedupe keys outlive their events until their own horizon', async () => {
      let now = 1_000_000;
      const s = await open(await backend.newLocation(), () => now);
      const first = ingestItem({ dedupe: 'delivery-1', routes: [] });
      await s.ingest([{ ...first, event: { ...first.event, received_at: new Date(now).toISOString() } }]);
      now += 2 * DAY;
      expect(await s.prune(step(now - DAY, now - 3 * DAY))).toMatchObject({ events: 1, dedupe_keys: 0 });
      expect(await s.event(first.event.id)).toBeNull();
      // the sender redelivers after the event is gone: still a duplicate of the first
      expect(await s.ingest([ingestItem({ dedupe: 'delivery-1' })])).toEqual([{ inserted: false, event_id: first.event.id }]);
      now += 2 * DAY;
      expect(await s.prune(step(now - DAY, now - 3 * DAY))).toMatchObject({ dedupe_keys: 1 });
      const late = ingestItem({ dedupe: 'delivery-1' });
      expect(await s.ingest([late])).toEqual([{ inserted: true, event_id: late.event.id }]);
    });

    it('each step deletes at most `limit` rows of a kind, oldest first', async () => {
      let now = 1_000_000;
      const s = await open(await backend.newLocation(), () => now);
      await s.ingest(Array.from({ length: 5 }, () => ingestItem()));
      for (const d of await s.claim('w', 10, 1000)) {
        now += 1;
        await s.complete(d.id, 'w');
      }
      now += DAY;
      expect(await s.prune(step(now, 0, 2))).toMatchObject({ deliveries: 2 });
      expect(await s.prune(step(now, 0, 2))).toMatchObject({ deliveries: 2 });
      expect(await s.prune(step(now, 0, 2))).toMatchObject({ deliveries: 1 });
      expect(await s.deliveryCounts()).toEqual([]);
    });
  });

  describe_('polling and coordination', () => {
    it('leases: one holder, renew keeps the term, takeover after expiry bumps it', async () => {
      let now = 0;
      const s = await open(await backend.newLocation(), () => now);
      expect(await s.acquireLease('source:gh', 'A', 1000)).toBe(1);
      expect(await s.acquireLease('source:gh', 'B', 1000)).toBeNull();
      now = 500;
      expect(await s.acquireLease('source:gh', 'A', 1000)).toBe(1);
      now = 1499;
      expect(await s.acquireLease('source:gh', 'B', 1000)).toBeNull();
      now = 1500;
      expect(await s.acquireLease('source:gh', 'B', 1000)).toBe(2);
      await s.releaseLease('source:gh', 'A'); // not the holder: no effect
      expect(await s.acquireLease('source:gh', 'A', 1000)).toBeNull();
      await s.releaseLease('source:gh', 'B');
      expect(await s.acquireLease('source:gh', 'A', 1000)).toBe(3);
    });

    it('renewLeases renews in bulk only live leases held under the same term and reports the rest', async () => {
      let now = 0;
      const s = await open(await backend.newLocation(), () => now);
      expect(await s.renewLeases('A', [], 1000)).toEqual([]);
      const a = (await s.acquireLease('source:a', 'A', 1000))!;
      const b = (await s.acquireLease('source:b', 'A', 1000))!;
      const c = (await s.acquireLease('source:c', 'B', 1000))!;
      now = 900;
      // c is B's; d does not exist; b under a stale term is not A's tenure any more
      const lost = await s.renewLeases('A', [{ name: 'source:a', term: a }, { name: 'source:b', term: b + 1 }, { name: 'source:c', term: c }, { name: 'source:d', term: 1 }], 1000);
      expect(lost.sort()).toEqual(['source:b', 'source:c', 'source:d']);
      now = 1500; // b and c expired at 1000; a was renewed until 1900
      expect(await s.acquireLease('source:a', 'B', 1000)).toBeNull();
      expect(await s.acquireLease('source:c', 'A', 1000)).toBe(c + 1);
      // renewal never revives an expired lease, even for its last holder and term
      expect(await s.renewLeases('A', [{ name: 'source:b', term: b }], 1000)).toEqual(['source:b']);
      expect(await s.acquireLease('source:b', 'B', 1000)).toBe(b + 1);
      // the renewed lease keeps its term
      expect(await s.renewLeases('A', [{ name: 'source:a', term: a }], 1000)).toEqual([]);
      now = 2499;
      expect(await s.acquireLease('source:a', 'B', 1000)).toBeNull();
      expect(await s.acquireLease('source:a', 'A', 1000)).toBe(a);
      expect(await s.renewLeases('A', [{ name: 'source:a', term: a }, { name: 'source:c', term: c + 1 }], 1000)).toEqual([]);
    });

    it('commitPoll writes cursor and events only under the current lease term', async () => {
      let now = 0;
      const s = await open(await backend.newLocation(), () => now);
      const none = await s.commitPoll('gh', 1, 'c1', null, [ingestItem({ source: 'gh' })]);
      expect(none).toEqual({ ok: false, results: [] });

      const term = (await s.acquireLease('source:gh', 'A', 1000))!;
      const item = ingestItem({ source: 'gh', dedupe: 'e1' });
      const ok = await s.commitPoll('gh', term, 'c1', 'etag-1', [item]);
      expect(ok).toEqual({ ok: true, results: [{ inserted: true, event_id: item.event.id }] });
      expect(await s.cursor('gh')).toMatchObject({ cursor: 'c1', etag: 'etag-1' });

      now = 2000; // A's lease lapsed, B takes over
      const termB = (await s.acquireLease('source:gh', 'B', 1000))!;
      expect(termB).toBe(term + 1);
      const late = await s.commitPoll('gh', term, 'c-stale', null, [ingestItem({ source: 'gh', dedupe: 'e2' })]);
      expect(late.ok).toBe(false);
      expect((await s.cursor('gh'))?.cursor).toBe('c1');
      expect(await s.events({ source: 'gh' })).toHaveLength(1);

      const b = await s.commitPoll('gh', termB, 'c2', null, [ingestItem({ source: 'gh', dedupe: 'e1' })]);
      expect(b).toEqual({ ok: true, results: [{ inserted: false, event_id: item.event.id }] });
      expect((await s.cursor('gh'))?.cursor).toBe('c2');

      now = 3001; // expired and nobody renewed: even the last term may not write
      expect((await s.commitPoll('gh', termB, 'c3', null, [])).ok).toBe(false);
    });

    it('seen: true only within the window of the first accepted sighting, per scope', async () => {
      let now = 100_000;
      const s = await open(await backend.newLocation(), () => now);
      expect(await s.seen('route.a', 'k', 1000)).toBe(false);
      now += 999;
      expect(await s.seen('route.a', 'k', 1000)).toBe(true);
      expect(await s.seen('route.b', 'k', 1000)).toBe(false);
      now += 1; // one window after the first sighting: the duplicate at +999 did not extend it
      expect(await s.seen('route.a', 'k', 1000)).toBe(false);
      now += 500;
      expect(await s.seen('route.a', 'k', 1000)).toBe(true);
      now += 500; // one window after the sighting accepted above
      expect(await s.seen('route.a', 'k', 1000)).toBe(false);
      now += 5000;
      expect(await s.seen('route.a', 'other', 1000)).toBe(false); // purges k's stale row
      expect(await s.seen('route.a', 'k', 1000)).toBe(false);
    });

    it('kv, executors', async () => {
      const s = await open();
      expect(await s.kvGet('cron:nightly')).toBeNull();
      await s.kvSet('cron:nightly', '2024-01-01T00:00:00Z');
      await s.kvSet('cron:nightly', '2024-01-02T00:00:00Z');
      expect(await s.kvGet('cron:nightly')).toBe('2024-01-02T00:00:00Z');

      const ex = { id: 'x1', host: 'h', pid: 1, serial_loaded: 1, started_at: 't0', heartbeat_at: 't1' };
      await s.heartbeatExecutor(ex);
      await s.heartbeatExecutor({ ...ex, serial_loaded: 2, heartbeat_at: 't2' });
      expect(await s.executors()).toEqual([{ ...ex, serial_loaded: 2, heartbeat_at: 't2' }]);
      await s.removeExecutor('x1');
      expect(await s.executors()).toEqual([]);
    });

    it('beat: the heartbeat, live peers, claimable work and the applied serial in one look', async () => {
      let now = Date.parse('2024-01-01T00:00:00.000Z');
      const s = await open(await backend.newLocation(), () => now);
      const iso = (ms: number) => new Date(ms).toISOString();
      const me = { id: 'x1', host: 'h', pid: 1, serial_loaded: 0, started_at: iso(now), heartbeat_at: iso(now) };
      expect(await s.beat(me, 15_000)).toEqual({ peers: 0, claimable: false, serial: 0 });
      expect((await s.executors()).map((e) => e.id)).toEqual(['x1']);
      await s.heartbeatExecutor({ ...me, id: 'x2' });
      await s.ingest([ingestItem()]);
      expect(await s.beat(me, 15_000)).toEqual({ peers: 1, claimable: true, serial: 0 });
      now += 20_000;
      expect(await s.claim('x1', 10, 60_000, now)).toHaveLength(1);
      // x2 has not beaten for 20 s: no longer a live peer; the work is leased: nothing to claim
      expect(await s.beat({ ...me, heartbeat_at: iso(now) }, 15_000)).toEqual({ peers: 0, claimable: false, serial: 0 });
      expect((await s.executors()).find((e) => e.id === 'x1')!.heartbeat_at).toBe(iso(now));
    });

    it('logs: filters, newest page without afterId, follow with afterId', async () => {
      const s = await open();
      const entry = (i: number, route: string | null, trace: string | null) => ({
        time: `2024-01-01T00:00:${String(i).padStart(2, '0')}.000Z`,
        phase: 'deliver.success',
        level: 'info',
        source: 'gh',
        route,
        actor: null,
        event_id: null,
        delivery_id: null,
        trace_id: trace,
        message: `m${i}`,
        data: null,
      });
      await s.appendLog([entry(1, 'a', 't1'), entry(2, 'b', 't1'), entry(3, 'a', 't2'), entry(4, 'a', null)]);
      expect((await s.logs({})).map((e) => e.message)).toEqual(['m1', 'm2', 'm3', 'm4']);
      expect((await s.logs({ limit: 2 })).map((e) => e.message)).toEqual(['m3', 'm4']);
      expect((await s.logs({ route: 'a' })).map((e) => e.message)).toEqual(['m1', 'm3', 'm4']);
      expect((await s.logs({ trace_id: 't1' })).map((e) => e.message)).toEqual(['m1', 'm2']);
      expect((await s.logs({ since: '2024-01-01T00:00:03.000Z' })).map((e) => e.message)).toEqual(['m3', 'm4']);
      const all = await s.logs({});
      const after = await s.logs({ afterId: all[1].id, limit: 1 });
      expect(after.map((e) => e.message)).toEqual(['m3']);
    });
  });

}
