// RuntimeQueries on Postgres: a small pool of its own, read-only sessions in the store's schema.

import pg from 'pg';
import { splitSchema } from '../postgres/store.js';
import { redactUrl, toStoreError } from '../postgres/errors.js';
import { RuntimeQueries } from './queries.js';

const INT8_OID = 20;
// COUNT(*) and epoch-ms columns are BIGINT: well inside Number's exact range
const types = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === INT8_OID ? (v: string) => Number(v) : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
};

/** `?` placeholders numbered for Postgres, once per SQL text. */
const numbered = new Map<string, string>();
function pgText(sql: string): string {
  let t = numbered.get(sql);
  if (t === undefined) {
    let i = 0;
    t = sql.replace(/\?/g, () => `$${++i}`);
    numbered.set(sql, t);
  }
  return t;
}

export class PostgresQueries extends RuntimeQueries {
  readonly kind = 'postgres' as const;

  private constructor(
    private readonly pool: pg.Pool,
    private readonly location: string,
  ) {
    super();
  }

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

  protected async all<T>(sql: string, params: unknown[] = []): Promise<T[]> {
    try {
      return (await this.pool.query(pgText(sql), params)).rows as T[];
    } catch (e) {
      throw toStoreError(e, this.location);
    }
  }

  async storeBytes(): Promise<number> {
    const [r] = await this.all<{ n: number | null }>(
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
