// The console's JSON API: what the single-page app reads and the few actions it may take.
// Reads go through RuntimeQueries (a read-only connection, bounded queries); actions through
// the Store's operator controls, the same ones `orgloop deliveries retry` uses.

import type { DeliveryControl } from '../../state/store.js';
import type { PlanStore } from '../plan/plan.js';
import type { DeliveryStatus } from '../../state/runtime-plane.js';
import type { EventFilter, RuntimeQueries } from '../../state/queries/queries.js';
import { UserError } from '../errors.js';
import type { DriftReport } from '../drift/drift.js';
import { buildPlanTopology, buildTopology, fromPlan, fromSnapshot } from '../graph/render-model.js';
import { diffVersions } from '../history/diff.js';
import { planRollback } from '../history/rollback.js';
import { parsePlanText } from '../plan/planfile.js';
import { renderText } from '../plan/render-text.js';

export interface ApiDeps {
  /** versions (history, diff, rollback plans) and the two actions on a delivery */
  store: PlanStore & Pick<DeliveryControl, 'cancel' | 'redrive'>;
  queries: RuntimeQueries;
  /** the executor serving the console, if one does */
  executorId?: string;
  /** `orgloop drift`'s check (prompts, secrets, provider-managed objects, executors), built in cmd/ */
  drift?: () => Promise<DriftReport>;
  now?: () => number;
}

export type Answer = { status: number; body: unknown };

const STATUSES = new Set<DeliveryStatus>(['pending', 'leased', 'delivered', 'retry', 'dead', 'cancelled']);
/** how far back the rates on the organization picture look */
const RATE_WINDOW_MS = 60_000;
/** executors whose heartbeat is older than this are shown as gone */
const STALE_MS = 30_000;
/** the most deliveries one "retry all matching" touches */
export const RETRY_ALL_MAX = 10_000;

/** how long a provider drift check is reused */
const DRIFT_TTL_MS = 60_000;

const ok = (body: unknown): Answer => ({ status: 200, body });
const bad = (error: string, status = 400): Answer => ({ status, body: { error } });

function str(q: URLSearchParams, name: string, max = 200): string | undefined {
  const v = q.get(name);
  if (v === null || v === '') return undefined;
  return v.slice(0, max);
}

function limitOf(q: URLSearchParams, dflt: number, max: number): number {
  const n = Number(q.get('limit') ?? dflt);
  return Number.isInteger(n) && n > 0 ? Math.min(n, max) : dflt;
}

/** An id made of the prefix and the time alone: every id minted at or after `ms` sorts after it. */
function idAt(prefix: 'evt' | 'dlv', ms: number): string {
  return `${prefix}_${Math.max(0, ms).toString(36).padStart(9, '0')}`;
}

