// Benchmark: plans annotated with stored traffic (issue 23). The 10,000-route generated project
// (bench/gen-project.ts) is applied, its store filled directly with BENCH_TRAFFIC_EVENTS events
// (default 1,000,000, then 100,000) spread over the last 6 days across its sources, with the
// event names, author types and ids its routes and transforms look at. Then, through the real
// CLI: `plan` of a project with 1% (and 10%) of routes changed, with the traffic annotation
// (7-day window) and with --no-traffic; wall and CPU time of the whole process, median of RUNS.
// With BENCH_TRAFFIC_PG=1 and BENCH_PG_URL (or ORGLOOP_TEST_PG_URL), the same again on a
// Postgres store (its own schema, dropped after).
// Targets: over 1,000,000 events the annotated plan finishes in under 5 s; over 100,000 the
// annotation adds under 1 s.

import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { AUTHOR_TYPES, DEFAULTS, PLATFORM_EVENTS, writeProject } from './gen-project.js';
import { loadAverage, log, median, round, runCli } from './lib/measure.js';
import type { BenchResult } from './lib/report.js';

const CLI_UNDER_TEST = process.env.BENCH_CLI;
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const SIZES = (process.env.BENCH_TRAFFIC_EVENTS ?? '1000000,100000').split(',').map(Number);
function id(prefix: string, ms: number, n: number): string {
  return `${prefix}_${ms.toString(36).padStart(9, '0')}${n.toString(16).padStart(16, '0')}`;
}

/** Each source's connector, as the generated project declares it. */
function sourceKinds(dir: string): Map<string, string> {
  const text = readFileSync(join(dir, 'orgloop.yaml'), 'utf8');
  return new Map([...text.matchAll(/- id: (src-\d+)\n {4}connector: (\w+)/g)].map((m) => [m[1]!, m[2]!]));
}

/**
 * The event a source of this kind stores, shaped as the connectors emit it (engine/run/intake.ts
 * around providers/lib/github-events.ts and providers/sources/cron.ts): GitHub deliveries on the
 * webhook and polling sources, with the provenance and payload core routes and prompts read;
 * cron's scheduled fire. A PR's number repeats within a source, so dedup transforms drop some.
 */
function stored(kind: string, source: string, i: number, ms: number) {
  const time = new Date(ms).toISOString();
  const eid = id('evt', ms, i);
  const base = { id: eid, type: 'resource.changed', source, time, timestamp: time };
  const tail = { trace_id: `trc_${eid.slice(4)}`, parent_id: null, hops: 0 };
  if (kind === 'cron') {
    const provenance = { platform: 'cron', platform_event: 'cron.fired', author_type: 'system' };
    return { eid, time, pe: provenance.platform_event, at: provenance.author_type, dedupe: time, json: JSON.stringify({ ...base, provenance, payload: { job: `job-${source.slice(4)}`, scheduled_at: time }, ...tail }) };
  }
  const repo = `bench-org/repo-${source.slice(4)}`;
  const number = 1 + ((i * 31) % 400);
  const pe = PLATFORM_EVENTS[i % PLATFORM_EVENTS.length]!;
  const bot = i % 5 === 0;
  const author = bot ? 'renovate[bot]' : `dev-${i % 500}`;
  const authorType = bot ? 'bot' : AUTHOR_TYPES[0]!;
  const url = `https://github.com/${repo}/pull/${number}`;
  const provenance = {
    platform: 'github',
    platform_event: pe,
    resource_id: `${repo}#${number}`,
    author,
    author_type: authorType,
    ...(kind === 'webhook' ? { delivery_id: `d${i.toString(16)}` } : {}),
    repo,
    url,
    pr_number: number,
  };
  const payload = { repo, number, title: `Change ${number}: tighten retries in the sync path`, url, body: 'Fixes the retry loop. '.repeat(6), action: pe.split('.')[1] ?? pe, author, author_type: authorType };
  return { eid, time, pe, at: authorType, dedupe: `${pe}:${i}`, json: JSON.stringify({ ...base, provenance, payload, ...tail }) };
}

interface Row {
  id: string;
  source: string;
  dedupe: string;
  json: string;
  trace: string;
  time: string;
  pe: string;
  at: string;
}

