// Logger `syslog` (OrgLoop's @orgloop/logger-syslog): each entry at or above `level` becomes one
// syslog message (providers/lib/syslog-format.ts: RFC 5424 by default, `format: rfc3164` for
// older receivers) sent over UDP (default, RFC 5426), TCP, TLS (RFC 5425) or a unix stream socket.
//
// Never in delivery's way: log() formats and hands the message to the transport and returns.
//   udp   one datagram per message (RFC 5426), fire and forget; at most 4096 sends in flight,
//         beyond that messages are dropped and counted
//   tcp / tls / unix  one connection, reconnected with backoff (0.5 s doubling to 30 s); messages
//         are framed by a newline (OrgLoop's framing; newlines inside a message become spaces) or,
//         with `framing: octet-counting`, by their length (RFC 6587 §3.4.1; the default and what
//         RFC 5425 requires over TLS). A connection that cannot be made (refused, or a TLS
//         certificate that does not verify) is warned about at most once a minute. While disconnected
//         or while the socket is backed up, messages wait in a queue bounded by `buffer`
//         messages (default 1000, as upstream) and 1 MB; when full the oldest are dropped and
//         counted. Drops are reported as a warning at most once a minute.
// TLS verifies the receiver's certificate against the system's CAs or `tls.ca_file` and the name
// in `host` (or `tls.server_name`); `tls.cert_file` / `key_file` present a client certificate
// (RFC 5425's mutual authentication). Port 6514 by default.
// Plain TCP cannot tell which bytes a receiver read before it went away: messages written in
// the moment before a drop is noticed are lost, as with any TCP syslog sender.
// `close()` flushes what is queued to a connected socket (up to 2 s) and closes.
// Messages are cut to `max_message_size` bytes (default 2048 over UDP, 8192 otherwise).
// Text is scrubbed of credentials (providers/lib/log-redact.ts) before it leaves.
// Unix datagram sockets (Linux's /dev/log) are not supported: Node cannot open them; point
// `path` at a stream socket (rsyslog imuxsock is datagram-only; syslog-ng unix-stream() works).

import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { readFileSync } from 'node:fs';
import { isIP, isIPv6, createConnection, type Socket } from 'node:net';
import { hostname } from 'node:os';
import { resolve } from 'node:path';
import { connect as tlsConnect, type ConnectionOptions } from 'node:tls';
import type { LogEntry, LoggerProvider, LoggerSink, ProviderContext } from '../types.js';
import { CONTRACT_VERSION } from '../contract.js';
import { atLeast, levelSchema } from '../lib/level.js';
import { FACILITIES, formatSyslog, type SyslogOptions } from '../lib/syslog-format.js';
import { redactor } from '../lib/log-redact.js';
import { expandHome } from './file.js';

const MAX_UDP_IN_FLIGHT = 4096;
const QUEUE_BYTES = 1024 * 1024;
/** a connected socket holding more than this unsent is backed up: new messages queue instead */
const SOCKET_HIGH_WATER = 256 * 1024;
const RECONNECT_MIN_MS = 500;
const RECONNECT_MAX_MS = 30_000;
const DROP_WARN_EVERY_MS = 60_000;
const CLOSE_FLUSH_MS = 2000;
const TLS_PORT = 6514;

interface Transport {
  send(message: string): void;
  close(): Promise<void>;
}

/** Counts dropped messages and says so, at most once a minute, outside the log() call. */
class Drops {
  private count = 0;
  private lastWarn = 0;
  constructor(private readonly warn: (msg: string) => void) {}
  add(n: number, why: string): void {
    this.count += n;
    const now = Date.now();
    if (now - this.lastWarn < DROP_WARN_EVERY_MS) return;
    this.lastWarn = now;
    const dropped = this.count;
    this.count = 0;
    // not from inside log(): the warning is itself a log entry that comes back to this sink
    setImmediate(() => this.warn(`dropped ${dropped} message(s): ${why}`));
  }
}

