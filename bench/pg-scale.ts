// Postgres scale-out benchmarks (issue 22), run when BENCH_PG_URL or ORGLOOP_TEST_PG_URL names a
// Postgres server. They work in a database of their own (orgloop_bench, created and dropped), so
// the server's commit counter (pg_stat_database.xact_commit) counts nothing but them; statements
// are counted in the process under test by bench/lib/pg-count-hook.mjs.
//
//   pg-throughput  ROUNDS interleaved rounds of 10,000 events at concurrency 64 through one
//                  executor on SQLite, one on Postgres, and graphile-worker on Postgres on its
//                  defaults and with its batching (bench/lib/graphile-relay.mjs); statements and
//                  commits per event for the Postgres ones
//   pg-share       two executors on one Postgres, all load into the first one's ingress: who
//                  completes how many deliveries, and throughput against one executor alone
//   pg-share-slow  the same with an actor that answers after BENCH_PG_ACTOR_MS (default 50)
//   pg-share-hosts the same as pg-share with each executor on a CPU budget of its own
//                  (BENCH_PG_HOST_CORES of a core, default 0.5, in a cgroup), as on hosts of their
//                  own; Postgres and the load generator share the rest of the machine
//   pg-failover    the same two, load into the first; kill -9 of it mid-run: how long until the
//                  deliveries it held leased are taken and run by the other, and nothing
//                  acknowledged is lost
//   pg-idle        an idle executor on Postgres: statements and commits per second

import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { CLI, log, median, procCpuMs, round } from './lib/measure.js';
import { EVENTS, LoadWorker, loadThrough, spawnListening, startExecutor, throughputProject, type RunningExecutor } from './executor.js';
import type { BenchResult } from './lib/report.js';
import { CpuHost } from './lib/cpu-host.js';

const ROUNDS = Number(process.env.BENCH_PG_ROUNDS ?? 3);
const C = Number(process.env.BENCH_PG_CONCURRENCY ?? 64);
// Every process under test is warmed before the measured window: at 500 events a peer that
// takes half the work was still compiling its hot paths (28% of its CPU in the JIT, by perf).
const WARMUP = Number(process.env.BENCH_PG_WARMUP ?? 5000);
const BENCH_DB = 'orgloop_bench';
/** Executors run this long before load, past start-up and each other's first heartbeats (every 5 s). */
const SETTLE_MS = 5500;
const HOOK = join(import.meta.dirname, 'lib/pg-count-hook.mjs');
const GRAPHILE = join(import.meta.dirname, 'lib/graphile-relay.mjs');

const adminUrl = () => process.env.BENCH_PG_URL ?? process.env.ORGLOOP_TEST_PG_URL ?? null;

function skipped(name: string): BenchResult {
  return { name, metrics: { skipped: true }, checks: [], info: [{ what: 'skipped', measured: 'set BENCH_PG_URL (or ORGLOOP_TEST_PG_URL) to a Postgres server' }] };
}

/** The benchmark's own database: its URL, a schema maker, the server's commit count, and cleanup. */
class BenchDb {
  private constructor(
    private readonly admin: pg.Client,
    readonly url: string,
  ) {}

  static async open(): Promise<BenchDb> {
    const admin = new pg.Client({ connectionString: adminUrl()! });
    await admin.connect();
    await admin.query(`DROP DATABASE IF EXISTS ${BENCH_DB} WITH (FORCE)`);
    await admin.query(`CREATE DATABASE ${BENCH_DB}`);
    const u = new URL(adminUrl()!);
    u.pathname = `/${BENCH_DB}`;
    return new BenchDb(admin, u.toString());
  }

  schema(what: string): { name: string; url: string } {
    const name = `bench_${what}_${randomBytes(3).toString('hex')}`;
    const u = new URL(this.url);
    u.searchParams.set('schema', name);
    return { name, url: u.toString() };
  }

