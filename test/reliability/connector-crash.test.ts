// Every polling connector under kill -9 of the executor, through one harness: the real executor
// (child process) polls a fake vendor through a proxy; while a poll's data request is held at the
// proxy, or right after its answer is relayed (the two alternate over the connectors, to keep the
// file fast), the executor is killed with SIGKILL and started again on the same store. Checked
// for each connector:
//   - a kill while the request is held commits nothing: cursor and events exactly as before;
//   - a kill after the answer: events are never stored without their cursor moving;
//   - after restarts, every item created at the vendor is an event exactly once (a cursor
//     committed ahead of its events would lose items forever; a cursor behind them is harmless,
//     the dedupe keys absorb the repeat), and every event's delivery reached the actor.
// github has the same scenario with more detail in poll.test.ts (scenario 3); docker's fake
// Engine listens on a unix socket, and the proxy forwards to it (the source reads tcp://proxy).

import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { startFakeZendesk } from '../fakes/zendesk.js';
import { startFakePagerduty } from '../fakes/pagerduty.js';
import { startFakeSalesforce } from '../fakes/salesforce.js';
import { startFakeHttpApi } from '../fakes/http-api.js';
import { startFakeLinear } from '../fakes/linear.js';
import { startFakeGoogle } from '../fakes/google.js';
import { startFakeDocker } from '../fakes/docker.js';
import { appliedProject, snapshot, startExec, startProxy, startRecordingSink, statePath, until, type Exec } from './harness.js';


/** A connector under test: its fake vendor, its source config (pointed at the proxy), how to add item i. */
interface Vendor {
  /** the origin the proxy forwards to */
  url: string;
  close(): Promise<unknown>;
  env: Record<string, string>;
  /** creates item number i at the vendor; its title, subject or name is `item-<i>` */
  add(i: number): void;
}

interface ConnectorCase {
  connector: string;
  start(): Promise<Vendor>;
  /** YAML config lines (6-space indent) with `proxy` as the API origin */
  config(proxy: string, vendor: Vendor): string;
  /** the poll's data requests, where the kill lands */
  dataPath: RegExp;
  /** the first poll is a starting point that emits nothing: wait for it before adding items */
  baseline?: boolean;
}

