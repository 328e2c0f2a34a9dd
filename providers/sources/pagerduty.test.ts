import { afterEach, describe, expect, it } from 'vitest';
import { startFakePagerduty, type FakePagerduty } from '../../test/fakes/pagerduty.js';
import { makeCtx } from '../lib/test-helpers/context.js';
import { pagerdutySource } from './pagerduty.js';

let pd: FakePagerduty;
afterEach(async () => pd?.close());

const ctxFor = (extra: Record<string, unknown> = {}) => makeCtx({ api_key: pd.apiKey, base_url: pd.url, initial_lookback: '1h', ...extra });
const ago = (ms: number) => new Date(Date.now() - ms).toISOString();

describe('pagerduty source', () => {
  it('emits new incidents and their log entries with webhook event names, paging through offset/more', async () => {
    pd = await startFakePagerduty();
    const incidents = Array.from({ length: 120 }, (_, i) => pd.addIncident({ title: `disk full ${i}`, created_at: ago(30 * 60_000 - i * 1000) }));
    pd.addLogEntry(incidents[0], 'acknowledge_log_entry', { created_at: ago(10 * 60_000) });
    pd.addLogEntry(incidents[0], 'annotate_log_entry', { created_at: ago(9 * 60_000), channel: { type: 'note', summary: 'looking' } });
    pd.addLogEntry(incidents[0], 'resolve_log_entry', { created_at: ago(8 * 60_000) });
    const r = await pagerdutySource.poll!(ctxFor(), null, null);
    const names = r.events.map((e) => e.provenance!.platform_event);
    expect(names.filter((n) => n === 'incident.triggered')).toHaveLength(120);
    expect(names.slice(-3)).toEqual(['incident.acknowledged', 'incident.annotated', 'incident.resolved']);
    expect(r.events[0]).toMatchObject({
      dedupe_key: `incident:${incidents[0].id}`,
      provenance: { platform: 'pagerduty', url: incidents[0].html_url },
      payload: { incident_id: incidents[0].id, title: 'disk full 0', status: 'resolved', service: 'API', assignees: ['Ada Lovelace'] },
    });
    expect(r.events.at(-2)).toMatchObject({ provenance: { author: 'Ada Lovelace', author_type: 'user' }, payload: { note: 'looking', incident_id: incidents[0].id } });
    expect(pd.requests.filter((q) => q.path === '/incidents').map((q) => q.query.get('offset'))).toEqual(['0', '100']);
    // the next poll starts where this one ended: nothing new, nothing repeated beyond the overlap keys
    const again = await pagerdutySource.poll!(ctxFor(), r.cursor, null);
    expect(again.events).toEqual([]);
    expect(JSON.parse(again.cursor!).since >= JSON.parse(r.cursor!).since).toBe(true);
  });

  it('a first poll without lookback starts now; a later change is picked up once', async () => {
    pd = await startFakePagerduty();
    pd.addIncident({ title: 'old', created_at: ago(3600_000) });
    const first = await pagerdutySource.poll!(ctxFor({ initial_lookback: undefined }), null, null);
    expect(first.events).toEqual([]);
    const inc = pd.addIncident({ title: 'new' });
    await new Promise((r) => setTimeout(r, 5)); // `until` is exclusive: a change in the poll's own millisecond is read by the next one
    const second = await pagerdutySource.poll!(ctxFor(), first.cursor, null);
    expect(second.events.map((e) => e.payload.title)).toEqual(['new']);
    expect(second.events[0]!.dedupe_key).toBe(`incident:${inc.id}`);
  });

  it('on 429 keeps what it read, keeps the window, and waits for ratelimit-reset (kept in the cursor)', async () => {
    pd = await startFakePagerduty();
    pd.addIncident({ title: 'a', created_at: ago(60_000) });
    const start = JSON.stringify({ v: 1, since: ago(10 * 60_000) });
    pd.rateLimitNext(1, 30);
    const r = await pagerdutySource.poll!(ctxFor(), start, null);
    expect(r.events).toEqual([]);
    expect(r.retryAfterMs).toBeGreaterThan(25_000);
    const c = JSON.parse(r.cursor!);
    expect(c.since).toBe(JSON.parse(start).since);
    // a restarted executor honours the stored block without a request
    const before = pd.requests.length;
    const blocked = await pagerdutySource.poll!(ctxFor(), r.cursor, null);
    expect(blocked.retryAfterMs).toBeGreaterThan(20_000);
    expect(pd.requests.length).toBe(before);
  });

  it('filters by service and event name; a bad key is an error naming the status', async () => {
    pd = await startFakePagerduty();
    pd.addIncident({ title: 'db', service: { id: 'PDB', summary: 'DB' }, created_at: ago(60_000) });
    const api = pd.addIncident({ title: 'api', created_at: ago(50_000) });
    pd.addLogEntry(api, 'resolve_log_entry', { created_at: ago(40_000) });
    const r = await pagerdutySource.poll!(ctxFor({ service_ids: ['PDB'] }), null, null);
    expect(r.events.map((e) => e.payload.title)).toEqual(['db']);
    const only = await pagerdutySource.poll!(ctxFor({ events: ['incident.resolved'] }), null, null);
    expect(only.events.map((e) => e.provenance!.platform_event)).toEqual(['incident.resolved']);
    await expect(pagerdutySource.poll!(makeCtx({ api_key: 'wrong', base_url: pd.url, initial_lookback: '1h' }), null, null)).rejects.toThrow('PagerDuty list incidents failed (401): Unauthorized (check the credentials and their scopes)');
    expect(await pagerdutySource.check!(ctxFor({ service_ids: ['PSVC001'] }))).toEqual({ ok: true, detail: 'API key accepted (2 abilities); services PSVC001 reachable' });
    expect((await pagerdutySource.check!(makeCtx({ api_key: 'wrong', base_url: pd.url }))).ok).toBe(false);
  });
});
