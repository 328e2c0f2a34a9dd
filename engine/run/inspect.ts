// Read-side views for the CLI (status, routes, events, deliveries, replay). They read the store
// and the applied snapshot; none of them needs providers or a running executor.

import type { OrgEvent } from '../../providers/types.js';
import type { Delivery, DeliveryStatus, Store, StoredEvent } from '../../state/store.js';
import type { StateSnapshot } from '../graph/types.js';
import { DEFAULT_MAX_HOPS } from './graph.js';
import { newId } from './ids.js';
import { isoTime } from '../../state/iso-time.js';
import { matchColumns } from '../../state/event-columns.js';
import { manualCronEvents, nextCronFire } from '../../providers/sources/cron.js';
import { toOrgEvent } from './intake.js';
import { UserError } from '../errors.js';
import { cronKey } from './scheduler.js';
import { Router, type RoutableRoute } from './router.js';

export const EXECUTOR_STALE_MS = 15_000;

export interface RouteView {
  name: string;
  source: string;
  events: string[];
  filter: Record<string, unknown> | null;
  transforms: string[];
  actor: string;
  prompt_file: string | null;
  max_hops: number;
  max_attempts: number | null;
  timeout: string | null;
}

/** Route views from resources' normalized specs (snapshot attributes or loaded specs). */
export function routeViews(resources: Array<{ kind: string; name: string; spec: Record<string, any> }>): RouteView[] {
  return resources
    .filter((r) => r.kind === 'route')
    .map(({ name, spec: s }) => ({
      name,
      source: s.when?.source,
      events: Array.isArray(s.when?.events) ? s.when.events : [],
      filter: s.when?.filter ?? null,
      transforms: ((s.transforms ?? []) as Array<string | { ref: string }>).map((t) => (typeof t === 'string' ? t : t.ref)),
      actor: s.then?.actor,
      prompt_file: s.with?.prompt_file ?? null,
      max_hops: typeof s.max_hops === 'number' ? s.max_hops : DEFAULT_MAX_HOPS,
      max_attempts: s.delivery?.max_attempts ?? null,
      timeout: s.delivery?.timeout ?? null,
    }))
    .sort((a, b) => (a.source === b.source ? a.name.localeCompare(b.name) : a.source.localeCompare(b.source)));
}

export function snapshotResources(s: StateSnapshot) {
  return Object.values(s.resources).map((r) => ({ kind: r.kind, name: r.name, provider: r.provider, spec: r.attributes as Record<string, any> }));
}

// ---- status ----

export interface StatusReport {
  state: string;
  serial: number;
  project: string | null;
  executors: Array<{ id: string; host: string; pid: number; serial_loaded: number; started_at: string; heartbeat_at: string; heartbeat_age_s: number; alive: boolean }>;
  /** next_fire_at: cron sources only, when the next tick is due (in the past: missed, fires when an executor runs) */
  sources: Array<{
    id: string;
    connector: string;
    last_event_at: string | null;
    last_event_id: string | null;
    last_event_type: string | null;
    cursor_updated_at: string | null;
    next_fire_at?: string | null;
  }>;
  /**
   * oldest_pending_age_s: seconds since the oldest waiting (pending or retrying) delivery was
   * created, i.e. since its event arrived, however many attempts it has had; next_attempt_at: the
   * earliest time one of them is due (in the past: due now, waiting for a worker).
   */
  routes: Array<{
    name: string;
    actor: string | null;
    counts: Record<DeliveryStatus, number>;
    oldest_pending_age_s: number | null;
    next_attempt_at: string | null;
    removed: boolean;
  }>;
  totals: { pending: number; dead: number; oldest_pending_age_s: number | null; next_attempt_at: string | null };
}

const STATUSES: DeliveryStatus[] = ['pending', 'leased', 'delivered', 'retry', 'dead', 'cancelled'];

