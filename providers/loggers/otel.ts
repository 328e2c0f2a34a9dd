// Logger `otel` (OrgLoop's @orgloop/logger-otel): log entries as OpenTelemetry log records, sent
// over OTLP with `protocol` http/json (default, as OrgLoop's), http/protobuf or grpc
// (providers/lib/otlp-transport.ts) to `endpoint`: for http/*, a logs URL (default
// http://localhost:4318/v1/logs; a bare base URL gets /v1/logs); for grpc, the collector's
// address (default http://localhost:4317; grpc:// means plaintext, https:// TLS). With
// `export.traces: true` delivery outcomes are also sent as spans (/v1/traces beside the logs URL,
// the same gRPC address, or `traces_endpoint`).
//
// Never in delivery's way: log() scrubs the entry, builds its record and queues it; a timer sends
// batches of at most `batch.max_export_batch_size` (512) every `batch.scheduled_delay_ms` (5000)
// or as soon as a full batch is waiting, one request at a time. The queue is bounded by
// `batch.max_queue_size` (2048) records and 8 MB: past that the oldest records are dropped and
// counted (the newest say most about an outage in progress). A request is retried when the
// transport says it may be (HTTP 429/502/503/504 honouring Retry-After, gRPC UNAVAILABLE and
// kin honouring RetryInfo, no connection) with backoff from 1 s to 30 s, at most 5 times; other
// answers drop the batch. Drops and failures are reported as a warning at most once a minute,
// naming the endpoint without credentials, never a header. close() sends what is queued (up to
// 5 s).
//
// Secrets: header values are sensitive config; they and any credentials found in entry text or
// secret-named data fields are replaced by [redacted] before a record is built
// (providers/lib/log-redact.ts).

import type { LogEntry, LoggerProvider, LoggerSink, ProviderContext } from '../types.js';
import { CONTRACT_VERSION } from '../contract.js';
import { atLeast, levelSchema } from '../lib/level.js';
import { configSecrets, redactor } from '../lib/log-redact.js';
import { attributes, deliverySpan, logRecord, type Resource } from '../lib/otlp-json.js';
import { otlpTransport, type OtlpProtocol, type OtlpSignal, type OtlpTransport } from '../lib/otlp-transport.js';

export const DEFAULT_ENDPOINT = 'http://localhost:4318/v1/logs';
export const DEFAULT_GRPC_ENDPOINT = 'http://localhost:4317';
const QUEUE_BYTES = 8 * 1024 * 1024;
const MAX_TRIES = 5;
const BACKOFF_MIN_MS = 1000;
const BACKOFF_MAX_MS = 30_000;
const CLOSE_FLUSH_MS = 5000;
const WARN_EVERY_MS = 60_000;
/** HTTP/1 connection headers: HTTP/2 (so gRPC) refuses them */
const H2_FORBIDDEN = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'host', 'te']);

export interface OtelSettings {
  protocol: OtlpProtocol;
  logsUrl: string | null;
  tracesUrl: string | null;
  headers: Record<string, string>;
  resource: Resource;
  maxQueue: number;
  delayMs: number;
  maxBatch: number;
  timeoutMs: number;
  gzip: boolean;
  level: string;
}

