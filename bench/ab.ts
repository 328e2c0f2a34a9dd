// Same-host A/B of executor builds: the c=64 throughput run of bench/executor.ts, alternating the
// builds round by round so that each sees the same drift of a shared host, and reporting medians.
//
//   node --import tsx bench/ab.ts <label>=<path to cmd/main.js>[=<ENV>:<value>,...] ...
//   e.g. cp -r dist /tmp/before-dist && ... && node --import tsx bench/ab.ts \
//          before=/tmp/before-dist/cmd/main.js after=dist/cmd/main.js prefetch0=dist/cmd/main.js=ORGLOOP_PREFETCH:0
//   A relay floor of bench/lib/relay.mjs takes an executor's place with `<label>=relay:memory|durable|records`,
//   and BENCH_EXECUTOR_NODE_ARGS in a build's settings gives its executor node flags.
//
// Knobs: AB_ROUNDS (default 3), BENCH_EVENTS (10,000, after a 500-event warm-up), AB_CONCURRENCY (64). A build copied out of
// the repository must stay where node can resolve the repository's node_modules (say, .ab/).

import { EVENTS, loadThrough, LoadWorker, startExecutor, startRelay, throughputProject } from './executor.js';
import { parseBuild, type Build } from './lib/build-arg.js';
import { median, round } from './lib/measure.js';

const C = Number(process.env.AB_CONCURRENCY ?? 64);
const ROUNDS = Number(process.env.AB_ROUNDS ?? 3);

const USAGE = 'usage: node --import tsx bench/ab.ts <label>=<path to cmd/main.js>[=ENV:value,...] ...';
let builds: Build[] = [];
try {
  builds = process.argv.slice(2).map(parseBuild);
} catch (err) {
  console.error(`${(err as Error).message}\n${USAGE}`);
  process.exit(2);
}
if (builds.length === 0) {
  console.error(USAGE);
  process.exit(2);
}

const lw = await LoadWorker.start();
const rows = new Map<string, Array<Record<string, number>>>();
try {
  const { url: sinkUrl } = await lw.call<{ url: string }>('sink');
  for (let i = 0; i < ROUNDS; i++) {
    for (const b of builds) {
      const ceiling = await lw.call('load', { url: `${sinkUrl}/direct`, run: `ab-direct-${i}-${b.label}`, n: EVENTS, concurrency: C });
      const ex = b.relay ? await startRelay(sinkUrl, b.relay) : await startExecutor(throughputProject(sinkUrl), b.env, b.cli);
      try {
        const m = await loadThrough(lw, ex, C, `ab-${i}-${b.label}`);
        const row = {
          events_per_s: round(m.result.events_per_s, 0),
          ceiling: round(ceiling.events_per_s, 0),
          ratio: round(m.result.events_per_s / ceiling.events_per_s, 3),
          cpu_ms_per_event: round(m.cpuPerEvent, 3),
          main_ms_per_event: round(m.mainPerEvent, 3),
          peak_rss_mb: round(m.peakMb),
          e2e_p99_ms: round(m.result.e2e_ms.p99),
          lost: m.result.lost,
          duplicated: m.result.duplicated,
        };
        rows.set(b.label, [...(rows.get(b.label) ?? []), row]);
        console.log(b.label, JSON.stringify(row));
      } finally {
        await ex.stop();
      }
    }
  }
} finally {
  lw.close();
}
const summary = Object.fromEntries(
  [...rows].map(([label, rs]) => [label, Object.fromEntries(Object.keys(rs[0]!).map((k) => [k, median(rs.map((r) => r[k]!))]))]),
);
console.log(JSON.stringify({ medians: summary }, null, 2));
