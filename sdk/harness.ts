// A test harness for provider authors: runs one provider inside a real executor (a temp project,
// a SQLite state store, a real plan and apply with the provider's lifecycle hooks, the ingress
// on an ephemeral port, the scheduler and delivery workers), so a provider is tested the way
// orgloop will run it rather than by calling its functions directly.
//
//   const h = await startHarness({ provider: mySource, config: { token: '${ACME_TOKEN}' }, env: { ACME_TOKEN: 't' } });
//   const events = await h.events(2);          // waits for two stored events from the source
//   await h.restart();                          // same store: the cursor must survive
//   await h.close();
//
// A source is declared as `under-test`; an actor as `under-test` behind a webhook source
// `inbox`, so h.deliver(payload) sends one event through the route and resolves when its
// delivery settles.

import { randomBytes } from 'node:crypto';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import type { OrgEvent, Provider } from '../providers/types.js';
import { admitProvider } from '../providers/contract.js';
import { registerProvider } from '../providers/registry.js';
import type { Delivery, Store } from '../state/store.js';

export interface HarnessOptions {
  /** the provider under test (it passes the same admission check as a package's export) */
  provider: Provider;
  /** its config as YAML would hold it; `${VAR}` is substituted from `env` */
  config?: Record<string, unknown>;
  /** variables for `${VAR}` (written to the temp project's .env, never to state) */
  env?: Record<string, string>;
  /** poll interval for a polling source (default 1s) */
  poll?: string;
  /** extra top-level YAML sections merged into the project (routes to a test actor, transforms...) */
  project?: Record<string, unknown>;
}

export interface HarnessDelivery {
  status: Delivery['status'];
  attempts: number;
  last_error: string | null;
}

export interface ProviderHarness {
  /** the temp project directory */
  dir: string;
  /** the executor's ingress, e.g. http://127.0.0.1:41234 */
  url: string;
  /** waits until at least `n` events from the source under test are stored, and returns them all */
  events(n: number, opts?: { timeoutMs?: number }): Promise<OrgEvent[]>;
  /** POSTs a body to the source's webhook endpoint */
  webhook(body: string | Buffer | object, headers?: Record<string, string>, path?: string): Promise<{ status: number; body: string }>;
  /** sends `payload` as an event to the actor under test and waits until its delivery settles (delivered or dead), or for `attempts` tries */
  deliver(payload: Record<string, unknown>, opts?: { timeoutMs?: number; attempts?: number }): Promise<HarnessDelivery>;
  /** stops the executor and starts a new one on the same store (what a restart or crash recovery sees) */
  restart(): Promise<void>;
  /** stops the executor and removes the temp project */
  close(): Promise<void>;
}

const SUBJECT = 'under-test';