const CASES: ConnectorCase[] = [
  {
    connector: 'zendesk',
    dataPath: /\/incremental\/tickets/,
    async start() {
      const zd = await startFakeZendesk();
      return { url: zd.url, close: zd.close, env: { ZD_TOKEN: zd.token, ZD_EMAIL: zd.email }, add: (i) => zd.createTicket({ subject: `item-${i}` }) };
    },
    config: (proxy) => `      subdomain: acme\n      email: "\${ZD_EMAIL}"\n      token: "\${ZD_TOKEN}"\n      base_url: ${proxy}\n      initial_lookback: 1h`,
  },
  {
    connector: 'pagerduty',
    dataPath: /\/incidents/,
    async start() {
      const pd = await startFakePagerduty();
      return { url: pd.url, close: pd.close, env: { PD_KEY: pd.apiKey }, add: (i) => pd.addIncident({ title: `item-${i}` }) };
    },
    config: (proxy) => `      api_key: "\${PD_KEY}"\n      base_url: ${proxy}\n      events: [incident.triggered]\n      log_entries: false\n      initial_lookback: 1h`,
  },
  {
    connector: 'salesforce',
    dataPath: /\/query/,
    async start() {
      const sf = await startFakeSalesforce();
      return { url: sf.url, close: sf.close, env: { SF_TOKEN: sf.accessToken }, add: (i) => sf.create('Lead', { Name: `item-${i}`, Company: 'Acme' }) };
    },
    config: (proxy) => `      instance_url: ${proxy}\n      token: "\${SF_TOKEN}"\n      objects: [Lead]\n      initial_lookback: 1h`,
  },
  {
    connector: 'http-poll',
    dataPath: /\/cursor/,
    async start() {
      const api = await startFakeHttpApi();
      return { url: api.url, close: api.close, env: { API_TOKEN: api.token }, add: (i) => api.add(`item-${i}`) };
    },
    config: (proxy) =>
      [
        `      url: ${proxy}/cursor`,
        '      auth: { bearer: "${API_TOKEN}" }',
        '      items: results',
        '      id: id',
        '      version: updated_at',
        '      query: { per_page: 2 }',
        '      pagination: { style: cursor, cursor_path: paging.next.after, cursor_param: after }',
        '      since: { param: updated_since, from: updated_at }',
      ].join('\n'),
  },
  {
    connector: 'linear',
    dataPath: /graphql/,
    async start() {
      const ln = await startFakeLinear({ apiKey: 'lin_api_k1' });
      return { url: ln.url, close: ln.close, env: { LINEAR_KEY: 'lin_api_k1' }, add: (i) => ln.addIssue({ title: `item-${i}` }) };
    },
    config: (proxy) => `      team: ENG\n      api_key: "\${LINEAR_KEY}"\n      base_url: ${proxy}\n      initial_lookback: 1h`,
  },
  {
    connector: 'docker',
    dataPath: /\/events/,
    async start() {
      const d = await startFakeDocker();
      return {
        url: `unix:${d.socket}`,
        close: d.close,
        env: {},
        add: (i) => d.emit(d.addContainer(`item-${i}`, 'alpine:3.20', true), 'start'),
      };
    },
    config: (proxy) => `      host: ${proxy.replace('http:', 'tcp:')}\n      actions: [start]\n      initial_lookback: 1h`,
  },
  {
    connector: 'gmail',
    dataPath: /\/history|\/messages/,
    async start() {
      const g = await startFakeGoogle();
      return { url: g.url, close: g.close, env: { G_ID: g.clientId, G_SECRET: g.clientSecret, G_REFRESH: g.refreshToken, G_TOKEN_URL: g.tokenUrl }, add: (i) => g.deliver({ from: 'x@customer.com', subject: `item-${i}` }) };
    },
    config: (proxy) => `      client_id: "\${G_ID}"\n      client_secret: "\${G_SECRET}"\n      refresh_token: "\${G_REFRESH}"\n      token_url: "\${G_TOKEN_URL}"\n      base_url: ${proxy}\n      initial_lookback: 1h`,
  },
  {
    connector: 'google-calendar',
    dataPath: /\/events/,
    baseline: true,
    async start() {
      const g = await startFakeGoogle();
      return { url: g.url, close: g.close, env: { G_ID: g.clientId, G_SECRET: g.clientSecret, G_REFRESH: g.refreshToken, G_TOKEN_URL: g.tokenUrl }, add: (i) => g.addEvent('primary', { summary: `item-${i}`, start: new Date(Date.now() + 5 * 3600_000) }) };
    },
    config: (proxy) => `      client_id: "\${G_ID}"\n      client_secret: "\${G_SECRET}"\n      refresh_token: "\${G_REFRESH}"\n      token_url: "\${G_TOKEN_URL}"\n      base_url: ${proxy}\n      starting_soon: 0s`,
  },
];

const ENV = { ORGLOOP_LEASE_MS: '1500', ORGLOOP_POLL_LEASE_MS: '1500' };

function project(c: ConnectorCase, proxy: string, vendor: Vendor, sink: string): string {
  return `
sources:
  - id: src
    connector: ${c.connector}
    poll: { interval: 1s }
    config:
${c.config(proxy, vendor)}
actors:
  - id: sink
    connector: webhook
    config: { url: ${sink}/deliver }
routes:
  - name: to-sink
    when: { source: src }
    then: { actor: sink }
`;
}

/** The stored cursor and, per item number, how many events name it. */
async function pollState(dir: string): Promise<{ cursor: string | null; items: number[]; events: number }> {
  const { events } = await snapshot(dir);
  const db = new Database(statePath(dir), { readonly: true });
  try {
    const row = db.prepare("SELECT cursor FROM cursors WHERE source = 'src'").get() as { cursor: string } | undefined;
    const items = events.filter((e) => e.source === 'src').map((e) => Number(/item-(\d+)/.exec(JSON.stringify((JSON.parse(e.event_json) as { payload: unknown }).payload))?.[1] ?? NaN));
    return { cursor: row?.cursor ?? null, items: items.sort((a, b) => a - b), events: items.length };
  } finally {
    db.close();
  }
}

