// Benchmark: retention soak (issue 17.12). An executor with a short event_retention takes a
// steady open-loop stream of webhook events for several retention windows; every few seconds the
// store is measured from outside: file size (database + WAL), bytes per table (SQLite's dbstat)
// and rows. Flat means: after the first window, the runtime tables stop growing while events
// keep arriving. Dedupe keys are kept for 72 h whatever the retention (senders redeliver for
// that long), so their table grows for 72 h by design: it is reported on its own.
//   BENCH_SOAK_SECONDS (default 120), BENCH_SOAK_RATE events/s (200), BENCH_SOAK_RETENTION (10s)

import { statSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import Database from 'better-sqlite3';
import { LoadWorker, startExecutor, throughputProject } from './executor.js';
import { log, round } from './lib/measure.js';
import type { BenchResult } from './lib/report.js';

const SECONDS = Number(process.env.BENCH_SOAK_SECONDS ?? 120);
const RATE = Number(process.env.BENCH_SOAK_RATE ?? 200);
const RETENTION = process.env.BENCH_SOAK_RETENTION ?? '10s';
const SAMPLE_MS = 10_000;

interface Sample {
  t_s: number;
  file_mb: number;
  runtime_mb: number;
  dedupe_keys_mb: number;
  rows: Record<string, number>;
}

const RUNTIME = ['events', 'deliveries', 'log'];

function measure(file: string, t0: number): Sample {
  const size = (p: string) => {
    try {
      return statSync(p).size;
    } catch {
      return 0;
    }
  };
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    // bytes per table with its indexes (index names start with the table's name)
    const pages = db.prepare('SELECT name, SUM(pgsize) AS bytes FROM dbstat GROUP BY name').all() as Array<{ name: string; bytes: number }>;
    const bytesOf = (table: string) => pages.filter((p) => p.name === table || p.name.startsWith(`${table}_`) || p.name === `sqlite_autoindex_${table}_1` || p.name === `sqlite_autoindex_${table}_2`).reduce((a, p) => a + p.bytes, 0);
    const rows: Record<string, number> = {};
    for (const t of [...RUNTIME, 'dedupe_keys']) rows[t] = (db.prepare(`SELECT COUNT(*) AS n FROM ${t}`).get() as { n: number }).n;
    return {
      t_s: round((performance.now() - t0) / 1000, 0),
      file_mb: round((size(file) + size(`${file}-wal`)) / 1e6, 2),
      runtime_mb: round(RUNTIME.reduce((a, t) => a + bytesOf(t), 0) / 1e6, 2),
      dedupe_keys_mb: round(bytesOf('dedupe_keys') / 1e6, 2),
      rows,
    };
  } finally {
    db.close();
  }
}

export async function run(): Promise<BenchResult> {
  const lw = await LoadWorker.start();
  const samples: Sample[] = [];
  let load: any;
  try {
    const { url: sinkUrl } = await lw.call<{ url: string }>('sink');
    const ex = await startExecutor(throughputProject(sinkUrl), { ORGLOOP_EVENT_RETENTION: RETENTION });
    const file = join(ex.dir, '.orgloop', 'state.db');
    try {
      const t0 = performance.now();
      const sending = lw.call('rate', { url: `${ex.url}/webhook/hook`, run: 'soak', rate: RATE, durationMs: SECONDS * 1000 });
      let done = false;
      void sending.finally(() => (done = true));
      while (!done) {
        await Promise.race([sleep(SAMPLE_MS), sending]);
        const s = measure(file, t0);
        samples.push(s);
        log(`retention soak t=${s.t_s}s: file ${s.file_mb} MB, runtime tables ${s.runtime_mb} MB, dedupe keys ${s.dedupe_keys_mb} MB, rows ${JSON.stringify(s.rows)}`);
      }
      load = await sending;
    } finally {
      await ex.stop();
    }
  } finally {
    lw.close();
  }
  // flat: compare the second half of the run with the end of its first half
  const half = samples.filter((s) => s.t_s >= SECONDS / 2);
  const mid = half[0]!;
  const end = samples[samples.length - 1]!;
  const maxRuntime = Math.max(...half.map((s) => s.runtime_mb));
  const sent = load?.sent ?? 0;
  return {
    name: 'retention',
    metrics: { seconds: SECONDS, rate: RATE, retention: RETENTION, load, samples },
    checks: [
      {
        target: `runtime tables flat over the second half (${RETENTION} retention, ${RATE} ev/s): max <= 1.25x the size at its start`,
        measured: `${mid.runtime_mb} MB at ${mid.t_s}s, max ${maxRuntime} MB, ${end.runtime_mb} MB at ${end.t_s}s (${sent} events sent)`,
        pass: maxRuntime <= mid.runtime_mb * 1.25,
      },
      { target: 'nothing lost or duplicated while pruning', measured: `${load?.lost}/${load?.duplicated}`, pass: load?.lost === 0 && load?.duplicated === 0 },
    ],
    info: [
      { what: 'store file (db + WAL) at mid-run / end', measured: `${mid.file_mb} MB / ${end.file_mb} MB` },
      { what: 'rows kept at the end', measured: JSON.stringify(end.rows) },
      { what: 'dedupe keys (kept 72 h by design)', measured: `${end.dedupe_keys_mb} MB for ${end.rows.dedupe_keys} keys (${round((end.dedupe_keys_mb * 1e6) / Math.max(1, end.rows.dedupe_keys), 0)} B/key)` },
    ],
  };
}