/** The `count` stored rows over the last 6 days, in the order they arrived. */
function* rows(dir: string, count: number): Generator<Row> {
  const kinds = sourceKinds(dir);
  const span = 6 * 86_400_000;
  const start = Date.now() - span;
  for (let i = 0; i < count; i++) {
    const ms = start + Math.floor((i * span) / count);
    let n = (i * 7919) % DEFAULTS.sources;
    // most of a cron source's draws go to the next non-cron source
    while (kinds.get(`src-${n}`) === 'cron' && i % 400 !== 0) n = (n + 1) % DEFAULTS.sources;
    const source = `src-${n}`;
    const e = stored(kinds.get(source) ?? 'webhook', source, i, ms);
    yield { id: e.eid, source, dedupe: e.dedupe, json: e.json, trace: `trc_${e.eid.slice(4)}`, time: e.time, pe: e.pe, at: e.at };
  }
}

/**
 * Replaces the store's events with `count` of them over the last 6 days. GitHub sources carry the
 * traffic; a cron source fires a few times a day, so its share is small, as in a real store.
 */
function fill(dir: string, file: string, count: number): void {
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = OFF');
  db.exec('DELETE FROM deliveries; DELETE FROM events;');
  // a store from before migrations 010 and 011 (BENCH_CLI naming an older build) lacks the match columns
  const columns = new Set((db.prepare('PRAGMA table_info(events)').all() as Array<{ name: string }>).map((c) => c.name));
  const match = (['platform_event', 'author_type'] as const).filter((c) => columns.has(c));
  const ev = db.prepare(
    `INSERT INTO events (id, source, type, dedupe_key, event_json, trace_id, parent_id, hops, received_at${match.map((c) => `, ${c}`).join('')}) VALUES (?, ?, ?, ?, ?, ?, NULL, 0, ?${match.map(() => ', ?').join('')})`,
  );
  const batch = db.transaction((list: Row[]) => {
    for (const e of list) ev.run(e.id, e.source, 'resource.changed', e.dedupe, e.json, e.trace, e.time, ...match.map((c) => (c === 'platform_event' ? e.pe : e.at)));
  });
  const list: Row[] = [];
  for (const e of rows(dir, count)) {
    list.push(e);
    if (list.length === 50_000) batch(list.splice(0));
  }
  batch(list);
  db.pragma('wal_checkpoint(TRUNCATE)');
  db.exec('ANALYZE');
  db.close();
}

/** fill, on a Postgres store (the schema named in `url`): multi-row inserts of 5,000. */
async function fillPostgres(dir: string, url: string, count: number): Promise<void> {
  const u = new URL(url);
  const schema = u.searchParams.get('schema')!;
  u.searchParams.delete('schema');
  const c = new pg.Client({ connectionString: u.toString(), options: `-c search_path=${schema}` });
  await c.connect();
  try {
    await c.query('DELETE FROM deliveries; DELETE FROM events');
    const insert = async (list: Row[]) =>
      c.query(
        `INSERT INTO events (id, source, type, dedupe_key, event_json, trace_id, parent_id, hops, received_at, platform_event, author_type)
         SELECT id, source, 'resource.changed', dedupe, json, trace, NULL, 0, t, pe, at
         FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[]) AS u(id, source, dedupe, json, trace, t, pe, at)`,
        [list.map((e) => e.id), list.map((e) => e.source), list.map((e) => e.dedupe), list.map((e) => e.json), list.map((e) => e.trace), list.map((e) => e.time), list.map((e) => e.pe), list.map((e) => e.at)],
      );
    const list: Row[] = [];
    for (const e of rows(dir, count)) {
      list.push(e);
      if (list.length === 5_000) await insert(list.splice(0));
    }
    if (list.length) await insert(list);
    await c.query('VACUUM ANALYZE events');
  } finally {
    await c.end();
  }
}

/** The Postgres server to also measure on (BENCH_TRAFFIC_PG=1 with BENCH_PG_URL or ORGLOOP_TEST_PG_URL), or null. */
function postgresUrl(): string | null {
  const admin = process.env.BENCH_PG_URL ?? process.env.ORGLOOP_TEST_PG_URL;
  return process.env.BENCH_TRAFFIC_PG === '1' && admin ? admin : null;
}

type Figures = Record<string, number | Record<string, number>>;

