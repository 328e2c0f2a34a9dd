// Plans annotated with stored traffic: a store with known events, and every number checked in
// the text, JSON and markdown output. Runs on SQLite, and on Postgres when ORGLOOP_TEST_PG_URL is set.

import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { openStore } from '../../state/open.js';
import type { Store } from '../../state/store.js';
import type { StateSnapshot } from '../graph/types.js';
import { applyPlan } from '../apply/apply.js';
import { planAgainstStore } from './plan.js';
import { toSnapshot } from './snapshot.js';
import { renderText } from './render-text.js';
import { renderJson } from './render-json.js';
import { renderMarkdown } from './render-markdown.js';
import { projectOf, testKey, type MiniProject } from './test-helpers/project.js';

const PG_URL = process.env.ORGLOOP_TEST_PG_URL;
const run = `orgloop_traffic_${process.pid}_${randomBytes(3).toString('hex')}`;
const schemas: string[] = [];
const DAY = 86_400_000;
const NOW = Date.parse('2026-12-01T12:00:00.000Z');
const hints = { sensitive: () => undefined, replaceOn: () => undefined };

const snap = (p: MiniProject): StateSnapshot => toSnapshot(projectOf(p), { salt: 's', key: testKey }).snapshot;

// Applied: github -> eng for pull_request events, linear -> ops, eng's completions -> nothing.
const v1: MiniProject = {
  sources: [{ id: 'github' }, { id: 'linear' }],
  actors: [{ id: 'eng' }, { id: 'ops' }],
  routes: [
    { name: 'prs', source: 'github', actor: 'eng', filter: { 'provenance.platform_event': 'pull_request' } },
    { name: 'tickets', source: 'linear', actor: 'ops' },
  ],
};
// Desired: prs narrowed to opened PRs, tickets removed, issues added for eng, and a loop eng <-> ops.
const v2: MiniProject = {
  sources: [{ id: 'github' }, { id: 'linear' }],
  actors: [{ id: 'eng' }, { id: 'ops' }],
  routes: [
    { name: 'prs', source: 'github', actor: 'eng', filter: { 'provenance.platform_event': 'pull_request', 'payload.action': 'opened' } },
    { name: 'issues', source: 'github', actor: 'eng', filter: { 'provenance.platform_event': 'issues' } },
    { name: 'eng-done', source: 'eng', actor: 'ops', events: ['actor.stopped'] },
    { name: 'ops-done', source: 'ops', actor: 'eng', events: ['actor.stopped'] },
  ],
};

let n = 0;
function event(source: string, type: string, platformEvent: string | null, action: string | null, ageMs: number) {
  const id = `evt_${String(++n).padStart(6, '0')}`;
  const received_at = new Date(NOW - ageMs).toISOString();
  const e = { id, source, type, timestamp: received_at, hops: 0, provenance: { platform: source, ...(platformEvent ? { platform_event: platformEvent } : {}) }, payload: { action, secret_title: 'do-not-print-me' } };
  return { event: { id, source, type, dedupe_key: id, event_json: JSON.stringify(e), trace_id: id, parent_id: null, hops: 0, received_at }, deliveries: [] };
}

async function seed(store: Store): Promise<void> {
  const items = [];
  // inside the 7-day window
  for (let i = 0; i < 5; i++) items.push(event('github', 'resource.changed', 'pull_request', 'opened', DAY));
  for (let i = 0; i < 3; i++) items.push(event('github', 'resource.changed', 'pull_request', 'closed', 2 * DAY));
  for (let i = 0; i < 4; i++) items.push(event('github', 'resource.changed', 'issues', 'opened', 3 * DAY));
  for (let i = 0; i < 6; i++) items.push(event('linear', 'resource.changed', 'Issue', null, 4 * DAY));
  for (let i = 0; i < 2; i++) items.push(event('eng', 'actor.stopped', null, null, 5 * DAY));
  items.push(event('ops', 'actor.stopped', null, null, 6 * DAY));
  // outside it
  for (let i = 0; i < 7; i++) items.push(event('github', 'resource.changed', 'pull_request', 'opened', 9 * DAY));
  await store.ingest(items);
}

