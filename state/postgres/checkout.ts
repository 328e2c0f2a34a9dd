// A pooled client held for a transaction. pg-pool takes its own error listener off a client
// while it is checked out, so a connection the server ends while no statement of the
// transaction is running (pg_terminate_backend, a restart, a FATAL that arrives in the same
// packet as the last statement's answer) raises an 'error' event with no listener, which
// crashes the process. The listener here takes that event; the transaction's next statement
// fails on its own, and the client is destroyed on release instead of going back to the pool.

import type pg from 'pg';

export interface Held {
  client: pg.PoolClient;
  /** the connection failed while held: set by the listener, or by the caller (a failed ROLLBACK) */
  broken: boolean;
  /** back to the pool, or destroyed when broken */
  release(): void;
}

export function checkout(pool: pg.Pool): Promise<Held> {
  return new Promise((resolve, reject) => {
    // The callback form, not `await pool.connect()`: the pool may hand over a client from inside
    // another query's answer, while the rest of that packet (perhaps the server's FATAL) is still
    // being parsed, so the listener must be on before control returns, not a microtask later.
    pool.connect((err, client) => {
      if (err || !client) return reject(err ?? new Error('the pool gave no client'));
      const onError = () => {
        held.broken = true;
      };
      const held: Held = {
        client,
        broken: false,
        release: () => {
          client.removeListener('error', onError);
          client.release(held.broken);
        },
      };
      client.on('error', onError);
      resolve(held);
    });
  });
}