function parseJson(text: string | null): unknown {
  if (text === null) return null;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

type DriftRun = { at: number; report: DriftReport | null; error: string | null };

export class ConsoleApi {
  private readonly now: () => number;
  private driftRun: DriftRun | null = null;
  private driftPending: Promise<DriftRun> | null = null;

  constructor(private readonly d: ApiDeps) {
    this.now = d.now ?? Date.now;
  }

  /** GET /api/<path> */
  async get(path: string, q: URLSearchParams): Promise<Answer> {
    const parts = path.split('/').filter(Boolean).map(decodeURIComponent);
    switch (parts[0]) {
      case 'overview':
        return this.overview();
      case 'events':
        return parts[1] ? this.event(parts[1]) : this.events(q);
      case 'trace':
        return parts[1] ? this.trace(parts[1]) : bad('which event? /api/trace/<event-id>');
      case 'dead':
        return this.dead(q);
      case 'versions':
        if (parts[1] === 'diff') return this.diff(q);
        return ok({ versions: (await this.d.store.versions()).reverse() });
      case 'rollback':
        return this.rollbackPlan(q);
      case 'drift':
        return this.drift(q.get('fresh') === '1');
      default:
        return bad(`no such API: /api/${path}`, 404);
    }
  }

  /** POST /api/<path> with a parsed JSON body; the guard has checked the token. */
  async post(path: string, body: unknown): Promise<Answer> {
    if (body === null || typeof body !== 'object' || Array.isArray(body)) return bad('the body must be a JSON object');
    const b = body as Record<string, unknown>;
    switch (path) {
      case 'deliveries/retry':
        return this.retry(b);
      case 'deliveries/cancel':
        return this.cancel(b);
      default:
        return bad(`no such action: /api/${path}`, 404);
    }
  }

  /** POST /api/plan/topology: a saved plan file's text drawn as a topology (reads only, no token). */
  planTopology(text: string): Answer {
    try {
      const plan = parsePlanText(text, 'the uploaded file');
      const { before, after, actions } = fromPlan(plan);
      return ok({ summary: plan.summary, serial: plan.serial, topology: buildPlanTopology(before, after, actions), text: renderText(plan, { color: false }) });
    } catch (err) {
      if (err instanceof UserError) return bad(err.message);
      throw err;
    }
  }

  /**
   * GET /api/drift: what `orgloop drift` reports. It reads provider APIs (a GitHub webhook...),
   * so one check runs at a time and its answer is reused for DRIFT_TTL_MS (`fresh=1` asks anew).
   */
  private async drift(fresh: boolean): Promise<Answer> {
    if (!this.d.drift) return bad('drift is not available here', 404);
    const now = this.now();
    if (!this.driftRun || (!this.driftPending && (fresh || now - this.driftRun.at >= DRIFT_TTL_MS))) {
      const run = this.d.drift().then(
        (report) => ({ at: this.now(), report, error: null as string | null }),
        (err: Error) => ({ at: this.now(), report: null, error: err.message }),
      );
      this.driftPending = run;
      const done = await run;
      this.driftPending = null;
      this.driftRun = done;
    } else if (this.driftPending) {
      this.driftRun = await this.driftPending;
    }
    const r = this.driftRun;
    if (r.error !== null) return ok({ checked_at: new Date(r.at).toISOString(), error: r.error });
    return ok({ checked_at: new Date(r.at).toISOString(), ...r.report });
  }

  private async overview(): Promise<Answer> {
    const { store, queries } = this.d;
    const now = this.now();
    const current = await store.current();
    const [waiting, dead, executors, recent, received] = await Promise.all([
      queries.backlog(['pending', 'retry', 'leased']),
      // dead letters from the maintained counters: counting them row by row was most of the
      // overview's time on a large store. Each route's are shown under its actor as applied now.
      queries.deadCounts(),
      queries.executors(),
      queries.recentDeliveries(idAt('dlv', now - RATE_WINDOW_MS)),
      queries.recentEvents(idAt('evt', now - RATE_WINDOW_MS)),
    ]);
    const serial = current?.serial ?? 0;
    const actorOf = new Map<string, string>();
    for (const r of Object.values(current?.snapshot.resources ?? {})) {
      if (r.kind === 'route') actorOf.set(r.name, String((r.attributes as { then?: { actor?: string } }).then?.actor ?? ''));
    }
    const backlog = [...waiting, ...dead.map((d) => ({ route: d.route, actor: actorOf.get(d.route) ?? '', status: 'dead' as const, count: d.count, oldest_run_at: null }))];
    const live = executors.map((e) => ({ ...e, alive: now - Date.parse(e.heartbeat_at) < STALE_MS }));
    const drift: string[] = [];
    for (const e of live) {
      if (e.alive && e.serial_loaded !== serial) drift.push(`executor ${e.id} on ${e.host} runs version ${e.serial_loaded}, applied is ${serial}`);
    }
    return ok({
      project: current?.snapshot.project.name ?? null,
      serial,
      applied: current ? { created_at: current.created_at, who: current.who, kind: current.kind, message: current.message } : null,
      executor: this.d.executorId ?? null,
      executors: live,
      drift,
      topology: current ? buildTopology(fromSnapshot(current.snapshot)) : { nodes: [], edges: [], loggers: [] },
      window_s: RATE_WINDOW_MS / 1000,
      backlog,
      recent,
      received,
    });
  }

  private async events(q: URLSearchParams): Promise<Answer> {
    const status = str(q, 'status');
    if (status !== undefined && !STATUSES.has(status as DeliveryStatus)) return bad(`unknown status "${status}"`);
    const f: EventFilter = {
      source: str(q, 'source'),
      type: str(q, 'type'),
      route: str(q, 'route'),
      actor: str(q, 'actor'),
      status: status as DeliveryStatus | undefined,
      text: str(q, 'q'),
    };
    const page = await this.d.queries.events(f, str(q, 'before') ?? null, limitOf(q, 50, 200));
    const deliveries = await this.d.queries.deliveriesOf(page.items.map((e) => e.id));
    const byEvent = new Map<string, typeof deliveries>();
    for (const dl of deliveries) byEvent.set(dl.event_id, [...(byEvent.get(dl.event_id) ?? []), dl]);
    return ok({ events: page.items.map((e) => ({ ...e, deliveries: byEvent.get(e.id) ?? [] })), next: page.next });
  }

  private async event(id: string): Promise<Answer> {
    const e = await this.d.queries.event(id);
    if (!e) return bad(`no event ${id}`, 404);
    const { event_json, headers, ...row } = e;
    return ok({ ...row, event: parseJson(event_json), headers: headers ? parseJson(headers) : null, deliveries: await this.d.queries.deliveriesOf([id]) });
  }

  /** One event's whole trace: every event of its chain, their deliveries and the log, as one timeline. */
  private async trace(id: string): Promise<Answer> {
    const { queries } = this.d;
    const e = await queries.event(id);
    if (!e) return bad(`no event ${id}`, 404);
    const [events, log] = await Promise.all([queries.traceEvents(e.trace_id), queries.traceLog(e.trace_id)]);
    const deliveries = await queries.deliveriesOf(events.map((x) => x.id));
    const full = await Promise.all(events.map(async (x) => (x.id === id ? e : ((await queries.event(x.id)) ?? { ...x, event_json: 'null', headers: null }))));
    return ok({
      event_id: id,
      trace_id: e.trace_id,
      events: full.map(({ event_json, headers, ...row }) => ({ ...row, event: parseJson(event_json), headers: headers ? parseJson(headers) : null })),
      deliveries,
      log: log.map((l) => ({ ...l, data: parseJson(l.data) })),
    });
  }

  private async dead(q: URLSearchParams): Promise<Answer> {
    const status = q.get('status') ?? 'dead';
    if (status !== 'dead' && status !== 'retry') return bad('status must be dead or retry');
    const page = await this.d.queries.dead({ route: str(q, 'route'), actor: str(q, 'actor'), status }, str(q, 'before') ?? null, limitOf(q, 50, 500));
    return ok({ deliveries: page.items, next: page.next });
  }

  private async diff(q: URLSearchParams): Promise<Answer> {
    const from = Number(q.get('from'));
    const to = q.get('to') === null ? undefined : Number(q.get('to'));
    try {
      const { plan } = await diffVersions(this.d.store, from, to);
      const { before, after, actions } = fromPlan(plan);
      return ok({ summary: plan.summary, text: renderText(plan, { color: false }), topology: buildPlanTopology(before, after, actions) });
    } catch (err) {
      if (err instanceof UserError) return bad(err.message);
      throw err;
    }
  }

  /** The plan a rollback to version N would apply: shown to confirm, applied only by the CLI. */
  private async rollbackPlan(q: URLSearchParams): Promise<Answer> {
    const to = Number(q.get('to'));
    try {
      const plan = await planRollback(this.d.store, to, { refresh: false });
      const { before, after, actions } = fromPlan(plan);
      return ok({
        to,
        summary: plan.summary,
        text: renderText(plan, { color: false }),
        topology: buildPlanTopology(before, after, actions),
        apply: `orgloop rollback --to ${to}`,
      });
    } catch (err) {
      if (err instanceof UserError) return bad(err.message);
      throw err;
    }
  }

  /** Which deliveries an action names: `ids`, or every dead one matching `filter`. */
  private async targets(b: Record<string, unknown>): Promise<string[] | Answer> {
    if (Array.isArray(b.ids)) {
      if (b.ids.length > 1000 || !b.ids.every((x) => typeof x === 'string' && x.length <= 100)) return bad('ids must be at most 1000 delivery ids');
      return b.ids as string[];
    }
    if (b.filter && typeof b.filter === 'object' && !Array.isArray(b.filter)) {
      const f = b.filter as Record<string, unknown>;
      const pick = (k: string) => (typeof f[k] === 'string' && f[k] !== '' ? (f[k] as string) : undefined);
      return this.d.queries.deadIds({ route: pick('route'), actor: pick('actor') }, RETRY_ALL_MAX);
    }
    return bad('name the deliveries: {"ids": [...]} or {"filter": {"route": ..., "actor": ...}}');
  }

  private async retry(b: Record<string, unknown>): Promise<Answer> {
    const version = b.version ?? 'pinned';
    if (version !== 'pinned' && version !== 'current') return bad('version must be "pinned" (the version that routed it) or "current"');
    const ids = await this.targets(b);
    if (!Array.isArray(ids)) return ids;
    const serial = version === 'current' ? (await this.d.store.meta()).serial : undefined;
    let retried = 0;
    for (const id of ids) if (await this.d.store.redrive(id, serial)) retried++;
    return ok({ retried, skipped: ids.length - retried, version, ...(serial !== undefined ? { serial } : {}) });
  }

  private async cancel(b: Record<string, unknown>): Promise<Answer> {
    const ids = Array.isArray(b.ids) ? b.ids : null;
    if (!ids || ids.length > 1000 || !ids.every((x) => typeof x === 'string')) return bad('ids must be a list of at most 1000 delivery ids');
    let cancelled = 0;
    for (const id of ids as string[]) if (await this.d.store.cancel(id, 'cancelled from the console')) cancelled++;
    return ok({ cancelled, skipped: ids.length - cancelled });
  }
}
