// Postgres for reliability tests: a database of the test's own (so a fault aimed at "every
// connection to it" hits only the executors under test, never other tests sharing the server),
// and a TCP proxy in front of the server that can be stopped and started on the same port to
// make Postgres unreachable and back, as a restart or a network cut would.

import { randomBytes } from 'node:crypto';
import net from 'node:net';
import pg from 'pg';

export const PG_URL = process.env.ORGLOOP_TEST_PG_URL;

export interface TestDb {
  name: string;
  /** the database's URL with `?schema=` set, for ORGLOOP_STATE */
  stateUrl(schema?: string, via?: { port: number }): string;
  /** ends every connection to the database (the executors'), as an operator or failover would */
  terminateAll(): Promise<number>;
  query<T = Record<string, unknown>>(text: string, args?: unknown[]): Promise<T[]>;
  drop(): Promise<void>;
}

export async function createTestDb(prefix: string): Promise<TestDb> {
  const name = `${prefix}_${process.pid}_${randomBytes(3).toString('hex')}`;
  const admin = new pg.Client({ connectionString: PG_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  const base = new URL(PG_URL!);
  base.pathname = `/${name}`;
  const stateUrl = (schema = 'orgloop', via?: { port: number }) => {
    const u = new URL(base);
    if (via) {
      u.hostname = '127.0.0.1';
      u.port = String(via.port);
    }
    u.searchParams.set('schema', schema);
    return u.toString();
  };
  return {
    name,
    stateUrl,
    terminateAll: async () => {
      const r = await admin.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()', [name]);
      return r.rowCount ?? 0;
    },
    query: async (text, args = []) => {
      const c = new pg.Client({ connectionString: base.toString(), options: '-c search_path=orgloop' });
      await c.connect();
      try {
        return (await c.query(text, args)).rows;
      } finally {
        await c.end();
      }
    },
    drop: async () => {
      await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).catch(() => {});
      await admin.end();
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

/** A TCP proxy on 127.0.0.1 (ephemeral port, kept across stop/start) to `target`. */
export async function startTcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
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
      s.listen(port, '127.0.0.1', () => {
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