/** Applies the generated project to a store, then per size fills it and times plans through the CLI. */
async function measureOn(backend: 'sqlite' | 'postgres', dir: string, env: NodeJS.ProcessEnv, fillWith: (count: number) => Promise<void>): Promise<Record<string, Figures>> {
  const figures: Record<string, Figures> = {};
  writeProject(dir, DEFAULTS);
  await runCli(['apply', '--auto-approve'], { cwd: dir, env });
  for (const size of SIZES) {
    log(`plan-traffic (${backend}): filling ${size} events`);
    const t0 = performance.now();
    await fillWith(size);
    log(`plan-traffic (${backend}): filled in ${((performance.now() - t0) / 1000).toFixed(1)} s (load average ${loadAverage().join(' ')})`);
    const f: Figures = {};
    for (const changed of [0.01, 0.1]) {
      writeProject(dir, { ...DEFAULTS, changed });
      const cli = CLI_UNDER_TEST ? { cli: CLI_UNDER_TEST } : {};
      const time = async (args: string[]) => {
        const xs = [];
        for (let i = 0; i < RUNS; i++) xs.push(await runCli(args, { cwd: dir, env, ...cli, okCodes: [2] }));
        return { wall: round(median(xs.map((x) => x.wallMs)), 0), cpu: round(median(xs.map((x) => x.cpuMs)), 0), rss: round(Math.max(...xs.map((x) => x.peakRssMb))) };
      };
      const w = await time(['plan', '--no-traffic', '--detailed-exitcode']);
      const t_ = await time(['plan', '--detailed-exitcode']);
      const json = await runCli(['plan', '--json'], { cwd: dir, env, ...cli, okCodes: [0, 2] });
      const t = JSON.parse(json.stdout).traffic;
      const key = `${Math.round(changed * 100)}pct_changed`;
      const load = loadAverage()[0]!;
      f[key] = { plan_ms: t_.wall, plan_no_traffic_ms: w.wall, annotation_ms: t_.wall - w.wall, plan_cpu_ms: t_.cpu, plan_no_traffic_cpu_ms: w.cpu, annotation_cpu_ms: t_.cpu - w.cpu, peak_rss_mb: t_.rss, events_scanned: t.events, routes: t.routes.length, load_average_1m: load };
      log(`plan-traffic (${backend}) ${size} events, ${key}: ${t_.wall} ms wall / ${t_.cpu} ms CPU (no traffic ${w.wall} / ${w.cpu} ms), ${t.events} events of the affected sources scanned, load average ${load}`);
    }
    figures[String(size)] = f;
  }
  return figures;
}

export async function run(): Promise<BenchResult> {
  const dir = mkdtempSync(join(tmpdir(), 'orgloop-bench-traffic-'));
  const figures: Record<string, Record<string, Figures>> = {};
  const admin = postgresUrl();
  const schema = `orgloop_bench_traffic_${randomBytes(3).toString('hex')}`;
  try {
    figures.sqlite = await measureOn('sqlite', dir, {}, async (n) => fill(dir, join(dir, '.orgloop', 'state.db'), n));
    if (admin) {
      const u = new URL(admin);
      u.searchParams.set('schema', schema);
      const pgDir = mkdtempSync(join(tmpdir(), 'orgloop-bench-traffic-pg-'));
      try {
        figures.postgres = await measureOn('postgres', pgDir, { ORGLOOP_STATE: u.toString() }, (n) => fillPostgres(pgDir, u.toString(), n));
      } finally {
        rmSync(pgDir, { recursive: true, force: true });
      }
    }
    const checks = [];
    const info = [];
    for (const [backend, byBackend] of Object.entries(figures)) {
      const at = (size: number, key: string) => byBackend[String(size)]?.[key] as Record<string, number> | undefined;
      const big = at(1_000_000, '1pct_changed');
      const small = at(100_000, '1pct_changed');
      const label = backend === 'sqlite' ? '' : ` (${backend})`;
      if (big) checks.push({ target: `annotated plan, 1M events, 10k routes (1% changed) < 5 s${label}`, measured: `${big.plan_ms} ms wall / ${big.plan_cpu_ms} ms CPU (${big.events_scanned} events scanned)`, pass: big.plan_ms! < 5000 });
      if (small) checks.push({ target: `annotation over 100k events adds < 1 s${label}`, measured: `${small.annotation_ms} ms wall / ${small.annotation_cpu_ms} ms CPU`, pass: small.annotation_ms! < 1000 });
      for (const [size, f] of Object.entries(byBackend)) {
        for (const [k, v] of Object.entries(f)) {
          const x = v as Record<string, number>;
          info.push({ what: `${backend} ${size} events, ${k} (median of ${RUNS})`, measured: `plan ${x.plan_ms} ms / ${x.plan_cpu_ms} ms CPU, --no-traffic ${x.plan_no_traffic_ms} / ${x.plan_no_traffic_cpu_ms} ms CPU, ${x.events_scanned} events scanned, load ${x.load_average_1m}` });
        }
      }
    }
    return { name: 'plan-traffic', metrics: { project: { routes: DEFAULTS.routes, sources: DEFAULTS.sources }, runs: RUNS, figures }, checks, info };
  } finally {
    rmSync(dir, { recursive: true, force: true });
    if (admin) {
      const c = new pg.Client({ connectionString: admin });
      await c.connect();
      await c.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`).catch(() => {});
      await c.end();
    }
  }
}
