// The syslog logger against real listeners on 127.0.0.1 (UDP, TCP) and a unix stream socket.
// Each received message is parsed here against RFC 5424's grammar (§6: HEADER SP
// STRUCTURED-DATA [SP MSG]) by a parser written for this test.

import { createSocket } from 'node:dgram';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { syslogLogger } from './syslog.js';
import { entry, makeCtx } from '../lib/test-helpers/context.js';
import type { LoggerSink } from '../types.js';
import { cutUtf8 } from '../lib/syslog-format.js';

interface Parsed {
  pri: number;
  version: string;
  timestamp: string;
  hostname: string;
  app: string;
  procid: string;
  msgid: string;
  sd: Array<{ id: string; params: Record<string, string> }>;
  msg: string;
  bom: boolean;
}

/** RFC 5424 §6 by hand: header fields are single-space separated; SD elements are [ID k="v"...] with \" \\ \] escapes. */
function parse5424(raw: string): Parsed {
  const m = /^<(\d{1,3})>(\d) (\S+) (\S+) (\S+) (\S+) (\S+) /.exec(raw);
  if (!m) throw new Error(`not an RFC 5424 header: ${raw}`);
  let i = m[0].length;
  const sd: Parsed['sd'] = [];
  if (raw[i] === '-') i++;
  else {
    while (raw[i] === '[') {
      i++;
      let id = '';
      while (raw[i] !== ' ' && raw[i] !== ']') id += raw[i++];
      const params: Record<string, string> = {};
      while (raw[i] === ' ') {
        i++;
        let name = '';
        while (raw[i] !== '=') name += raw[i++];
        if (raw[i + 1] !== '"') throw new Error('PARAM-VALUE must be quoted');
        i += 2;
        let v = '';
        while (raw[i] !== '"') {
          if (raw[i] === '\\' && ['"', '\\', ']'].includes(raw[i + 1]!)) i++;
          else if (raw[i] === ']') throw new Error('unescaped ] in a PARAM-VALUE');
          v += raw[i++];
        }
        i++;
        params[name] = v;
      }
      if (raw[i] !== ']') throw new Error(`bad SD element at ${i}: ${raw}`);
      i++;
      sd.push({ id, params });
    }
  }
  let msg = '';
  if (i < raw.length) {
    if (raw[i] !== ' ') throw new Error('MSG must follow a space');
    msg = raw.slice(i + 1);
  }
  const bom = msg.startsWith('\uFEFF');
  return { pri: Number(m[1]), version: m[2]!, timestamp: m[3]!, hostname: m[4]!, app: m[5]!, procid: m[6]!, msgid: m[7]!, sd, msg: bom ? msg.slice(1) : msg, bom };
}

const until = async (what: string, fn: () => boolean, ms = 10_000) => {
  const deadline = Date.now() + ms;
  while (!fn()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
};

/** a stream listener that splits what it receives by newline or by octet counts */
function streamListener(framing: 'lf' | 'octet-counting') {
  const messages: string[] = [];
  const sockets = new Set<Socket>();
  const server = createServer((s) => {
    sockets.add(s);
    let buf = Buffer.alloc(0);
    s.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      for (;;) {
        if (framing === 'lf') {
          const nl = buf.indexOf(10);
          if (nl < 0) break;
          messages.push(buf.subarray(0, nl).toString('utf8'));
          buf = buf.subarray(nl + 1);
        } else {
          const sp = buf.indexOf(32);
          if (sp < 0) break;
          const len = Number(buf.subarray(0, sp).toString());
          if (buf.length < sp + 1 + len) break;
          messages.push(buf.subarray(sp + 1, sp + 1 + len).toString('utf8'));
          buf = buf.subarray(sp + 1 + len);
        }
      }
    });
    s.on('close', () => sockets.delete(s));
  });
  return { server, messages, sockets };
}
const listen = (server: Server, at: number | string = 0) => new Promise<void>((r) => (typeof at === 'string' ? server.listen(at, r) : server.listen(at, '127.0.0.1', r)));

