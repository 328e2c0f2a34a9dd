// Logger `otel` (OrgLoop's @orgloop/logger-otel): log entries as OpenTelemetry log records, sent
// as OTLP/HTTP JSON (providers/lib/otlp-json.ts) to `endpoint` (default
// http://localhost:4318/v1/logs; a bare base URL gets /v1/logs). With `export.traces: true`
// delivery outcomes are also sent as spans to the traces endpoint (/v1/traces beside it, or
// `traces_endpoint`).
//
// Never in delivery's way: log() scrubs the entry, encodes it and queues it; a timer sends
// batches of at most `batch.max_export_batch_size` (512) every `batch.scheduled_delay_ms` (5000)
// or as soon as a full batch is waiting, one request at a time. The queue is bounded by
// `batch.max_queue_size` (2048) records and 8 MB: past that, new records are dropped and
// counted (as OpenTelemetry's batch processor does). A request is retried while the collector
// answers 429, 502, 503 or 504 (honouring Retry-After) or cannot be reached, with backoff from
// 1 s to 30 s, at most 5 times; other answers drop the batch. Drops and failures are reported
// as a warning at most once a minute, naming the endpoint without credentials, never a header.
// close() sends what is queued (up to 5 s).
//
// Secrets: header values are sensitive config; they and any credentials found in entry text or
// secret-named data fields are replaced by [redacted] before a record is built
// (providers/lib/log-redact.ts).
//
// OrgLoop's `protocol: http/protobuf | grpc` are not offered: this logger sends JSON (every OTLP
// collector takes it on the same HTTP port, 4318), and validate says so.

import type { LogEntry, LoggerProvider, LoggerSink, ProviderContext } from '../types.js';
import { CONTRACT_VERSION } from '../contract.js';
import { atLeast, levelSchema } from '../lib/level.js';
import { configSecrets, redactor } from '../lib/log-redact.js';
import { attributes, deliverySpan, logRecord, logsRequest, tracesRequest, type Resource } from '../lib/otlp-json.js';

export const DEFAULT_ENDPOINT = 'http://localhost:4318/v1/logs';
const QUEUE_BYTES = 8 * 1024 * 1024;
const RETRYABLE = new Set([429, 502, 503, 504]);
const MAX_TRIES = 5;
const BACKOFF_MIN_MS = 1000;
const BACKOFF_MAX_MS = 30_000;
const CLOSE_FLUSH_MS = 5000;
const WARN_EVERY_MS = 60_000;

export interface OtelSettings {
  logsUrl: string | null;
  tracesUrl: string | null;
  headers: Record<string, string>;
  resource: Resource;
  maxQueue: number;
  delayMs: number;
  maxBatch: number;
  timeoutMs: number;
  level: string;
}

/** A signal URL from the configured endpoint: as given when it names a path, else base + /v1/<signal>. */
export function signalUrl(endpoint: string, signal: 'logs' | 'traces'): string {
  const u = new URL(endpoint);
  if (u.pathname === '' || u.pathname === '/') return `${endpoint.replace(/\/+$/, '')}/v1/${signal}`;
  if (signal === 'traces') return endpoint.replace(/\/v1\/logs\/?$/, '/v1/traces');
  return endpoint;
}

