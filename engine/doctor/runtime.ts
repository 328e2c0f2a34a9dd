// `orgloop doctor` beyond the providers: the state store, the executor and its port. What a user
// needs to know before `start`: is there an applied version, does the YAML match it, is an
// executor running it, and can one listen where it is configured to.

import http from 'node:http';
import net from 'node:net';
import type { Store } from '../../state/store.js';
import type { Unapplied } from '../plan/unapplied.js';
import { EXECUTOR_STALE_MS } from '../run/inspect.js';
import type { DoctorRow } from './doctor.js';

export interface RuntimeInput {
  store: Store;
  /** the state file that does not exist yet, if so */
  missing: string | null;
  configFile: string;
  /** whether the YAML differs from the applied version (engine/plan/unapplied.ts) */
  unapplied: () => Promise<Unapplied | null>;
  host: string;
  port: number;
  /** `start --daemon`'s record, when its process is alive */
  daemon: { pid: number; url?: string } | null;
  timeoutMs: number;
  now?: number;
}

const row = (address: string, provider: string, status: DoctorRow['status'], detail: string): DoctorRow => ({ address, provider, status, detail });

export async function runtimeChecks(i: RuntimeInput): Promise<DoctorRow[]> {
  const rows: DoctorRow[] = [];
  const now = i.now ?? Date.now();
  let serial = 0;
  if (i.missing) {
    rows.push(row('state', 'state', 'warn', `no applied state at ${i.missing}: \`orgloop apply\` creates it`));
  } else {
    try {
      serial = (await i.store.meta()).serial;
      if (serial === 0) rows.push(row('state', i.store.kind, 'warn', `${i.store.location} opens, but nothing is applied yet: run \`orgloop apply\``));
      else {
        const u = await i.unapplied().catch((err: Error) => ({ error: err.message }));
        if (u && 'error' in u) rows.push(row('state', i.store.kind, 'ok', `${i.store.location}: version ${serial} applied (could not compare the YAML: ${u.error})`));
        else if (u?.kind === 'changes')
          rows.push(row('state', i.store.kind, 'warn', `version ${serial} applied; ${i.configFile} differs from it (${u.summary.add} to add, ${u.summary.change} to change, ${u.summary.destroy} to destroy): \`orgloop plan\`, then \`orgloop apply\``));
        else if (u?.kind === 'invalid') rows.push(row('state', i.store.kind, 'warn', `version ${serial} applied; ${i.configFile} does not load (\`orgloop validate\`)`));
        else rows.push(row('state', i.store.kind, 'ok', `${i.store.location}: version ${serial} applied, the same as ${i.configFile}`));
      }
    } catch (err) {
      rows.push(row('state', i.store.kind, 'fail', `${i.store.location} cannot be read: ${(err as Error).message}`));
    }
  }

  const executors = i.missing ? [] : await i.store.executors().catch(() => []);
  const alive = executors.filter((e) => now - Date.parse(e.heartbeat_at) < EXECUTOR_STALE_MS);
  if (alive.length === 0) {
    rows.push(row('executor', 'executor', 'warn', 'none running: `orgloop start` (foreground), `orgloop start --daemon` or `orgloop service install`'));
  } else {
    for (const e of alive) {
      const behind = serial > 0 && e.serial_loaded !== serial;
      rows.push(
        row(
          `executor.${e.id}`,
          'executor',
          behind ? 'warn' : 'ok',
          `pid ${e.pid} on ${e.host}, heartbeat ${Math.round((now - Date.parse(e.heartbeat_at)) / 1000)}s ago, running version ${e.serial_loaded}${behind ? ` (applied: ${serial}; it swaps within seconds unless the new version fails to build: see its log)` : ''}`,
        ),
      );
    }
  }

  rows.push(await portCheck(i, alive.length > 0));
  return rows;
}

/** Free, or held by this project's executor (its /healthz answers); anything else blocks `start`. */
async function portCheck(i: RuntimeInput, executorAlive: boolean): Promise<DoctorRow> {
  const where = `${i.host}:${i.port}`;
  if (i.port === 0) return row('port', 'port', 'skip', 'port 0: the executor takes any free port');
  const free = await canListen(i.host, i.port);
  if (free === true) return row('port', 'port', executorAlive ? 'warn' : 'ok', executorAlive ? `${where} is free, but an executor is running: it listens elsewhere (another --port?)` : `${where} is free for \`orgloop start\``);
  if (free !== 'in-use') return row('port', 'port', 'fail', `cannot listen on ${where}: ${free}`);
  const url = i.daemon?.url ?? `http://${i.host.includes(':') ? `[${i.host}]` : i.host}:${i.port}`;
  const health = await healthz(url, i.timeoutMs);
  if (health?.project !== undefined) return row('port', 'port', 'ok', `${where} answers as orgloop (project ${health.project}, version ${health.serial})`);
  return row('port', 'port', 'fail', `${where} is in use by another program: \`orgloop start\` would fail (choose another with --port, ORGLOOP_PORT or defaults.port)`);
}

function canListen(host: string, port: number): Promise<true | 'in-use' | string> {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.once('error', (err: NodeJS.ErrnoException) => resolve(err.code === 'EADDRINUSE' ? 'in-use' : `${err.code ?? ''} ${err.message}`.trim()));
    s.listen({ host, port, exclusive: true }, () => s.close(() => resolve(true)));
  });
}

function healthz(url: string, timeoutMs: number): Promise<{ project?: string; serial?: number } | null> {
  return new Promise((resolve) => {
    const req = http.get(`${url}/healthz`, { timeout: Math.min(timeoutMs, 5000) }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c) => (body += c.length + body.length < 4096 ? c : ''));
      res.on('end', () => {
        try {
          resolve(JSON.parse(body));
        } catch {
          resolve(null);
        }
      });
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(null));
  });
}

/**
 * A provider check that ran out of time reads "The operation was aborted due to timeout" (fetch's
 * AbortSignal.timeout): say what it means instead.
 */
export function explainTimeout(r: DoctorRow, timeoutMs: number): DoctorRow {
  if (r.status !== 'fail' || !/aborted due to timeout|operation was aborted/i.test(r.detail)) return r;
  return { ...r, detail: `no answer in time (doctor allows each check ${Math.round(timeoutMs / 1000)}s, \`--timeout 1m\` waits longer): is the service reachable from here?` };
}