  /** Commits the server has counted in the benchmark database (flushed by backends at exit, or at least once a second). */
  async commits(): Promise<number> {
    await this.admin.query('SELECT pg_stat_clear_snapshot()');
    const r = await this.admin.query('SELECT xact_commit FROM pg_stat_database WHERE datname = $1', [BENCH_DB]);
    return Number(r.rows[0].xact_commit);
  }

  /** Drops a finished run's schema, so autovacuum of its tables does not run into the next run. */
  async drop(schema: { name: string; url: string }): Promise<void> {
    await withStore(schema.url, (c) => c.query(`DROP SCHEMA IF EXISTS ${schema.name} CASCADE`));
  }

  /** Writes out dirty pages, so a run does not pay for the previous run's (needs a superuser; skipped otherwise). */
  async checkpoint(): Promise<void> {
    await this.admin.query('CHECKPOINT').catch(() => {});
  }

  async close(): Promise<void> {
    await this.admin.query(`DROP DATABASE IF EXISTS ${BENCH_DB} WITH (FORCE)`).catch(() => {});
    await this.admin.end();
  }
}

interface Counts {
  statements: number;
  commits: number;
  /** statements by their first words */
  kinds: Record<string, number>;
}

function readCounts(file: string): Counts {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as Counts;
  } catch {
    return { statements: NaN, commits: NaN, kinds: {} };
  }
}

function addCounts(a: Counts, b: Counts): Counts {
  const kinds = { ...a.kinds };
  for (const [k, n] of Object.entries(b.kinds)) kinds[k] = (kinds[k] ?? 0) + n;
  return { statements: a.statements + b.statements, commits: a.commits + b.commits, kinds };
}

/** The statements sent most in a window, per event. */
function topKinds(at0: Counts, at1: Counts, n = 8): Record<string, number> {
  const d = Object.entries(at1.kinds).map(([k, v]) => [k, v - (at0.kinds[k] ?? 0)] as const);
  return Object.fromEntries(d.sort((x, y) => y[1] - x[1]).slice(0, n).filter(([, v]) => v > 0).map(([k, v]) => [k, round(v / EVENTS, 3)]));
}

/** Where a process under test writes its pg counts (see pg-count-hook.mjs). */
function countFile(): string {
  return join(tmpdir(), `orgloop-bench-pgcount-${randomBytes(4).toString('hex')}.json`);
}

function pgEnv(stateUrl: string, file: string, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return { ORGLOOP_STATE: stateUrl, BENCH_EXECUTOR_NODE_ARGS: `--import ${HOOK}`, ORGLOOP_BENCH_PG_COUNT_FILE: file, ...extra };
}

/** A second executor on the same project directory and store (same applied version, same keys). */
function startPeer(first: RunningExecutor, stateUrl: string, file: string): Promise<RunningExecutor> {
  // BENCH_PEER_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" profiles the peer
  const nodeArgs = (process.env.BENCH_PEER_NODE_ARGS ?? '').split(/\s+/).filter(Boolean);
  return spawnListening('executor', ['--import', HOOK, ...nodeArgs, CLI, 'start', '--port', '0', '--quiet'], first.dir, { ...process.env, NO_COLOR: '1', ...pgEnv(stateUrl, file) });
}