async function until<T>(what: string, timeoutMs: number, fn: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`harness: timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

function projectYaml(opts: HarnessOptions): Record<string, unknown> {
  const p = opts.provider;
  const extra = opts.project ?? {};
  const list = (k: string) => (Array.isArray(extra[k]) ? (extra[k] as unknown[]) : []);
  const doc: Record<string, unknown> = { ...extra };
  if (p.kind === 'source') {
    const src: Record<string, unknown> = { id: SUBJECT, connector: p.name, config: opts.config ?? {} };
    if (p.polling || (p.poll && !p.pollIntervalMs)) src.poll = { interval: opts.poll ?? '1s' };
    doc.sources = [src, ...list('sources')];
  } else if (p.kind === 'actor') {
    doc.sources = [{ id: 'inbox', connector: 'webhook' }, ...list('sources')];
    doc.actors = [{ id: SUBJECT, connector: p.name, config: opts.config ?? {} }, ...list('actors')];
    doc.routes = [{ name: 'to-subject', when: { source: 'inbox' }, then: { actor: SUBJECT }, delivery: { max_attempts: 3 } }, ...list('routes')];
  } else if (p.kind === 'transform') {
    doc.transforms = [{ name: SUBJECT, type: p.name, config: opts.config ?? {} }, ...list('transforms')];
  } else {
    doc.loggers = [{ name: SUBJECT, type: p.name, config: opts.config ?? {} }, ...list('loggers')];
  }
  return doc;
}

export async function startHarness(opts: HarnessOptions): Promise<ProviderHarness> {
  const admitted = admitProvider(opts.provider);
  if ('error' in admitted) throw new Error(`harness: provider "${(opts.provider as { name?: string }).name}" is not usable: ${admitted.error}`);
  registerProvider(admitted.provider);

  const dir = mkdtempSync(join(tmpdir(), 'orgloop-harness-'));
  // JSON is YAML: the loader reads it with positions like any project file.
  writeFileSync(join(dir, 'orgloop.yaml'), JSON.stringify(projectYaml(opts), null, 2) + '\n');
  writeFileSync(join(dir, '.env'), Object.entries(opts.env ?? {}).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join('\n') + '\n');
  mkdirSync(join(dir, '.orgloop'), { recursive: true });

  const [{ loadProject }, { planFromProject }, { runApplySession }, { openStore }, { Executor }, { DEFAULT_SETTINGS }, { stateKeyFromText }] = await Promise.all([
    import('../engine/config/load.js'),
    import('../engine/plan/plan.js'),
    import('../engine/apply/session.js'),
    import('../state/open.js'),
    import('../engine/run/executor.js'),
    import('../engine/run/settings.js'),
    import('../engine/secrets/index.js'),
  ]);
  // A throwaway key: the harness's state lives and dies with its temp dir, so it must neither
  // read nor create the user's key file.
  const key = stateKeyFromText(randomBytes(32).toString('hex'), 'sdk harness', false);
  // Short retry and shutdown waits keep provider tests fast; heap tuning is left to the host process.
  const settings = { ...DEFAULT_SETTINGS, port: 0, host: '127.0.0.1', consoleLevel: 'error' as const, heapGrowthPercent: 0, backoffBaseMs: 200, backoffCapMs: 2000, shutdownGraceMs: 2000 };
  const project = await loadProject(join(dir, 'orgloop.yaml'), { env: {} });
  const store: Store = await openStore(join(dir, '.orgloop', 'state.db'));
  await runApplySession(store, {
    operation: 'apply',
    lockTimeoutMs: 5_000,
    who: 'orgloop-sdk-harness',
    makePlan: () => planFromProject(store, project, { warnings: [], stateKey: () => key }),
    confirm: async () => true,
  });

  let exec: InstanceType<typeof Executor> | null = null;
  let url = '';
  const startExecutor = async () => {
    exec = new Executor({ store, settings, write: () => {} });
    const addr: AddressInfo = await exec.start();
    url = `http://127.0.0.1:${addr.port}`;
  };
  await startExecutor();

  const storedEvents = async (): Promise<OrgEvent[]> => {
    const rows = await store.events({ source: SUBJECT, limit: 100_000 });
    return rows.map((r) => JSON.parse(r.event_json) as OrgEvent).sort((a, b) => (a.time < b.time ? -1 : a.time > b.time ? 1 : 0));
  };
  const post = async (path: string, body: string | Buffer | object, headers: Record<string, string> = {}) => {
    const raw = typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body);
    const res = await fetch(url + path, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: raw });
    return { status: res.status, body: await res.text() };
  };

  return {
    dir,
    get url() {
      return url;
    },
    events: (n, o = {}) =>
      until(`${n} event(s) from ${SUBJECT}`, o.timeoutMs ?? 10_000, async () => {
        const evs = await storedEvents();
        return evs.length >= n ? evs : undefined;
      }),
    webhook: (body, headers, path = `/webhook/${SUBJECT}`) => post(path, body, headers),
    deliver: async (payload, o = {}) => {
      const res = await post('/webhook/inbox', payload);
      if (res.status >= 300) throw new Error(`harness: the inbox refused the event (${res.status} ${res.body})`);
      const wanted = o.attempts;
      return until('the delivery to settle', o.timeoutMs ?? 15_000, async () => {
        const mine = (await store.deliveries({ route: 'to-subject', limit: 100_000 })).sort((a, b) => (a.created_at < b.created_at ? 1 : -1))[0];
        if (!mine) return undefined;
        const settled = mine.status === 'delivered' || mine.status === 'dead' || (wanted !== undefined && mine.attempts >= wanted && mine.status !== 'leased');
        return settled ? { status: mine.status, attempts: mine.attempts, last_error: mine.last_error } : undefined;
      });
    },
    restart: async () => {
      await exec?.stop();
      await startExecutor();
    },
    close: async () => {
      await exec?.stop().catch(() => {});
      await store.close().catch(() => {});
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
