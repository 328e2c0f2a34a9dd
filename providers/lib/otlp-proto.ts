// OTLP protobuf encoding (opentelemetry-proto v1) of the JSON-shaped requests otlp-json.ts
// builds, so one model of a record serves http/json, http/protobuf and grpc alike.
//
// Only the fields orgloop sets are written; field numbers are opentelemetry-proto's:
//   ExportLogsServiceRequest  1 resource_logs        ExportTraceServiceRequest 1 resource_spans
//   ResourceLogs   1 resource 2 scope_logs           ResourceSpans 1 resource 2 scope_spans
//   ScopeLogs      1 scope    2 log_records          ScopeSpans    1 scope    2 spans
//   Resource       1 attributes                      InstrumentationScope 1 name 2 version
//   LogRecord      1 time_unix_nano (fixed64) 2 severity_number 3 severity_text 5 body
//                  6 attributes 9 trace_id 10 span_id 11 observed_time_unix_nano (fixed64)
//   Span           1 trace_id 2 span_id 5 name 6 kind 7 start (fixed64) 8 end (fixed64)
//                  9 attributes 15 status { 2 message 3 code }
//   KeyValue       1 key 2 value;  AnyValue (oneof) 1 string 2 bool 3 int (int64) 4 double
// A oneof member is written even when it holds its type's default (false, 0, ""): presence is
// its meaning there. Times are decimal strings in the JSON model; they become fixed64 here.

import type { AnyValue, KeyValue, Resource } from './otlp-json.js';
import { SCOPE } from './otlp-json.js';

const VARINT = 0;
const I64 = 1;
const LEN = 2;

/**
 * One message under construction: its pieces (encoded bytes, strings still to be written as
 * UTF-8, nested messages) and their total length. Nothing is copied until done() writes the
 * whole tree into one buffer of the right size.
 */
class Msg {
  // a number is one byte (most tags and lengths): cheaper to hold and write than a Buffer
  private parts: Array<number | Buffer | string | Msg> = [];
  private len = 0;

  private push(b: Buffer): void {
    this.parts.push(b);
    this.len += b.length;
  }
  private pushVarint(n: number | bigint): void {
    if (typeof n === 'number' && n >= 0 && n < 0x80) {
      this.parts.push(n);
      this.len++;
    } else this.push(varint(n));
  }
  private key(field: number, wire: number): void {
    this.pushVarint((field << 3) | wire);
  }
  uint(field: number, n: number | bigint): this {
    this.key(field, VARINT);
    this.pushVarint(n);
    return this;
  }
  /** int64: negatives as their 64-bit two's complement (ten bytes), as protobuf writes them */
  int64(field: number, n: bigint): this {
    return this.uint(field, BigInt.asUintN(64, n));
  }
  fixed64(field: number, n: bigint): this {
    this.key(field, I64);
    const b = Buffer.allocUnsafe(8);
    b.writeBigUInt64LE(BigInt.asUintN(64, n));
    this.push(b);
    return this;
  }
  double(field: number, n: number): this {
    this.key(field, I64);
    const b = Buffer.allocUnsafe(8);
    b.writeDoubleLE(n);
    this.push(b);
    return this;
  }
  bytes(field: number, b: Buffer): this {
    this.key(field, LEN);
    this.pushVarint(b.length);
    this.push(b);
    return this;
  }
  string(field: number, s: string): this {
    const n = Buffer.byteLength(s, 'utf8');
    this.key(field, LEN);
    this.pushVarint(n);
    this.parts.push(s);
    this.len += n;
    return this;
  }
  /** a string field left out when empty (proto3 default) */
  optString(field: number, s: string | undefined): this {
    return s ? this.string(field, s) : this;
  }
  message(field: number, m: Msg): this {
    this.key(field, LEN);
    this.pushVarint(m.len);
    this.parts.push(m);
    this.len += m.len;
    return this;
  }
  private writeInto(buf: Buffer, at: number): number {
    let o = at;
    for (const p of this.parts) {
      if (typeof p === 'number') buf[o++] = p;
      else if (typeof p === 'string') o += buf.write(p, o, 'utf8');
      else if (p instanceof Msg) o = p.writeInto(buf, o);
      else o += p.copy(buf, o);
    }
    return o;
  }
  done(): Buffer {
    const buf = Buffer.allocUnsafe(this.len);
    this.writeInto(buf, 0);
    return buf;
  }
}

/** Tags and small numbers recur in every record: their encodings are made once. */
const SMALL = Array.from({ length: 256 }, (_, n) => (n < 128 ? Buffer.from([n]) : Buffer.from([(n & 0x7f) | 0x80, n >> 7])));

function varint(n: number | bigint): Buffer {
  if (typeof n === 'number' && n >= 0 && n < 256 && Number.isInteger(n)) return SMALL[n]!;
  if (typeof n === 'number' && n >= 0 && n <= 0x7fffffff && Number.isInteger(n)) {
    const out: number[] = [];
    let v = n;
    while (v > 0x7f) {
      out.push((v & 0x7f) | 0x80);
      v >>>= 7;
    }
    out.push(v);
    return Buffer.from(out);
  }
  let v = BigInt(n);
  if (v < 0n) v = BigInt.asUintN(64, v);
  const out: number[] = [];
  while (v > 0x7fn) {
    out.push(Number(v & 0x7fn) | 0x80);
    v >>= 7n;
  }
  out.push(Number(v));
  return Buffer.from(out);
}