async function check(location: string): Promise<void> {
  const store = await openStore(location);
  try {
    const first = await planAgainstStore(store, snap(v1), {}, { hints });
    await applyPlan(store, first, { who: 't' });
    await seed(store);
    const plan = await planAgainstStore(store, snap(v2), {}, { hints, traffic: { windowMs: 7 * DAY, label: '7d', now: NOW } });
    const t = plan.traffic!;
    expect(t.events).toBe(21); // github 12 + linear 6 + eng 2 + ops 1, the 7 older events left out
    expect(t.routes).toEqual([
      { route: 'route.eng-done', matched_before: 0, matched_after: 2 },
      { route: 'route.issues', matched_before: 0, matched_after: 4 },
      { route: 'route.ops-done', matched_before: 0, matched_after: 1 },
      { route: 'route.prs', matched_before: 8, matched_after: 5 },
      { route: 'route.tickets', matched_before: 6, matched_after: 0 },
    ]);
    expect(t.actors).toEqual([
      { actor: 'actor.eng', matched_before: 8, matched_after: 10 }, // prs 5 + issues 4 + ops-done 1
      { actor: 'actor.ops', matched_before: 6, matched_after: 2 },
    ]);
    expect(t.unrouted).toEqual([
      { source: 'linear', event: 'Issue', count: 6 },
      { source: 'github', event: 'pull_request', count: 3 },
    ]);
    expect(t.loops).toEqual([{ actors: ['actor.eng', 'actor.ops'], routes: ['route.eng-done', 'route.ops-done'], events: 3 }]);
    expect(plan.changes.find((c) => c.address === 'route.prs')!.traffic).toEqual({ window: '7d', matched_before: 8, matched_after: 5 });

    const text = renderText(plan, { color: false });
    for (const line of [
      'Traffic over the last 7d (21 events of the affected sources):',
      'route.prs: events matched 8 -> 5 (-3)',
      'route.tickets: events matched 6 -> 0 (-6)',
      'route.issues: events matched 0 -> 4 (+4)',
      'actor.eng: deliveries 8 -> 10 (+2)',
      'actor.ops: deliveries 6 -> 2 (-4)',
      '! 6 events "Issue" from linear would have been routed nowhere',
      '! 3 events "pull_request" from github would have been routed nowhere',
      '! loop actor.eng -> actor.ops -> actor.eng would have fired on 3 events',
      '# traffic (7d): events matched 8 -> 5 (-3)',
    ]) expect(text).toContain(line);
    const md = renderMarkdown(plan);
    expect(md).toContain('**Traffic over the last 7d (21 events of the affected sources)**');
    expect(md).toContain('- route.prs: events matched 8 -> 5 (-3)');
    expect(md).toContain('- ⚠️ 6 events "Issue" from linear would have been routed nowhere');
    const json = JSON.parse(renderJson(plan));
    expect(json.traffic.routes).toEqual(t.routes);
    expect(json.traffic.unrouted).toEqual(t.unrouted);
    for (const out of [text, md, renderJson(plan)]) expect(out).not.toContain('do-not-print-me');

    // --no-traffic: nothing; a window with no events: zeros
    expect((await planAgainstStore(store, snap(v2), {}, { hints })).traffic).toBeUndefined();
    const later = await planAgainstStore(store, snap(v2), {}, { hints, traffic: { windowMs: DAY / 2, label: '12h', now: NOW } });
    expect(later.traffic!.events).toBe(0);
  } finally {
    await store.close();
  }
}

// Transforms: prs gains a filter (opened only), a dedup on the PR number shared with the
// unchanged audit route, and a script and an enrich that are not run.
const t1: MiniProject = {
  sources: [{ id: 'github' }],
  actors: [{ id: 'eng' }],
  transforms: [{ name: 'once', type: 'dedup', config: { key: 'payload.number', window: '1h' } }],
  routes: [
    { name: 'prs', source: 'github', actor: 'eng', filter: { 'provenance.platform_event': 'pull_request' } },
    { name: 'audit', source: 'github', actor: 'eng', filter: { 'provenance.platform_event': 'issues' }, transforms: ['once'] },
  ],
};
const t2: MiniProject = {
  ...t1,
  transforms: [
    ...t1.transforms!,
    { name: 'only-opened', type: 'filter', config: { match: { 'payload.action': 'opened' } } },
    { name: 'notify', type: 'script', config: { command: ['./notify.sh'] } },
    { name: 'tag', type: 'enrich', config: { set: { 'payload.tagged': 'yes' } } },
  ],
  routes: [
    { name: 'prs', source: 'github', actor: 'eng', filter: { 'provenance.platform_event': 'pull_request' }, transforms: ['only-opened', 'once', 'notify', 'tag'] },
    t1.routes![1]!,
  ],
};

function numbered(platformEvent: string, action: string, number: number, ageMs: number) {
  const x = event('github', 'resource.changed', platformEvent, action, ageMs);
  const e = JSON.parse(x.event.event_json);
  e.payload.number = number;
  x.event.event_json = JSON.stringify(e);
  return x;
}

