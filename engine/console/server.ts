// HTTP side of the console: the single-page app's files under /console and its JSON API under
// /api, on the executor's address (beside ingress) or on `orgloop console`'s own server.
// Every request passes the guard; bodies are small JSON, read with a cap.

import { existsSync, readFileSync } from 'node:fs';
import type http from 'node:http';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConsoleApi, type ApiDeps } from './api.js';
import { Guard, type GuardOptions } from './guard.js';

const MAX_BODY = 1024 * 1024;
/** a saved plan can be large (its snapshot and prompts): its own cap */
const MAX_PLAN = 16 * 1024 * 1024;

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
};

/** dist/console, from dist/engine/console (built) or engine/console (tests run the sources). */
function assetsDir(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  for (const dir of [join(here, '../../console'), join(here, '../../dist/console')]) {
    if (existsSync(join(dir, 'index.html'))) return dir;
  }
  return join(here, '../../console');
}

const SECURITY_HEADERS = {
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'content-security-policy': "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'",
  'cache-control': 'no-store',
};

function send(res: http.ServerResponse, status: number, body: unknown): void {
  if (res.headersSent) return;
  const text = JSON.stringify(body);
  res.writeHead(status, { ...SECURITY_HEADERS, 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function readBody(req: http.IncomingMessage, max: number): Promise<string | null> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > max) {
        resolve(null);
        req.resume();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(size > max ? null : Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

export interface ConsoleOptions extends ApiDeps, GuardOptions {}

export class ConsoleRoutes {
  private readonly api: ConsoleApi;
  readonly guard: Guard;
  private readonly assets = new Map<string, Buffer>();
  private readonly dir = assetsDir();

  constructor(o: ConsoleOptions) {
    this.api = new ConsoleApi(o);
    this.guard = new Guard(o);
  }

  /** Takes /console... and /api/...; false for any other path. */
  take(req: http.IncomingMessage, res: http.ServerResponse, path: string): boolean {
    const isConsole = path === '/console' || path.startsWith('/console/');
    if (!isConsole && !path.startsWith('/api/')) return false;
    this.handle(req, res, path, isConsole).catch((err) => send(res, 500, { error: `internal error: ${(err as Error).message}` }));
    return true;
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse, path: string, isConsole: boolean): Promise<void> {
    const refused = this.guard.request(req);
    if (refused) {
      req.resume();
      return send(res, refused.status, { error: refused.error });
    }
    if (isConsole) {
      if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, { error: 'use GET' });
      return this.asset(res, path === '/console' ? 'index.html' : path.slice('/console/'.length));
    }
    const url = new URL(req.url ?? '/', 'http://console');
    const apiPath = path.slice('/api/'.length);
    if (req.method === 'GET' || req.method === 'HEAD') {
      if (apiPath === 'session') return send(res, 200, { read_only: this.guard.readOnly, authorized: this.guard.authorized(req) });
      const a = await this.api.get(apiPath, url.searchParams);
      return send(res, a.status, a.body);
    }
    if (req.method !== 'POST') return send(res, 405, { error: 'use GET, or POST for actions' });
    const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
    if (apiPath === 'plan/topology') {
      // reads only: drawing a plan someone saved needs no token, but it is still JSON only
      if (type !== 'application/json') return send(res, 415, { error: 'send the plan file as application/json' });
      const text = await readBody(req, MAX_PLAN);
      if (text === null) return send(res, 413, { error: `a plan file over ${MAX_PLAN} bytes` });
      const a = this.api.planTopology(text);
      return send(res, a.status, a.body);
    }
    const denied = this.guard.action(req);
    if (denied) {
      req.resume();
      return send(res, denied.status, { error: denied.error });
    }
    const text = await readBody(req, MAX_BODY);
    if (text === null) return send(res, 413, { error: `body over ${MAX_BODY} bytes` });
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      return send(res, 400, { error: 'invalid JSON' });
    }
    const a = await this.api.post(apiPath, body);
    send(res, a.status, a.body);
  }

  private asset(res: http.ServerResponse, name: string): void {
    // the app is one page: unknown names (client-side routes) get index.html, never a file outside the directory
    const file = /^[a-z0-9-]+\.(html|js|css|svg)$/.test(name) ? name : 'index.html';
    let data = this.assets.get(file);
    if (!data) {
      try {
        data = readFileSync(join(this.dir, file));
      } catch {
        if (file !== 'index.html') return this.asset(res, 'index.html');
        return send(res, 503, { error: 'the console was not built (npm run build)' });
      }
      this.assets.set(file, data);
    }
    res.writeHead(200, { ...SECURITY_HEADERS, 'content-type': TYPES[file.slice(file.lastIndexOf('.'))] ?? 'application/octet-stream', 'content-length': data.length, 'cache-control': 'no-cache' });
    res.end(data);
  }
}
