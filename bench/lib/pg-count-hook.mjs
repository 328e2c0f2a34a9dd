// Loaded with `node --import` into a process under benchmark: counts what it sends to Postgres
// through pg (orgloop and graphile-worker both use it): statements (every Client.query call:
// pooled queries, BEGIN/COMMIT, LISTEN) and commits (a COMMIT, or a statement outside an explicit
// transaction, which commits on its own). Writes {statements, commits} as JSON to
// $ORGLOOP_BENCH_PG_COUNT_FILE every 100 ms, so a benchmark reads deltas over a window without
// pg_stat_statements (which needs a server restart to load). The benchmark also reads the
// server's own count of commits (pg_stat_database.xact_commit) over the process's lifetime.

import { writeFileSync } from 'node:fs';
import { setInterval } from 'node:timers';
import pg from 'pg';

const file = process.env.ORGLOOP_BENCH_PG_COUNT_FILE;
if (file) {
  let statements = 0;
  let commits = 0;
  // statements by their first words, to see which ones dominate
  const kinds = new Map();
  const inTx = new WeakSet();
  const query = pg.Client.prototype.query;
  pg.Client.prototype.query = function (config, ...rest) {
    statements++;
    const text = typeof config === 'string' ? config : config?.text;
    if (typeof text === 'string') {
      const k = text.replace(/\s+/g, ' ').trim().slice(0, 60);
      kinds.set(k, (kinds.get(k) ?? 0) + 1);
    }
    const head = typeof text === 'string' ? text.trimStart().slice(0, 8).toUpperCase() : '';
    if (head.startsWith('BEGIN') || head.startsWith('START')) inTx.add(this);
    else if (head.startsWith('COMMIT') || head.startsWith('END')) {
      commits++;
      inTx.delete(this);
    } else if (head.startsWith('ROLLBACK')) inTx.delete(this);
    else if (!inTx.has(this)) commits++;
    return query.call(this, config, ...rest);
  };
  let written = '';
  const flush = () => {
    const now = JSON.stringify({ statements, commits, kinds: Object.fromEntries(kinds) });
    if (now === written) return;
    written = now;
    writeFileSync(file, now);
  };
  flush();
  setInterval(flush, 100).unref();
}
