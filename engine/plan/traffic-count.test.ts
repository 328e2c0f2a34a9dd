// Plan traffic counted per group of (source, type, platform_event, author_type, hops) must equal
// a replay of every event: a store with mixed traffic (route filters on the grouped fields and on
// payloads, filter transforms on the grouped fields, failing ones with each on_error, and on
// payloads, dedup transforms, a dedup shared across sources and one keyed by source, max_hops, a
// new loop, events left unrouted, a platform_event or author_type that is not a string, or null,
// or absent), counted both ways. A change whose routes only filter on grouped fields reads no
// event whole. Also: the migrations' backfill of the columns. SQLite, and Postgres when
// ORGLOOP_TEST_PG_URL is set.

import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { migration as m010 } from '../../state/migrations/010_event_match.js';
import { migration as m011 } from '../../state/migrations/011_event_author_type.js';
import { openStore } from '../../state/open.js';
import type { IngestItem, Store } from '../../state/store.js';
import type { EventGroupKey } from '../../state/runtime-plane.js';
import type { StateSnapshot } from '../graph/types.js';
import { analyzeTopology } from '../graph/topology.js';
import { applyPlan } from '../apply/apply.js';
import { planAgainstStore } from './plan.js';
import { toSnapshot } from './snapshot.js';
import { measureTraffic } from './traffic.js';
import { projectOf, testKey, type MiniProject } from './test-helpers/project.js';

const PG_URL = process.env.ORGLOOP_TEST_PG_URL;
const run = `orgloop_tcount_${process.pid}_${randomBytes(3).toString('hex')}`;
const schemas: string[] = [];
const MIN = 60_000;
const DAY = 86_400_000;
const NOW = Date.parse('2026-12-01T12:00:00.000Z');
const hints = { sensitive: () => undefined, replaceOn: () => undefined };
const snap = (p: MiniProject): StateSnapshot => toSnapshot(projectOf(p), { salt: 's', key: testKey }).snapshot;

const sources = [{ id: 'github' }, { id: 'linear' }, { id: 'cron' }];
const actors = [{ id: 'eng' }, { id: 'ops' }, { id: 'bots' }];
// `once` is shared by a github and a linear route: keyed by the PR number alone its memory crosses
// sources (one walk of the window), keyed by source too it does not (each source on its own)
const transformsWith = (onceKey: string | string[]) => [
  { name: 'once', type: 'dedup', config: { key: onceKey, window: '1h' } },
  // the default key holds the source
  { name: 'per-src', type: 'dedup', config: { window: '30m' } },
  { name: 'humans', type: 'filter', config: { exclude: { 'provenance.author_type': 'bot' } } },
  { name: 'shell', type: 'script', config: { command: 'true' } },
  // decided per group: every field it tests is a column
  { name: 'human-talk', type: 'filter', config: { match: { 'provenance.platform_event': ['pull_request', 'issue_comment'], type: 'resource.changed' }, exclude: { 'provenance.author_type': '/^bo/' } } },
  // fails on every event (a pattern that does not compile): on_error decides
  { name: 'broken', type: 'filter', config: { match: { 'provenance.author_type': '/(/' } } },
  { name: 'approved', type: 'filter', config: { match: { 'payload.state': 'approved' } } },
];
const v1 = (transforms: MiniProject['transforms']): MiniProject => ({
  sources, actors, transforms,
  routes: [
    { name: 'prs', source: 'github', actor: 'eng', filter: { 'provenance.platform_event': 'pull_request' } },
    { name: 'reviews', source: 'github', actor: 'eng', filter: { 'provenance.platform_event': 'pull_request_review', 'payload.state': 'approved' } },
    { name: 'tickets', source: 'linear', actor: 'ops', transforms: ['per-src'] },
    { name: 'linear-audit', source: 'linear', actor: 'bots', transforms: ['once'] },
    { name: 'nightly', source: 'cron', actor: 'bots', transforms: ['shell'] },
    { name: 'eng-done', source: 'eng', actor: 'ops', events: ['actor.stopped'], max_hops: 2 },
  ],
});
const v2 = (transforms: MiniProject['transforms']): MiniProject => ({
  sources, actors, transforms,
  routes: [
    { name: 'prs', source: 'github', actor: 'eng', filter: { 'provenance.platform_event': 'pull_request' }, transforms: ['humans', 'once'] },
    { name: 'tickets', source: 'linear', actor: 'ops', filter: { 'payload.priority': 1 }, transforms: ['per-src'] },
    { name: 'linear-audit', source: 'linear', actor: 'bots', transforms: ['once'] },
    { name: 'comments', source: 'github', actor: 'ops', filter: { 'provenance.platform_event': ['issue_comment', 42] } },
    { name: 'nightly', source: 'cron', actor: 'bots', transforms: ['shell'] },
    { name: 'eng-done', source: 'eng', actor: 'ops', events: ['actor.stopped'], max_hops: 1 },
    { name: 'ops-done', source: 'ops', actor: 'eng', events: ['actor.stopped'] },
    { name: 'humans-only', source: 'github', actor: 'ops', filter: { 'provenance.platform_event': 'push' }, transforms: ['humans'] },
    { name: 'users', source: 'github', actor: 'bots', filter: { 'provenance.author_type': 'user', 'provenance.platform_event': ['issue_comment', 'push'] }, transforms: ['human-talk'] },
    { name: 'lenient', source: 'linear', actor: 'eng', transforms: [{ ref: 'broken', on_error: 'pass' }, 'humans'] },
    { name: 'halted', source: 'linear', actor: 'bots', transforms: ['broken'] },
    { name: 'dropping', source: 'linear', actor: 'bots', transforms: [{ ref: 'broken', on_error: 'drop' }] },
    { name: 'approvals', source: 'github', actor: 'eng', filter: { 'provenance.platform_event': 'pull_request' }, transforms: ['humans', 'approved'] },
  ],
});
// v1 and one route more, on a source whose columns are all regular, filtering on columns only
const v1Plus = (transforms: MiniProject['transforms']): MiniProject => {
  const p = v1(transforms);
  return { ...p, routes: [...p.routes!, { name: 'human-tickets', source: 'linear', actor: 'eng', filter: { 'provenance.platform_event': 'Issue', 'provenance.author_type': ['user', 'bot', null] }, transforms: ['humans'] }] };
};

