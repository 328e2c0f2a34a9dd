// A fake Salesforce org on 127.0.0.1: the REST API's SOQL endpoint for the queries orgloop sends
// (`SELECT <fields> FROM <Object> WHERE SystemModstamp >= <datetime> ORDER BY SystemModstamp ASC,
// Id ASC`; anything else is 400 MALFORMED_QUERY), query locators (`nextRecordsUrl`, `done`,
// batch size `batchSize`), `/limits`, `/sobjects/<Object>/describe`; Bearer sessions that expire
// (`expireSession()` -> 401 INVALID_SESSION_ID) and the OAuth refresh-token grant at
// `/services/oauth2/token` (400 invalid_grant / invalid_client); 403 REQUEST_LIMIT_EXCEEDED after
// `exhaustLimit()`.

import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeSalesforce {
  url: string;
  clientId: string;
  clientSecret: string;
  refreshToken: string;
  /** the access token currently valid */
  accessToken: string;
  records: Record<string, any[]>;
  batchSize: number;
  refreshes: number;
  queries: string[];
  expireSession(): void;
  exhaustLimit(): void;
  create(object: string, fields: Record<string, unknown>, at?: string): any;
  update(object: string, id: string, fields: Record<string, unknown>, at?: string): any;
  close(): Promise<void>;
}

const SOQL = /^SELECT (.+) FROM (\w+) WHERE SystemModstamp >= (\S+) ORDER BY SystemModstamp ASC, Id ASC$/;
const stamp = (d = new Date()) => d.toISOString().replace('Z', '+0000');

