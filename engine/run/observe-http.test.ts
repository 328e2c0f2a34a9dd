// /ready answers 503 with the failing check when the store cannot be read or no graph is loaded.

import { afterEach, describe, expect, it } from 'vitest';
import http from 'node:http';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore } from '../../state/open.js';
import { ExecutorMetrics } from './metrics.js';
import { ObserveRoutes } from './observe-http.js';

const servers: http.Server[] = [];
afterEach(() => {
  for (const s of servers.splice(0)) s.close();
});

async function serve(routes: ObserveRoutes): Promise<string> {
  const server = http.createServer((req, res) => {
    if (!routes.take(req, res, req.url ?? '/')) res.writeHead(404).end();
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return `http://127.0.0.1:${(server.address() as { port: number }).port}`;
}

describe('GET /ready', () => {
  it('is 200 with a loaded graph and a readable store, 503 naming the check that fails', async () => {
    const store = await openStore(join(mkdtempSync(join(tmpdir(), 'orgloop-ready-')), 'state.db'));
    const metrics = new ExecutorMetrics({ known: () => false, pollingSources: () => [], serial: () => 0, inFlight: () => 0, queries: null });
    let serial: number | null = null;
    const url = await serve(new ObserveRoutes({ store, metrics, serial: () => serial, draining: () => false }));

    let res = await fetch(`${url}/ready`);
    expect(res.status).toBe(503);
    expect(await res.json()).toEqual({ ready: false, serial: null, checks: { graph: 'not loaded', store: 'ok' } });

    serial = 3;
    res = await fetch(`${url}/ready`);
    expect(res.status).toBe(200);

    await store.close();
    res = await fetch(`${url}/ready`);
    expect(res.status).toBe(503);
    const body = (await res.json()) as { checks: Record<string, string> };
    expect(body.checks.graph).toBe('ok');
    expect(body.checks.store).toMatch(/^unreachable: /);
  });
});
