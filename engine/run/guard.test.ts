// The checks every state-changing endpoint but webhooks shares (hole 1 and 16 of issue 17).
import { describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { AllowedHosts, CallbackTokens, bearerToken, checkStateChange, hostName, isLoopbackBind } from './guard.js';

const json = { 'content-type': 'application/json' };

describe('Host names (DNS rebinding)', () => {
  const hosts = new AllowedHosts(['https://hooks.example.com/webhook/gh', 'agents.internal']);

  it('allows loopback names, IP literals, configured public URL hosts and extra names', () => {
    for (const h of ['localhost:4800', '127.0.0.1:4800', '[::1]:4800', 'LOCALHOST', 'app.localhost', '10.1.2.3', '[fe80::1]', 'hooks.example.com', 'agents.internal:80']) {
      expect([h, hosts.allows(h)]).toEqual([h, true]);
    }
  });

  it('refuses other names, missing and malformed Host headers', () => {
    for (const h of [undefined, '', 'evil.example', 'localhost.evil.example', 'hooks.example.com.evil.example', 'a b', '[::1', 'x:99999999']) {
      expect([h, hosts.allows(h)]).toEqual([h, false]);
    }
  });

  it('parses the name out of a Host header', () => {
    expect(hostName('Example.COM:8080')).toBe('example.com');
    expect(hostName('[::1]:4800')).toBe('::1');
    expect(hostName('example.com.')).toBe('example.com');
    expect(hostName('[::1]junk')).toBeNull();
  });

  it('knows loopback binds from wider ones', () => {
    expect(['127.0.0.1', 'localhost', '::1', '[::1]', '127.1.2.3'].every(isLoopbackBind)).toBe(true);
    expect(['0.0.0.0', '::', '192.168.1.5', 'example.com'].some(isLoopbackBind)).toBe(false);
  });
});

describe('checkStateChange', () => {
  const hosts = new AllowedHosts();
  it('passes a JSON request from a program to a local name', () => {
    expect(checkStateChange({ headers: { host: '127.0.0.1:4800', ...json } }, hosts)).toEqual({ ok: true });
    expect(checkStateChange({ headers: { host: 'localhost', 'content-type': 'application/vnd.orgloop+json; charset=utf-8' } }, hosts)).toEqual({ ok: true });
  });

  it('refuses foreign Host (421), web pages (403) and non-JSON bodies (415)', () => {
    expect(checkStateChange({ headers: { host: 'evil.example', ...json } }, hosts)).toMatchObject({ ok: false, status: 421 });
    expect(checkStateChange({ headers: { host: 'localhost', origin: 'null', ...json } }, hosts)).toMatchObject({ ok: false, status: 403 });
    expect(checkStateChange({ headers: { host: 'localhost', 'sec-fetch-site': 'same-site', ...json } }, hosts)).toMatchObject({ ok: false, status: 403 });
    expect(checkStateChange({ headers: { host: 'localhost', 'sec-fetch-site': 'none', ...json } }, hosts)).toEqual({ ok: true });
    for (const ct of [undefined, 'text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x']) {
      expect(checkStateChange({ headers: { host: 'localhost', 'content-type': ct } }, hosts)).toMatchObject({ ok: false, status: 415 });
    }
  });

  it('reads the bearer token from Authorization or X-Orgloop-Token', () => {
    expect(bearerToken({ headers: { authorization: 'Bearer abc' } })).toBe('abc');
    expect(bearerToken({ headers: { authorization: 'bearer  abc ' } })).toBe('abc');
    expect(bearerToken({ headers: { 'x-orgloop-token': 'xyz' } })).toBe('xyz');
    expect(bearerToken({ headers: { authorization: 'Basic abc' } })).toBeUndefined();
  });
});

describe('CallbackTokens', () => {
  const key = randomBytes(32);
  const tokens = new CallbackTokens(key);

  it('a token proves one delivery of one actor', () => {
    const t = tokens.token('agent', 'dlv_1');
    expect(tokens.verify(t, 'agent', 'dlv_1')).toBe(true);
    expect(tokens.verify(t, 'agent', 'dlv_2')).toBe(false);
    expect(tokens.verify(t, 'other', 'dlv_1')).toBe(false);
    // the separator keeps (ab, c) and (a, bc) apart
    expect(new CallbackTokens(key).verify(tokens.token('ab', 'c'), 'a', 'bc')).toBe(false);
  });

  it('executors sharing the key accept each other’s tokens; another key cannot mint them', () => {
    const t = tokens.token('agent', 'dlv_1');
    expect(new CallbackTokens(Buffer.from(key)).verify(t, 'agent', 'dlv_1')).toBe(true);
    expect(new CallbackTokens(randomBytes(32)).verify(t, 'agent', 'dlv_1')).toBe(false);
  });

  it('refuses malformed and truncated tokens', () => {
    const t = tokens.token('agent', 'dlv_1');
    for (const bad of [undefined, '', 'olcb_', t.slice(0, -2), t.replace('olcb_', 'xxxx_'), `${t}AA`]) expect(tokens.verify(bad, 'agent', 'dlv_1')).toBe(false);
  });
});