export async function startFakeSalesforce(): Promise<FakeSalesforce> {
  let limitExhausted = false;
  const locators = new Map<string, { rows: any[]; offset: number }>();
  let seq = 0;
  const fake = {
    clientId: '3MVG9-client',
    clientSecret: 'sf-client-secret',
    refreshToken: '5Aep-refresh',
    accessToken: '00D-access-1',
    records: {} as Record<string, any[]>,
    batchSize: 2000,
    refreshes: 0,
    queries: [] as string[],
    expireSession() {
      fake.accessToken = `00D-expired-${randomUUID()}`; // the old one no longer works; only a refresh learns the new one
      stale = true;
    },
    exhaustLimit() {
      limitExhausted = true;
    },
    create(object: string, fields: Record<string, unknown>, at?: string) {
      const now = stamp(at ? new Date(at) : new Date());
      const prefix = object === 'Lead' ? '00Q' : object === 'Opportunity' ? '006' : '001';
      const r = { attributes: { type: object, url: '' }, Id: `${prefix}${String(++seq).padStart(12, '0')}`, OwnerId: '005000000000001', LastModifiedById: '005000000000001', CreatedDate: now, SystemModstamp: now, ...fields };
      if (object === 'Opportunity') Object.assign(r, { IsClosed: false, IsWon: false, LastStageChangeDate: now, ...fields });
      r.attributes.url = `/services/data/v59.0/sobjects/${object}/${r.Id}`;
      (fake.records[object] ??= []).push(r);
      return r;
    },
    update(object: string, id: string, fields: Record<string, unknown>, at?: string) {
      const r = fake.records[object]!.find((x) => x.Id === id)!;
      const now = stamp(at ? new Date(at) : new Date());
      if (object === 'Opportunity' && 'StageName' in fields && fields.StageName !== r.StageName) {
        r.LastStageChangeDate = now;
        r.IsClosed = /^Closed/.test(String(fields.StageName));
        r.IsWon = fields.StageName === 'Closed Won';
      }
      Object.assign(r, fields, { SystemModstamp: now });
      return r;
    },
  };
  let stale = false;

  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const u = new URL(req.url ?? '/', 'http://x');
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json;charset=UTF-8' });
      res.end(JSON.stringify(body));
    };
    if (u.pathname === '/services/oauth2/token' && req.method === 'POST') {
      const form = new URLSearchParams(Buffer.concat(chunks).toString());
      if (form.get('grant_type') !== 'refresh_token') return send(400, { error: 'unsupported_grant_type', error_description: 'grant type not supported' });
      if (form.get('client_id') !== fake.clientId || form.get('client_secret') !== fake.clientSecret) return send(400, { error: 'invalid_client', error_description: 'invalid client credentials' });
      if (form.get('refresh_token') !== fake.refreshToken) return send(400, { error: 'invalid_grant', error_description: 'expired access/refresh token' });
      fake.refreshes++;
      fake.accessToken = `00D-access-${fake.refreshes + 1}`;
      stale = false;
      return send(200, { access_token: fake.accessToken, instance_url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, id: 'https://login.salesforce.com/id/00D/005', token_type: 'Bearer', issued_at: String(Date.now()), signature: 'x' });
    }
    if (req.headers.authorization !== `Bearer ${fake.accessToken}` || stale) return send(401, [{ message: 'Session expired or invalid', errorCode: 'INVALID_SESSION_ID' }]);
    if (limitExhausted) return send(403, [{ message: 'TotalRequests Limit exceeded.', errorCode: 'REQUEST_LIMIT_EXCEEDED' }]);
    const base = '/services/data/v59.0';
    if (u.pathname === `${base}/limits`) return send(200, { DailyApiRequests: { Max: 15000, Remaining: 14990 } });
    const describe = new RegExp(`^${base}/sobjects/(\\w+)/describe$`).exec(u.pathname);
    if (describe) return fake.records[describe[1]!] || ['Lead', 'Opportunity'].includes(describe[1]!) ? send(200, { name: describe[1], queryable: true }) : send(404, [{ message: `sObject type '${describe[1]}' is not supported.`, errorCode: 'NOT_FOUND' }]);
    const more = new RegExp(`^${base}/query/(.+)$`).exec(u.pathname);
    let loc: { rows: any[]; offset: number } | undefined;
    if (more) {
      loc = locators.get(more[1]!);
      if (!loc) return send(400, [{ message: 'invalid query locator', errorCode: 'INVALID_QUERY_LOCATOR' }]);
    } else if (u.pathname === `${base}/query`) {
      const q = u.searchParams.get('q') ?? '';
      fake.queries.push(q);
      const m = SOQL.exec(q);
      if (!m) return send(400, [{ message: 'unexpected token', errorCode: 'MALFORMED_QUERY' }]);
      const fields = m[1]!.split(',').map((s) => s.trim());
      const since = Date.parse(m[3]!);
      const rows = (fake.records[m[2]!] ?? [])
        .filter((r) => Date.parse(r.SystemModstamp.replace('+0000', 'Z')) >= since)
        .sort((a, b) => Date.parse(a.SystemModstamp.replace('+0000', 'Z')) - Date.parse(b.SystemModstamp.replace('+0000', 'Z')) || (a.Id < b.Id ? -1 : 1))
        .map((r) => Object.fromEntries([['attributes', r.attributes], ...fields.map((f) => [f, r[f] ?? null])]));
      loc = { rows, offset: 0 };
    } else return send(404, [{ message: 'The requested resource does not exist', errorCode: 'NOT_FOUND' }]);
    const page = loc.rows.slice(loc.offset, loc.offset + fake.batchSize);
    const offset = loc.offset + page.length;
    const done = offset >= loc.rows.length;
    const body: Record<string, unknown> = { totalSize: loc.rows.length, done, records: page };
    if (!done) {
      const id = `01g${randomUUID().slice(0, 8)}-${offset}`;
      locators.set(id, { rows: loc.rows, offset });
      body.nextRecordsUrl = `${base}/query/${id}`;
    }
    return send(200, body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return Object.assign(fake, { url, close: () => new Promise<void>((r) => server.close(() => r())) }) as FakeSalesforce;
}