function anyValue(v: AnyValue): Msg {
  const m = new Msg();
  if ('stringValue' in v) return m.string(1, v.stringValue);
  if ('boolValue' in v) return m.uint(2, v.boolValue ? 1 : 0);
  if ('intValue' in v) return m.int64(3, BigInt(v.intValue));
  return m.double(4, v.doubleValue);
}

function keyValues(m: Msg, field: number, list: KeyValue[] | undefined): void {
  for (const kv of list ?? []) m.message(field, new Msg().string(1, kv.key).message(2, anyValue(kv.value)));
}

const nanos = (s: unknown) => BigInt(typeof s === 'string' && /^\d+$/.test(s) ? s : 0);
const hexBytes = (s: unknown) => (typeof s === 'string' && s ? Buffer.from(s, 'hex') : null);

function resourceMsg(r: Resource): Msg {
  const m = new Msg();
  keyValues(m, 1, r.attributes);
  return m;
}
const scopeMsg = () => new Msg().string(1, SCOPE.name).optString(2, SCOPE.version);

function logRecordMsg(r: Record<string, any>): Msg {
  const m = new Msg().fixed64(1, nanos(r.timeUnixNano));
  if (r.severityNumber) m.uint(2, r.severityNumber);
  m.optString(3, r.severityText);
  if (r.body) m.message(5, anyValue(r.body));
  keyValues(m, 6, r.attributes);
  const trace = hexBytes(r.traceId);
  if (trace) m.bytes(9, trace);
  const span = hexBytes(r.spanId);
  if (span) m.bytes(10, span);
  return m.fixed64(11, nanos(r.observedTimeUnixNano));
}

function spanMsg(s: Record<string, any>): Msg {
  const m = new Msg().bytes(1, hexBytes(s.traceId)!).bytes(2, hexBytes(s.spanId)!).string(5, String(s.name ?? ''));
  if (s.kind) m.uint(6, s.kind);
  m.fixed64(7, nanos(s.startTimeUnixNano)).fixed64(8, nanos(s.endTimeUnixNano));
  keyValues(m, 9, s.attributes);
  if (s.status) {
    const st = new Msg().optString(2, s.status.message);
    if (s.status.code) st.uint(3, s.status.code);
    m.message(15, st);
  }
  return m;
}

/** ExportLogsServiceRequest; no records gives the empty message (zero bytes), a valid request. */
export function logsRequestProto(resource: Resource, records: Array<Record<string, unknown>>): Buffer {
  if (records.length === 0) return Buffer.alloc(0);
  const scopeLogs = new Msg().message(1, scopeMsg());
  for (const r of records) scopeLogs.message(2, logRecordMsg(r));
  return new Msg().message(1, new Msg().message(1, resourceMsg(resource)).message(2, scopeLogs)).done();
}

export function tracesRequestProto(resource: Resource, spans: Array<Record<string, unknown>>): Buffer {
  if (spans.length === 0) return Buffer.alloc(0);
  const scopeSpans = new Msg().message(1, scopeMsg());
  for (const s of spans) scopeSpans.message(2, spanMsg(s));
  return new Msg().message(1, new Msg().message(1, resourceMsg(resource)).message(2, scopeSpans)).done();
}

export type Field = { field: number; value: bigint | Buffer };

/** The top-level fields of a protobuf message; throws on a truncated or malformed one. */
export function readFields(buf: Buffer): Field[] {
  const out: Field[] = [];
  let i = 0;
  const readVarint = (): bigint => {
    let v = 0n;
    for (let shift = 0n; ; shift += 7n) {
      if (i >= buf.length || shift > 63n) throw new Error('malformed varint');
      const b = buf[i++]!;
      v |= BigInt(b & 0x7f) << shift;
      if (b < 0x80) return v;
    }
  };
  while (i < buf.length) {
    const key = Number(readVarint());
    const field = key >>> 3;
    const wire = key & 7;
    let value: bigint | Buffer;
    if (wire === VARINT) value = readVarint();
    else if (wire === I64 || wire === 5) {
      const n = wire === I64 ? 8 : 4;
      if (i + n > buf.length) throw new Error('truncated fixed field');
      value = buf.subarray(i, i + n);
      i += n;
    } else if (wire === LEN) {
      const n = Number(readVarint());
      if (i + n > buf.length) throw new Error('truncated length-delimited field');
      value = buf.subarray(i, i + n);
      i += n;
    } else throw new Error(`unsupported wire type ${wire}`);
    out.push({ field, value });
  }
  return out;
}

/**
 * The partial_success of an ExportLogsServiceResponse or ExportTraceServiceResponse (both:
 * 1 partial_success { 1 rejected_log_records | rejected_spans (int64), 2 error_message }).
 */
export function partialSuccessProto(buf: Buffer): { rejected: number; message: string } {
  let rejected = 0;
  let message = '';
  try {
    for (const f of readFields(buf)) {
      if (f.field !== 1 || !Buffer.isBuffer(f.value)) continue;
      for (const p of readFields(f.value)) {
        if (p.field === 1 && typeof p.value === 'bigint') rejected = Number(BigInt.asIntN(64, p.value));
        if (p.field === 2 && Buffer.isBuffer(p.value)) message = p.value.toString('utf8');
      }
    }
  } catch {
    // an answer we cannot read is not a rejection we can count
  }
  return { rejected, message };
}