/** Says why connections fail, at most once a minute (a receiver that is down fails every backoff). */
class ConnectFailures {
  private last = 0;
  constructor(private readonly warn: (msg: string) => void) {}
  add(where: string, err: Error): void {
    const now = Date.now();
    if (now - this.last < DROP_WARN_EVERY_MS) return;
    this.last = now;
    const text = `cannot connect to ${where}: ${err.message}; retrying`;
    setImmediate(() => this.warn(text));
  }
}

class UdpTransport implements Transport {
  private socket: UdpSocket;
  private inFlight = 0;
  constructor(
    private readonly host: string,
    private readonly port: number,
    private readonly drops: Drops,
  ) {
    this.socket = createSocket(isIPv6(host) ? 'udp6' : 'udp4');
    this.socket.on('error', () => {}); // fire and forget; a send's error is counted in its callback
    this.socket.unref();
  }
  send(message: string): void {
    if (this.inFlight >= MAX_UDP_IN_FLIGHT) return this.drops.add(1, 'too many UDP sends in flight');
    this.inFlight++;
    this.socket.send(Buffer.from(message, 'utf8'), this.port, this.host, (err) => {
      this.inFlight--;
      if (err) this.drops.add(1, `UDP send failed: ${err.message}`);
    });
  }
  async close(): Promise<void> {
    // closing the socket cancels sends still in flight: let them finish first (briefly)
    for (const deadline = Date.now() + CLOSE_FLUSH_MS; this.inFlight > 0 && Date.now() < deadline; ) await new Promise((r) => setTimeout(r, 5));
    await new Promise<void>((resolve) => {
      try {
        this.socket.close(() => resolve());
      } catch {
        resolve();
      }
    });
  }
}

class StreamTransport implements Transport {
  private socket: Socket | null = null;
  private connected = false;
  private closed = false;
  private queue: Buffer[] = [];
  private queueBytes = 0;
  private backoff = RECONNECT_MIN_MS;
  private timer: NodeJS.Timeout | null = null;

  private readonly failures: ConnectFailures;

  constructor(
    private readonly dialer: Dialer,
    private readonly frame: (m: string) => Buffer,
    private readonly maxQueue: number,
    private readonly drops: Drops,
    private readonly warn: (msg: string) => void,
  ) {
    this.failures = new ConnectFailures(warn);
    this.connect();
  }

  private connect(): void {
    if (this.closed) return;
    const s = this.dialer.dial();
    this.socket = s;
    s.unref();
    s.setNoDelay?.(true);
    let opened = false;
    s.on(this.dialer.ready, () => {
      opened = true;
      this.connected = true;
      this.backoff = RECONNECT_MIN_MS;
      this.pump();
    });
    s.on('drain', () => this.pump());
    s.on('error', (err) => {
      // followed by close, where we reconnect
      if (!opened) this.failures.add(this.dialer.where, err);
    });
    // the receiver hung up: stop writing into a connection that is going away
    s.on('end', () => {
      this.connected = false;
      s.destroy();
    });
    s.on('close', () => {
      this.connected = false;
      this.socket = null;
      if (this.closed) return;
      if (opened) setImmediate(() => this.warn(`connection to ${this.describe()} closed; reconnecting`));
      this.timer = setTimeout(() => {
        this.timer = null;
        this.connect();
      }, this.backoff);
      this.timer.unref();
      this.backoff = Math.min(RECONNECT_MAX_MS, this.backoff * 2);
    });
  }

  private describe(): string {
    return this.dialer.where;
  }

  /** Writes queued messages while the socket takes them. */
  private pump(): void {
    const s = this.socket;
    while (s && this.connected && this.queue.length > 0 && s.writableLength < SOCKET_HIGH_WATER) {
      const b = this.queue.shift()!;
      this.queueBytes -= b.length;
      s.write(b);
    }
  }