async function withStore<T>(stateUrl: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const u = new URL(stateUrl);
  const schema = u.searchParams.get('schema')!;
  u.searchParams.delete('schema');
  const c = new pg.Client({ connectionString: u.toString(), options: `-c search_path=${schema}` });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

async function executorId(c: pg.Client, pid: number): Promise<string> {
  const r = await c.query('SELECT id FROM executors WHERE pid = $1', [pid]);
  return r.rows[0]?.id as string;
}

async function deliveredBy(c: pg.Client): Promise<Map<string, number>> {
  const r = await c.query(`SELECT lease_owner, COUNT(*)::int AS n FROM deliveries WHERE status = 'delivered' GROUP BY lease_owner`);
  return new Map((r.rows as Array<{ lease_owner: string; n: number }>).map((x) => [x.lease_owner, x.n]));
}

interface PgRun {
  events_per_s: number;
  lost: number;
  duplicated: number;
  ingress_errors: number;
  cpu_ms_per_event: number;
  statements_per_event: number;
  commits_per_event: number;
  /** CPU, statements and commits: of every process under test (both executors of a pair) */
  /** the server's count, over the process's whole life (start-up, warm-up and shutdown included) */
  server_commits_per_event: number;
  e2e_p99_ms: number;
  statements_per_event_by_kind: Record<string, number>;
  /** each process under test on its own (the first, then `more`): where a peer's cost goes */
  per_process: Array<{ cpu_ms_per_event: number; statements_per_event: number; by_kind?: Record<string, number> }>;
  /** the Postgres server's processes (all of them, on this machine) */
  postgres_cpu_ms_per_event: number;
  /** the load generator and sink (one process, the same work whatever is under test) */
  load_cpu_ms_per_event: number;
}

/** CPU of every process named postgres on this machine (the server under test shares the cores). */
function postgresCpuMs(): number {
  let ms = 0;
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      if (readFileSync(`/proc/${d}/comm`, 'utf8').trim() === 'postgres') ms += procCpuMs(Number(d));
    } catch {
      // the process exited meanwhile
    }
  }
  return ms;
}

/** A process under test, with what to do once the warm-up is done and before it stops. */
interface UnderTest {
  ex: RunningExecutor;
  /** more processes under test (a peer executor): their CPU and pg counts are added in */
  more?: Array<{ pid: number; file: string }>;
  afterWarmup?: () => Promise<void>;
  beforeStop?: () => Promise<void>;
}

/** One closed-loop run through a Postgres-backed process, with its statement and commit counts. */
async function measured(db: BenchDb, lw: LoadWorker, start: (file: string) => Promise<UnderTest>, run: string): Promise<PgRun> {
  const file = countFile();
  await db.checkpoint();
  const server0 = await db.commits();
  const t = await start(file);
  let m: Awaited<ReturnType<typeof loadThrough>>;
  let counts: { statements: number; commits: number };
  let kinds: Record<string, number> = {};
  let moreCpuMs = 0;
  let each: PgRun['per_process'] = [];
  let pgCpuMs = 0;
  let lwCpuMs = 0;
  try {
    // counts over the measured window: from the end of the warm-up until every event arrived
    const files = [file, ...(t.more ?? []).map((x) => x.file)];
    const sum = () => files.map(readCounts).reduce(addCounts);
    const cpu = () => (t.more ?? []).reduce((a, x) => a + procCpuMs(x.pid), 0);
    let at0: Counts = { statements: 0, commits: 0, kinds: {} };
    let cpu0 = 0;
    const pids = [t.ex.pid, ...(t.more ?? []).map((x) => x.pid)];
    let each0: Array<{ cpu: number; statements: number; counts: Counts }> = [];
    let pg0 = 0;
    const eachNow = () => pids.map((pid, i) => ({ cpu: procCpuMs(pid), statements: readCounts(files[i]!).statements, counts: readCounts(files[i]!) }));
    m = await loadThrough(lw, t.ex, C, run, async () => {
      await t.afterWarmup?.();
      at0 = sum();
      cpu0 = cpu();
      each0 = eachNow();
      pg0 = postgresCpuMs();
      lwCpuMs = procCpuMs(lw.pid);
    }, WARMUP);
    lwCpuMs = procCpuMs(lw.pid) - lwCpuMs;
    moreCpuMs = cpu() - cpu0;
    pgCpuMs = postgresCpuMs() - pg0;
    const each1 = eachNow();
    each = each1.map((x, i) => ({
      cpu_ms_per_event: round((x.cpu - each0[i]!.cpu) / EVENTS, 3),
      // the counts file is flushed on a timer: read again below for the final figure
      statements_per_event: 0,
    }));
    await sleep(300);
    const at1 = sum();
    files.forEach((f, i) => {
      const c1 = readCounts(f);
      each[i]!.statements_per_event = round((c1.statements - each0[i]!.statements) / EVENTS, 3);
      if (files.length > 1) each[i]!.by_kind = topKinds(each0[i]!.counts, c1, 6);
    });
    counts = { statements: at1.statements - at0.statements, commits: at1.commits - at0.commits };
    kinds = topKinds(at0, at1);
    await t.beforeStop?.();
  } finally {
    await t.ex.stop();
    rmSync(file, { force: true });
  }
  await sleep(1500);
  const server = (await db.commits()) - server0;
  const r = m.result;
  return {
    events_per_s: round(r.events_per_s, 0),
    lost: r.lost,
    duplicated: r.duplicated,
    ingress_errors: r.ingress_errors,
    cpu_ms_per_event: round(m.cpuPerEvent + moreCpuMs / EVENTS, 3),
    statements_per_event: round(counts.statements / EVENTS, 3),
    commits_per_event: round(counts.commits / EVENTS, 3),
    server_commits_per_event: round(server / (EVENTS + WARMUP), 3),
    e2e_p99_ms: round(r.e2e_ms.p99),
    statements_per_event_by_kind: kinds,
    per_process: each,
    postgres_cpu_ms_per_event: round(pgCpuMs / EVENTS, 3),
    load_cpu_ms_per_event: round(lwCpuMs / EVENTS, 3),
  };
}