/** ~1,000 events over 3 days with repeats inside dedup windows; the same seed every run. */
function traffic(): IngestItem[] {
  let a = 7;
  const rand = () => ((a = (a * 1103515245 + 12345) % 2147483648) / 2147483648);
  const pick = <T,>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
  const items: IngestItem[] = [];
  for (let i = 0; i < 1000; i++) {
    const at = NOW - 3 * DAY + i * 4 * MIN;
    const received_at = new Date(at).toISOString();
    const id = `evt_${String(i).padStart(6, '0')}`;
    const source = pick(['github', 'github', 'linear', 'cron', 'eng', 'ops']);
    const type = source === 'eng' || source === 'ops' ? 'actor.stopped' : 'resource.changed';
    const hops = type === 'actor.stopped' ? pick([0, 1, 2, 3]) : 0;
    const pe: unknown = source === 'github' ? pick(['pull_request', 'pull_request_review', 'issue_comment', 'push', 42]) : source === 'linear' ? 'Issue' : undefined;
    // github's author_type is sometimes missing, null or not a string; linear's always a string
    const author: unknown = pick(['user', 'bot']);
    const odd = source === 'github' && i % 7 === 0 ? [undefined, null, 7, ['bot']][(i / 7) % 4] : author;
    const provenance = { platform: source, ...(odd !== undefined ? { author_type: odd } : {}), ...(pe !== undefined ? { platform_event: pe } : {}) };
    const e = { id, source, type, time: received_at, hops, provenance, payload: { number: Math.floor(rand() * 30), state: pick(['approved', 'changes_requested']), priority: pick([1, 2, '1']) } };
    items.push({ event: { id, source, type, dedupe_key: id, event_json: JSON.stringify(e), trace_id: id, parent_id: null, hops, received_at }, deliveries: [] });
  }
  return items;
}

/** The store, counting how many events it hands out whole, and checking it keeps to the groups named. */
function reading(store: Store) {
  const seen = { events: 0, named: 0 };
  return {
    seen,
    store: {
      events: store.events.bind(store),
      eventGroups: store.eventGroups.bind(store),
      eventsReceived: async (q: Parameters<Store['eventsReceived']>[0]) => {
        const rows = await store.eventsReceived(q);
        seen.events += rows.length;
        if (q.groups) {
          seen.named += rows.length;
          const key = (g: EventGroupKey) => JSON.stringify([g.source, g.type, g.platform_event, g.author_type, g.hops]);
          const named = new Set(q.groups.map(key));
          for (const r of rows) expect(named.has(key(r))).toBe(true);
        }
        return rows;
      },
    },
  };
}

