// The only module providers may import from orgloop. Everything a provider needs
// from the runtime reaches it through the context objects declared here.

export type JSONSchema = Record<string, unknown>;
export type ProviderKind = 'source' | 'actor' | 'transform' | 'logger';

/** An event as it flows through routes, transforms and actors (DESIGN §6). */
export interface OrgEvent {
  id: string;
  type: string; // resource.changed | actor.stopped | message.received | custom
  source: string; // source id (or actor id for actor.stopped)
  time: string; // ISO-8601
  /** the same instant as `time`, under OrgLoop's name */
  timestamp?: string;
  provenance: {
    platform?: string;
    platform_event?: string;
    author?: string;
    author_type?: 'bot' | 'user' | 'system' | string;
    url?: string;
    [k: string]: unknown;
  };
  payload: Record<string, unknown>;
  trace_id: string;
  parent_id?: string | null;
  hops: number;
  /** W3C trace context (set when the sender gave one or tracing is on; see engine/run/tracing.ts) */
  traceparent?: string;
}

/** An event a source produced, before the store has given it an id. */
export interface EmittedEvent {
  type: string;
  provenance?: OrgEvent['provenance'];
  payload: Record<string, unknown>;
  /** Stable key for dedupe within the source (delivery id, item id...). */
  dedupe_key?: string;
  time?: string;
  trace_id?: string;
  parent_id?: string | null;
  hops?: number;
  /** W3C trace context the event continues (a sender's `traceparent` header, the causing event's) */
  traceparent?: string;
}

export interface Logger {
  debug(msg: string, data?: Record<string, unknown>): void;
  info(msg: string, data?: Record<string, unknown>): void;
  warn(msg: string, data?: Record<string, unknown>): void;
  error(msg: string, data?: Record<string, unknown>): void;
}

/** The CLI's colour decision per output stream (cmd/color.ts). */
export interface OutputColor {
  stdout: boolean;
  stderr: boolean;
}

/** Context passed to every provider call. `config` has secrets resolved to their values. */
export interface ProviderContext {
  /** resource id/name (source id, actor id, transform name, logger name) */
  name: string;
  /**
   * The resource's config. Contract: the runtime hands every call for a resource the same
   * object for as long as the config and its secret values are unchanged (a changed secret or
   * a new apply gives a new object), and neither it nor the provider mutates it. Providers may
   * therefore keep what they derive from a config keyed on the object (a WeakMap), as the
   * github source and the webhook actor do.
   */
  config: Record<string, any>;
  /** directory of the project (for relative paths in config) */
  projectDir: string;
  log: Logger;
  /** Resolve an environment variable the way config substitution does (shell, then .env). */
  env(name: string): string | undefined;
  signal?: AbortSignal;
  /** Present for loggers: whether each output stream is coloured, as the CLI decided (NO_COLOR, FORCE_COLOR, a terminal). */
  color?: OutputColor;
  /** Present for loggers: appends an entry to the state store's log table (used by `store`). */
  appendStoreLog?(entry: LogEntry): void;
}

/** Opaque, JSON-serializable data a provider keeps about an external object it manages. */
export type ProviderState = Record<string, unknown>;

/** What `read` reports for drift: `exists:false` means deleted outside orgloop. */
export interface ObservedState {
  exists: boolean;
  state?: ProviderState;
  /** human-readable differences from `prior` (empty = in sync) */
  differences?: string[];
}

// ---- runtime shapes, by kind ----

export interface WebhookRequest {
  method: string;
  path: string;
  headers: Record<string, string | undefined>; // lower-cased names
  rawBody: Buffer;
  /** the request target exactly as received, path and query (`/webhook/sms?x=1`): for schemes
   * that sign the URL the sender called (Twilio) */
  target?: string;
}

export type WebhookResult =
  | { ok: true; events: EmittedEvent[] }
  | { ok: false; status: number; error: string };

export interface PollResult {
  events: EmittedEvent[];
  cursor: string | null;
  etag?: string | null;
  /** ask the scheduler to wait at least this long before the next poll (rate limits) */
  retryAfterMs?: number;
}

export interface DeliveryRequest {
  delivery_id: string;
  attempt: number;
  route: string;
  event: OrgEvent;
  prompt: string | null;
  /** route's then.config with {{path}} templates rendered against the event */
  routeConfig: Record<string, unknown>;
  /**
   * route's then.config as written (templates not rendered), for actors that render settings
   * themselves and must encode each value for where it goes (a shell word, a URL): rendering
   * `routeConfig` again would expand `{{...}}` written inside event values.
   */
  routeTemplate?: Record<string, unknown>;
  timeoutMs: number;
  signal: AbortSignal;
  /**
   * `event` serialized: exactly `JSON.stringify(event)` (the stored text when no transform changed
   * the event), for actors that send the event as JSON without serializing it again.
   */
  eventJson: string;
  /** W3C trace context of this attempt: HTTP actors send it as the `traceparent` header, command actors get TRACEPARENT */
  traceparent?: string;
  /**
   * Where the agent reports that it stopped, and the token proving it reports on this delivery:
   * POST `url` with `Authorization: Bearer <token>` and JSON `{ delivery_id, outcome, ... }`.
   * Actors pass both on to the agent (body, headers, environment); they are not secrets of the
   * project, but each one lets its holder finish this one delivery, so do not log them.
   */
  callback?: { url: string; token: string };
}

