// RuntimeQueries on Postgres: a small pool of its own, read-only sessions in the store's schema.

import pg from 'pg';
import { splitSchema } from '../postgres/store.js';
import { redactUrl, toStoreError } from '../postgres/errors.js';
import type { BacklogRow, RuntimeQueries } from './queries.js';

const INT8_OID = 20;
// COUNT(*) and epoch-ms columns are BIGINT: well inside Number's exact range
const types = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === INT8_OID ? (v: string) => Number(v) : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
};

export class PostgresQueries implements RuntimeQueries {
  readonly kind = 'postgres' as const;

  private constructor(
    protected readonly pool: pg.Pool,
    private readonly location: string,
  ) {}

  static async open(url: string): Promise<PostgresQueries> {
    const { connectionString, schema } = splitSchema(url);
    const settings = ['-c default_transaction_read_only=on'];
    if (schema) settings.push(`-c search_path=${schema}`);
    const pool = new pg.Pool({ connectionString, types, max: 2, connectionTimeoutMillis: 10_000, options: settings.join(' ') });
    pool.on('error', () => {
      // an idle client died; the next query reconnects and reports errors itself
    });
    return new PostgresQueries(pool, redactUrl(url));
  }

  protected async rows<T>(text: string, values: unknown[] = []): Promise<T[]> {
    try {
      return (await this.pool.query(text, values)).rows as T[];
    } catch (e) {
      throw toStoreError(e, this.location);
    }
  }

  backlog(): Promise<BacklogRow[]> {
    return this.rows<BacklogRow>(
      `SELECT route, actor, status, COUNT(*) AS count, MIN(run_at) AS oldest_run_at
       FROM deliveries WHERE status IN ('pending', 'retry', 'leased', 'dead')
       GROUP BY route, actor, status`,
    );
  }

  async expiredLeases(now: number): Promise<number> {
    const [r] = await this.rows<{ n: number }>(`SELECT COUNT(*) AS n FROM deliveries WHERE status = 'leased' AND lease_until < $1`, [now]);
    return r?.n ?? 0;
  }

  async storeBytes(): Promise<number> {
    const [r] = await this.rows<{ n: number | null }>(
      `SELECT SUM(pg_total_relation_size(c.oid))::bigint AS n FROM pg_class c
       JOIN pg_namespace ns ON ns.oid = c.relnamespace
       WHERE ns.nspname = current_schema() AND c.relkind = 'r'`,
    );
    return r?.n ?? 0;
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}