export async function runThroughput(): Promise<BenchResult> {
  if (!adminUrl()) return skipped('pg-throughput');
  const db = await BenchDb.open();
  const lw = await LoadWorker.start();
  const rounds: Array<Record<string, any>> = [];
  try {
    const { url: sinkUrl } = await lw.call<{ url: string }>('sink');
    const project = throughputProject(sinkUrl);
    for (let r = 0; r < ROUNDS; r++) {
      const round_: Record<string, any> = {};
      const sq = await startExecutor(project);
      try {
        const m = await loadThrough(lw, sq, C, `sqlite-${r}`);
        round_.sqlite = { events_per_s: round(m.result.events_per_s, 0), lost: m.result.lost, duplicated: m.result.duplicated, cpu_ms_per_event: round(m.cpuPerEvent, 3), e2e_p99_ms: round(m.result.e2e_ms.p99) };
      } finally {
        await sq.stop();
      }
      const s = db.schema('orgloop');
      round_.postgres = await measured(db, lw, async (file) => ({ ex: await startExecutor(project, pgEnv(s.url, file)) }), `pg-${r}`);
      await db.drop(s);
      for (const mode of ['defaults', 'batching', 'grouped'] as const) {
        const g = db.schema(`graphile_${mode}`);
        round_[`graphile_${mode}`] = await measured(
          db,
          lw,
          async (file) => ({ ex: await spawnListening('graphile-worker', ['--import', HOOK, GRAPHILE, sinkUrl, mode, db.url, g.name, String(C)], mkdtempSync(join(tmpdir(), 'orgloop-bench-graphile-')), { ...process.env, ORGLOOP_BENCH_PG_COUNT_FILE: file }) }),
          `graphile-${mode}-${r}`,
        );
        await db.drop(g);
      }
      round_.pg_over_sqlite = round(round_.postgres.events_per_s / round_.sqlite.events_per_s, 3);
      round_.pg_over_graphile_defaults = round(round_.postgres.events_per_s / round_.graphile_defaults.events_per_s, 3);
      round_.pg_over_graphile_batching = round(round_.postgres.events_per_s / round_.graphile_batching.events_per_s, 3);
      round_.pg_over_graphile_grouped = round(round_.postgres.events_per_s / round_.graphile_grouped.events_per_s, 3);
      log(`pg-throughput round ${r + 1}: ${JSON.stringify(round_)}`);
      rounds.push(round_);
    }
  } finally {
    lw.close();
    await db.close();
  }
  const med = (f: (x: Record<string, any>) => number) => round(median(rounds.map(f)), 3);
  const ratio = med((x) => x.pg_over_sqlite);
  const vsBatching = med((x) => x.pg_over_graphile_batching);
  const stmts = med((x) => x.postgres.statements_per_event);
  const commits = med((x) => x.postgres.commits_per_event);
  const lostDup = rounds.map((x) => `${x.postgres.lost}/${x.postgres.duplicated}`).join(', ');
  const each = (f: (x: Record<string, any>) => unknown) => rounds.map(f).join(', ');
  return {
    name: 'pg-throughput',
    metrics: { events: EVENTS, warmup: WARMUP, concurrency: C, rounds },
    checks: [
      { target: 'Postgres >= 0.7x SQLite events/s (median of rounds)', measured: `${ratio}x (rounds ${each((x) => x.pg_over_sqlite)})`, pass: ratio >= 0.7 },
      { target: 'Postgres 0 lost, 0 duplicated', measured: lostDup, pass: rounds.every((x) => x.postgres.lost === 0 && x.postgres.duplicated === 0 && x.postgres.ingress_errors === 0) },
      { target: 'Postgres ahead of graphile-worker with batching', measured: `${vsBatching}x (rounds ${each((x) => x.pg_over_graphile_batching)})`, pass: vsBatching > 1 },
      { target: 'Postgres against graphile-worker with batching and grouped addJobs (no target)', measured: `${med((x) => x.pg_over_graphile_grouped)}x (rounds ${each((x) => x.pg_over_graphile_grouped)})`, pass: true },
      { target: 'statements per event well below 1 under load', measured: `${stmts} (rounds ${each((x) => x.postgres.statements_per_event)})`, pass: stmts < 0.7 },
      { target: 'commits per event well below 1 under load', measured: `${commits} (server-counted over the process life ${each((x) => x.postgres.server_commits_per_event)})`, pass: commits < 0.7 },
    ],
    info: rounds.map((x, i) => ({
      what: `round ${i + 1} events/s`,
      measured: `SQLite ${x.sqlite.events_per_s}, Postgres ${x.postgres.events_per_s}, graphile-worker defaults ${x.graphile_defaults.events_per_s} / batching ${x.graphile_batching.events_per_s} / grouped ${x.graphile_grouped.events_per_s}; CPU ms/event SQLite ${x.sqlite.cpu_ms_per_event}, Postgres ${x.postgres.cpu_ms_per_event}, graphile ${x.graphile_defaults.cpu_ms_per_event}/${x.graphile_batching.cpu_ms_per_event}/${x.graphile_grouped.cpu_ms_per_event}; stmts/commits per event Postgres ${x.postgres.statements_per_event}/${x.postgres.commits_per_event}, graphile ${x.graphile_defaults.statements_per_event}/${x.graphile_defaults.commits_per_event}, ${x.graphile_batching.statements_per_event}/${x.graphile_batching.commits_per_event}, ${x.graphile_grouped.statements_per_event}/${x.graphile_grouped.commits_per_event}`,
    })),
  };
}