async function check(location: string, resetColumn: (sql: string) => Promise<void>, onceKey: string | string[]): Promise<void> {
  const before = snap(v1(transformsWith(onceKey)));
  const desired = snap(v2(transformsWith(onceKey)));
  const store = await openStore(location);
  try {
    await applyPlan(store, await planAgainstStore(store, before, {}, { hints }), { who: 't' });
    await store.ingest(traffic());
    const measureTo = (to: StateSnapshot, s: Parameters<typeof measureTraffic>[0], perEvent: boolean) =>
      measureTraffic(s, before, to, () => analyzeTopology(before, to).new_cycles, { windowMs: 7 * DAY, label: '7d', now: NOW, perEvent });
    const measure = (s: Parameters<typeof measureTraffic>[0], perEvent: boolean) => measureTo(desired, s, perEvent);
    const grouped = reading(store);
    const t = await measure(grouped.store, false);
    const replayed = reading(store);
    const reference = await measure(replayed.store, true);
    expect(t).toEqual(reference);

    // the traffic is mixed enough to mean something
    const route = (name: string) => t.routes.find((r) => r.route === `route.${name}`)!;
    expect(t.events).toBeGreaterThan(500);
    expect(route('prs').dropped_after).toBeGreaterThan(0);
    expect(route('tickets').matched_after).toBeLessThan(route('tickets').matched_before);
    expect(route('eng-done').matched_after).toBeLessThan(route('eng-done').matched_before);
    expect(route('comments').matched_after).toBeGreaterThan(0);
    expect(t.unrouted.map((u) => u.event)).toEqual(['pull_request_review']);
    expect(t.loops[0]!.events).toBeGreaterThan(0);
    // filter transforms on columns were decided, failures included
    expect(route('humans-only').dropped_after).toBeGreaterThan(0);
    expect(route('users').matched_after).toBeGreaterThan(0);
    expect(route('users').dropped_after).toBeGreaterThan(0);
    expect(route('lenient').matched_after).toBeGreaterThan(0);
    expect(route('lenient').dropped_after).toBeGreaterThan(0);
    expect(route('halted').matched_after).toBe(0);
    expect(route('dropping').matched_after).toBe(0);
    expect(route('approvals').matched_after).toBeGreaterThan(0);
    // and the grouped count read only part of it whole, mostly by naming the groups to the store
    expect(grouped.seen.events).toBeLessThan(replayed.seen.events);
    expect(grouped.seen.named).toBeGreaterThan(0);

    // a change filtering on columns alone is counted from the groups: no event is read whole
    // (but the one that tells the store holds events)
    const plus = snap(v1Plus(transformsWith(onceKey)));
    const onColumns = reading(store);
    const p = await measureTo(plus, onColumns.store, false);
    expect(p).toEqual(await measureTo(plus, reading(store).store, true));
    expect(p.routes.map((r) => [r.route, r.matched_after > 0, r.dropped_after! > 0])).toEqual([['route.human-tickets', true, true]]);
    expect(onColumns.seen.events).toBe(1);

    // the migrations' backfill gives the columns the values ingest gives them
    await resetColumn('UPDATE events SET platform_event = NULL, author_type = NULL');
    for (const m of [m010, m011]) {
      for (const statement of (location.startsWith('postgres') ? m.postgres : m.sqlite).split(';')) {
        if (statement.trim().startsWith('UPDATE')) await resetColumn(statement);
      }
    }
    expect(await measure(reading(store).store, false)).toEqual(reference);
    expect(await measureTo(plus, reading(store).store, false)).toEqual(p);
  } finally {
    await store.close();
  }
}

describe('plan traffic counted per group', () => {
  for (const onceKey of ['payload.number', ['source', 'payload.number']]) {
    it(`agrees with a replay of every event, dedup key ${JSON.stringify(onceKey)} (SQLite)`, async () => {
      const file = join(mkdtempSync(join(tmpdir(), 'orgloop-tcount-')), 'state.db');
      await check(
        file,
        async (sql) => {
          const db = new Database(file);
          db.exec(sql);
          db.close();
        },
        onceKey,
      );
    });
  }

  describe.skipIf(!PG_URL)('on Postgres', () => {
    const admin = PG_URL ? new pg.Pool({ connectionString: PG_URL, max: 1 }) : null;
    afterAll(async () => {
      for (const s of schemas) await admin!.query(`DROP SCHEMA IF EXISTS ${s} CASCADE`);
      await admin?.end();
    });
    it('agrees the same way', async () => {
      const schema = `${run}_a`;
      schemas.push(schema);
      await check(
        `${PG_URL}?schema=${schema}`,
        async (sql) => {
          await admin!.query(`SET search_path TO ${schema}; ${sql}`);
        },
        'payload.number',
      );
    });
  });
});
