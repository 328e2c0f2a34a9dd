// The executor: runs the applied version from the store. Owns the current graph (swapped
// atomically when the serial changes), the ingress server, the scheduler, the delivery workers
// and the log bus, and ties actor completions back into the graph as actor.stopped events.

import { redact } from '../secrets/index.js';
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { AddressInfo } from 'node:net';
import type { Logger, LogEntry, OrgEvent, OutputColor, ProviderKind, Provider } from '../../providers/types.js';
import { StoreUnavailableError, type Beat, type Delivery, type ExecutorInfo, type StateReader, type Store } from '../../state/store.js';
import type { ResourceKind } from '../graph/types.js';
import { UserError } from '../errors.js';
import { projectEnv, substitute } from '../config/env.js';
import { getProvider, packageToInstallFor } from '../../providers/registry.js';
import { ensureSnapshotProviders } from '../registry-load.js';
import { ConsoleOut } from './console.js';
import { buildGraph, inputFromSnapshot, type Graph, type GraphDeps, type RuntimeActor } from './graph.js';
import { newId } from './ids.js';
import { EventMemory } from './event-memory.js';
import { Intake } from './intake.js';
import { Ingress } from './ingress.js';
import { LogBus } from './logbus.js';
import { Pruner } from './retention.js';
import { Scheduler } from './scheduler.js';
import type { StoppedReport, Target } from './delivery.js';
import { Slots } from './slots.js';
import { DeliveryWorkers } from './workers.js';
import { setHeapGrowth } from './heap.js';
import { DEFAULT_SETTINGS, retryPolicy, type ExecutorSettings } from './settings.js';
import { EXECUTOR_STALE_MS } from './inspect.js';

/** Postgres executors are woken by LISTEN/NOTIFY; these polls are the fallback when they cannot subscribe. */
const PG_FALLBACK_CLAIM_POLL_MS = 3000;
const PG_FALLBACK_SWAP_POLL_MS = 15_000;
/**
 * Subscribed on Postgres: one statement this often is the heartbeat and the fallback look for
 * work (a dead peer's leases, retries come due), peers and applies. It bounds how long a kill -9'd
 * peer's work waits (its session is gone at once) and what an idle executor costs the server.
 */
const PG_BEAT_MS = 3000;

/** A poll interval left at its default is the fallback one on Postgres; one set explicitly is kept. */
function shared(kind: 'sqlite' | 'postgres', ms: number, byDefault: number, fallback: number): number {
  return kind === 'postgres' && ms === byDefault ? fallback : ms;
}
import { ExecutorMetrics } from './metrics.js';
import { ObserveRoutes } from './observe-http.js';
import type { Tracing } from './tracing.js';
import { ConsoleRoutes } from '../console/server.js';
import { InboxRoutes } from '../inbox/http.js';
import type { DriftReport } from '../drift/drift.js';
import { openQueries, type RuntimeQueries } from '../../state/queries/queries.js';
import { AllowedHosts, CallbackTokens, isLoopbackBind } from './guard.js';
import { drainCommand } from '../inbox/inbox.js';

export interface ExecutorOptions {
  store: Store;
  settings: ExecutorSettings;
  /** executor console output (stdout) */
  write: (text: string) => void;
  /** the CLI's colour decision per stream (its own console output goes to stdout); default none */
  color?: OutputColor;
  /** the store's location unredacted (a Postgres URL with its password), for the read-only queries behind /metrics */
  stateLocation?: string;
  /** spans through @opentelemetry/api (cmd/otel.ts registers an SDK when asked); default: none recorded */
  tracing?: Tracing;
  /** bearer token for the console's actions at /console (ORGLOOP_CONSOLE_TOKEN); none: read-only */
  consoleToken?: string | null;
  /** the console's provider drift check (`orgloop drift`), built in cmd/ */
  drift?: () => Promise<DriftReport>;
  /**
   * Key (kept outside the store) that per-delivery callback tokens are derived with. `orgloop
   * start` always passes one; without it (tests, harnesses) the process makes its own, and tokens
   * then hold only until it exits.
   */
  callbackKey?: Buffer;
}

/**
 * What building a graph needs from the project: providers, its environment (shell, then .env),
 * and `fillTemplate`, which fills a `${VAR}` template from that environment as it is now.
 */