  send(message: string): void {
    if (this.closed) return;
    const b = this.frame(message);
    const s = this.socket;
    if (s && this.connected && this.queue.length === 0 && s.writableLength < SOCKET_HIGH_WATER) {
      s.write(b);
      return;
    }
    this.queue.push(b);
    this.queueBytes += b.length;
    let dropped = 0;
    while (this.queue.length > this.maxQueue || this.queueBytes > QUEUE_BYTES) {
      this.queueBytes -= this.queue.shift()!.length;
      dropped++;
    }
    if (dropped) this.drops.add(dropped, `${this.describe()} is not taking messages and the queue is full`);
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    const s = this.socket;
    if (!s) return;
    this.pump();
    await new Promise<void>((resolve) => {
      const t = setTimeout(() => {
        s.destroy();
        resolve();
      }, CLOSE_FLUSH_MS);
      t.unref();
      s.end(() => {
        clearTimeout(t);
        resolve();
      });
    });
  }
}

/** How a stream transport opens its connection, and the event that says it is ready for messages. */
interface Dialer {
  dial(): Socket;
  ready: 'connect' | 'secureConnect';
  /** for messages: host:port or the socket path */
  where: string;
}

export interface SyslogTls {
  caFile?: string;
  certFile?: string;
  keyFile?: string;
  serverName?: string;
  verify: boolean;
}

export interface SyslogSettings {
  transport: 'udp' | 'tcp' | 'tls' | 'unix';
  host: string;
  port: number;
  path: string;
  framing: 'lf' | 'octet-counting';
  tls: SyslogTls;
  buffer: number;
  level: string;
  options: SyslogOptions;
}

export function syslogSettings(config: Record<string, unknown>, projectDir = process.cwd()): SyslogSettings {
  const transport = ((config.transport ?? config.protocol ?? 'udp') as string) as SyslogSettings['transport'];
  const udp = transport === 'udp';
  const tls = (config.tls ?? {}) as Record<string, unknown>;
  const file = (v: unknown) => (typeof v === 'string' && v ? resolve(projectDir, expandHome(v)) : undefined);
  return {
    transport,
    host: typeof config.host === 'string' && config.host ? config.host : '127.0.0.1',
    port: typeof config.port === 'number' ? config.port : transport === 'tls' ? TLS_PORT : 514,
    path: typeof config.path === 'string' && config.path ? config.path : '/dev/log',
    framing: config.framing === 'octet-counting' || (config.framing === undefined && transport === 'tls') ? 'octet-counting' : 'lf',
    tls: {
      caFile: file(tls.ca_file),
      certFile: file(tls.cert_file),
      keyFile: file(tls.key_file),
      serverName: typeof tls.server_name === 'string' && tls.server_name ? tls.server_name : undefined,
      verify: tls.verify !== false,
    },
    buffer: typeof config.buffer === 'number' ? config.buffer : 1000,
    level: typeof config.level === 'string' ? config.level : 'info',
    options: {
      facility: FACILITIES[(config.facility as string) ?? 'local0'] ?? 16,
      appName: typeof config.app_name === 'string' && config.app_name ? config.app_name : 'orgloop',
      hostname: typeof config.hostname === 'string' && config.hostname ? config.hostname : hostname(),
      procId: String(process.pid),
      structuredData: config.include_structured_data !== false,
      format: config.format === 'rfc3164' ? 'rfc3164' : 'rfc5424',
      maxBytes: typeof config.max_message_size === 'number' ? config.max_message_size : udp ? 2048 : 8192,
    },
  };
}

/** The text of an entry: its message (the phase names it in MSGID; RFC 3164 has none, so there it leads). */
function messageText(e: LogEntry, format: SyslogOptions['format']): string {
  const text = e.message ?? '';
  return format === 'rfc3164' ? (text ? `${e.phase}: ${text}` : e.phase) : text;
}

