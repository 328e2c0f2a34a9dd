// A fake Docker Engine API on a unix socket in a temp dir (API v1.43 paths): GET /version,
// GET /events with since/until (unix seconds with nanoseconds) and JSON `filters` (type,
// container, label, event) returning newline-delimited JSON and ending at `until`, GET
// /containers/json (all, label filter), POST /containers/create (201, 404 "No such image", 409
// name conflict), POST /containers/{id|name}/start|stop|restart (204, 304 when already so, 404
// "No such container"). Lifecycle calls append the events the real engine would.

import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface FakeContainer {
  Id: string;
  Name: string;
  Image: string;
  Cmd?: string[];
  Env?: string[];
  Labels: Record<string, string>;
  running: boolean;
}

export interface FakeDocker {
  socket: string;
  images: Set<string>;
  containers: FakeContainer[];
  events: any[];
  emit(c: FakeContainer, action: string, extra?: Record<string, string>): void;
  addContainer(name: string, image: string, running?: boolean): FakeContainer;
  close(): Promise<void>;
}

export async function startFakeDocker(): Promise<FakeDocker> {
  const dir = mkdtempSync(join(tmpdir(), 'fake-docker-'));
  const socket = join(dir, 'docker.sock');
  let lastNs = BigInt(Date.now()) * 1_000_000n;
  const fake = {
    socket,
    images: new Set(['alpine:3.20', 'acme/worker:1']),
    containers: [] as FakeContainer[],
    events: [] as any[],
    emit(c: FakeContainer, action: string, extra: Record<string, string> = {}) {
      let ns = BigInt(Date.now()) * 1_000_000n;
      if (ns <= lastNs) ns = lastNs + 1n;
      lastNs = ns;
      fake.events.push({ Type: 'container', Action: action, status: action, id: c.Id, from: c.Image, Actor: { ID: c.Id, Attributes: { name: c.Name, image: c.Image, ...c.Labels, ...extra } }, scope: 'local', time: Number(ns / 1_000_000_000n), timeNano: Number(ns) });
    },
    addContainer(name: string, image: string, running = false) {
      const c: FakeContainer = { Id: randomBytes(32).toString('hex'), Name: name, Image: image, Labels: {}, running };
      fake.containers.push(c);
      return c;
    },
  };
  const find = (ref: string) => fake.containers.find((c) => c.Id === ref || c.Id.startsWith(ref) || c.Name === ref);
  const toNs = (v: string | null, dflt: bigint) => {
    if (!v) return dflt;
    const [s, f = '0'] = v.split('.');
    return BigInt(s!) * 1_000_000_000n + BigInt(f.padEnd(9, '0').slice(0, 9));
  };

  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const u = new URL(req.url ?? '/', 'http://docker');
    const path = u.pathname.replace(/^\/v1\.\d+/, '');
    const json = (status: number, body?: unknown) => {
      res.writeHead(status, body === undefined ? {} : { 'content-type': 'application/json' });
      res.end(body === undefined ? undefined : JSON.stringify(body));
    };
    if (req.method === 'GET' && path === '/version') return json(200, { Version: '27.0.3', ApiVersion: '1.46', MinAPIVersion: '1.24', Os: 'linux' });
    if (req.method === 'GET' && path === '/events') {
      const since = toNs(u.searchParams.get('since'), 0n);
      const until = toNs(u.searchParams.get('until'), BigInt(Date.now()) * 1_000_000n);
      const f = JSON.parse(u.searchParams.get('filters') ?? '{}') as Record<string, string[]>;
      const out = fake.events.filter((e) => {
        const t = BigInt(e.timeNano);
        if (t < since || t > until) return false;
        if (f.type && !f.type.includes(e.Type)) return false;
        if (f.container && !f.container.some((x) => x === e.Actor.ID || x === e.Actor.Attributes.name)) return false;
        if (f.event && !f.event.some((x) => e.Action === x || e.Action.startsWith(`${x}:`))) return false;
        if (f.label && !f.label.every((l) => { const [k, v] = l.split('='); return k! in e.Actor.Attributes && (v === undefined || e.Actor.Attributes[k!] === v); })) return false;
        return true;
      });
      res.writeHead(200, { 'content-type': 'application/json' });
      return res.end(out.map((e) => JSON.stringify(e) + '\n').join(''));
    }
    if (req.method === 'GET' && path === '/containers/json') {
      const f = JSON.parse(u.searchParams.get('filters') ?? '{}') as Record<string, string[]>;
      const all = u.searchParams.get('all') === 'true';
      return json(200, fake.containers.filter((c) => (all || c.running) && (f.label ?? []).every((l) => { const [k, v] = l.split('='); return c.Labels[k!] === v; })).map((c) => ({ Id: c.Id, Names: [`/${c.Name}`], Image: c.Image, Labels: c.Labels, State: c.running ? 'running' : 'exited' })));
    }
    if (req.method === 'POST' && path === '/containers/create') {
      const body = JSON.parse(Buffer.concat(chunks).toString() || '{}');
      if (!fake.images.has(body.Image)) return json(404, { message: `No such image: ${body.Image}` });
      const name = u.searchParams.get('name') ?? `fake_${fake.containers.length}`;
      if (find(name)) return json(409, { message: `Conflict. The container name "/${name}" is already in use` });
      const c = fake.addContainer(name, body.Image);
      Object.assign(c, { Cmd: body.Cmd, Env: body.Env, Labels: body.Labels ?? {} });
      fake.emit(c, 'create');
      return json(201, { Id: c.Id, Warnings: [] });
    }
    const m = /^\/containers\/([^/]+)\/(start|stop|restart)$/.exec(path);
    if (req.method === 'POST' && m) {
      const c = find(decodeURIComponent(m[1]!));
      if (!c) return json(404, { message: `No such container: ${decodeURIComponent(m[1]!)}` });
      if (m[2] === 'start') {
        if (c.running) return json(304);
        c.running = true;
        fake.emit(c, 'start');
      } else if (m[2] === 'stop') {
        if (!c.running) return json(304);
        c.running = false;
        fake.emit(c, 'kill', { signal: '15' });
        fake.emit(c, 'die', { exitCode: '0' });
        fake.emit(c, 'stop');
      } else {
        c.running = true;
        fake.emit(c, 'restart');
      }
      return json(204);
    }
    return json(404, { message: 'page not found' });
  });
  await new Promise<void>((r) => server.listen(socket, r));
  return Object.assign(fake, {
    close: () =>
      new Promise<void>((r) =>
        server.close(() => {
          rmSync(dir, { recursive: true, force: true });
          r();
        }),
      ),
  }) as FakeDocker;
}