/** An endpoint for messages: no userinfo, no query (a token may ride in either). */
function shown(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname}`;
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
  const written = typeof config.endpoint === 'string' && config.endpoint ? config.endpoint : DEFAULT_ENDPOINT;
  const { url: endpoint, authorization } = splitCredentials(written);
  const exp = (config.export ?? {}) as { logs?: boolean; traces?: boolean };
  const batch = (config.batch ?? {}) as Record<string, number | undefined>;
  const res: Record<string, unknown> = { 'service.name': config.service_name ?? 'orgloop' };
  if (config.service_version) res['service.version'] = config.service_version;
  Object.assign(res, config.resource_attributes ?? {});
  return {
    logsUrl: exp.logs === false ? null : signalUrl(endpoint, 'logs'),
    tracesUrl: exp.traces === true ? (typeof config.traces_endpoint === 'string' ? config.traces_endpoint : signalUrl(endpoint, 'traces')) : null,
    headers: {
      ...(authorization ? { authorization } : {}),
      ...Object.fromEntries(Object.entries((config.headers ?? {}) as Record<string, unknown>).map(([k, v]) => [k, String(v)])),
    },
    resource: { attributes: attributes(res) },
    maxQueue: batch.max_queue_size ?? 2048,
    delayMs: batch.scheduled_delay_ms ?? 5000,
    maxBatch: batch.max_export_batch_size ?? 512,
    timeoutMs: typeof config.timeout_ms === 'number' ? config.timeout_ms : 10_000,
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
  /** sent, dropped: for tests and `status`-like introspection */
  readonly stats = { sent: 0, dropped: 0, failedRequests: 0 };

  constructor(
    private readonly url: string,
    private readonly s: OtelSettings,
    private readonly encode: (items: Array<Record<string, unknown>>) => string,
    private readonly warner: Warner,
  ) {}

  push(item: Record<string, unknown>, bytes: number): void {
    if (this.closed) return;
    if (this.queue.length >= this.s.maxQueue || this.bytes + bytes > QUEUE_BYTES) {
      this.stats.dropped++;
      this.warner.drop(1, `the export queue to ${shown(this.url)} is full (max_queue_size ${this.s.maxQueue})`);
      return;
    }
    this.queue.push({ item, bytes });
    this.bytes += bytes;
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
    const body = this.encode(items);
    let wait = BACKOFF_MIN_MS;
    for (let attempt = 1; ; attempt++) {
      let status = 0;
      let retryAfterMs: number | undefined;
      let problem = '';
      try {
        const res = await fetch(this.url, {
          method: 'POST',
          headers: { ...this.s.headers, 'content-type': 'application/json' },
          body,
          signal: AbortSignal.timeout(Math.max(1, Math.min(this.s.timeoutMs, deadline - Date.now()))),
        });
        status = res.status;
        const ra = res.headers.get('retry-after');
        if (ra) retryAfterMs = /^\d+$/.test(ra.trim()) ? Number(ra) * 1000 : Math.max(0, Date.parse(ra) - Date.now());
        const text = await res.text().catch(() => '');
        if (status >= 200 && status < 300) {
          this.stats.sent += items.length;
          const rejected = partialRejections(text);
          if (rejected) this.warner.say(() => `${shown(this.url)} rejected ${rejected} of ${items.length} item(s)`);
          return;
        }
        problem = `HTTP ${status}`;
      } catch (err) {
        problem = (err as Error).name === 'TimeoutError' ? `no answer within ${this.s.timeoutMs} ms` : `could not connect (${(err as Error).message})`;
      }
      this.stats.failedRequests++;
      const retryable = status === 0 || RETRYABLE.has(status);
      const delay = Math.min(BACKOFF_MAX_MS, Math.max(wait, retryAfterMs ?? 0));
      if (!retryable || attempt >= MAX_TRIES || this.closed || Date.now() + delay >= deadline) {
        this.stats.dropped += items.length;
        this.warner.drop(items.length, `${shown(this.url)}: ${problem}${retryable ? ` after ${attempt} attempt(s)` : ''}`);
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
  }
}

/** rejectedLogRecords / rejectedSpans of an OTLP partial success answer, or 0. */
function partialRejections(text: string): number {
  if (!text) return 0;
  try {
    const p = (JSON.parse(text) as { partialSuccess?: Record<string, unknown> }).partialSuccess;
    return Number(p?.rejectedLogRecords ?? p?.rejectedSpans ?? 0) || 0;
  } catch {
    return 0;
  }
}

export interface OtelSink extends LoggerSink {
  stats(): { logs?: SignalExporter['stats']; traces?: SignalExporter['stats'] };
}

export function createOtelSink(ctx: ProviderContext): OtelSink {
  const s = otelSettings(ctx.config);
  const warner = new Warner((m) => ctx.log.warn(`otel ${ctx.name}: ${m}`));
  // header values as configured and as sent (credentials from the endpoint's userinfo included)
  const scrub = redactor([...configSecrets(ctx.config, ['headers']), ...configSecrets({ h: s.headers }, ['h'])]);
  const logs = s.logsUrl ? new SignalExporter(s.logsUrl, s, (r) => logsRequest(s.resource, r), warner) : null;
  const traces = s.tracesUrl ? new SignalExporter(s.tracesUrl, s, (r) => tracesRequest(s.resource, r), warner) : null;
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

/** doctor: an empty export request (valid OTLP: no records) to the logs endpoint, with the headers. */
async function check(ctx: ProviderContext): Promise<{ ok: boolean; detail: string }> {
  let s: OtelSettings;
  try {
    s = otelSettings(ctx.config);
  } catch (err) {
    return { ok: false, detail: `endpoint: ${(err as Error).message}` };
  }
  const url = s.logsUrl ?? s.tracesUrl!;
  const body = s.logsUrl ? JSON.stringify({ resourceLogs: [] }) : JSON.stringify({ resourceSpans: [] });
  try {
    const res = await fetch(url, { method: 'POST', headers: { ...s.headers, 'content-type': 'application/json' }, body, signal: ctx.signal ?? AbortSignal.timeout(10_000) });
    await res.text().catch(() => '');
    if (res.ok) return { ok: true, detail: `${shown(url)} accepts OTLP/HTTP JSON (HTTP ${res.status})` };
    const hint = res.status === 401 || res.status === 403 ? ' (check headers)' : res.status === 404 ? ' (is this the OTLP HTTP port, usually 4318?)' : res.status === 415 ? ' (the receiver does not take JSON)' : '';
    return { ok: false, detail: `${shown(url)} answered HTTP ${res.status}${hint}` };
  } catch (err) {
    return { ok: false, detail: `${shown(url)}: ${(err as Error).message}` };
  }
}

const positive = { type: 'integer', minimum: 1 };

export const otelLogger: LoggerProvider = {
  kind: 'logger',
  name: 'otel',
  contractVersion: CONTRACT_VERSION,
  description: 'Exports log entries (and, if asked, delivery spans) as OTLP/HTTP JSON to an OpenTelemetry collector.',
  configSchema: {
    type: 'object',
    additionalProperties: false,
    properties: {
      endpoint: { type: 'string', minLength: 1, default: DEFAULT_ENDPOINT, description: 'OTLP/HTTP logs URL, or a base URL (/v1/logs is added)' },
      traces_endpoint: { type: 'string', minLength: 1, description: 'OTLP/HTTP traces URL (default: /v1/traces beside endpoint)' },
      protocol: { enum: ['http/json', 'http/protobuf', 'grpc'], default: 'http/json', description: 'http/json only (OrgLoop also names http/protobuf and grpc)' },
      headers: { type: 'object', additionalProperties: { type: ['string', 'number'], sensitive: true }, description: 'sent with every request (e.g. Authorization); treated as secrets' },
      service_name: { type: 'string', minLength: 1, default: 'orgloop' },
      service_version: { type: 'string' },
      resource_attributes: { type: 'object', additionalProperties: { type: ['string', 'number', 'boolean'] } },
      batch: {
        type: 'object',
        additionalProperties: false,
        properties: {
          max_queue_size: { ...positive, maximum: 1_000_000, default: 2048, description: 'records held waiting; past it new ones are dropped' },
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
    if (config.protocol !== undefined && config.protocol !== 'http/json') {
      issues.push({ path: 'protocol', message: `protocol ${String(config.protocol)} is not supported: orgloop's otel logger sends OTLP/HTTP JSON (set protocol: http/json; collectors take it on port 4318)` });
    }
    for (const key of ['endpoint', 'traces_endpoint']) {
      const v = config[key];
      if (typeof v !== 'string' || v.includes('${')) continue;
      let ok = false;
      try {
        ok = ['http:', 'https:'].includes(new URL(v).protocol);
      } catch {
        /* not a URL */
      }
      if (!ok) issues.push({ path: key, message: `${key} must be an http(s) URL such as ${DEFAULT_ENDPOINT}` });
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