export function graphDeps(dir: string, log: (kind: ResourceKind, name: string) => Logger): GraphDeps & { fillTemplate: (t: string) => string } {
  const env = projectEnv(dir);
  return {
    getProvider: (kind: ProviderKind, name: string) => {
      const p = getProvider(kind, name) as Provider | undefined;
      if (!p) throw new Error(`no ${kind} provider named "${name}" is installed: npm install ${packageToInstallFor(kind, name)} in ${dir}`);
      return p;
    },
    env,
    providerLog: log,
    fillTemplate: (t) => substitute(t, env),
    freshTemplateFiller: () => {
      const now = projectEnv(dir);
      return (t) => substitute(t, now);
    },
  };
}

/** Loads and compiles the graph of an applied serial. */
export async function loadGraph(store: StateReader, serial: number, providerLog: (kind: ResourceKind, name: string) => Logger): Promise<Graph> {
  const v = await store.version(serial);
  if (!v) throw new Error(`state version ${serial} is missing from ${store.location}`);
  await ensureSnapshotProviders(v.snapshot);
  const deps = graphDeps(v.snapshot.project.dir, providerLog);
  const input = await inputFromSnapshot(serial, v.snapshot, (sha) => store.blob(sha), deps.fillTemplate);
  return buildGraph(input, deps);
}

export class Executor {
  readonly id = newId('exe');
  private current!: Graph;
  private readonly graphs = new Map<number, Graph | null>();
  private readonly bus: LogBus;
  private readonly console: ConsoleOut;
  private readonly intake: Intake;
  private readonly ingress: Ingress;
  private readonly scheduler: Scheduler;
  private readonly workers: DeliveryWorkers;
  private readonly pruner: Pruner;
  private readonly slots: Slots;
  private readonly metrics: ExecutorMetrics;
  private queries: RuntimeQueries | null = null;
  private consoleRoutes: ConsoleRoutes | null = null;
  private readonly startedAt = new Date().toISOString();
  private timers: NodeJS.Timeout[] = [];
  private stopping = false;
  private swapping = false;
  private failedSerial = 0;
  private started = false;
  private readonly tokens: CallbackTokens;
  private hosts: { serial: number; hosts: AllowedHosts } | null = null;
  address: AddressInfo | null = null;

  constructor(private readonly o: ExecutorOptions) {
    const set = o.settings;
    this.console = new ConsoleOut({ level: set.consoleLevel, color: o.color?.stdout ?? false, write: o.write });
    this.bus = new LogBus(o.store, {
      fallbackConsole: (e) => this.console.entry(e),
      fallbackLevel: set.consoleLevel,
      color: o.color,
      warn: (m) => this.console.line(`warning: ${m}`),
    });
    // Built in the order data flows: intake puts deliveries leased at ingest into the slots, the
    // workers take them (and claim the rest), and a finished actor's actor.stopped goes back in
    // through intake.
    const slots = new Slots(set.concurrency, set.prefetch);
    this.slots = slots;
    const memory = new EventMemory(set.eventMemoryMb * 1024 * 1024);
    this.metrics = new ExecutorMetrics({
      known: (kind, name) => this.knows(kind, name),
      pollingSources: () => (this.current ? [...this.current.sources.values()].filter((s) => s.pollIntervalMs !== null).map((s) => s.id) : []),
      serial: () => this.current?.serial ?? 0,
      inFlight: () => slots.active,
      queries: null,
    });
    const log = (e: LogEntry) => {
      this.metrics.observe(e);
      this.bus.emit(e);
    };
    const observe = new ObserveRoutes({ store: o.store, metrics: this.metrics, serial: () => (this.started ? this.current.serial : null), draining: () => this.stopping });
    this.tokens = new CallbackTokens(o.callbackKey ?? randomBytes(32));
    const inbox = new InboxRoutes({ store: o.store, allowedHosts: () => this.allowedHosts(), consoleToken: o.consoleToken ?? null, tokens: this.tokens });
    this.intake = new Intake(o.store, log, { owner: this.id, leaseMs: set.leaseMs, slots, memory }, o.tracing);
    this.ingress = new Ingress({
      graph: () => this.current,
      intake: this.intake,
      log,
      callback: (actor, body, token) => this.callback(actor, body, token),
      allowedHosts: () => this.allowedHosts(),
      draining: () => this.stopping,
      routes: (req, res, path) => observe.take(req, res, path) || inbox.take(req, res, path) || (this.consoleRoutes?.take(req, res, path) ?? false),
      limits: o.settings,
    });
    this.scheduler = new Scheduler({ store: o.store, owner: this.id, intake: this.intake, log, graph: () => this.current, minPollLeaseMs: set.pollLeaseMs });
    this.pruner = new Pruner({ store: o.store, owner: this.id, retentionMs: set.retentionMs, log });
    this.workers = new DeliveryWorkers({
      store: o.store,
      owner: this.id,
      slots,
      memory,
      retry: retryPolicy(set),
      backoffCapMs: set.backoffCapMs,
      log,
      logs: (level) => this.bus.enabled(level),
      target: (d) => this.target(d),
      callback: (d) => this.callbackFor(d),
      stopped: (d, parent, report) => this.emitStopped(d.actor, { delivery: d, parent }, report).then(() => undefined),
      inbox: {
        session: (key) => o.store.inboxSession(key),
        drainCommand: (key) => drainCommand(key, o.store.kind === 'sqlite' ? o.store.location : null),
      },
      leaseMs: set.leaseMs,
      pollMs: shared(o.store.kind, set.claimPollMs, DEFAULT_SETTINGS.claimPollMs, PG_FALLBACK_CLAIM_POLL_MS),
      tracing: o.tracing,
    });
  }