export async function statusReport(store: Store, now = Date.now()): Promise<StatusReport> {
  const meta = await store.meta();
  const cur = meta.serial > 0 ? await store.current() : null;
  const resources = cur ? snapshotResources(cur.snapshot) : [];
  const executors = (await store.executors()).map((e) => {
    const age = (now - Date.parse(e.heartbeat_at)) / 1000;
    return { ...e, heartbeat_age_s: Math.round(age), alive: age * 1000 < EXECUTOR_STALE_MS };
  });
  const sources = [];
  for (const r of resources.filter((r) => r.kind === 'source')) {
    const [last] = await store.events({ source: r.name, limit: 1 });
    const c = await store.cursor(r.name);
    sources.push({
      id: r.name,
      connector: r.provider,
      last_event_at: last?.received_at ?? null,
      last_event_id: last?.id ?? null,
      last_event_type: last?.type ?? null,
      cursor_updated_at: c?.updated_at ?? null,
      ...(r.provider === 'cron' ? { next_fire_at: await nextFire(store, r.name, r.spec.config ?? {}, now) } : {}),
    });
  }
  const routeActor = new Map(resources.filter((r) => r.kind === 'route').map((r) => [r.name, (r.spec.then?.actor as string) ?? null]));
  const byRoute = new Map<string, StatusReport['routes'][number]>();
  for (const name of routeActor.keys()) byRoute.set(name, { name, actor: routeActor.get(name)!, counts: zeroCounts(), oldest_pending_age_s: null, next_attempt_at: null, removed: false });
  let pending = 0;
  let dead = 0;
  let oldest: number | null = null;
  let next: number | null = null;
  const earlier = (a: string | null, b: number) => (a === null || b < Date.parse(a) ? isoTime(b) : a);
  for (const row of await store.deliveryCounts()) {
    let r = byRoute.get(row.route);
    if (!r) byRoute.set(row.route, (r = { name: row.route, actor: null, counts: zeroCounts(), oldest_pending_age_s: null, next_attempt_at: null, removed: true }));
    r.counts[row.status] = row.count;
    if (row.status === 'pending' || row.status === 'retry' || row.status === 'leased') {
      pending += row.count;
      // running (leased) work is not waiting
      if (row.status !== 'leased' && row.oldest_created_at) {
        const age = Math.max(0, Math.round((now - Date.parse(row.oldest_created_at)) / 1000));
        r.oldest_pending_age_s = Math.max(r.oldest_pending_age_s ?? 0, age);
        oldest = Math.max(oldest ?? 0, age);
      }
      if (row.status !== 'leased' && row.oldest_run_at !== null) {
        const t = Number(row.oldest_run_at);
        r.next_attempt_at = earlier(r.next_attempt_at, t);
        next = next === null ? t : Math.min(next, t);
      }
    }
    if (row.status === 'dead') dead += row.count;
  }
  return {
    state: store.location,
    serial: meta.serial,
    project: cur?.snapshot.project.name ?? null,
    executors,
    sources,
    routes: [...byRoute.values()].sort((a, b) => a.name.localeCompare(b.name)),
    totals: { pending, dead, oldest_pending_age_s: oldest, next_attempt_at: next === null ? null : isoTime(next) },
  };
}

/** A cron source's next tick: after its last recorded fire (an executor starting fresh counts from now). */
async function nextFire(store: Store, id: string, config: Record<string, unknown>, now: number): Promise<string | null> {
  const last = await store.kvGet(cronKey(id));
  try {
    const next = nextCronFire(config, last ? new Date(last) : new Date(now));
    return next ? next.toISOString() : null;
  } catch {
    return null; // a schedule the applied version could not parse: validate refuses it before apply
  }
}

function zeroCounts(): Record<DeliveryStatus, number> {
  return Object.fromEntries(STATUSES.map((s) => [s, 0])) as Record<DeliveryStatus, number>;
}

// ---- replay ----

/**
 * Re-ingests a stored event as a new event (new id, same source, type and payload), routed
 * against the current applied version. A running executor picks the deliveries up.
 */
export async function replayEvent(store: Store, id: string): Promise<{ event_id: string; deliveries: Array<{ id: string; route: string; actor: string }>; serial: number } | null> {
  const stored = await store.event(id);
  if (!stored) return null;
  const cur = await store.current();
  if (!cur) throw new Error(`no applied version in ${store.location}`);
  const original = JSON.parse(stored.event_json) as OrgEvent;
  const newIdValue = newId('evt');
  const event: OrgEvent = {
    ...original,
    id: newIdValue,
    time: new Date().toISOString(),
    provenance: { ...original.provenance, replay_of: original.id },
    trace_id: original.trace_id,
    parent_id: original.parent_id ?? null,
  };
  const r = await ingestRouted(store, cur, event, null, { phase: 'source.replay', message: (n) => `replay of ${original.id}: ${n} route${n === 1 ? '' : 's'} matched` });
  return { ...r, serial: cur.serial };
}

