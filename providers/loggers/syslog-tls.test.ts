// The syslog logger over TLS (RFC 5425) against a real TLS listener on 127.0.0.1, with a
// self-signed certificate made by openssl for this test. The listener splits what it reads by
// RFC 5425's octet counting (MSG-LEN SP SYSLOG-MSG) itself and fails on anything else.

import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer, type Server, type TLSSocket } from 'node:tls';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { syslogLogger } from './syslog.js';
import { entry, makeCtx } from '../lib/test-helpers/context.js';
import type { LoggerSink } from '../types.js';

const until = async (what: string, fn: () => boolean, ms = 10_000) => {
  const deadline = Date.now() + ms;
  while (!fn()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
};

let dir = '';
/** a certificate for `name` (and 127.0.0.1), self-signed: its own CA */
function makeCert(name: string): { cert: string; key: string } {
  const cert = join(dir, `${name}.crt`);
  const key = join(dir, `${name}.key`);
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', key, '-out', cert, '-days', '2', '-subj', `/CN=${name}`, '-addext', `subjectAltName=DNS:${name},IP:127.0.0.1`], { stdio: 'ignore' });
  return { cert, key };
}

interface Listener {
  server: Server;
  port: number;
  messages: string[];
  /** subject CN of the client certificate of each connection, or '' */
  clients: string[];
  badFrames: string[];
}

async function tlsListener(files: { cert: string; key: string }, clientCa?: string): Promise<Listener> {
  const { readFileSync } = await import('node:fs');
  const l: Omit<Listener, 'port'> = { server: null as never, messages: [], clients: [], badFrames: [] };
  l.server = createServer({ cert: readFileSync(files.cert), key: readFileSync(files.key), ...(clientCa ? { ca: readFileSync(clientCa), requestCert: true, rejectUnauthorized: true } : {}) }, (s: TLSSocket) => {
    l.clients.push(String(s.getPeerCertificate()?.subject?.CN ?? ''));
    let buf = Buffer.alloc(0);
    s.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      for (;;) {
        const sp = buf.indexOf(32);
        if (sp < 0) break;
        const head = buf.subarray(0, sp).toString('latin1');
        // MSG-LEN = NONZERO-DIGIT *DIGIT
        if (!/^[1-9]\d*$/.test(head)) {
          l.badFrames.push(buf.toString('utf8'));
          s.destroy();
          return;
        }
        const len = Number(head);
        if (buf.length < sp + 1 + len) break;
        l.messages.push(buf.subarray(sp + 1, sp + 1 + len).toString('utf8'));
        buf = buf.subarray(sp + 1 + len);
      }
    });
    s.on('error', () => {});
  });
  l.server.on('tlsClientError', () => {});
  await new Promise<void>((r) => l.server.listen(0, '127.0.0.1', r));
  return { ...l, port: (l.server.address() as AddressInfo).port };
}