  /** Whether a name belongs to the running graph (bounds metric label values). */
  private knows(kind: 'source' | 'route' | 'actor' | 'transform', name: string): boolean {
    const g = this.current;
    if (!g) return false;
    // actor.stopped events have the actor as their source
    if (kind === 'source') return g.sources.has(name) || g.actors.has(name);
    if (kind === 'route') return g.routes.has(name);
    if (kind === 'actor') return g.actors.has(name);
    return g.transforms.has(name);
  }

  private providerLog = (kind: ResourceKind, name: string): Logger => {
    const emit = (level: LogEntry['level'], msg: string, data?: Record<string, unknown>) =>
      this.bus.emit({
        time: new Date().toISOString(),
        phase: `${kind}.log`,
        level,
        ...(kind === 'source' ? { source: name } : kind === 'actor' ? { actor: name } : {}),
        message: `${kind} ${name}: ${msg}`,
        data,
      });
    return {
      debug: (m, d) => emit('debug', m, d),
      info: (m, d) => emit('info', m, d),
      warn: (m, d) => emit('warn', m, d),
      error: (m, d) => emit('error', m, d),
    };
  };

  /** Loads the applied version, opens loggers, listens, and starts sources and workers. */
  async start(): Promise<AddressInfo> {
    setHeapGrowth(this.o.settings.heapGrowthPercent);
    const { store } = this.o;
    const meta = await store.meta();
    if (meta.serial === 0) throw new UserError(`No applied version in ${store.location}. Run \`orgloop apply\` first (or \`orgloop up\` to plan, apply and start).`);
    try {
      this.current = await loadGraph(store, meta.serial, this.providerLog);
    } catch (err) {
      throw new UserError(`cannot run applied version ${meta.serial}: ${(err as Error).message}`);
    }
    this.graphs.set(meta.serial, this.current);
    await this.bus.configure(this.current.loggers);
    if (this.o.stateLocation) {
      try {
        this.queries = await openQueries(this.o.stateLocation);
        this.metrics.useQueries(this.queries);
        this.consoleRoutes = new ConsoleRoutes({
          store,
          queries: this.queries,
          executorId: this.id,
          token: this.o.consoleToken ?? null,
          ...(this.o.drift ? { drift: this.o.drift } : {}),
          hosts: () => this.allowedHosts(),
        });
      } catch (err) {
        this.console.line(`warning: /console is off and /metrics leaves out backlog and store gauges: ${(err as Error).message}`);
      }
    }
    // An executor that cannot write its store (read-only, full) would acknowledge nothing and
    // deliver nothing while looking alive: refuse to start instead.
    await this.heartbeat(true);
    // Postgres: peers' new work and new applies arrive as notifications; polling is the fallback
    const subscribed = await store
      .subscribe(this.id, { work: () => this.workers.wake(), apply: () => void this.checkSerial() })
      .catch((err) => {
        this.console.line(`warning: no wake-ups from the store, polling instead: ${(err as Error).message}`);
        return false;
      });
    const { port, host } = this.o.settings;
    this.address = await this.ingress.listen(port, host).catch((err: NodeJS.ErrnoException) => {
      throw new UserError(
        err.code === 'EADDRINUSE'
          ? `port ${port} on ${host} is already in use (is another executor running? use --port)`
          : `cannot listen on ${host}:${port}: ${err.message}`,
      );
    });
    const g = this.current;
    this.console.line(
      `orgloop executor ${this.id}: running ${g.project.name} version ${g.serial} ` +
        `(${g.sources.size} sources, ${g.routes.size} routes, ${g.actors.size} actors) from ${store.location}`,
    );
    this.console.line(`listening on http://${this.address.address}:${this.address.port}`);
    if (!isLoopbackBind(this.o.settings.host)) {
      this.console.line(
        `warning: listening on ${this.o.settings.host}, beyond this machine: anyone who can reach port ${this.address.port} can post to unsigned sources; ` +
          'give every webhook source a secret, or bind 127.0.0.1 behind a tunnel or proxy',
      );
    }
    this.console.flush();
    this.scheduler.sync(this.current);
    // Subscribed (Postgres): the beat replaces the heartbeat and every poll left at its default
    const set = this.o.settings;
    this.workers.start(!(subscribed && set.claimPollMs === DEFAULT_SETTINGS.claimPollMs));
    this.pruner.start();
    if (!(subscribed && set.swapPollMs === DEFAULT_SETTINGS.swapPollMs)) {
      this.every(shared(store.kind, set.swapPollMs, DEFAULT_SETTINGS.swapPollMs, PG_FALLBACK_SWAP_POLL_MS), () => this.checkSerial());
    }
    if (subscribed) this.every(PG_BEAT_MS, () => this.beat());
    else this.every(5000, () => this.heartbeat());
    this.started = true;
    return this.address;
  }