/** The protocol a config means: OrgLoop's spec page writes `http` (its logger sends JSON) and `grpc://` endpoints. */
export function protocolOf(config: Record<string, unknown>): OtlpProtocol {
  const p = config.protocol;
  if (p === 'grpc' || p === 'http/protobuf' || p === 'http/json') return p;
  if (p === undefined && typeof config.endpoint === 'string' && /^grpc:\/\//i.test(config.endpoint)) return 'grpc';
  return 'http/json';
}

/** A signal URL from the configured endpoint: as given when it names a path, else base + /v1/<signal>. */
export function signalUrl(endpoint: string, signal: OtlpSignal): string {
  const u = new URL(endpoint);
  if (u.pathname === '' || u.pathname === '/') return `${endpoint.replace(/\/+$/, '')}/v1/${signal}`;
  if (signal === 'traces') return endpoint.replace(/\/v1\/logs\/?$/, '/v1/traces');
  return endpoint;
}

/** A gRPC endpoint's origin: grpc:// is plaintext HTTP/2 (http://), https:// is TLS. */
export function grpcOrigin(endpoint: string): string {
  const u = new URL(endpoint.replace(/^grpc:\/\//i, 'http://'));
  return `${u.protocol}//${u.host}`;
}

/** An endpoint for messages: no userinfo, no query (a token may ride in either). */
function shown(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname === '/' ? '' : u.pathname}`;
  } catch {
    return '(endpoint)';
  }
}

/** `https://user:pass@host/...`: fetch refuses credentials in a URL, so they become a Basic header. */
function splitCredentials(endpoint: string): { url: string; authorization?: string } {
  const u = new URL(endpoint);
  if (!u.username && !u.password) return { url: endpoint };
  const authorization = `Basic ${Buffer.from(`${decodeURIComponent(u.username)}:${decodeURIComponent(u.password)}`).toString('base64')}`;
  u.username = '';
  u.password = '';
  return { url: u.toString(), authorization };
}

export function otelSettings(config: Record<string, any>): OtelSettings {
  const protocol = protocolOf(config);
  const grpc = protocol === 'grpc';
  const written = typeof config.endpoint === 'string' && config.endpoint ? config.endpoint : grpc ? DEFAULT_GRPC_ENDPOINT : DEFAULT_ENDPOINT;
  const { url: endpoint, authorization } = splitCredentials(written);
  const exp = (config.export ?? {}) as { logs?: boolean; traces?: boolean };
  const batch = (config.batch ?? {}) as Record<string, number | undefined>;
  const res: Record<string, unknown> = { 'service.name': config.service_name ?? 'orgloop' };
  if (config.service_version) res['service.version'] = config.service_version;
  Object.assign(res, config.resource_attributes ?? {});
  const tracesWritten = typeof config.traces_endpoint === 'string' ? config.traces_endpoint : null;
  const urlFor = (signal: OtlpSignal) => (grpc ? grpcOrigin(signal === 'traces' && tracesWritten ? tracesWritten : endpoint) : signal === 'traces' && tracesWritten ? tracesWritten : signalUrl(endpoint, signal));
  return {
    protocol,
    logsUrl: exp.logs === false ? null : urlFor('logs'),
    tracesUrl: exp.traces === true ? urlFor('traces') : null,
    headers: {
      ...(authorization ? { authorization } : {}),
      ...Object.fromEntries(Object.entries((config.headers ?? {}) as Record<string, unknown>).map(([k, v]) => [k, String(v)])),
    },
    resource: { attributes: attributes(res) },
    maxQueue: batch.max_queue_size ?? 2048,
    delayMs: batch.scheduled_delay_ms ?? 5000,
    maxBatch: batch.max_export_batch_size ?? 512,
    timeoutMs: typeof config.timeout_ms === 'number' ? config.timeout_ms : 10_000,
    gzip: config.compression === 'gzip',
    level: typeof config.level === 'string' ? config.level : 'info',
  };
}

/** Rate-limited warnings, issued outside log() (they are log entries that come back here). */
class Warner {
  private last = 0;
  private dropped = 0;
  constructor(private readonly warn: (m: string) => void) {}
  drop(n: number, why: string): void {
    this.dropped += n;
    this.say(() => {
      const d = this.dropped;
      this.dropped = 0;
      return `dropped ${d} record(s): ${why}`;
    });
  }
  say(message: () => string): void {
    const now = Date.now();
    if (now - this.last < WARN_EVERY_MS) return;
    this.last = now;
    const text = message();
    setImmediate(() => this.warn(text));
  }
}

interface Queued {
  item: Record<string, unknown>;
  bytes: number;
}

/** One signal's queue and its sender: batches, one request at a time, retries, bounds. */
class SignalExporter {
  private queue: Queued[] = [];
  private bytes = 0;
  private timer: NodeJS.Timeout | null = null;
  private sending: Promise<void> | null = null;
  private closed = false;
  private readonly where: string;
  /** sent, dropped: for tests and `status`-like introspection */
  readonly stats = { sent: 0, dropped: 0, failedRequests: 0 };

  constructor(
    url: string,
    private readonly s: OtelSettings,
    private readonly transport: OtlpTransport,
    private readonly warner: Warner,
  ) {
    this.where = s.protocol === 'grpc' ? `${shown(url)} (gRPC)` : shown(url);
  }

  push(item: Record<string, unknown>, bytes: number): void {
    if (this.closed) return;
    this.queue.push({ item, bytes });
    this.bytes += bytes;
    let dropped = 0;
    while (this.queue.length > this.s.maxQueue || (this.bytes > QUEUE_BYTES && this.queue.length > 1)) {
      this.bytes -= this.queue.shift()!.bytes;
      dropped++;
    }
    if (dropped) {
      this.stats.dropped += dropped;
      this.warner.drop(dropped, `the export queue to ${this.where} is full (max_queue_size ${this.s.maxQueue}); the oldest were dropped`);
    }
    if (this.queue.length >= this.s.maxBatch) this.kick(0);
    else this.kick(this.s.delayMs);
  }

  /** Schedules a send in `ms` unless one is due sooner or running. */
  private kick(ms: number): void {
    if (this.sending) return;
    if (this.timer && ms > 0) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = null;
      this.sending = this.drain().finally(() => {
        this.sending = null;
        if (this.queue.length > 0 && !this.closed) this.kick(this.queue.length >= this.s.maxBatch ? 0 : this.s.delayMs);
      });
    }, ms);
    this.timer.unref();
  }

  /** Sends full batches while there are some, and whatever is left once. */
  private async drain(deadline = Infinity): Promise<void> {
    while (this.queue.length > 0 && Date.now() < deadline) {
      const batch = this.queue.splice(0, this.s.maxBatch);
      for (const q of batch) this.bytes -= q.bytes;
      await this.send(batch.map((q) => q.item), deadline);
      if (this.queue.length < this.s.maxBatch && !this.closed) break;
    }
  }

  private async send(items: Array<Record<string, unknown>>, deadline: number): Promise<void> {
    const body = this.transport.encode(items);
    let wait = BACKOFF_MIN_MS;
    for (let attempt = 1; ; attempt++) {
      const o = await this.transport.post(body, Math.min(this.s.timeoutMs, deadline - Date.now()));
      if (o.ok) {
        this.stats.sent += items.length;
        if (o.rejected) this.warner.say(() => `${this.where} rejected ${o.rejected} of ${items.length} item(s)`);
        return;
      }
      this.stats.failedRequests++;
      const delay = Math.min(BACKOFF_MAX_MS, Math.max(wait, o.retryAfterMs ?? 0));
      if (!o.retryable || attempt >= MAX_TRIES || this.closed || Date.now() + delay >= deadline) {
        this.stats.dropped += items.length;
        this.warner.drop(items.length, `${this.where}: ${o.problem}${o.retryable ? ` after ${attempt} attempt(s)` : ''}`);
        return;
      }
      await new Promise((r) => setTimeout(r, delay).unref());
      wait = Math.min(BACKOFF_MAX_MS, wait * 2);
    }
  }

  async close(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const deadline = Date.now() + CLOSE_FLUSH_MS;
    // a request in flight may hang as long as timeout_ms: wait for it only until the deadline
    if (this.sending) await Promise.race([this.sending, new Promise((r) => setTimeout(r, CLOSE_FLUSH_MS).unref())]);
    this.closed = true;
    await this.drain(deadline);
    this.stats.dropped += this.queue.length;
    this.queue = [];
    await this.transport.close();
  }
}

export interface OtelSink extends LoggerSink {
  stats(): { logs?: SignalExporter['stats']; traces?: SignalExporter['stats'] };
}

function transportFor(s: OtelSettings, signal: OtlpSignal, url: string): OtlpTransport {
  return otlpTransport({ protocol: s.protocol, signal, url, headers: s.headers, resource: s.resource, gzip: s.gzip });
}

export function createOtelSink(ctx: ProviderContext): OtelSink {
  const s = otelSettings(ctx.config);
  const warner = new Warner((m) => ctx.log.warn(`otel ${ctx.name}: ${m}`));
  // header values as configured and as sent (credentials from the endpoint's userinfo included)
  const scrub = redactor([...configSecrets(ctx.config, ['headers']), ...configSecrets({ h: s.headers }, ['h'])]);
  const logs = s.logsUrl ? new SignalExporter(s.logsUrl, s, transportFor(s, 'logs', s.logsUrl), warner) : null;
  const traces = s.tracesUrl ? new SignalExporter(s.tracesUrl, s, transportFor(s, 'traces', s.tracesUrl), warner) : null;
  let closed = false;
  return {
    log(entry: LogEntry) {
      if (closed || !atLeast(entry, s.level)) return;
      const e = scrub.entry(entry);
      if (logs) {
        const r = logRecord(e, Date.now());
        logs.push(r, (r.body as { stringValue: string }).stringValue.length + 256);
      }
      if (traces) {
        const span = deliverySpan(e);
        if (span) traces.push(span, 512);
      }
    },
    async close() {
      if (closed) return;
      closed = true;
      await Promise.all([logs?.close(), traces?.close()]);
    },
    stats: () => ({ ...(logs ? { logs: logs.stats } : {}), ...(traces ? { traces: traces.stats } : {}) }),
  };
}

const PROTOCOL_NAMES: Record<OtlpProtocol, string> = { 'http/json': 'OTLP/HTTP JSON', 'http/protobuf': 'OTLP/HTTP protobuf', grpc: 'OTLP/gRPC' };

/** doctor: an empty export request (valid OTLP: no records) to the logs endpoint, with the headers. */
async function check(ctx: ProviderContext): Promise<{ ok: boolean; detail: string }> {
  let s: OtelSettings;
  try {
    s = otelSettings(ctx.config);
  } catch (err) {
    return { ok: false, detail: `endpoint: ${(err as Error).message}` };
  }
  const signal: OtlpSignal = s.logsUrl ? 'logs' : 'traces';
  const url = s.logsUrl ?? s.tracesUrl!;
  const t = transportFor(s, signal, url);
  const body = s.protocol === 'http/json' ? JSON.stringify(signal === 'logs' ? { resourceLogs: [] } : { resourceSpans: [] }) : t.encode([]);
  const where = s.protocol === 'grpc' ? `${shown(url)} (gRPC)` : shown(url);
  try {
    const o = await t.post(body, 10_000);
    if (o.ok) return { ok: true, detail: `${where} accepts ${PROTOCOL_NAMES[s.protocol]}` };
    const hint = /HTTP 40[13]|UNAUTHENTICATED|PERMISSION_DENIED/.test(o.problem)
      ? ' (check headers)'
      : /HTTP 404/.test(o.problem)
        ? ' (is this the OTLP HTTP port, usually 4318?)'
        : /HTTP 415/.test(o.problem)
          ? ` (the receiver does not take ${s.protocol === 'http/json' ? 'JSON' : 'protobuf'})`
          : /UNIMPLEMENTED/.test(o.problem)
            ? ' (is this the OTLP gRPC port, usually 4317?)'
            : '';
    return { ok: false, detail: `${where}: ${o.problem}${hint}` };
  } finally {
    await t.close();
  }
}

const positive = { type: 'integer', minimum: 1 };

export const otelLogger: LoggerProvider = {
  kind: 'logger',
  name: 'otel',
  contractVersion: CONTRACT_VERSION,
  description: 'Exports log entries (and, if asked, delivery spans) over OTLP (HTTP JSON, HTTP protobuf or gRPC) to an OpenTelemetry collector.',
  configSchema: {
    type: 'object',
    additionalProperties: false,
    properties: {
      endpoint: { type: 'string', minLength: 1, description: `http/*: OTLP/HTTP logs URL, or a base URL (/v1/logs is added; default ${DEFAULT_ENDPOINT}); grpc: the collector's address (default ${DEFAULT_GRPC_ENDPOINT}; grpc:// is plaintext)` },
      traces_endpoint: { type: 'string', minLength: 1, description: 'traces URL (default: /v1/traces beside endpoint) or, for grpc, address (default: endpoint)' },
      protocol: { enum: ['http/json', 'http/protobuf', 'grpc', 'http'], default: 'http/json', description: 'OTLP transport; http is http/json (what OrgLoop\'s logger sends)' },
      headers: { type: 'object', additionalProperties: { type: ['string', 'number'], sensitive: true }, description: 'sent with every request (e.g. Authorization; gRPC metadata); treated as secrets' },
      compression: { enum: ['none', 'gzip'], default: 'none', description: 'request bodies (Content-Encoding, or grpc-encoding for grpc)' },
      service_name: { type: 'string', minLength: 1, default: 'orgloop' },
      service_version: { type: 'string' },
      resource_attributes: { type: 'object', additionalProperties: { type: ['string', 'number', 'boolean'] } },
      batch: {
        type: 'object',
        additionalProperties: false,
        properties: {
          max_queue_size: { ...positive, maximum: 1_000_000, default: 2048, description: 'records held waiting; past it the oldest are dropped' },
          scheduled_delay_ms: { ...positive, default: 5000, description: 'longest wait before a partial batch is sent' },
          max_export_batch_size: { ...positive, default: 512, description: 'records per request' },
        },
      },
      export: {
        type: 'object',
        additionalProperties: false,
        properties: {
          logs: { type: 'boolean', default: true },
          traces: { type: 'boolean', default: false, description: 'delivery outcomes as spans' },
          metrics: { type: 'boolean', description: 'not sent by this logger: scrape GET /metrics instead' },
        },
      },
      timeout_ms: { ...positive, default: 10_000, description: 'per request' },
      level: { ...levelSchema, default: 'info' },
    },
  },
  validate(config) {
    const issues: Array<{ path: string; message: string }> = [];
    const protocol = protocolOf(config);
    const grpc = protocol === 'grpc';
    for (const key of ['endpoint', 'traces_endpoint']) {
      const v = config[key];
      if (typeof v !== 'string' || v.includes('${')) continue;
      let u: URL | null = null;
      try {
        u = new URL(v.replace(/^grpc:\/\//i, 'http://'));
      } catch {
        /* not a URL */
      }
      const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(v)?.[1]?.toLowerCase();
      if (!u || !['http', 'https', ...(grpc ? ['grpc'] : [])].includes(scheme ?? '')) {
        issues.push({ path: key, message: grpc ? `${key} must be the collector's address as http://host:port (plaintext), grpc://host:port or https://host:port (TLS), such as ${DEFAULT_GRPC_ENDPOINT}` : scheme === 'grpc' ? `${key} is a grpc:// address but protocol is ${String(config.protocol)}: set protocol: grpc, or give an http(s) URL such as ${DEFAULT_ENDPOINT}` : `${key} must be an http(s) URL such as ${DEFAULT_ENDPOINT}` });
        continue;
      }
      if (grpc && u.pathname !== '/' && u.pathname !== '') {
        issues.push({ path: key, message: `with protocol: grpc, ${key} is the collector's address (host and port, usually :4317) and takes no path; ${u.pathname} is an OTLP/HTTP path (OrgLoop's logger sends OTLP/HTTP JSON to it whatever protocol says: set protocol: http/json for that)` });
      }
    }
    if (grpc) {
      for (const name of Object.keys((config.headers ?? {}) as object)) {
        if (H2_FORBIDDEN.has(name.toLowerCase())) issues.push({ path: `headers.${name}`, message: `${name} is an HTTP/1 connection header, which HTTP/2 (so gRPC) does not allow` });
      }
    }
    const exp = (config.export ?? {}) as Record<string, unknown>;
    if (exp.metrics === true) issues.push({ path: 'export.metrics', message: 'the otel logger does not export metrics: scrape the executor\'s GET /metrics (Prometheus text) instead' });
    if (exp.logs === false && exp.traces !== true) issues.push({ path: 'export', message: 'export turns off both logs and traces: nothing would be sent' });
    const batch = (config.batch ?? {}) as Record<string, unknown>;
    if (typeof batch.max_export_batch_size === 'number' && typeof batch.max_queue_size === 'number' && batch.max_export_batch_size > batch.max_queue_size) {
      issues.push({ path: 'batch.max_export_batch_size', message: 'max_export_batch_size must not exceed max_queue_size' });
    }
    return issues;
  },
  open: createOtelSink,
  check,
};

export default otelLogger;