export type DeliveryResult =
  | {
      ok: true;
      /** set when the actor finished synchronously (command exit): orgloop emits actor.stopped */
      stopped?: { outcome: string; exit_code?: number | null; duration_ms: number; output_tail?: string };
    }
  | {
      ok: false;
      error: string;
      retryable: boolean;
      retryAfterMs?: number;
      /** set when a synchronous actor ran and failed (non-zero exit, timeout): same shape as on success */
      stopped?: { outcome: string; exit_code?: number | null; duration_ms: number; output_tail?: string };
    };

export type TransformResult =
  | { action: 'pass'; event: OrgEvent }
  | { action: 'drop'; reason: string }
  | { action: 'error'; error: string };

/** Durable key-value helpers the runtime offers transforms (dedup windows survive restarts). */
export interface TransformStore {
  /** Records `key` as seen now; returns true if it was already seen within `windowMs`. */
  seen(key: string, windowMs: number): Promise<boolean>;
}

export interface LogEntry {
  time: string;
  phase: string; // source.emit | route.match | transform.pass | deliver.success | loop.cut | ...
  level: 'debug' | 'info' | 'warn' | 'error';
  source?: string;
  route?: string;
  actor?: string;
  event_id?: string;
  delivery_id?: string;
  trace_id?: string;
  message?: string;
  data?: Record<string, unknown>;
}

export interface ProviderBase {
  kind: ProviderKind;
  name: string;
  /** the provider contract version it was built for (`contractVersion` from orgloop/sdk); required of packages */
  contractVersion?: number;
  description?: string;
  configSchema: JSONSchema;
  /** config paths (dotted) whose change forces replace */
  replaceOn?: string[];
  /**
   * config paths (dotted) always treated as secrets. Prefer marking the field `sensitive: true`
   * in `configSchema` (what the built-ins do); this list is read too, for older providers.
   */
  sensitive?: string[];
  /**
   * Semantic checks beyond the schema; return messages keyed by dotted config path. `ctx` says
   * where the project is (for checks of local files); a `warning` does not fail validation.
   */
  validate?(config: Record<string, unknown>, ctx?: { projectDir: string; env: (name: string) => string | undefined }): Array<{ path: string; message: string; severity?: 'error' | 'warning' }>;
  create?(ctx: ProviderContext): Promise<ProviderState>;
  update?(ctx: ProviderContext, prior: ProviderState): Promise<ProviderState>;
  delete?(ctx: ProviderContext, prior: ProviderState): Promise<void>;
  read?(ctx: ProviderContext, prior: ProviderState): Promise<ObservedState>;
  /**
   * `orgloop import ADDR ID`: adopt an object that already exists (made by hand, or by an apply
   * whose state was lost) instead of creating a second one. Returns the provider state apply
   * would have recorded for the configured object, with the adopted object's id, so the next
   * plan's refresh (`read`) shows every way the object differs from the configuration and apply
   * repairs it. Throws when there is no such object, naming what exists.
   */
  import?(ctx: ProviderContext, id: string): Promise<ProviderState>;
  /** what `import` takes as ID, for help and errors: "the webhook's numeric id" */
  importId?: string;
  /** Credentials / reachability check used by `orgloop doctor`; `skipped` when there was nothing it could check. */
  check?(ctx: ProviderContext): Promise<{ ok: boolean; detail: string; skipped?: boolean }>;
}

export interface SourceProvider extends ProviderBase {
  kind: 'source';
  /** event types this source may emit besides resource.changed (claude-code: actor.stopped) */
  emits?: string[];
  /** platform_event name this provider emits -> other names for the same event (the seed
   * articles', earlier connectors'): routes and filters written with any of them match */
  eventAliases?: Record<string, readonly string[]>;
  /** every provenance.platform_event this source can emit, when that is a closed list: a route
   * naming another event gets a validate warning listing these */
  platformEvents?: string[];
  /** true when the source is polled by the scheduler */
  polling?: boolean;
  /**
   * For a source that is not `polling` but polls when its config asks (github-webhook's
   * reconciliation): the interval in ms its config names, or null when it does not poll.
   */
  pollIntervalMs?(config: Record<string, unknown>): number | null;
  poll?(ctx: ProviderContext, cursor: string | null, etag: string | null): Promise<PollResult>;
  handleWebhook?(ctx: ProviderContext, req: WebhookRequest): Promise<WebhookResult> | WebhookResult;
  /** body limit in bytes when the source config sets no `max_body` (default 1 MB) */
  defaultMaxBody?: number;
  /** next fire time for schedule-driven sources (cron) */
  nextFire?(ctx: ProviderContext, after: Date): Date | null;
  /** event(s) a schedule-driven source emits when it fires */
  fire?(ctx: ProviderContext, at: Date): EmittedEvent | EmittedEvent[];
  /** event(s) emitted once when the source first starts against a store (none: nothing) */
  firstStart?(ctx: ProviderContext, at: Date): EmittedEvent[];
}

export interface ActorProvider extends ProviderBase {
  kind: 'actor';
  deliver(ctx: ProviderContext, req: DeliveryRequest): Promise<DeliveryResult>;
}

export interface TransformProvider extends ProviderBase {
  kind: 'transform';
  /** Build a transform once per (transform, graph version); called per event. `at`: the route
   * running it and its actor (script transforms pass them to the program). */
  transform(ctx: ProviderContext, event: OrgEvent, store: TransformStore, at?: { route: string; actor: string }): Promise<TransformResult> | TransformResult;
}

export interface LoggerProvider extends ProviderBase {
  kind: 'logger';
  open(ctx: ProviderContext): LoggerSink;
}

export interface LoggerSink {
  log(entry: LogEntry): void;
  close(): Promise<void>;
}

export type Provider = SourceProvider | ActorProvider | TransformProvider | LoggerProvider;