  private every(ms: number, fn: () => Promise<void>): void {
    let busy = false;
    const t = setInterval(() => {
      if (busy || this.stopping) return;
      busy = true;
      fn()
        .catch(() => {})
        .finally(() => (busy = false));
    }, ms);
    this.timers.push(t);
  }

  private info(): ExecutorInfo {
    return { id: this.id, host: hostname(), pid: process.pid, serial_loaded: this.current.serial, started_at: this.startedAt, heartbeat_at: new Date().toISOString() };
  }

  /** One look at the store: heartbeat, peers (prefetch), work to claim, a new apply. */
  private async beat(): Promise<void> {
    let b: Beat;
    try {
      b = await this.o.store.beat(this.info(), EXECUTOR_STALE_MS);
    } catch (err) {
      this.console.line(`warning: executor heartbeat failed: ${(err as Error).message}`);
      return;
    }
    this.slots.setPrefetch(b.peers > 0 ? 0 : this.o.settings.prefetch);
    if (b.claimable || this.slots.backlog) this.workers.wake();
    if (b.serial !== this.current.serial) void this.checkSerial();
  }

  /** strict (start-up): a store that cannot be written is an error, not a warning */
  private async heartbeat(strict = false): Promise<void> {
    await this.o.store
      .heartbeatExecutor(this.info())
      .catch((err) => {
        if (strict) throw new UserError(`cannot run: ${(err as Error).message}`);
        this.console.line(`warning: executor heartbeat failed: ${(err as Error).message}`);
      });
    if (this.o.store.kind === 'postgres') await this.sharePrefetch().catch(() => {});
  }

  /** With live peers, overflow goes to the store queue so they can take it (DESIGN §10 scale-out). */
  private async sharePrefetch(): Promise<void> {
    const now = Date.now();
    const peers = (await this.o.store.executors()).filter((e) => e.id !== this.id && now - Date.parse(e.heartbeat_at) < EXECUTOR_STALE_MS);
    this.slots.setPrefetch(peers.length > 0 ? 0 : this.o.settings.prefetch);
  }