/** TLS options from the settings; reads the PEM files (an unreadable one is a start-up error naming it). */
function tlsOptions(s: SyslogSettings): ConnectionOptions {
  const read = (what: string, path: string | undefined) => {
    if (!path) return undefined;
    try {
      return readFileSync(path);
    } catch (err) {
      throw new Error(`syslog tls.${what}: cannot read ${path} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
    }
  };
  const servername = s.tls.serverName ?? (isIP(s.host) ? undefined : s.host);
  return {
    host: s.host,
    port: s.port,
    ...(servername ? { servername } : {}),
    ca: read('ca_file', s.tls.caFile),
    cert: read('cert_file', s.tls.certFile),
    key: read('key_file', s.tls.keyFile),
    rejectUnauthorized: s.tls.verify,
  };
}

export function dialerFor(s: SyslogSettings): Dialer {
  if (s.transport === 'unix') return { dial: () => createConnection({ path: s.path }), ready: 'connect', where: s.path };
  const where = `${s.host}:${s.port}`;
  if (s.transport === 'tls') {
    const options = tlsOptions(s);
    return { dial: () => tlsConnect(options), ready: 'secureConnect', where };
  }
  return { dial: () => createConnection({ host: s.host, port: s.port }), ready: 'connect', where };
}

export function createSyslogSink(ctx: ProviderContext): LoggerSink {
  const s = syslogSettings(ctx.config, ctx.projectDir);
  const warn = (m: string) => ctx.log.warn(`syslog ${ctx.name}: ${m}`);
  const drops = new Drops(warn);
  const lf = s.framing === 'lf';
  const frame = (m: string) => (lf ? Buffer.from(`${m.replace(/\r?\n/g, ' ')}\n`, 'utf8') : Buffer.from(`${Buffer.byteLength(m)} ${m}`, 'utf8'));
  const transport: Transport =
    s.transport === 'udp'
      ? new UdpTransport(s.host, s.port, drops)
      : new StreamTransport(dialerFor(s), frame, s.buffer, drops, warn);
  const scrub = redactor();
  let closed = false;
  return {
    log(entry: LogEntry) {
      if (closed || !atLeast(entry, s.level)) return;
      const e = scrub.entry(entry);
      transport.send(formatSyslog(e, s.options, messageText(e, s.options.format)));
    },
    async close() {
      if (closed) return;
      closed = true;
      await transport.close();
    },
  };
}

/** doctor: tcp, tls and unix connect (tls: and the handshake verifies) and hang up; udp has no answer to wait for. */
async function check(ctx: ProviderContext): Promise<{ ok: boolean; detail: string }> {
  const s = syslogSettings(ctx.config, ctx.projectDir);
  if (s.transport === 'udp') return { ok: true, detail: `UDP to ${s.host}:${s.port} (datagrams are not acknowledged: nothing to check)` };
  let dialer: Dialer;
  try {
    dialer = dialerFor(s);
  } catch (err) {
    return { ok: false, detail: (err as Error).message };
  }
  return new Promise((resolve) => {
    const sock = dialer.dial();
    const timer = setTimeout(() => {
      sock.destroy();
      resolve({ ok: false, detail: `${dialer.where}: no connection within 5 s` });
    }, 5000);
    sock.on(dialer.ready, () => {
      clearTimeout(timer);
      sock.end();
      resolve({ ok: true, detail: s.transport === 'tls' ? `tls ${dialer.where} accepts connections (certificate ${s.tls.verify ? 'verified' : 'not verified: tls.verify is false'})` : `${s.transport} ${dialer.where} accepts connections` });
    });
    sock.on('error', (err) => {
      clearTimeout(timer);
      resolve({ ok: false, detail: `${dialer.where}: ${err.message}` });
    });
  });
}

const FACILITY_NAMES = Object.keys(FACILITIES);

export const syslogLogger: LoggerProvider = {
  kind: 'logger',
  name: 'syslog',
  contractVersion: CONTRACT_VERSION,
  description: 'Sends log entries as RFC 5424 (or 3164) syslog messages over UDP, TCP, TLS or a unix stream socket.',
  configSchema: {
    type: 'object',
    additionalProperties: false,
    properties: {
      transport: { enum: ['udp', 'tcp', 'tls', 'unix'], default: 'udp' },
      protocol: { enum: ['udp', 'tcp', 'tls', 'unix'], description: 'same as transport (the name in OrgLoop\'s logger spec)' },
      host: { type: 'string', minLength: 1, default: '127.0.0.1', description: 'udp, tcp and tls' },
      port: { type: 'integer', minimum: 1, maximum: 65535, description: 'udp, tcp and tls (default 514; 6514 for tls)' },
      path: { type: 'string', minLength: 1, default: '/dev/log', description: 'unix: a stream socket' },
      facility: { enum: FACILITY_NAMES, default: 'local0' },
      app_name: { type: 'string', minLength: 1, default: 'orgloop' },
      hostname: { type: 'string', minLength: 1, description: 'HOSTNAME field (default: this machine\'s name)' },
      include_structured_data: { type: 'boolean', default: true, description: 'the [orgloop@49999 ...] element' },
      format: { enum: ['rfc5424', 'rfc3164'], default: 'rfc5424' },
      framing: { enum: ['lf', 'octet-counting'], description: 'tcp, tls and unix: newline after each message (OrgLoop\'s; the default but for tls), or a length before it (RFC 6587; the default for tls, as RFC 5425 says)' },
      tls: {
        type: 'object',
        additionalProperties: false,
        description: 'transport tls: how the receiver is verified and how orgloop authenticates',
        properties: {
          ca_file: { type: 'string', minLength: 1, description: 'PEM CA certificate(s) for the receiver (default: the system\'s); relative to the project, ~ is home' },
          cert_file: { type: 'string', minLength: 1, description: 'PEM client certificate (mutual TLS), with key_file' },
          key_file: { type: 'string', minLength: 1, description: 'PEM private key of cert_file' },
          server_name: { type: 'string', minLength: 1, description: 'name the certificate must carry and SNI (default: host, unless it is an address)' },
          verify: { type: 'boolean', default: true, description: 'false accepts any certificate (encryption without authentication)' },
        },
      },
      max_message_size: { type: 'integer', minimum: 480, maximum: 65000, description: 'bytes (default 2048 over UDP, 8192 otherwise)' },
      buffer: { type: 'integer', minimum: 1, maximum: 100000, default: 1000, description: 'tcp, tls and unix: messages held while disconnected' },
      level: { ...levelSchema, default: 'info' },
    },
  },
  validate(config, vctx) {
    const issues: Array<{ path: string; message: string; severity?: 'error' | 'warning' }> = [];
    if (config.transport !== undefined && config.protocol !== undefined && config.transport !== config.protocol) {
      issues.push({ path: 'protocol', message: 'protocol is another name for transport: set one of them' });
    }
    const transport = config.transport ?? config.protocol ?? 'udp';
    const tls = config.tls as Record<string, unknown> | undefined;
    if (tls !== undefined && transport !== 'tls') issues.push({ path: 'tls', message: `tls settings apply to transport: tls (this logger's transport is ${String(transport)})` });
    if (transport === 'udp' && config.framing !== undefined) issues.push({ path: 'framing', message: 'framing applies to stream transports (tcp, tls, unix): over UDP each datagram is one message (RFC 5426)' });
    if (tls && transport === 'tls') {
      if ((tls.cert_file === undefined) !== (tls.key_file === undefined)) issues.push({ path: tls.cert_file === undefined ? 'tls.key_file' : 'tls.cert_file', message: 'a client certificate needs both tls.cert_file and tls.key_file' });
      if (tls.verify === false) issues.push({ path: 'tls.verify', message: 'tls.verify: false accepts any certificate: messages are encrypted but may go to an impostor', severity: 'warning' });
      const base = vctx?.projectDir ?? process.cwd();
      for (const key of ['ca_file', 'cert_file', 'key_file']) {
        const v = tls[key];
        if (typeof v !== 'string' || !v || v.includes('${')) continue;
        const path = resolve(base, expandHome(v));
        try {
          readFileSync(path);
        } catch (err) {
          issues.push({ path: `tls.${key}`, message: `cannot read ${path} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})` });
        }
      }
    }
    return issues;
  },
  open: createSyslogSink,
  check,
};

export default syslogLogger;