/**
 * `actorMs` 0: the actor answers at once, so on one machine the processes compete for the same
 * cores and only CPU per event counts. Above 0 each delivery holds a slot that long, as real
 * actors do: capacity is slots, and a second executor brings its own. `hostCores` above 0 gives
 * each executor that much of a core of its own (CpuHost), as a host of its own would: then what
 * counts is the CPU a second executor brings, not what sharing costs on shared cores.
 */
export async function runShare(actorMs = 0, hostCores = 0): Promise<BenchResult> {
  const name = hostCores > 0 ? 'pg-share-hosts' : actorMs > 0 ? 'pg-share-slow' : 'pg-share';
  if (!adminUrl()) return skipped(name);
  if (hostCores > 0) {
    const probe = CpuHost.open('probe', hostCores);
    if (!probe) return { name, metrics: { skipped: true }, checks: [], info: [{ what: 'skipped', measured: 'needs root and a writable cgroup filesystem (cpu controller)' }] };
    await probe.close();
  }
  // each executor on a budget of its own, when asked; its throttled time shows the budget held it back
  const throttled: Record<string, number> = {};
  const onHost = (ex: RunningExecutor, as: string): RunningExecutor => {
    if (hostCores <= 0) return ex;
    const host = CpuHost.open(as, hostCores)!;
    host.add(ex.pid);
    return {
      ...ex,
      stop: async () => {
        throttled[as] = round(host.throttledMs(), 0);
        await ex.stop();
        await host.close();
      },
    };
  };
  const db = await BenchDb.open();
  const lw = await LoadWorker.start();
  const rounds: Array<Record<string, any>> = [];
  try {
    const { url: sinkUrl } = await lw.call<{ url: string }>('sink');
    const project = throughputProject(sinkUrl, actorMs);
    for (let r = 0; r < ROUNDS; r++) {
      const s1 = db.schema('one');
      const one = () =>
        measured(
          db,
          lw,
          async (file) => {
            const ex = onHost(await startExecutor(project, pgEnv(s1.url, file)), 'one');
            await sleep(SETTLE_MS); // settled, as the pair is below
            return { ex };
          },
          `one-${r}`,
        );
      const s = db.schema('two');
      const fileB = countFile();
      const pair = { first: 0, second: 0 };
      const pairRun = () => measured(
        db,
        lw,
        async (file) => {
          const a = onHost(await startExecutor(project, pgEnv(s.url, file)), 'first');
          const b = onHost(await startPeer(a, s.url, fileB), 'second');
          // both see each other live before the load, as in steady state
          await sleep(SETTLE_MS);
          const ids = await withStore(s.url, async (c) => ({ a: await executorId(c, a.pid), b: await executorId(c, b.pid) }));
          let before = new Map<string, number>();
          return {
            ex: { ...a, stop: async () => (await b.stop(), await a.stop()) },
            more: [{ pid: b.pid, file: fileB }],
            afterWarmup: async () => {
              before = await withStore(s.url, deliveredBy);
            },
            beforeStop: async () => {
              const after = await withStore(s.url, deliveredBy);
              pair.first = (after.get(ids.a) ?? 0) - (before.get(ids.a) ?? 0);
              pair.second = (after.get(ids.b) ?? 0) - (before.get(ids.b) ?? 0);
            },
          };
        },
        `two-${r}`,
      );
      // The run that goes second in a round meets the first one's dirty pages and autovacuum:
      // the order alternates, so neither side always pays for it.
      let alone: PgRun;
      let two: PgRun;
      if (r % 2 === 0) {
        alone = await one();
        two = await pairRun();
      } else {
        two = await pairRun();
        alone = await one();
      }
      rmSync(fileB, { force: true });
      await db.drop(s1);
      await db.drop(s);
      const total = pair.first + pair.second;
      const x = { alone, two, ...(hostCores > 0 ? { host_cores: hostCores, throttled_ms: { ...throttled } } : {}), delivered_by_first: pair.first, delivered_by_second: pair.second, second_share: round(pair.second / total, 3), two_over_one: round(two.events_per_s / alone.events_per_s, 3) };
      log(`${name} round ${r + 1}: ${JSON.stringify(x)}`);
      rounds.push(x);
    }
  } finally {
    lw.close();
    await db.close();
  }
  const share = round(median(rounds.map((x) => x.second_share)), 3);
  const speed = round(median(rounds.map((x) => x.two_over_one)), 3);
  const label = (actorMs > 0 ? `, actor answers in ${actorMs} ms` : '') + (hostCores > 0 ? `, each executor on ${hostCores} of a core of its own` : '');
  return {
    name,
    metrics: { events: EVENTS, concurrency: C, actor_ms: actorMs, host_cores: hostCores, rounds },
    checks: [
      { target: `second executor completes >= 30% of deliveries (all load into the first)${label}`, measured: `${round(share * 100, 1)}% (rounds ${rounds.map((x) => x.second_share).join(', ')})`, pass: share >= 0.3 },
      { target: `two executors not below one${label}`, measured: `${speed}x (rounds ${rounds.map((x) => x.two_over_one).join(', ')})`, pass: speed >= 1 },
      { target: '0 lost, 0 duplicated with two executors', measured: rounds.map((x) => `${x.two.lost}/${x.two.duplicated}`).join(', '), pass: rounds.every((x) => x.two.lost === 0 && x.two.duplicated === 0) },
    ],
    info: rounds.map((x, i) => ({
      what: `round ${i + 1}`,
      measured:
        `one executor ${x.alone.events_per_s} ev/s; two ${x.two.events_per_s} ev/s; delivered by first/second ${x.delivered_by_first}/${x.delivered_by_second}; ` +
        `CPU ms/event: one ${x.alone.per_process[0].cpu_ms_per_event} + Postgres ${x.alone.postgres_cpu_ms_per_event}; ` +
        `two: first ${x.two.per_process[0].cpu_ms_per_event} + second ${x.two.per_process[1].cpu_ms_per_event} + Postgres ${x.two.postgres_cpu_ms_per_event}; ` +
        `statements/event: one ${x.alone.statements_per_event}; two: first ${x.two.per_process[0].statements_per_event} + second ${x.two.per_process[1].statements_per_event} (${JSON.stringify(x.two.statements_per_event_by_kind)})`,
    })),
  };
}

