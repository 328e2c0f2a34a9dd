// `orgloop console` against a store with no executor running: the page, the JSON API with
// keyset pages and filters, the trace of an event, and an action that needs the token.

import { afterEach, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import { join } from 'node:path';
import { newId } from '../engine/run/ids.js';
import { openStore } from '../state/open.js';
import { applyDirect, CLI, tempProject, webhookProject } from './test-helpers/executor.js';

const procs: ChildProcess[] = [];
afterEach(() => {
  for (const p of procs.splice(0)) p.kill('SIGTERM');
});

function startConsole(dir: string, args: string[]): Promise<string> {
  const p = spawn(process.execPath, [CLI, 'console', '--port', '0', ...args], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  procs.push(p);
  return new Promise((resolve, reject) => {
    let out = '';
    const t = setTimeout(() => reject(new Error(`no address from orgloop console:\n${out}`)), 15_000);
    const on = (c: Buffer) => {
      out += c.toString();
      const m = /console at (http:\/\/\S+)\/console/.exec(out);
      if (m) {
        clearTimeout(t);
        resolve(m[1]!);
      }
    };
    p.stdout!.on('data', on);
    p.stderr!.on('data', on);
    p.on('exit', (code) => reject(new Error(`orgloop console exited ${code}:\n${out}`)));
  });
}

/** fetch() cannot set Host: a plain request can. */
function statusWithHost(url: string, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    http.get({ host: u.hostname, port: u.port, path: u.pathname, headers: { host } }, (res) => {
      res.resume();
      resolve(res.statusCode!);
    }).on('error', reject);
  });
}

describe('orgloop console', () => {
  it('serves the app and its API from the store, read-only without a token', async () => {
    const dir = tempProject({
      'orgloop.yaml': webhookProject({ sources: ['a', 'b'], actor: 'x', command: 'true', route: 'ra' }),
    });
    await applyDirect(dir);
    const store = await openStore(join(dir, '.orgloop', 'state.db'));
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const id = newId('evt');
      ids.push(id);
      const source = i % 2 ? 'b' : 'a';
      const event = { id, type: 'resource.changed', source, time: new Date().toISOString(), provenance: {}, payload: { n: i, word: i === 4 ? 'needle' : 'hay' }, trace_id: id, hops: 0 };
      await store.ingest([
        {
          event: { id, source, type: event.type, dedupe_key: null, event_json: JSON.stringify(event), trace_id: id, parent_id: null, hops: 0, received_at: event.time },
          deliveries: source === 'a' ? [{ id: newId('dlv'), route: 'ra', actor: 'x', state_serial: 1 }] : [],
        },
      ]);
    }
    const [claimed] = await store.claim('w', 1, 60_000);
    await store.fail(claimed!.id, 'w', 'boom', 'dead');
    await store.close();

    const url = await startConsole(dir, []);
    const page = await fetch(`${url}/console`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toContain("default-src 'self'");
    expect(await page.text()).toContain('<script type="module" src="/console/app.js">');
    expect((await fetch(`${url}/console/app.js`)).headers.get('content-type')).toMatch(/javascript/);

    const overview = (await (await fetch(`${url}/api/overview`)).json()) as { serial: number; topology: { nodes: unknown[] }; backlog: Array<{ status: string; count: number }> };
    expect(overview.serial).toBe(1);
    expect(overview.topology.nodes).toHaveLength(4);
    expect(overview.backlog.find((r) => r.status === 'dead')?.count).toBe(1);

    // newest first (ids minted in the same millisecond order by their random part), two per page
    const newest = [...ids].sort().reverse();
    const p1 = (await (await fetch(`${url}/api/events?limit=2`)).json()) as { events: Array<{ id: string }>; next: string };
    expect(p1.events.map((e) => e.id)).toEqual(newest.slice(0, 2));
    const p2 = (await (await fetch(`${url}/api/events?limit=2&before=${p1.next}`)).json()) as { events: Array<{ id: string }>; next: string | null };
    expect(p2.events.map((e) => e.id)).toEqual(newest.slice(2, 4));
    const bySource = (await (await fetch(`${url}/api/events?source=a`)).json()) as { events: Array<{ id: string }> };
    expect(bySource.events.map((e) => e.id)).toEqual(newest.filter((id) => [ids[0], ids[2], ids[4]].includes(id)));
    const byText = (await (await fetch(`${url}/api/events?q=needle`)).json()) as { events: Array<{ id: string }> };
    expect(byText.events.map((e) => e.id)).toEqual([ids[4]]);
    const byStatus = (await (await fetch(`${url}/api/events?status=dead`)).json()) as { events: Array<{ id: string; deliveries: Array<{ status: string }> }> };
    expect(byStatus.events).toHaveLength(1);
    expect(byStatus.events[0]!.deliveries[0]!.status).toBe('dead');
    expect((await fetch(`${url}/api/events?status=bogus`)).status).toBe(400);

    const trace = (await (await fetch(`${url}/api/trace/${byStatus.events[0]!.id}`)).json()) as { events: unknown[]; deliveries: Array<{ last_error: string }> };
    expect(trace.events).toHaveLength(1);
    expect(trace.deliveries[0]!.last_error).toBe('boom');
    expect((await fetch(`${url}/api/trace/evt_nope`)).status).toBe(404);

    // read-only: actions are refused, and say how to enable them
    const refused = await fetch(`${url}/api/deliveries/retry`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"filter":{}}' });
    expect(refused.status).toBe(403);
    expect(((await refused.json()) as { error: string }).error).toContain('--token');
    expect((await fetch(`${url}/api/session`).then((r) => r.json()))).toEqual({ read_only: true, authorized: false });
  });

  it('with --token retries dead letters under the current version', async () => {
    const dir = tempProject({
      'orgloop.yaml': webhookProject({ sources: ['a'], actor: 'x', command: 'true', route: 'ra' }),
    });
    await applyDirect(dir);
    await applyDirect(dir); // version 2
    const store = await openStore(join(dir, '.orgloop', 'state.db'));
    const id = newId('evt');
    const dlv = newId('dlv');
    await store.ingest([{ event: { id, source: 'a', type: 't', dedupe_key: null, event_json: '{}', trace_id: id, parent_id: null, hops: 0, received_at: new Date().toISOString() }, deliveries: [{ id: dlv, route: 'ra', actor: 'x', state_serial: 1 }] }]);
    await store.claim('w', 1, 60_000);
    await store.fail(dlv, 'w', 'boom', 'dead');
    const url = await startConsole(dir, ['--token', 's3cret']);
    const post = (body: unknown, token?: string) =>
      fetch(`${url}/api/deliveries/retry`, { method: 'POST', headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) }, body: JSON.stringify(body) });
    expect((await post({ ids: [dlv] }, 'wrong')).status).toBe(401);
    expect(await statusWithHost(`${url}/api/overview`, 'attacker.example')).toBe(421); // DNS rebinding
    expect(await statusWithHost(`${url}/api/overview`, `localhost:${new URL(url).port}`)).toBe(200);
    const ok = await post({ ids: [dlv], version: 'current' }, 's3cret');
    expect(await ok.json()).toEqual({ retried: 1, skipped: 0, version: 'current', serial: 2 });
    const after = await store.delivery(dlv);
    expect(after).toMatchObject({ status: 'pending', attempts: 0, state_serial: 2 });
    expect(await (await post({ ids: [dlv] }, 's3cret')).json()).toMatchObject({ retried: 0, skipped: 1 });
    await store.close();
  });
});
