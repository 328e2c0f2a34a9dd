// Benchmark: plans annotated with stored traffic (issue 23). The 10,000-route generated project
// (bench/gen-project.ts) is applied, its store filled directly with BENCH_TRAFFIC_EVENTS events
// (default 1,000,000, then 100,000) spread over the last 6 days across its sources, with the
// event names, author types and ids its routes and transforms look at. Then, through the real
// CLI: `plan` of a project with 1% (and 10%) of routes changed, with the traffic annotation
// (7-day window) and with --no-traffic; wall time of the whole process, median of RUNS.
// Targets: over 1,000,000 events the annotated plan finishes in under 5 s; over 100,000 the
// annotation adds under 1 s.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { DEFAULTS, writeProject } from './gen-project.js';
import { log, median, round, runCli } from './lib/measure.js';
import type { BenchResult } from './lib/report.js';

const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const SIZES = (process.env.BENCH_TRAFFIC_EVENTS ?? '1000000,100000').split(',').map(Number);
const PLATFORM_EVENTS = ['pull_request.opened', 'pull_request_review.submitted', 'issue_comment.created', 'push', 'workflow_run.completed', 'release.published', 'deployment.created'];
const AUTHOR_TYPES = ['user', 'bot', 'system'];

function id(prefix: string, ms: number, n: number): string {
  return `${prefix}_${ms.toString(36).padStart(9, '0')}${n.toString(16).padStart(16, '0')}`;
}

/** Replaces the store's events with `count` of them over the last 6 days. */
function fill(file: string, count: number): void {
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = OFF');
  db.exec('DELETE FROM deliveries; DELETE FROM events;');
  const ev = db.prepare('INSERT INTO events (id, source, type, dedupe_key, event_json, trace_id, parent_id, hops, received_at) VALUES (?, ?, ?, ?, ?, ?, NULL, 0, ?)');
  const span = 6 * 86_400_000;
  const start = Date.now() - span;
  const batch = db.transaction((from: number, to: number) => {
    for (let i = from; i < to; i++) {
      const ms = start + Math.floor((i * span) / count);
      const t = new Date(ms).toISOString();
      const source = `src-${(i * 7919) % DEFAULTS.sources}`;
      const eid = id('evt', ms, i);
      const json = JSON.stringify({
        id: eid,
        type: 'resource.changed',
        source,
        time: t,
        provenance: { platform: 'github', platform_event: PLATFORM_EVENTS[i % PLATFORM_EVENTS.length], author_type: AUTHOR_TYPES[i % 3], author: `user-${i % 500}` },
        payload: { id: i % 5000, number: i, title: `Change ${i}`, body: 'x'.repeat(120) },
        trace_id: eid,
        hops: 0,
      });
      ev.run(eid, source, 'resource.changed', `k${i}`, json, eid, t);
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
      fill(state, size);
      const f: Record<string, number | Record<string, number>> = {};
      for (const changed of [0.01, 0.1]) {
        writeProject(dir, { ...DEFAULTS, changed });
        const time = async (args: string[]) => {
          const xs = [];
          for (let i = 0; i < RUNS; i++) xs.push(await runCli(args, { cwd: dir, okCodes: [2] }));
          return { wall: round(median(xs.map((x) => x.wallMs)), 0), cpu: round(median(xs.map((x) => x.cpuMs)), 0), rss: round(Math.max(...xs.map((x) => x.peakRssMb))) };
        };
        const w = await time(['plan', '--no-traffic', '--detailed-exitcode']);
        const t_ = await time(['plan', '--detailed-exitcode']);
        const without = w.wall;
        const withTraffic = t_.wall;
        const json = await runCli(['plan', '--json'], { cwd: dir, okCodes: [0, 2] });
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
