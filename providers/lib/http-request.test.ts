import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { RequestTimeoutError, keepAliveAgents, requestErrorText, sendRequest } from './http-request.js';

let server: Server | undefined;
afterEach(async () => {
  server?.closeAllConnections();
  await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
  server = undefined;
});

async function listen(handler: Parameters<typeof createServer>[1]): Promise<string> {
  server = createServer(handler);
  await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

describe('sendRequest', () => {
  it('reuses one keep-alive connection for sequential requests and returns status, headers and body', async () => {
    const ports = new Set<number>();
    const url = await listen((req, res) => {
      ports.add(req.socket.remotePort!);
      res.writeHead(200, { etag: 'W/"1"', 'content-type': 'application/json' }).end(JSON.stringify({ path: req.url, auth: req.headers.authorization }));
    });
    const agents = keepAliveAgents(4);
    for (let i = 0; i < 5; i++) {
      const res = await sendRequest(new URL(`${url}/x?i=${i}`), 'GET', { authorization: 'Bearer t' }, undefined, undefined, { agents });
      expect(res.status).toBe(200);
      expect(res.headers.etag).toBe('W/"1"');
      expect(JSON.parse(res.text)).toEqual({ path: `/x?i=${i}`, auth: 'Bearer t' });
    }
    expect(ports.size).toBe(1);
    agents.http.destroy();
  });

  it('keeps at most maxBodyBytes of the body but reads it all, so the connection is reused', async () => {
    const ports = new Set<number>();
    const url = await listen((req, res) => {
      ports.add(req.socket.remotePort!);
      res.end('a'.repeat(100_000));
    });
    const agents = keepAliveAgents(1);
    const first = await sendRequest(new URL(url), 'POST', {}, '{"x":1}', undefined, { agents, maxBodyBytes: 1024 });
    expect(first.text.length).toBeGreaterThanOrEqual(1024);
    expect(first.text.length).toBeLessThan(100_000);
    const whole = await sendRequest(new URL(url), 'GET', {}, undefined, undefined, { agents });
    expect(whole.text.length).toBe(100_000);
    expect(ports.size).toBe(1);
    agents.http.destroy();
  });

  it('times out while waiting for headers and while the body trickles', async () => {
    const url = await listen((req, res) => {
      if (req.url === '/body') {
        res.writeHead(200);
        res.write('partial');
      } // else: never answer
    });
    await expect(sendRequest(new URL(`${url}/headers`), 'GET', {}, undefined, undefined, { timeoutMs: 100 })).rejects.toBeInstanceOf(RequestTimeoutError);
    const err = await sendRequest(new URL(`${url}/body`), 'GET', {}, undefined, undefined, { timeoutMs: 100 }).catch((e: Error) => e);
    expect(err).toBeInstanceOf(Error);
    expect(err).toBeInstanceOf(RequestTimeoutError);
  });

  it('rejects when the caller aborts, and names a refused connection', async () => {
    const url = await listen(() => {});
    const ac = new AbortController();
    const p = sendRequest(new URL(url), 'GET', {}, undefined, ac.signal);
    ac.abort();
    await expect(p).rejects.toThrow(/abort/i);
    const refused = await sendRequest(new URL('http://127.0.0.1:1/'), 'GET', {}, undefined, undefined).catch((e: unknown) => e);
    expect(requestErrorText(refused)).toMatch(/ECONNREFUSED/);
  });

  it('one long-lived signal: many requests by URL string, then an abort fails only those still in flight', async () => {
    const held: Array<() => void> = [];
    const url = await listen((req, res) => {
      if (req.url === '/hold') held.push(() => res.writeHead(200).end('late'));
      else res.writeHead(200).end(req.url);
    });
    const ac = new AbortController();
    const agents = keepAliveAgents(8);
    for (let i = 0; i < 50; i++) expect((await sendRequest(`${url}/same?q=1`, 'GET', {}, undefined, ac.signal, { agents })).text).toBe('/same?q=1');
    const pending = [sendRequest(`${url}/hold`, 'GET', {}, undefined, ac.signal, { agents }), sendRequest(`${url}/hold`, 'GET', {}, undefined, ac.signal, { agents })];
    while (held.length < 2) await new Promise((r) => setTimeout(r, 5));
    ac.abort();
    for (const p of pending) await expect(p).rejects.toThrow('aborted');
    // an already aborted signal sends nothing
    await expect(sendRequest(`${url}/same?q=1`, 'GET', {}, undefined, ac.signal, { agents })).rejects.toThrow('aborted');
    held.forEach((f) => f());
  });
});