describe('syslog logger', () => {
  let sink: LoggerSink | null = null;
  const cleanup: Array<() => unknown> = [];
  afterEach(async () => {
    await sink?.close();
    sink = null;
    for (const c of cleanup.splice(0)) await c();
  });

  it('UDP: one RFC 5424 datagram per entry with PRI from facility and level, OrgLoop structured data, and the message', async () => {
    const udp = createSocket('udp4');
    const got: string[] = [];
    udp.on('message', (b) => got.push(b.toString('utf8')));
    await new Promise<void>((r) => udp.bind(0, '127.0.0.1', r));
    cleanup.push(() => udp.close());
    const ctx = makeCtx({ transport: 'udp', host: '127.0.0.1', port: (udp.address() as AddressInfo).port, facility: 'local3', app_name: 'orgloop-prod', hostname: 'ops-1', level: 'debug' });
    sink = syslogLogger.open(ctx);
    sink.log(entry({ level: 'info', phase: 'deliver.success', actor: 'engineering-agent', event_id: 'evt_1', trace_id: 'trc_1', delivery_id: 'dlv_1', message: 'delivered to engineering-agent on attempt 1 in 42 ms', data: { attempt: 1, duration_ms: 42 } }));
    sink.log(entry({ level: 'error', phase: 'deliver.dead', message: 'dead: HTTP 500 "quoted" [bracket] back\\slash', data: { note: 'a ] b " c \\ d' } }));
    sink.log(entry({ level: 'warn', phase: 'deliver.retry', message: 'réessai — 再試行' }));
    sink.log(entry({ level: 'debug', phase: 'route.match', message: undefined }));
    sink.log(entry({ level: 'error', phase: 'executor.error', message: 'store gone', data: { fatal: true } }));
    await until('5 datagrams', () => got.length === 5);
    const [ok, dead, retry, match, fatal] = got.map(parse5424);
    // local3 = 19: 19*8+6 = 158 (info), +3 error = 155, +4 warn = 156, +7 debug = 159, +2 critical = 154
    expect([ok, dead, retry, match, fatal].map((p) => p!.pri)).toEqual([158, 155, 156, 159, 154]);
    expect(ok).toMatchObject({ version: '1', timestamp: '2024-05-01T12:00:01.123Z', hostname: 'ops-1', app: 'orgloop-prod', procid: String(process.pid), msgid: 'deliver.success', msg: 'delivered to engineering-agent on attempt 1 in 42 ms', bom: false });
    expect(ok!.sd).toEqual([
      { id: 'orgloop@49999', params: { event_id: 'evt_1', trace_id: 'trc_1', source: 'github', route: 'pr-review', target: 'engineering-agent', delivery_id: 'dlv_1', level: 'info', attempt: '1', duration_ms: '42' } },
    ]);
    expect(dead!.sd[0]!.params.note).toBe('a ] b " c \\ d');
    expect(dead!.msg).toBe('dead: HTTP 500 "quoted" [bracket] back\\slash');
    expect(retry).toMatchObject({ bom: true, msg: 'réessai — 再試行' });
    expect(match!.msg).toBe('');
    expect(Buffer.byteLength(got[0]!)).toBeLessThanOrEqual(2048);
  });

  it('UDP: close() lets the sends in flight finish (closing the socket at once would cancel them)', async () => {
    const udp = createSocket('udp4');
    const got: string[] = [];
    udp.on('message', (b) => got.push(b.toString('utf8')));
    await new Promise<void>((r) => udp.bind(0, '127.0.0.1', r));
    cleanup.push(() => udp.close());
    const s = syslogLogger.open(makeCtx({ port: (udp.address() as AddressInfo).port }));
    for (let i = 0; i < 20; i++) s.log(entry({ message: `m${i}` }));
    await s.close();
    await until('20 datagrams', () => got.length === 20);
  });

  it('cuts a long message to max_message_size without splitting a character, and honours level', async () => {
    const udp = createSocket('udp4');
    const got: string[] = [];
    udp.on('message', (b) => got.push(b.toString('utf8')));
    await new Promise<void>((r) => udp.bind(0, '127.0.0.1', r));
    cleanup.push(() => udp.close());
    sink = syslogLogger.open(makeCtx({ port: (udp.address() as AddressInfo).port, max_message_size: 600, level: 'warn', include_structured_data: false }));
    sink.log(entry({ level: 'info', message: 'below the level' }));
    sink.log(entry({ level: 'warn', message: 'é'.repeat(1000) }));
    await until('one datagram', () => got.length === 1);
    await new Promise((r) => setTimeout(r, 50));
    expect(got).toHaveLength(1);
    expect(Buffer.byteLength(got[0]!)).toBeLessThanOrEqual(600);
    const p = parse5424(got[0]!);
    expect(p.sd).toEqual([]);
    expect(p.msg).toMatch(/^é+$/);
    expect(cutUtf8('aé', 2)).toBe('a');
  });

  it('TCP with newline framing (OrgLoop\'s): newlines inside a message become spaces; buffered while the listener is down, delivered on reconnect', async () => {
    const l = streamListener('lf');
    await listen(l.server);
    const port = (l.server.address() as AddressInfo).port;
    const ctx = makeCtx({ transport: 'tcp', host: '127.0.0.1', port, hostname: 'h' });
    sink = syslogLogger.open(ctx);
    sink.log(entry({ message: 'line one\nline two' }));
    await until('first message', () => l.messages.length === 1);
    expect(parse5424(l.messages[0]!).msg).toBe('line one line two');
    // the listener goes away: messages queue, bounded, and arrive once it is back on the same port
    for (const s of l.sockets) s.destroy();
    await new Promise<void>((r) => l.server.close(() => r()));
    await until('the sink to notice', () => ctx.logged.some(([, m]) => /closed; reconnecting/.test(m)));
    for (let i = 0; i < 5; i++) sink.log(entry({ message: `while down ${i}` }));
    const back = streamListener('lf');
    await listen(back.server, port);
    cleanup.push(() => new Promise<void>((r) => { for (const s of back.sockets) s.destroy(); back.server.close(() => r()); }));
    await until('the queued messages after reconnecting', () => back.messages.length >= 5, 15_000);
    expect(back.messages.map((m) => parse5424(m).msg)).toEqual([0, 1, 2, 3, 4].map((i) => `while down ${i}`));
  });

  it('TCP queue is bounded by `buffer`: with no listener the oldest are dropped and a warning says how many', async () => {
    const probe = createServer();
    await listen(probe);
    const port = (probe.address() as AddressInfo).port;
    await new Promise<void>((r) => probe.close(() => r())); // a port nobody listens on
    const ctx = makeCtx({ transport: 'tcp', port, buffer: 10 });
    sink = syslogLogger.open(ctx);
    for (let i = 0; i < 25; i++) sink.log(entry({ message: `m${i}` }));
    await until('a drop warning', () => ctx.logged.some(([l, m]) => l === 'warn' && m.includes('dropped')));
    expect(ctx.logged.find(([l, m]) => l === 'warn' && m.includes('dropped'))![1]).toMatch(/^syslog test: dropped \d+ message\(s\): 127\.0\.0\.1:\d+ is not taking messages and the queue is full$/);
    // and why: the refused connection, once (not at every reconnect)
    expect(ctx.logged.filter(([l, m]) => l === 'warn' && m.includes('cannot connect')).map(([, m]) => m)).toEqual([`syslog test: cannot connect to 127.0.0.1:${port}: connect ECONNREFUSED 127.0.0.1:${port}; retrying`]);
    // now a listener appears: only the newest 10 survived the bound
    const l = streamListener('lf');
    await listen(l.server, port);
    cleanup.push(() => new Promise<void>((r) => { for (const s of l.sockets) s.destroy(); l.server.close(() => r()); }));
    await until('the surviving messages', () => l.messages.length >= 10, 15_000);
    expect(l.messages.map((m) => parse5424(m).msg)).toEqual(Array.from({ length: 10 }, (_, i) => `m${15 + i}`));
  });

  it('unix stream socket with octet-counting framing (RFC 6587); RFC 3164 format when asked', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'orgloop-syslog-'));
    cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
    const path = join(dir, 'log.sock');
    const l = streamListener('octet-counting');
    await listen(l.server, path);
    cleanup.push(() => new Promise<void>((r) => { for (const s of l.sockets) s.destroy(); l.server.close(() => r()); }));
    sink = syslogLogger.open(makeCtx({ transport: 'unix', path, framing: 'octet-counting', facility: 'daemon', hostname: 'h' }));
    sink.log(entry({ message: 'multi\nline kept' }));
    await until('a message', () => l.messages.length === 1);
    expect(parse5424(l.messages[0]!)).toMatchObject({ pri: 3 * 8 + 6, msg: 'multi\nline kept' });
    await sink.close();

    const l2 = streamListener('lf');
    const path2 = join(dir, 'bsd.sock');
    await listen(l2.server, path2);
    cleanup.push(() => new Promise<void>((r) => { for (const s of l2.sockets) s.destroy(); l2.server.close(() => r()); }));
    sink = syslogLogger.open(makeCtx({ transport: 'unix', path: path2, format: 'rfc3164', hostname: 'h', app_name: 'orgloop' }));
    sink.log(entry({ level: 'warn', phase: 'deliver.retry', message: 'retrying' }));
    await until('a BSD message', () => l2.messages.length === 1);
    expect(l2.messages[0]).toMatch(new RegExp(`^<132>[A-Z][a-z]{2} [ \\d]\\d \\d{2}:\\d{2}:\\d{2} h orgloop\\[${process.pid}\\]: deliver\\.retry: retrying$`));
  });

  it('never ships credentials: URL userinfo, bearer tokens, key=value secrets and secret-named data fields are redacted', async () => {
    const udp = createSocket('udp4');
    const got: string[] = [];
    udp.on('message', (b) => got.push(b.toString('utf8')));
    await new Promise<void>((r) => udp.bind(0, '127.0.0.1', r));
    cleanup.push(() => udp.close());
    sink = syslogLogger.open(makeCtx({ port: (udp.address() as AddressInfo).port }));
    sink.log(entry({ message: 'POST https://bot:hunter22@hooks.example/x?token=abc123def failed; sent Authorization: Bearer sk_live_0123456789abcdef', data: { api_key: 'k-0123456789', authorization: 'Basic dXNlcjpwYXNz', tokens: 12 } }));
    await until('a datagram', () => got.length === 1);
    expect(got[0]).not.toMatch(/hunter22|abc123def|sk_live_0123456789abcdef|k-0123456789|dXNlcjpwYXNz/);
    const p = parse5424(got[0]!);
    expect(p.msg).toBe('POST https://[redacted]@hooks.example/x?token=[redacted] failed; sent Authorization: Bearer [redacted]');
    expect(p.sd[0]!.params).toMatchObject({ api_key: '[redacted]', authorization: '[redacted]', tokens: '12' });
  });

  it('doctor: tcp connects, a closed port fails with the reason', async () => {
    const l = streamListener('lf');
    await listen(l.server);
    const port = (l.server.address() as AddressInfo).port;
    cleanup.push(() => new Promise<void>((r) => { for (const s of l.sockets) s.destroy(); l.server.close(() => r()); }));
    expect(await syslogLogger.check!(makeCtx({ transport: 'tcp', port }))).toEqual({ ok: true, detail: `tcp 127.0.0.1:${port} accepts connections` });
    const probe = createServer();
    await listen(probe);
    const closed = (probe.address() as AddressInfo).port;
    await new Promise<void>((r) => probe.close(() => r()));
    expect(await syslogLogger.check!(makeCtx({ transport: 'tcp', port: closed }))).toMatchObject({ ok: false, detail: expect.stringContaining('ECONNREFUSED') });
  });

  it('validate: protocol is another name for transport; unknown keys and transports are refused by the schema', () => {
    expect(syslogLogger.validate!({ transport: 'udp', protocol: 'tcp' })).toEqual([{ path: 'protocol', message: 'protocol is another name for transport: set one of them' }]);
    expect((syslogLogger.configSchema.properties as any).transport.enum).toEqual(['udp', 'tcp', 'tls', 'unix']);
  });
});
