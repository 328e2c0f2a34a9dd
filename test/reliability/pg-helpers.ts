// Postgres for reliability tests: a schema of the test's own in the shared test database, a way
// to end exactly one executor's connections (its pool names itself orgloop:pid-<pid>, its LISTEN
// session orgloop:<executor id>), and a TCP proxy in front of the server that can be stopped and
// started on the same port to make Postgres unreachable and back, as a restart or a network cut
// would; and, where this machine runs the server and the tests run as root, the real cluster to
// restart.

import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import pg from 'pg';

export const PG_URL = process.env.ORGLOOP_TEST_PG_URL;

export interface TestSchema {
  name: string;
  /** the store's URL (ORGLOOP_STATE), maybe through a proxy */
  stateUrl(via?: { host?: string; port: number }): string;
  /** ends every connection of the executor process `pid` (pool and LISTEN session), as an operator or a failover would */
  terminate(pid: number): Promise<number>;
  query<T = Record<string, unknown>>(text: string, args?: unknown[]): Promise<T[]>;
  drop(): Promise<void>;
}

export async function createTestSchema(prefix: string): Promise<TestSchema> {
  const name = `${prefix}_${process.pid}_${randomBytes(3).toString('hex')}`;
  // one client, opened again when the server ended it (a restart test restarts the server)
  let open: Promise<pg.Client> | null = null;
  const client = (): Promise<pg.Client> => {
    if (open) return open;
    const c = new pg.Client({ connectionString: PG_URL, options: `-c search_path=${name}` });
    const opening = c.connect().then(() => c);
    const forget = () => {
      if (open === opening) open = null;
    };
    c.on('error', forget);
    opening.catch(forget);
    return (open = opening);
  };
  const query = async <T>(text: string, args: unknown[] = []) => (await (await client()).query(text, args)).rows as T[];
  await client();
  return {
    name,
    stateUrl: (via) => {
      const u = new URL(PG_URL!);
      if (via) {
        u.hostname = via.host ?? '127.0.0.1';
        u.port = String(via.port);
      }
      u.searchParams.set('schema', name);
      return u.toString();
    },
    terminate: async (pid) => {
      const [ex] = await query<{ id: string }>('SELECT id FROM executors WHERE pid = $1', [pid]);
      const r = await query(
        `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
         WHERE datname = current_database() AND application_name IN ($1, $2)`,
        [`orgloop:pid-${pid}`, `orgloop:${ex?.id ?? '-'}`],
      );
      return r.length;
    },
    query,
    drop: async () => {
      await query(`DROP SCHEMA IF EXISTS "${name}" CASCADE`).catch(() => {});
      const c = await open?.catch(() => null);
      open = null;
      await c?.end().catch(() => {});
    },
  };
}

export interface TcpProxy {
  port: number;
  /** refuses new connections and cuts the open ones */
  stop(): Promise<void>;
  /** listens again on the same port */
  start(): Promise<void>;
  close(): Promise<void>;
}

/** A TCP proxy on `host` (ephemeral port, kept across stop/start) to `target`. */
export async function startTcpProxy(target: { host: string; port: number }, host = '127.0.0.1'): Promise<TcpProxy> {
  const sockets = new Set<net.Socket>();
  let server: net.Server | null = null;
  let port = 0;
  const listen = () =>
    new Promise<void>((resolve, reject) => {
      const s = net.createServer((client) => {
        const upstream = net.connect(target.port, target.host);
        sockets.add(client).add(upstream);
        const drop = () => {
          client.destroy();
          upstream.destroy();
          sockets.delete(client);
          sockets.delete(upstream);
        };
        client.on('error', drop).on('close', drop);
        upstream.on('error', drop).on('close', drop);
        client.pipe(upstream);
        upstream.pipe(client);
      });
      s.once('error', reject);
      s.listen(port, host, () => {
        port = (s.address() as net.AddressInfo).port;
        server = s;
        resolve();
      });
    });
  const stop = async () => {
    const s = server;
    server = null;
    for (const sock of sockets) sock.destroy();
    sockets.clear();
    if (s) await new Promise<void>((r) => s.close(() => r()));
  };
  await listen();
  return { port, stop, start: listen, close: stop };
}

/**
 * The Debian cluster (pg_lsclusters) serving PG_URL, when it runs on this machine and the tests
 * may restart it (root); null otherwise, and the restart test is skipped.
 */
export function localCluster(): { version: string; name: string } | null {
  if (!PG_URL || process.getuid?.() !== 0) return null;
  const u = new URL(PG_URL);
  if (!['127.0.0.1', 'localhost', '::1', '[::1]'].includes(u.hostname)) return null;
  let listed: string;
  try {
    listed = execFileSync('pg_lsclusters', ['-h'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  } catch {
    return null;
  }
  for (const line of listed.split('\n')) {
    const [version, name, port, status] = line.trim().split(/\s+/);
    if (version && name && port === (u.port || '5432') && status === 'online') return { version, name };
  }
  return null;
}

/** Restarts the cluster the way an operator does (fast shutdown: sessions are ended), waiting until it accepts connections again. */
export function restartCluster(c: { version: string; name: string }): void {
  execFileSync('pg_ctlcluster', [c.version, c.name, 'restart', '-m', 'fast'], { stdio: 'ignore' });
}