export async function runFailover(): Promise<BenchResult> {
  if (!adminUrl()) return skipped('pg-failover');
  const db = await BenchDb.open();
  const lw = await LoadWorker.start();
  const rounds: Array<Record<string, any>> = [];
  try {
    const { url: sinkUrl } = await lw.call<{ url: string }>('sink');
    const project = throughputProject(sinkUrl);
    for (let r = 0; r < ROUNDS; r++) {
      const s = db.schema('failover');
      const files = [countFile(), countFile()];
      const a = await startExecutor(project, pgEnv(s.url, files[0]!));
      const b = await startPeer(a, s.url, files[1]!);
      try {
        await sleep(SETTLE_MS);
        const ingress = `${a.url}/webhook/hook`;
        await lw.call('load', { url: ingress, run: `warm-failover-${r}`, n: WARMUP, concurrency: C });
        const ids = await withStore(s.url, async (c) => ({ a: await executorId(c, a.pid), b: await executorId(c, b.pid) }));
        const run = `failover-${r}`;
        // work that waited out the 30 s lease would arrive after the 15 s quiet wait: it shows up as acked_lost
        const loading = lw.call('load', { url: ingress, run, n: EVENTS, concurrency: C, quietMs: 15_000 });
        while ((await lw.call<{ received: number }>('received', { run })).received < EVENTS / 3) await sleep(20);
        process.kill(a.pid, 'SIGKILL');
        const killedAt = performance.now();
        const x = await withStore(s.url, async (c) => {
          const held = (await c.query(`SELECT id FROM deliveries WHERE status = 'leased' AND lease_owner = $1`, [ids.a])).rows.map((row: { id: string }) => row.id);
          const queued = Number((await c.query(`SELECT COUNT(*) AS n FROM deliveries WHERE status IN ('pending', 'retry')`)).rows[0].n);
          let takenMs = NaN;
          let doneMs = NaN;
          while (performance.now() - killedAt < 60_000) {
            const q = await c.query(
              `SELECT COUNT(*) FILTER (WHERE status = 'leased' AND lease_owner = $1)::int AS left,
                      COUNT(*) FILTER (WHERE id = ANY($2::text[]) AND status = 'delivered')::int AS done FROM deliveries`,
              [ids.a, held],
            );
            const { left, done } = q.rows[0] as { left: number; done: number };
            const t = performance.now() - killedAt;
            if (left === 0 && Number.isNaN(takenMs)) takenMs = t;
            if (done === held.length) {
              doneMs = t;
              break;
            }
            await sleep(25);
          }
          return { held_at_kill: held.length, queued_at_kill: queued, taken_over_ms: round(takenMs, 0), held_all_delivered_ms: round(doneMs, 0) };
        });
        const res = await loading;
        const y = { ...x, acked: res.acked, acked_lost: res.acked_lost, duplicated: res.duplicated, refused_after_kill: res.ingress_errors };
        log(`pg-failover round ${r + 1}: ${JSON.stringify(y)}`);
        rounds.push(y);
      } finally {
        await b.stop();
        await a.stop();
        for (const f of files) rmSync(f, { force: true });
      }
    }
  } finally {
    lw.close();
    await db.close();
  }
  const worst = Math.max(...rounds.map((x) => x.held_all_delivered_ms));
  return {
    name: 'pg-failover',
    metrics: { events: EVENTS, concurrency: C, rounds },
    checks: [
      { target: 'kill -9 of one of two executors: its leased work runs elsewhere within 5 s', measured: `all held deliveries delivered by the peer after ${rounds.map((x) => x.held_all_delivered_ms).join(', ')} ms (taken over after ${rounds.map((x) => x.taken_over_ms).join(', ')} ms)`, pass: worst < 5000 },
      { target: '0 acknowledged events lost', measured: rounds.map((x) => `${x.acked_lost} of ${x.acked}`).join(', '), pass: rounds.every((x) => x.acked_lost === 0) },
    ],
    info: rounds.map((x, i) => ({ what: `round ${i + 1}`, measured: `${x.held_at_kill} leased to the killed executor, ${x.queued_at_kill} queued; duplicates ${x.duplicated} (at-least-once: ones it had sent but not recorded)` })),
  };
}