  /** Hot swap: build the new version's graph off to the side, then replace the reference. */
  private async checkSerial(): Promise<void> {
    if (this.swapping) return;
    this.swapping = true;
    try {
      let meta: { serial: number };
      try {
        meta = await this.o.store.meta();
      } catch (err) {
        // called without waiting (a NOTIFY, the beat): a store that cannot be read now is looked at again on the next one
        this.console.line(`warning: could not look for a new applied version: ${(err as Error).message}`);
        return;
      }
      if (meta.serial === this.current.serial || meta.serial === this.failedSerial) return;
      let next: Graph;
      try {
        next = await loadGraph(this.o.store, meta.serial, this.providerLog);
      } catch (err) {
        if (err instanceof StoreUnavailableError) {
          // the version is fine, the store is not (yet): not a reason to skip this version for good
          this.console.line(`warning: could not load applied version ${meta.serial}: ${err.message}`);
          return;
        }
        this.failedSerial = meta.serial;
        this.bus.emit({
          time: new Date().toISOString(),
          phase: 'executor.swap_failed',
          level: 'error',
          message: `cannot load applied version ${meta.serial}, still running version ${this.current.serial}: ${(err as Error).message}`,
        });
        return;
      }
      const prev = this.current;
      this.current = next;
      this.graphs.set(next.serial, next);
      // Keep a few previous graphs so in-flight deliveries finish under the version that routed them.
      const keep = [...this.graphs.keys()].sort((a, b) => b - a).slice(0, 5);
      for (const s of this.graphs.keys()) if (!keep.includes(s)) this.graphs.delete(s);
      await this.bus.configure(next.loggers);
      this.scheduler.sync(next);
      this.bus.emit({
        time: new Date().toISOString(),
        phase: 'executor.swap',
        level: 'info',
        message: `now running version ${next.serial} (was ${prev.serial}): ${next.sources.size} sources, ${next.routes.size} routes, ${next.actors.size} actors`,
      });
      await this.heartbeat();
      this.workers.wake();
    } finally {
      this.swapping = false;
    }
  }

  private async graphOf(serial: number): Promise<Graph | null> {
    if (this.graphs.has(serial)) return this.graphs.get(serial)!;
    let g: Graph | null = null;
    try {
      g = await loadGraph(this.o.store, serial, this.providerLog);
    } catch {
      g = null; // secrets of an old version may be gone; fall back to the current graph
    }
    this.graphs.set(serial, g);
    return g;
  }

  /** The actor and route a delivery goes to: those of the version that routed it while they exist, or a reason to cancel. */
  private async target(d: Delivery): Promise<Target | { cancel: string }> {
    const actorNow = this.current.actors.get(d.actor) ?? (await this.actorAfterSwap(d.actor));
    const cur = this.current;
    if (!actorNow) return { cancel: `actor "${d.actor}" was removed in version ${cur.serial}` };
    const g = d.state_serial === cur.serial ? cur : await this.graphOf(d.state_serial);
    const route = g?.routes.get(d.route) ?? cur.routes.get(d.route) ?? null;
    const actor = (g?.routes.get(d.route) ? g.actors.get(d.actor) : undefined) ?? actorNow;
    return { actor, route };
  }

  /**
   * An actor this executor's version does not have may be one a newer version renamed to (a
   * `moved:` rename or `state mv` re-keys deliveries in the transaction that writes the version):
   * swap to the applied version before deciding the actor is gone and cancelling.
   */
  private async actorAfterSwap(name: string): Promise<RuntimeActor | undefined> {
    for (let i = 0; i < 50; i++) {
      await this.checkSerial();
      const a = this.current.actors.get(name);
      if (a || !this.swapping) return a;
      await new Promise((r) => setTimeout(r, 100)); // another caller is swapping: wait for it
    }
    return undefined;
  }

  /** Records actor.stopped for a finished delivery (or an agent's callback) and routes it. */
  private async emitStopped(
    actorId: string,
    ctx: { delivery?: Delivery; parent?: OrgEvent | null },
    s: StoppedReport,
  ): Promise<{ event_id: string; deliveries: number; duplicate: boolean }> {
    const parent = ctx.parent ?? null;
    const d = ctx.delivery;
    const prepared = this.intake.prepare(this.current, actorId, {
      type: 'actor.stopped',
      provenance: { platform: 'orgloop', platform_event: 'actor.stopped', author: actorId, author_type: 'system' },
      payload: {
        outcome: s.outcome,
        exit_code: s.exit_code ?? null,
        duration_ms: s.duration_ms,
        output_tail: s.output_tail ?? '',
        delivery_id: d?.id ?? null,
        route: d?.route ?? null,
        actor: actorId,
        event_id: parent?.id ?? null,
      },
      // One actor.stopped per delivery, even when the delivery is retried after a crash.
      dedupe_key: d ? `stopped:${d.id}` : undefined,
      trace_id: parent?.trace_id,
      traceparent: parent?.traceparent,
      parent_id: parent?.id ?? null,
      hops: parent ? parent.hops + 1 : 0,
    });
    const [a] = await this.intake.submit([prepared]);
    return a!;
  }