async function checkTransforms(location: string): Promise<void> {
  const store = await openStore(location);
  try {
    await applyPlan(store, await planAgainstStore(store, snap(t1), {}, { hints }), { who: 't' });
    const MIN = 60_000;
    const items = [];
    for (let k = 1; k <= 5; k++) items.push(numbered('pull_request', 'opened', k, DAY - k * 5 * MIN));
    // two repeats of #1 within the dedup hour, one after it
    items.push(numbered('pull_request', 'opened', 1, DAY - 10 * MIN), numbered('pull_request', 'opened', 1, DAY - 20 * MIN));
    items.push(numbered('pull_request', 'opened', 1, DAY - 3 * 60 * MIN));
    // closed PRs: the filter drops them
    for (let k = 6; k <= 8; k++) items.push(numbered('pull_request', 'closed', k, DAY - 30 * MIN));
    // issue #3 ten minutes before PR #3: the shared dedup memory drops the PR
    items.push(numbered('issues', 'opened', 3, DAY + 5 * MIN));
    items.sort((x, y) => (x.event.received_at < y.event.received_at ? -1 : 1));
    await store.ingest(items);

    const plan = await planAgainstStore(store, snap(t2), {}, { hints, traffic: { windowMs: 7 * DAY, label: '7d', now: NOW } });
    const t = plan.traffic!;
    expect(t.events).toBe(12);
    // before: 11 PR events, no transforms; after: 3 closed filtered, 2 repeats of #1 and #3 deduped
    expect(t.routes).toEqual([{ route: 'route.prs', matched_before: 11, matched_after: 5, dropped_before: 0, dropped_after: 6 }]);
    expect(t.actors).toEqual([{ actor: 'actor.eng', matched_before: 12, matched_after: 6 }]);
    expect(t.transforms).toEqual([
      { transform: 'transform.notify', type: 'script', evaluated: false, reason: 'script: runs a program' },
      { transform: 'transform.once', type: 'dedup', evaluated: true },
      { transform: 'transform.only-opened', type: 'filter', evaluated: true },
      { transform: 'transform.tag', type: 'enrich', evaluated: false, reason: 'enrich: not run over stored events' },
    ]);
    expect(t.not_evaluated).toEqual(['transform.notify', 'transform.tag']);
    const text = renderText(plan, { color: false });
    expect(text).toContain('route.prs: events matched 11 -> 5 (-6); dropped by transforms 0 -> 6 (+6)');
    expect(text).toContain('(transforms run over the events: transform.once, transform.only-opened)');
    expect(text).toContain('(not evaluated, counted as passing: transform.notify (script: runs a program), transform.tag (enrich: not run over stored events))');
    expect(renderMarkdown(plan)).toContain('- route.prs: events matched 11 -> 5 (-6); dropped by transforms 0 -> 6 (+6)');
    expect(JSON.parse(renderJson(plan)).traffic.routes).toEqual(t.routes);
  } finally {
    await store.close();
  }
}

describe('plan traffic', () => {
  it('counts exactly what the changed routes matched before and after (SQLite)', async () => {
    await check(join(mkdtempSync(join(tmpdir(), 'orgloop-traffic-')), 'state.db'));
  });

  it('runs the pure transforms (filter, dedup) and names the others (SQLite)', async () => {
    await checkTransforms(join(mkdtempSync(join(tmpdir(), 'orgloop-traffic-')), 'state.db'));
  });

  it('says so when the store holds no runtime data', async () => {
    const store = await openStore(join(mkdtempSync(join(tmpdir(), 'orgloop-traffic-')), 'state.db'));
    try {
      await applyPlan(store, await planAgainstStore(store, snap(v1), {}, { hints }), { who: 't' });
      const plan = await planAgainstStore(store, snap(v2), {}, { hints, traffic: { windowMs: 7 * DAY, label: '7d', now: NOW } });
      expect(plan.traffic!.skipped).toBe('the state store holds no events yet (no runtime data)');
      expect(renderText(plan, { color: false })).toContain('not measured: the state store holds no events yet (no runtime data)');
    } finally {
      await store.close();
    }
  });

  describe.skipIf(!PG_URL)('on Postgres', () => {
    afterAll(async () => {
      const c = new pg.Client({ connectionString: PG_URL });
      await c.connect();
      for (const s of schemas) await c.query(`DROP SCHEMA IF EXISTS "${s}" CASCADE`);
      await c.end();
    });
    const url = () => {
      const schema = `${run}_${schemas.length}`;
      schemas.push(schema);
      const u = new URL(PG_URL!);
      u.searchParams.set('schema', schema);
      return u.toString();
    };
    it('counts the same', async () => {
      await check(url());
    });
    it('runs the same transforms', async () => {
      await checkTransforms(url());
    });
  });
});