describe('syslog logger over TLS (RFC 5425)', () => {
  let server: { cert: string; key: string };
  let client: { cert: string; key: string };
  let sink: LoggerSink | null = null;
  const cleanup: Array<() => Promise<void> | void> = [];
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'orgloop-syslog-tls-'));
    server = makeCert('syslog.test');
    client = makeCert('orgloop-client');
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  afterEach(async () => {
    await sink?.close();
    sink = null;
    for (const c of cleanup.splice(0)) await c();
  });
  const closeListener = (l: Listener) => () => new Promise<void>((r) => l.server.close(() => r()));

  it('octet-counted RFC 5424 messages over a verified TLS connection, by address (IP SAN) and by server_name', async () => {
    const l = await tlsListener(server);
    cleanup.push(closeListener(l));
    sink = syslogLogger.open(makeCtx({ transport: 'tls', port: l.port, tls: { ca_file: server.cert }, hostname: 'ops-1', facility: 'local3' }));
    sink.log(entry({ level: 'warn', phase: 'deliver.retry', message: 'two\nlines — ünïcode', data: { attempt: 2 } }));
    sink.log(entry({ message: 'second' }));
    await until('two messages', () => l.messages.length === 2);
    expect(l.badFrames).toEqual([]);
    expect(l.messages[0]).toMatch(/^<156>1 2024-05-01T12:00:01\.123Z ops-1 orgloop \d+ deliver\.retry \[orgloop@49999 [^\]]*attempt="2"\] \uFEFFtwo\nlines — ünïcode$/);
    expect(l.messages[1]).toMatch(/ second$/);
    await sink.close();

    // the certificate names syslog.test: dial the address, verify the name
    sink = syslogLogger.open(makeCtx({ protocol: 'tls', host: '127.0.0.1', port: l.port, tls: { ca_file: server.cert, server_name: 'syslog.test' } }));
    sink.log(entry({ message: 'by name' }));
    await until('the third message', () => l.messages.length === 3);
    expect(l.messages[2]).toMatch(/ by name$/);
  });

  it('a certificate that does not verify: nothing is sent, the reason is warned about once, messages wait in the bounded queue', async () => {
    const l = await tlsListener(server);
    cleanup.push(closeListener(l));
    const ctx = makeCtx({ transport: 'tls', port: l.port, buffer: 5 });
    sink = syslogLogger.open(ctx);
    for (let i = 0; i < 8; i++) sink.log(entry({ message: `secret-free ${i}` }));
    await until('the warnings', () => ctx.logged.filter(([lv]) => lv === 'warn').length >= 2);
    const warnings = ctx.logged.filter(([lv]) => lv === 'warn').map(([, m]) => m);
    expect(warnings).toContain(`syslog test: cannot connect to 127.0.0.1:${l.port}: self-signed certificate; retrying`);
    expect(warnings.some((m) => /^syslog test: dropped \d+ message\(s\): 127\.0\.0\.1:\d+ is not taking messages/.test(m))).toBe(true);
    expect(l.messages).toEqual([]);
    // name mismatch: verified against the CA, but the name is wrong
    const ctx2 = makeCtx({ transport: 'tls', port: l.port, tls: { ca_file: server.cert, server_name: 'other.test' } });
    await sink.close();
    sink = syslogLogger.open(ctx2);
    sink.log(entry({ message: 'never' }));
    await until('the name warning', () => ctx2.logged.some(([lv]) => lv === 'warn'));
    expect(ctx2.logged[0]![1]).toMatch(/^syslog test: cannot connect to 127\.0\.0\.1:\d+: Hostname\/IP does not match certificate's altnames: Host: other\.test/);
    expect(l.messages).toEqual([]);
  });

  it('mutual TLS: the listener requires a client certificate and gets cert_file / key_file; verify: false still encrypts', async () => {
    const l = await tlsListener(server, client.cert);
    cleanup.push(closeListener(l));
    sink = syslogLogger.open(makeCtx({ transport: 'tls', port: l.port, tls: { ca_file: server.cert, cert_file: client.cert, key_file: client.key } }));
    sink.log(entry({ message: 'with a client certificate' }));
    await until('the message', () => l.messages.length === 1);
    expect(l.clients).toEqual(['orgloop-client']);
    await sink.close();

    const open = await tlsListener(server);
    cleanup.push(closeListener(open));
    sink = syslogLogger.open(makeCtx({ transport: 'tls', port: open.port, framing: 'lf', tls: { verify: false } }));
    sink.log(entry({ message: 'unverified' }));
    // framing: lf is honoured over TLS too: this listener (octet counting only) refuses the frame
    await until('the frame', () => open.badFrames.length === 1);
    expect(open.badFrames[0]).toMatch(/ unverified\n$/);
  });

  it('doctor: the handshake verifies or names why not; validate names unreadable files and misplaced settings', async () => {
    const l = await tlsListener(server);
    cleanup.push(closeListener(l));
    expect(await syslogLogger.check!(makeCtx({ transport: 'tls', port: l.port, tls: { ca_file: server.cert } }))).toEqual({ ok: true, detail: `tls 127.0.0.1:${l.port} accepts connections (certificate verified)` });
    expect(await syslogLogger.check!(makeCtx({ transport: 'tls', port: l.port }))).toEqual({ ok: false, detail: `127.0.0.1:${l.port}: self-signed certificate` });
    expect(await syslogLogger.check!(makeCtx({ transport: 'tls', port: l.port, tls: { ca_file: join(dir, 'missing.pem') } }))).toEqual({ ok: false, detail: `syslog tls.ca_file: cannot read ${join(dir, 'missing.pem')} (ENOENT)` });

    expect(syslogLogger.validate!({ transport: 'tls', tls: { ca_file: 'missing.pem', cert_file: client.cert } }, { projectDir: dir, env: () => undefined })).toEqual([
      { path: 'tls.cert_file', message: 'a client certificate needs both tls.cert_file and tls.key_file' },
      { path: 'tls.ca_file', message: `cannot read ${join(dir, 'missing.pem')} (ENOENT)` },
    ]);
    expect(syslogLogger.validate!({ transport: 'tcp', tls: { verify: false } })).toEqual([{ path: 'tls', message: "tls settings apply to transport: tls (this logger's transport is tcp)" }]);
    expect(syslogLogger.validate!({ framing: 'octet-counting' })).toEqual([{ path: 'framing', message: 'framing applies to stream transports (tcp, tls, unix): over UDP each datagram is one message (RFC 5426)' }]);
    expect(syslogLogger.validate!({ protocol: 'tls', tls: { verify: false } })).toEqual([{ path: 'tls.verify', message: 'tls.verify: false accepts any certificate: messages are encrypted but may go to an impostor', severity: 'warning' }]);
    writeFileSync(join(dir, 'ca.pem'), '');
    expect(syslogLogger.validate!({ transport: 'tls', tls: { ca_file: 'ca.pem' } }, { projectDir: dir, env: () => undefined })).toEqual([]);
  });
});