export async function runIdle(): Promise<BenchResult> {
  if (!adminUrl()) return skipped('pg-idle');
  const seconds = Number(process.env.BENCH_PG_IDLE_SECONDS ?? 60);
  const db = await BenchDb.open();
  const lw = await LoadWorker.start();
  const m: Record<string, any> = {};
  try {
    const { url: sinkUrl } = await lw.call<{ url: string }>('sink');
    const s = db.schema('idle');
    const files = [countFile(), countFile()];
    const a = await startExecutor(throughputProject(sinkUrl), pgEnv(s.url, files[0]!));
    try {
      const window = async () => {
        await sleep(6000); // past start-up and the first heartbeats
        const c0 = files.map(readCounts);
        await sleep(seconds * 1000);
        const c1 = files.map(readCounts);
        return c0.map((x, i) => ({ statements_per_s: round((c1[i]!.statements - x.statements) / seconds, 3), commits_per_s: round((c1[i]!.commits - x.commits) / seconds, 3) }));
      };
      m.alone = (await window())[0];
      const b = await startPeer(a, s.url, files[1]!);
      try {
        m.with_a_peer = await window();
      } finally {
        await b.stop();
      }
    } finally {
      await a.stop();
      for (const f of files) rmSync(f, { force: true });
    }
  } finally {
    lw.close();
    await db.close();
  }
  log(`pg-idle: ${JSON.stringify(m)}`);
  const worst = Math.max(m.alone.statements_per_s, ...m.with_a_peer.map((x: any) => x.statements_per_s));
  return {
    name: 'pg-idle',
    metrics: { window_s: seconds, ...m },
    checks: [{ target: 'an idle executor issues well under one statement per second', measured: `alone ${m.alone.statements_per_s}/s; with a peer ${m.with_a_peer.map((x: any) => x.statements_per_s).join(' and ')}/s`, pass: worst < 0.5 }],
    info: [{ what: 'commits per second', measured: `alone ${m.alone.commits_per_s}; with a peer ${m.with_a_peer.map((x: any) => x.commits_per_s).join(' and ')}` }],
  };
}