// The cases run side by side (each is mostly waiting for its own executor process), so each
// keeps its own cleanup list.
describe.concurrent('reliability: each polling connector under kill -9 (one harness)', () => {
  it.each(CASES.map((c, i) => [c.connector, i % 2 === 0 ? 'request held' : 'answer relayed', c] as const))('%s: kill -9 (%s): no event lost or doubled, no cursor ahead of its events', async (_name, mode, c) => {
    const cleanup: Array<() => Promise<unknown>> = [];
    try {
      await scenario(c, mode, cleanup);
    } finally {
      for (const f of cleanup.reverse()) await f().catch(() => {});
    }
  }, 120_000);
});

async function scenario(c: ConnectorCase, mode: 'request held' | 'answer relayed', cleanup: Array<() => Promise<unknown>>): Promise<void> {
  const vendor = await c.start();
  cleanup.push(vendor.close);
  const proxy = await startProxy(vendor.url);
  cleanup.push(proxy.close);
  const sink = await startRecordingSink();
  cleanup.push(sink.close);
  const dir = await appliedProject(project(c, proxy.url, vendor, sink.url), { '.env': Object.entries(vendor.env).map(([k, v]) => `${k}=${v}\n`).join('') });
  const exec = async () => {
    const ex = await startExec(dir, ENV);
    cleanup.push(() => ex.kill9());
    return ex;
  };
  let n = 0;
  const add = (count: number) => {
    for (let i = 0; i < count; i++) vendor.add(++n);
  };
  const all = () => Array.from({ length: n }, (_, i) => i + 1);

  let ex: Exec = await exec();
  if (c.baseline) await until(async () => (await pollState(dir)).cursor !== null, 40_000, `${c.connector}: the starting point`);
  add(3);
  await until(async () => (await pollState(dir)).events >= 3, 40_000, `${c.connector}: the first items`).catch((err) => {
    throw new Error(`${err.message}\n${ex.output()}\n${JSON.stringify(proxy.requests.slice(0, 5))}`);
  });

  for (const when of [mode]) {
    add(3);
    let before: Awaited<ReturnType<typeof pollState>> | null = null;
    const victim = ex;
    await new Promise<void>((resolve) => {
      proxy.hook(async (_method, path) => {
        if (!c.dataPath.test(path)) return;
        proxy.hook(() => {});
        before = await pollState(dir);
        if (when === 'request held') {
          await victim.kill9();
          resolve();
        } else setImmediate(() => void victim.kill9().then(resolve));
      });
    });
    const after = await pollState(dir);
    if (when === 'request held') expect(after, `${c.connector}: nothing moves while the answer is held`).toEqual(before);
    // events are never stored without the cursor that read them
    if (after.events !== before!.events) expect(after.cursor, `${c.connector}: ${when}`).not.toBe(before!.cursor);
    ex = await exec();
  }
  add(2);
  await until(async () => (await pollState(dir)).events >= n, 40_000, `${c.connector}: all ${n} items after the restarts`);
  // a few more polls, which re-read overlaps and must dedupe them
  const seen = proxy.requests.length;
  await until(() => proxy.requests.length >= seen + 2, 30_000, `${c.connector}: more polls`);
  const final = await pollState(dir);
  if (process.env.DEBUG_CRASH) {
    const { events } = await snapshot(dir);
    console.log(events.map((e) => `${e.dedupe_key} ${(JSON.parse(e.event_json) as any).provenance.platform_event} ${JSON.stringify((JSON.parse(e.event_json) as any).payload).slice(0, 200)}`).join('\n'), final.cursor);
  }
  expect(final.items, `${c.connector}: every item exactly once`).toEqual(all());

  // and every event's delivery reached the actor
  await until(async () => {
    const s = await snapshot(dir);
    return s.deliveries.length === n && s.deliveries.every((d) => d.status === 'delivered');
  }, 40_000, `${c.connector}: deliveries`);
  const { deliveries } = await snapshot(dir);
  for (const d of deliveries) expect(sink.hits.some((h) => h.webhookId === d.id)).toBe(true);
}
