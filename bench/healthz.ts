// /healthz while large bodies arrive (issue 17 hole 11): three 25 MB bodies once made /healthz
// take 17.5 s, since reading, parsing and storing them ran on the event loop all at once. This
// posts BENCH_HEALTHZ_BODIES bodies of BENCH_HEALTHZ_BODY_MB (default 12 x 25 MB) from
// BENCH_HEALTHZ_SENDERS senders at once (default 4) to an executor, while another client asks
// /healthz every 50 ms, and reports the health answers' latencies and the executor's peak RSS.
// A measurement, not a pass/fail timing test: the figures go to docs/performance.md.

import { startExecutor } from './executor.js';
import { log, percentile, procMemory, round } from './lib/measure.js';
import type { BenchResult } from './lib/report.js';

const BODIES = Number(process.env.BENCH_HEALTHZ_BODIES ?? 12);
const BODY_MB = Number(process.env.BENCH_HEALTHZ_BODY_MB ?? 25);
const SENDERS = Number(process.env.BENCH_HEALTHZ_SENDERS ?? 4);
const TARGET_MS = 1000;

const project = `
sources:
  - id: big
    connector: webhook
    config: { max_body: ${BODY_MB + 1}MB }
actors:
  - id: sink
    connector: command
    config: { command: "true" }
routes:
  - name: big
    when: { source: big }
    then: { actor: sink }
`;

export async function run(): Promise<BenchResult> {
  const ex = await startExecutor(project);
  // a body of the size GitHub sends at most: one large string field, as diffs and logs are
  const filler = 'x'.repeat(Math.max(0, BODY_MB * 1024 * 1024 - 100));
  const latencies: number[] = [];
  let failures = 0;
  let peak = 0;
  let polling = true;
  const sampler = setInterval(() => (peak = Math.max(peak, procMemory(ex.pid).rssMb)), 100);
  const poller = (async () => {
    while (polling) {
      const t = performance.now();
      try {
        const r = await fetch(`${ex.url}/healthz`, { signal: AbortSignal.timeout(30_000) });
        await r.arrayBuffer();
        if (r.status !== 200) failures++;
      } catch {
        failures++;
      }
      latencies.push(performance.now() - t);
      await new Promise((r) => setTimeout(r, 50));
    }
  })();
  const t0 = performance.now();
  let next = 0;
  let acked = 0;
  try {
    // a few answers before the load, for the idle figure
    await new Promise((r) => setTimeout(r, 500));
    const idle = latencies.length;
    const sender = async () => {
      while (next < BODIES) {
        const i = next++;
        const body = `{"id":"big-${i}","blob":"${filler}"}`;
        const res = await fetch(`${ex.url}/webhook/big`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
        await res.arrayBuffer();
        if (res.status >= 200 && res.status < 300) acked++;
        else log(`healthz: body ${i}: HTTP ${res.status}`);
      }
    };
    await Promise.all(Array.from({ length: SENDERS }, sender));
    const seconds = (performance.now() - t0) / 1000 - 0.5;
    polling = false;
    await poller;
    clearInterval(sampler);
    const loaded = latencies.slice(idle).sort((a, b) => a - b);
    const m = {
      bodies: BODIES,
      body_mb: BODY_MB,
      senders: SENDERS,
      acked,
      ingest_seconds: round(seconds, 1),
      healthz_answers: loaded.length,
      healthz_failures: failures,
      healthz_ms_idle_max: round(Math.max(...latencies.slice(0, idle)), 1),
      healthz_ms_p50: round(percentile(loaded, 50), 1),
      healthz_ms_p99: round(percentile(loaded, 99), 1),
      healthz_ms_max: round(loaded.at(-1) ?? 0, 1),
      rss_mb_peak: round(peak, 0),
    };
    log(`healthz: ${JSON.stringify(m)}`);
    return {
      name: 'healthz',
      metrics: m,
      checks: [
        {
          target: `/healthz under ${TARGET_MS} ms while ${SENDERS} senders post ${BODIES} x ${BODY_MB} MB`,
          measured: `max ${m.healthz_ms_max} ms, p99 ${m.healthz_ms_p99} ms, p50 ${m.healthz_ms_p50} ms over ${m.healthz_answers} answers (${failures} failed)`,
          pass: m.healthz_ms_max < TARGET_MS && failures === 0 && acked === BODIES,
        },
      ],
      info: [{ what: 'ingest', measured: `${acked} / ${BODIES} acknowledged in ${m.ingest_seconds} s; executor peak RSS ${m.rss_mb_peak} MB` }],
    };
  } finally {
    polling = false;
    clearInterval(sampler);
    await ex.stop().catch(() => {});
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  run().then((r) => process.stdout.write(JSON.stringify(r, null, 2) + '\n'));
}