  /** Where agents reach this executor: the configured public URL, else the bound address. */
  private baseUrl(): string {
    if (this.o.settings.publicUrl) return this.o.settings.publicUrl.replace(/\/+$/, '');
    const a = this.address;
    const host = !a || a.address === '0.0.0.0' || a.address === '::' ? '127.0.0.1' : a.family === 'IPv6' ? `[${a.address}]` : a.address;
    return `http://${host}:${a?.port ?? this.o.settings.port}`;
  }

  private callbackFor(d: Delivery): { url: string; token: string } {
    return { url: `${this.baseUrl()}/callback/${encodeURIComponent(d.actor)}`, token: this.tokens.token(d.actor, d.id) };
  }

  /** Loopback names, this host, the configured public URL and every source's public_url. */
  private allowedHosts(): AllowedHosts {
    const g = this.current;
    if (this.hosts?.serial === g.serial) return this.hosts.hosts;
    const extra = [...this.o.settings.allowedHosts];
    if (this.o.settings.publicUrl) extra.push(this.o.settings.publicUrl);
    for (const s of g.sources.values()) if (typeof s.ctx.config.public_url === 'string') extra.push(s.ctx.config.public_url);
    this.hosts = { serial: g.serial, hosts: new AllowedHosts(extra) };
    return this.hosts.hosts;
  }

  private async callback(actorId: string, body: unknown, token: string | undefined): Promise<{ status: number; body: Record<string, unknown> }> {
    if (body === null || typeof body !== 'object' || Array.isArray(body)) return { status: 400, body: { error: 'callback body must be a JSON object' } };
    const b = body as Record<string, unknown>;
    // Only the holder of the token sent with a delivery may report that delivery's end: a forged
    // call would wake downstream routes, and a forged delivery_id would turn the agent's real
    // report into a duplicate.
    if (typeof b.delivery_id !== 'string' || !b.delivery_id) {
      return { status: 401, body: { error: 'a callback names the delivery_id it reports on and carries the token sent with that delivery' } };
    }
    if (!this.tokens.verify(token, actorId, b.delivery_id)) {
      return {
        status: 401,
        body: { error: token ? `the token does not match delivery ${b.delivery_id} of actor "${actorId}"` : 'missing callback token (Authorization: Bearer <token sent with the delivery>)' },
      };
    }
    const delivery = await this.o.store.delivery(b.delivery_id);
    if (!delivery) return { status: 404, body: { error: `unknown delivery "${b.delivery_id}"` } };
    const ev = await this.o.store.event(delivery.event_id);
    const parent = ev ? (JSON.parse(ev.event_json) as OrgEvent) : null;
    const outcome = typeof b.outcome === 'string' ? b.outcome : 'success';
    const a = await this.emitStopped(
      actorId,
      { delivery, parent },
      {
        outcome,
        exit_code: typeof b.exit_code === 'number' ? b.exit_code : null,
        duration_ms: typeof b.duration_ms === 'number' ? b.duration_ms : 0,
        output_tail: typeof b.output_tail === 'string' ? redact(b.output_tail.slice(-4000)) : undefined,
      },
    );
    return { status: a.duplicate ? 200 : 202, body: { ...a } };
  }

  /** Graceful shutdown: stop intake, let in-flight deliveries finish briefly, release leases. */
  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    for (const t of this.timers) clearInterval(t);
    if (!this.started) {
      // start() failed part-way: close what was opened, say nothing more than the error will,
      // and take back the heartbeat so status and drift do not count a ghost executor
      await this.o.store.removeExecutor(this.id).catch(() => {});
      await this.ingress.close();
      await this.bus.close();
      await this.queries?.close().catch(() => {});
      return;
    }
    this.console.line('shutting down: no longer accepting events');
    this.console.flush();
    const closing = this.ingress.close();
    await this.scheduler.stop();
    await this.pruner.stop();
    const aborted = await this.workers.stop(this.o.settings.shutdownGraceMs);
    const released = await this.o.store.releaseAll(this.id).catch(() => 0);
    await this.o.store.unsubscribe().catch(() => {});
    await closing;
    await this.o.store.removeExecutor(this.id).catch(() => {});
    await this.bus.close();
    await this.queries?.close().catch(() => {});
    this.console.line(
      `stopped${aborted ? `: ${aborted} in-flight deliver${aborted === 1 ? 'y' : 'ies'} interrupted` : ''}${released ? `, ${released} lease${released === 1 ? '' : 's'} released` : ''}`,
    );
    this.console.flush();
  }
}
