// OTLP/HTTP JSON encoding of log entries (OpenTelemetry protocol spec, "JSON Protobuf
// Encoding"): field names in lowerCamelCase, enums as their numbers, 64-bit integers (times,
// intValue) as decimal strings, traceId and spanId as lowercase hex (not base64), attribute
// values wrapped in AnyValue ({ stringValue } | { intValue } | { doubleValue } | { boolValue }).
//
// Log records follow OrgLoop's otel logger: severity from the entry's level, attributes
// `orgloop.*` (phase, event_id, trace_id, source, route, target = the actor, delivery_id, and the
// entry's scalar data), the whole entry as JSON in the body. Delivery outcomes can also become
// spans (one per attempt that reports a duration, or an instant one otherwise).
// OrgLoop's ids are not W3C ids: traceId is the first 16 bytes of SHA-256(trace_id) and spanId
// the first 8 of SHA-256(delivery_id:attempt), so every record and span of one event's journey
// shares a trace in the backend.

import { createHash } from 'node:crypto';
import type { LogEntry } from '../types.js';
import { correlationFields } from './log-line.js';

export type AnyValue = { stringValue: string } | { intValue: string } | { doubleValue: number } | { boolValue: boolean };
export interface KeyValue {
  key: string;
  value: AnyValue;
}

/** OTel severity numbers: DEBUG 5, INFO 9, WARN 13, ERROR 17, FATAL 21 (logs data model). */
const SEVERITY: Record<string, [number, string]> = { debug: [5, 'DEBUG'], info: [9, 'INFO'], warn: [13, 'WARN'], error: [17, 'ERROR'] };

export function anyValue(v: unknown): AnyValue | undefined {
  if (typeof v === 'string') return { stringValue: v };
  if (typeof v === 'boolean') return { boolValue: v };
  if (typeof v === 'number') return Number.isInteger(v) ? { intValue: String(v) } : Number.isFinite(v) ? { doubleValue: v } : undefined;
  if (typeof v === 'bigint') return { intValue: v.toString() };
  return undefined;
}

export function attributes(map: Record<string, unknown>): KeyValue[] {
  const out: KeyValue[] = [];
  for (const [key, v] of Object.entries(map)) {
    const value = anyValue(v);
    if (value) out.push({ key, value });
  }
  return out;
}

/** Nanoseconds since the epoch, as the decimal string OTLP JSON uses. */
export function unixNano(iso: string | number): string {
  const ms = typeof iso === 'number' ? iso : Date.parse(iso);
  const whole = Math.round(Number.isFinite(ms) ? ms : Date.now());
  return whole === 0 ? '0' : `${whole}000000`; // milliseconds are whole: appending the zeros is exact
}

/** Recent ids by key: one event's or delivery's entries come together, so a small map saves most hashes. */
function cached(fn: (key: string) => string, size = 1024): (key: string) => string {
  const m = new Map<string, string>();
  return (key) => {
    let v = m.get(key);
    if (v === undefined) {
      v = fn(key);
      if (m.size >= size) m.delete(m.keys().next().value as string);
      m.set(key, v);
    }
    return v;
  };
}
const hexOf = (s: string, bytes: number) => createHash('sha256').update(s).digest('hex').slice(0, bytes * 2);
export const traceIdOf = cached((traceId) => hexOf(`trace:${traceId}`, 16));
export const spanIdOf = cached((key) => hexOf(`span:${key}`, 8));

const RESERVED = new Set(['fatal']);

function entryAttributes(e: LogEntry): Record<string, unknown> {
  const a: Record<string, unknown> = { 'orgloop.phase': e.phase };
  const put = (k: string, v: unknown) => {
    if (v !== undefined && v !== null && v !== '') a[k] = v;
  };
  for (const [k, v] of correlationFields(e)) put(`orgloop.${k}`, v);
  for (const [k, v] of Object.entries(e.data ?? {}).slice(0, 32)) if (!RESERVED.has(k) && !(`orgloop.${k}` in a)) put(`orgloop.${k}`, v);
  return a;
}

/** One OTLP LogRecord for an entry (already scrubbed of secrets). */
export function logRecord(e: LogEntry, observedMs: number): Record<string, unknown> {
  const [num, text] = e.data?.fatal === true ? [21, 'FATAL'] : (SEVERITY[e.level] ?? [9, 'INFO']);
  const r: Record<string, unknown> = {
    timeUnixNano: unixNano(e.time),
    observedTimeUnixNano: unixNano(observedMs),
    severityNumber: num,
    severityText: text,
    body: { stringValue: JSON.stringify(e) },
    attributes: attributes(entryAttributes(e)),
  };
  if (e.trace_id) {
    r.traceId = traceIdOf(e.trace_id);
    if (e.delivery_id) r.spanId = spanIdOf(`${e.delivery_id}:${String(e.data?.attempt ?? '')}`);
  }
  return r;
}

/** Delivery outcomes that close an attempt, and the span status they mean (1 OK, 2 ERROR). */
const SPAN_PHASES: Record<string, number> = { 'deliver.success': 1, 'deliver.retry': 2, 'deliver.dead': 2, 'deliver.cancel': 2 };

/** A span for a delivery outcome entry, or null for entries that are not one. */
export function deliverySpan(e: LogEntry): Record<string, unknown> | null {
  const code = SPAN_PHASES[e.phase];
  if (code === undefined || !e.trace_id || !e.delivery_id) return null;
  const end = Date.parse(e.time);
  if (!Number.isFinite(end)) return null;
  const d = Number(e.data?.duration_ms);
  const start = Number.isFinite(d) && d >= 0 ? end - d : end;
  return {
    traceId: traceIdOf(e.trace_id),
    spanId: spanIdOf(`${e.delivery_id}:${String(e.data?.attempt ?? '')}`),
    name: `deliver ${e.actor ?? ''}`.trim(),
    kind: 3, // SPAN_KIND_CLIENT: orgloop calls the actor
    startTimeUnixNano: unixNano(start),
    endTimeUnixNano: unixNano(end),
    attributes: attributes(entryAttributes(e)),
    status: code === 1 ? { code } : { code, message: e.message ?? e.phase },
  };
}

export interface Resource {
  attributes: KeyValue[];
}
export const SCOPE = { name: 'orgloop', version: '1' };

export function logsRequest(resource: Resource, records: Array<Record<string, unknown>>): string {
  return JSON.stringify({ resourceLogs: [{ resource, scopeLogs: [{ scope: SCOPE, logRecords: records }] }] });
}

export function tracesRequest(resource: Resource, spans: Array<Record<string, unknown>>): string {
  return JSON.stringify({ resourceSpans: [{ resource, scopeSpans: [{ scope: SCOPE, spans }] }] });
}