type Routed = { event_id: string; deliveries: Array<{ id: string; route: string; actor: string }> };

/**
 * Stores `event` with a delivery per route of the applied version it matches (as the executor's
 * intake would, transforms running at delivery), and logs it. A running executor delivers them.
 */
async function ingestRouted(
  store: Store,
  cur: { serial: number; snapshot: StateSnapshot },
  event: OrgEvent,
  dedupeKey: string | null,
  log: { phase: string; message: (matched: number) => string },
): Promise<Routed> {
  const views = routeViews(snapshotResources(cur.snapshot));
  const router = new Router<RoutableRoute & { actor: string; max_hops: number }>(
    views.map((v) => ({ name: v.name, source: v.source, events: v.events, filter: v.filter ?? undefined, actor: v.actor, max_hops: v.max_hops })),
  );
  const matched = router.match(event).filter((r) => event.hops <= r.max_hops);
  const deliveries = matched.map((r) => ({ id: newId('dlv'), route: r.name, actor: r.actor, state_serial: cur.serial }));
  const row: StoredEvent = {
    id: event.id,
    source: event.source,
    type: event.type,
    dedupe_key: dedupeKey,
    event_json: JSON.stringify(event),
    trace_id: event.trace_id,
    parent_id: event.parent_id ?? null,
    hops: event.hops,
    received_at: event.time,
    ...matchColumns(event),
  };
  await store.ingest([{ event: row, deliveries }]);
  await store.appendLog([
    {
      time: event.time,
      phase: log.phase,
      level: 'info',
      source: event.source,
      route: null,
      actor: null,
      event_id: event.id,
      delivery_id: null,
      trace_id: event.trace_id,
      message: log.message(deliveries.length),
      data: null,
    },
  ]);
  return { event_id: event.id, deliveries: deliveries.map(({ id, route, actor }) => ({ id, route, actor })) };
}

// ---- firing a cron source now ----

/**
 * Fires a cron source of the applied version now, outside its schedule: the events a tick would
 * emit (each schedule's, or the one named), marked manual and routed like a tick.
 */
export async function fireCronNow(store: Store, sourceId: string, schedule?: string, now = Date.now()): Promise<{ serial: number; events: Routed[] }> {
  const cur = await store.current();
  if (!cur) throw new UserError(`No applied version in ${store.location}. Run \`orgloop apply\` first.`);
  const r = cur.snapshot.resources[`source.${sourceId}`];
  if (!r) {
    const names = Object.values(cur.snapshot.resources).filter((x) => x.kind === 'source').map((x) => x.name);
    throw new UserError(`no source "${sourceId}" in the applied version ${cur.serial}${names.length ? ` (sources: ${names.join(', ')})` : ''}`);
  }
  if (r.provider !== 'cron') throw new UserError(`source "${sourceId}" is a ${r.provider} source; only cron sources fire on demand (\`orgloop events replay ID\` sends a stored event again)`);
  let emitted;
  try {
    emitted = manualCronEvents(((r.attributes as { config?: Record<string, unknown> }).config ?? {}), new Date(now), schedule);
  } catch (err) {
    throw new UserError(`source "${sourceId}": ${(err as Error).message}`);
  }
  const events: Routed[] = [];
  for (const e of emitted) {
    const event = toOrgEvent(sourceId, e, now);
    events.push(await ingestRouted(store, cur, event, e.dedupe_key ?? null, { phase: 'source.fire', message: (n) => `fired by hand: ${n} route${n === 1 ? '' : 's'} matched` }));
  }
  return { serial: cur.serial, events };
}


export function describeDelivery(d: Delivery, now = Date.now()): string {
  const due = d.status === 'pending' || d.status === 'retry' ? ` due ${d.run_at <= now ? 'now' : `in ${Math.ceil((d.run_at - now) / 1000)}s`}` : '';
  return `${d.status}${due}, ${d.attempts} attempt${d.attempts === 1 ? '' : 's'}`;
}
