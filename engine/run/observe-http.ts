// The executor's observability endpoints beside ingress: GET /metrics (Prometheus text) and
// GET /ready (the store answers and a graph is loaded). /healthz stays in ingress: it says the
// process is alive; /ready says it can do its work, for load balancers and orchestrators.

import type http from 'node:http';
import type { StateReader } from '../../state/store.js';
import type { ExecutorMetrics } from './metrics.js';
import { sendJson } from './json-response.js';

export interface ObserveDeps {
  /** read for the health check */
  store: Pick<StateReader, 'meta'>;
  metrics: ExecutorMetrics;
  /** the loaded graph's serial, or null before one is loaded */
  serial(): number | null;
  draining(): boolean;
  /** how long /ready waits for the store (default 2000 ms) */
  readyTimeoutMs?: number;
}


function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
    t.unref();
    p.then(
      (v) => (clearTimeout(t), resolve(v)),
      (e) => (clearTimeout(t), reject(e as Error)),
    );
  });
}

export class ObserveRoutes {
  constructor(private readonly d: ObserveDeps) {}

  /** Takes GET /metrics and GET /ready; false for any other path. */
  take(req: http.IncomingMessage, res: http.ServerResponse, path: string): boolean {
    if (path !== '/metrics' && path !== '/ready') return false;
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      sendJson(res, 405, { error: `use GET ${path}` });
      req.resume();
      return true;
    }
    const answer = path === '/metrics' ? this.metrics(res) : this.ready(res);
    answer.catch((err) => {
      if (!res.headersSent) sendJson(res, 500, { error: `internal error: ${(err as Error).message}` });
      else res.destroy();
    });
    return true;
  }

  private async metrics(res: http.ServerResponse): Promise<void> {
    const { contentType, body } = await this.d.metrics.render();
    res.writeHead(200, { 'content-type': contentType, 'content-length': Buffer.byteLength(body), 'cache-control': 'no-store' });
    res.end(body);
  }

  private async ready(res: http.ServerResponse): Promise<void> {
    const serial = this.d.serial();
    const checks: Record<string, string> = {};
    checks.graph = serial === null ? 'not loaded' : 'ok';
    try {
      await withTimeout(this.d.store.meta(), this.d.readyTimeoutMs ?? 2000);
      checks.store = 'ok';
    } catch (err) {
      checks.store = `unreachable: ${(err as Error).message}`;
    }
    if (this.d.draining()) checks.executor = 'shutting down';
    const ok = Object.values(checks).every((v) => v === 'ok');
    sendJson(res, ok ? 200 : 503, { ready: ok, serial, checks });
  }
}
