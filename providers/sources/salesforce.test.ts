import { afterEach, describe, expect, it } from 'vitest';
import { startFakeSalesforce, type FakeSalesforce } from '../../test/fakes/salesforce.js';
import { makeCtx } from '../lib/test-helpers/context.js';
import { salesforceSource } from './salesforce.js';

let sf: FakeSalesforce;
afterEach(async () => sf?.close());
const ago = (ms: number) => new Date(Date.now() - ms).toISOString();
const ctxFor = (extra: Record<string, unknown> = {}) =>
  makeCtx({ instance_url: sf.url, token: sf.accessToken, refresh_token: sf.refreshToken, client_id: sf.clientId, client_secret: sf.clientSecret, login_url: sf.url, initial_lookback: '1h', ...extra });

describe('salesforce source (SOQL on SystemModstamp)', () => {
  it('names created leads and closed-won opportunities as the seed routes filter, across pages and polls', async () => {
    sf = await startFakeSalesforce();
    sf.batchSize = 2;
    const lead = sf.create('Lead', { Name: 'Grace Hopper', Company: 'Navy', Status: 'Open' }, ago(50 * 60_000));
    sf.create('Lead', { Name: 'Alan Turing', Company: 'NPL', Status: 'Open' }, ago(49 * 60_000));
    sf.create('Lead', { Name: 'Ada Lovelace', Company: 'Analytical', Status: 'Open' }, ago(48 * 60_000));
    const opp = sf.create('Opportunity', { Name: 'Navy deal', StageName: 'Prospecting', Amount: 5000 }, ago(40 * 60_000));
    const first = await salesforceSource.poll!(ctxFor(), null, null);
    expect(first.events.map((e) => [e.provenance!.platform_event, e.payload.title])).toEqual([
      ['lead.created', 'Grace Hopper'],
      ['lead.created', 'Alan Turing'],
      ['lead.created', 'Ada Lovelace'],
      ['opportunity.created', 'Navy deal'],
    ]);
    expect(first.events[0]).toMatchObject({ dedupe_key: `lead:${lead.Id}:created`, provenance: { platform: 'salesforce', url: `${sf.url}/lightning/r/Lead/${lead.Id}/view` }, payload: { object: 'Lead', record_id: lead.Id, Company: 'Navy' } });

    sf.update('Opportunity', opp.Id, { StageName: 'Closed Won' });
    sf.update('Lead', lead.Id, { Status: 'Working' });
    const second = await salesforceSource.poll!(ctxFor(), first.cursor, null);
    const names = second.events.map((e) => e.provenance!.platform_event);
    expect(names).toContain('opportunity.closed_won');
    expect(names).toContain('lead.updated');
    // the records at exactly `since` come back, with the keys already stored: a no-op at ingest
    const keys = new Set(first.events.map((e) => e.dedupe_key));
    expect(second.events.filter((e) => !keys.has(e.dedupe_key)).map((e) => e.provenance!.platform_event).sort()).toEqual(['lead.updated', 'opportunity.closed_won']);
    expect(sf.queries[0]).toMatch(/^SELECT Id, OwnerId, CreatedDate, LastModifiedById, SystemModstamp, Name, Company, .* FROM Lead WHERE SystemModstamp >= \S+Z ORDER BY SystemModstamp ASC, Id ASC$/);
  });

  it('refreshes an expired session through OAuth once and carries on; a bad refresh token is a clear error', async () => {
    sf = await startFakeSalesforce();
    sf.create('Lead', { Name: 'X' }, ago(60_000));
    const ctx = ctxFor();
    sf.expireSession();
    const r = await salesforceSource.poll!(ctx, null, null);
    expect(r.events).toHaveLength(1);
    expect(sf.refreshes).toBe(1);
    sf.expireSession();
    await expect(salesforceSource.poll!(ctxFor({ refresh_token: 'revoked' }), null, null)).rejects.toThrow('Salesforce OAuth token refresh failed (400): invalid_grant');
    await expect(salesforceSource.poll!(makeCtx({ instance_url: sf.url, token: 'bad', initial_lookback: '1h' }), null, null)).rejects.toThrow('Salesforce SOQL query failed (401): Session expired or invalid');
  });

  it('the API request limit blocks polling (kept in the cursor) without losing the position', async () => {
    sf = await startFakeSalesforce();
    const start = JSON.stringify({ v: 1, objects: { Lead: { since: ago(3600_000) } } });
    sf.exhaustLimit();
    const r = await salesforceSource.poll!(ctxFor(), start, null);
    expect(r.retryAfterMs).toBeGreaterThan(3500_000);
    expect(JSON.parse(r.cursor!).objects.Lead).toEqual(JSON.parse(start).objects.Lead);
  });

  it('validates object and field names (they go into SOQL) and the credentials; doctor reads limits', async () => {
    sf = await startFakeSalesforce();
    expect(salesforceSource.validate!({ instance_url: 'x', token: 't', objects: ['Lead; DELETE'], fields: { Lead: ['Name)'] } })).toEqual([
      { path: 'objects.0', message: '"Lead; DELETE" is not an object API name' },
      { path: 'fields.Lead.0', message: '"Name)" is not a field API name' },
    ]);
    expect(salesforceSource.validate!({ instance_url: 'x' })).toEqual([{ path: 'token', message: 'set token (an access token), or refresh_token with client_id (and client_secret)' }]);
    expect(await salesforceSource.check!(ctxFor())).toEqual({ ok: true, detail: `authenticated at ${sf.url}; Lead, Opportunity readable; 14990 of 15000 daily API requests left` });
  });

  it('records re-read from the boundary second (SOQL datetimes are whole seconds) are not mistaken for updates of themselves', async () => {
    sf = await startFakeSalesforce();
    const base = Math.floor(Date.now() / 1000) * 1000 - 10_000;
    const a = sf.create('Lead', { Name: 'A' }, new Date(base + 441).toISOString());
    sf.create('Lead', { Name: 'B' }, new Date(base + 442).toISOString());
    const start = JSON.stringify({ v: 1, objects: { Lead: { since: new Date(base - 60_000).toISOString() } } });
    const first = await salesforceSource.poll!(ctxFor(), start, null);
    expect(first.events.map((e) => e.provenance!.platform_event)).toEqual(['lead.created', 'lead.created']);
    // since is now base+442 ms; the query asks >= base (seconds), so A (base+441) comes back
    const second = await salesforceSource.poll!(ctxFor(), first.cursor, null);
    expect(second.events.map((e) => e.dedupe_key).sort()).toEqual(first.events.map((e) => e.dedupe_key).sort());
    // a real change in that second is still an update
    sf.update('Lead', a.Id, { Status: 'Working' }, new Date(base + 900).toISOString());
    const third = await salesforceSource.poll!(ctxFor(), second.cursor, null);
    expect(third.events.map((e) => e.provenance!.platform_event)).toContain('lead.updated');
  });
});
