// Benchmark: plans annotated with stored traffic (issue 23). The 10,000-route generated project
// (bench/gen-project.ts) is applied, its store filled directly with BENCH_TRAFFIC_EVENTS events
// (default 1,000,000, then 100,000) spread over the last 6 days across its sources, with the
// event names, author types and ids its routes and transforms look at. Then, through the real
// CLI: `plan` of a project with 1% (and 10%) of routes changed, with the traffic annotation
// (7-day window) and with --no-traffic; wall time of the whole process, median of RUNS.
// Targets: over 1,000,000 events the annotated plan finishes in under 5 s; over 100,000 the
// annotation adds under 1 s.

import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { AUTHOR_TYPES, DEFAULTS, PLATFORM_EVENTS, writeProject } from './gen-project.js';
import { log, median, round, runCli } from './lib/measure.js';
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

/**
 * Replaces the store's events with `count` of them over the last 6 days. GitHub sources carry the
 * traffic; a cron source fires a few times a day, so its share is small, as in a real store.
 */
export function fill(dir: string, file: string, count: number): void {
  const kinds = sourceKinds(dir);
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = OFF');
  db.exec('DELETE FROM deliveries; DELETE FROM events;');
  // a store from before migrations 010 and 011 (BENCH_CLI naming an older build) lacks the match columns
  const columns = new Set((db.prepare('PRAGMA table_info(events)').all() as Array<{ name: string }>).map((c) => c.name));
  const match = ['platform_event', 'author_type'].filter((c) => columns.has(c));
  const ev = db.prepare(
    `INSERT INTO events (id, source, type, dedupe_key, event_json, trace_id, parent_id, hops, received_at${match.map((c) => `, ${c}`).join('')}) VALUES (?, ?, ?, ?, ?, ?, NULL, 0, ?${match.map(() => ', ?').join('')})`,
  );
  const span = 6 * 86_400_000;
  const start = Date.now() - span;
  const batch = db.transaction((from: number, to: number) => {
    for (let i = from; i < to; i++) {
      const ms = start + Math.floor((i * span) / count);
      let n = (i * 7919) % DEFAULTS.sources;
      // most of a cron source's draws go to the next non-cron source
      while (kinds.get(`src-${n}`) === 'cron' && i % 400 !== 0) n = (n + 1) % DEFAULTS.sources;
      const source = `src-${n}`;
      const e = stored(kinds.get(source) ?? 'webhook', source, i, ms);
      const row = [e.eid, source, 'resource.changed', e.dedupe, e.json, `trc_${e.eid.slice(4)}`, e.time];
      const values: Record<string, string> = { platform_event: e.pe, author_type: e.at };
      ev.run(...row, ...match.map((c) => values[c]));
    }
  });
  for (let i = 0; i < count; i += 50_000) batch(i, Math.min(count, i + 50_000));
  db.pragma('wal_checkpoint(TRUNCATE)');
  db.exec('ANALYZE');
  db.close();
}

export async function run(): Promise<BenchResult> {
  const dir = mkdtempSync(join(tmpdir(), 'orgloop-bench-traffic-'));
  const figures: Record<string, Record<string, number | Record<string, number>>> = {};
  try {
    writeProject(dir, DEFAULTS);
    await runCli(['apply', '--auto-approve'], { cwd: dir });
    const state = join(dir, '.orgloop', 'state.db');
    for (const size of SIZES) {
      log(`plan-traffic: filling ${size} events`);
      fill(dir, state, size);
      const f: Record<string, number | Record<string, number>> = {};
      for (const changed of [0.01, 0.1]) {
        writeProject(dir, { ...DEFAULTS, changed });
        const time = async (args: string[]) => {
          const xs = [];
          for (let i = 0; i < RUNS; i++) xs.push(await runCli(args, { cwd: dir, ...(CLI_UNDER_TEST ? { cli: CLI_UNDER_TEST } : {}), okCodes: [2] }));
          return { wall: round(median(xs.map((x) => x.wallMs)), 0), cpu: round(median(xs.map((x) => x.cpuMs)), 0), rss: round(Math.max(...xs.map((x) => x.peakRssMb))) };
        };
        const w = await time(['plan', '--no-traffic', '--detailed-exitcode']);
        const t_ = await time(['plan', '--detailed-exitcode']);
        const without = w.wall;
        const withTraffic = t_.wall;
        const json = await runCli(['plan', '--json'], { cwd: dir, ...(CLI_UNDER_TEST ? { cli: CLI_UNDER_TEST } : {}), okCodes: [0, 2] });
        const t = JSON.parse(json.stdout).traffic;
        const key = `${Math.round(changed * 100)}pct_changed`;
        f[key] = { plan_ms: withTraffic, plan_no_traffic_ms: without, annotation_ms: withTraffic - without, plan_cpu_ms: t_.cpu, plan_no_traffic_cpu_ms: w.cpu, peak_rss_mb: t_.rss, events_scanned: t.events, routes: t.routes.length };
        log(`plan-traffic ${size} events, ${key}: ${withTraffic} ms (no traffic ${without} ms), ${t.events} events of the affected sources scanned`);
      }
      figures[String(size)] = f;
    }
    const at = (size: number, key: string) => figures[String(size)]?.[key] as Record<string, number> | undefined;
    const big = at(1_000_000, '1pct_changed');
    const small = at(100_000, '1pct_changed');
    return {
      name: 'plan-traffic',
      metrics: { project: { routes: DEFAULTS.routes, sources: DEFAULTS.sources }, runs: RUNS, figures },
      checks: [
        ...(big ? [{ target: 'annotated plan, 1M events, 10k routes (1% changed) < 5 s', measured: `${big.plan_ms} ms (${big.events_scanned} events scanned)`, pass: big.plan_ms! < 5000 }] : []),
        ...(small ? [{ target: 'annotation over 100k events adds < 1 s', measured: `${small.annotation_ms} ms`, pass: small.annotation_ms! < 1000 }] : []),
      ],
      info: Object.entries(figures).flatMap(([size, f]) =>
        Object.entries(f).map(([k, v]) => {
          const x = v as Record<string, number>;
          return { what: `${size} events, ${k} (median of ${RUNS})`, measured: `plan ${x.plan_ms} ms, --no-traffic ${x.plan_no_traffic_ms} ms, ${x.events_scanned} events scanned` };
        }),
      ),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
