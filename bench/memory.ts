// Bounded memory (issue 17 item 3): 1,000 events of 5 MB posted to an executor whose only actor
// has stalled (it takes each request and never answers), while the executor's RSS is sampled.
// Its memory must stay bounded by its settings (event memory, prefetch), not by the backlog:
// peak RSS under 250 MB. Afterwards every event must be in the store with its delivery.
// BENCH_MEMORY_EVENTS / BENCH_MEMORY_EVENT_MB shrink it for a quick look; BENCH_MEMORY_SENDERS
// (default 1) posts that many at once (the ingress reads that many bodies at once and works on them
// one at a time, as its ingest budget allows: ORGLOOP_INGEST_BUDGET).

import http from 'node:http';
import Database from 'better-sqlite3';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { startExecutor } from './executor.js';
import { log, procMemory, round } from './lib/measure.js';
import type { BenchResult } from './lib/report.js';

const EVENTS = Number(process.env.BENCH_MEMORY_EVENTS ?? 1000);
const EVENT_MB = Number(process.env.BENCH_MEMORY_EVENT_MB ?? 5);
const SENDERS = Number(process.env.BENCH_MEMORY_SENDERS ?? 1);
const TARGET_MB = 250;

/** An actor that reads every request and never answers: deliveries hang until their timeout. */
async function stalledActor(): Promise<{ url: string; requests: () => number; close: () => Promise<void> }> {
  let requests = 0;
  const held: http.ServerResponse[] = [];
  const server = http.createServer((req, res) => {
    requests++;
    req.resume();
    held.push(res);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests: () => requests,
    close: async () => {
      for (const res of held) res.destroy();
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  };
}

function project(actorUrl: string): string {
  return `
sources:
  - id: big
    connector: webhook
    config: { max_body: ${EVENT_MB + 1}MB }
actors:
  - id: stalled
    connector: webhook
    config: { url: ${actorUrl}/hook }
routes:
  - name: big
    when: { source: big }
    then: { actor: stalled }
    delivery: { timeout: 1h }
`;
}

export async function run(): Promise<BenchResult> {
  const actor = await stalledActor();
  const ex = await startExecutor(project(actor.url));
  const filler = 'x'.repeat(EVENT_MB * 1024 * 1024);
  let peak = 0;
  let baseline = procMemory(ex.pid).rssMb;
  const sampler = setInterval(() => (peak = Math.max(peak, procMemory(ex.pid).rssMb)), 100);
  const t0 = performance.now();
  let sent = 0;
  let acked = 0;
  try {
    baseline = procMemory(ex.pid).rssMb;
    const sender = async () => {
      while (sent < EVENTS) {
        const i = sent++;
        const body = `{"id":"big-${i}","n":${i},"blob":"${filler}"}`;
        const res = await fetch(`${ex.url}/webhook/big`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-request-id': `big-${i}` }, body });
        await res.arrayBuffer();
        if (res.status >= 200 && res.status < 300) acked++;
        else throw new Error(`event ${i}: HTTP ${res.status}`);
        if (i % 100 === 99) log(`memory: ${i + 1} events posted, executor RSS ${round(procMemory(ex.pid).rssMb, 0)} MB (peak ${round(peak, 0)}), ${actor.requests()} requests at the stalled actor`);
      }
    };
    await Promise.all(Array.from({ length: SENDERS }, sender));
    // a few more samples once everything is in
    await new Promise((r) => setTimeout(r, 2000));
  } finally {
    clearInterval(sampler);
  }
  const end = procMemory(ex.pid);
  peak = Math.max(peak, end.rssMb);
  const seconds = (performance.now() - t0) / 1000;
  const stalledRequests = actor.requests();
  // counted before stop() removes the project (payloads are not read: they are 5 GB)
  const db = new Database(join(ex.dir, '.orgloop', 'state.db'), { readonly: true });
  const count = (sql: string) => (db.prepare(sql).get() as { n: number }).n;
  const events = count("SELECT count(*) AS n FROM events WHERE source = 'big'");
  const deliveries = count("SELECT count(*) AS n FROM deliveries WHERE route = 'big'");
  db.close();
  await ex.stop().catch(() => {});
  await actor.close();
  const m = {
    events: EVENTS,
    event_mb: EVENT_MB,
    acked,
    seconds: round(seconds, 1),
    rss_mb_start: round(baseline, 0),
    rss_mb_peak: round(peak, 0),
    rss_mb_end: round(end.rssMb, 0),
    vm_hwm_mb: round(end.peakMb, 0),
    stalled_actor_requests: stalledRequests,
    events_stored: events,
    deliveries_stored: deliveries,
  };
  log(`memory: ${JSON.stringify(m)}`);
  return {
    name: 'memory',
    metrics: m,
    checks: [
      { target: `${EVENTS} events of ${EVENT_MB} MB to a stalled actor: peak RSS < ${TARGET_MB} MB`, measured: `${m.rss_mb_peak} MB (VmHWM ${m.vm_hwm_mb} MB, ${m.rss_mb_start} MB at start)`, pass: m.vm_hwm_mb < TARGET_MB && acked === EVENTS && events === EVENTS && deliveries === EVENTS },
    ],
    info: [{ what: 'acknowledged / posted', measured: `${acked} / ${EVENTS} in ${m.seconds} s; ${events} events and ${deliveries} deliveries stored; ${stalledRequests} requests held by the stalled actor` }],
  };
}
