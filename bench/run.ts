// `npm run bench [-- NAME...]`: runs the benchmarks (all, or the named ones), prints a table of
// targets vs measured figures, and writes every figure to bench/results/latest.json.
// Names: plan-apply, executor, latency, routing, fanout, idle, heap, memory, healthz, console, retention,
// plan-traffic, and on Postgres (BENCH_PG_URL or ORGLOOP_TEST_PG_URL; skipped without): pg-throughput,
// pg-share, pg-share-slow (the actor answers after BENCH_PG_ACTOR_MS, default 50), pg-share-hosts
// (each executor on BENCH_PG_HOST_CORES of a core of its own, default 0.5), pg-failover, pg-idle.

import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { loadAverage, log, ROOT } from './lib/measure.js';
import { table, type BenchResult } from './lib/report.js';

const BENCHES: Record<string, () => Promise<BenchResult>> = {
  'plan-apply': async () => (await import('./plan-apply.js')).run(),
  executor: async () => (await import('./executor.js')).runThroughput(),
  latency: async () => (await import('./executor.js')).runLatency(),
  routing: async () => (await import('./routing.js')).run(),
  fanout: async () => (await import('./executor.js')).runFanout(),
  idle: async () => (await import('./idle.js')).run(),
  heap: async () => (await import('./heap.js')).run(),
  memory: async () => (await import('./memory.js')).run(),
  healthz: async () => (await import('./healthz.js')).run(),
  console: async () => (await import('./console.js')).run(),
  retention: async () => (await import('./retention.js')).run(),
  'plan-traffic': async () => (await import('./plan-traffic.js')).run(),
  'pg-throughput': async () => (await import('./pg-scale.js')).runThroughput(),
  'pg-share': async () => (await import('./pg-scale.js')).runShare(),
  'pg-share-slow': async () => (await import('./pg-scale.js')).runShare(Number(process.env.BENCH_PG_ACTOR_MS ?? 50)),
  'pg-share-hosts': async () => (await import('./pg-scale.js')).runShare(0, Number(process.env.BENCH_PG_HOST_CORES ?? 0.5)),
  'pg-failover': async () => (await import('./pg-scale.js')).runFailover(),
  'pg-idle': async () => (await import('./pg-scale.js')).runIdle(),
};

async function main(): Promise<void> {
  const args = process.argv.slice(2).filter((a) => a !== '--');
  if (args.includes('-h') || args.includes('--help')) {
    process.stdout.write(`usage: npm run bench [-- NAME...]\nbenchmarks: ${Object.keys(BENCHES).join(', ')}\n`);
    return;
  }
  const unknown = args.filter((a) => !(a in BENCHES));
  if (unknown.length) {
    process.stderr.write(`unknown benchmark ${unknown.join(', ')}; known: ${Object.keys(BENCHES).join(', ')}\n`);
    process.exit(1);
  }
  const names = args.length ? args : Object.keys(BENCHES);
  const started = new Date();
  const loadBefore = loadAverage();
  const results: BenchResult[] = [];
  const failed: Array<{ name: string; error: string }> = [];
  for (const name of names) {
    log(`${name}: starting (load average ${loadAverage().join(' ')})`);
    const t0 = performance.now();
    try {
      results.push(await BENCHES[name]!());
    } catch (err) {
      failed.push({ name, error: (err as Error).stack ?? String(err) });
      log(`${name} failed: ${(err as Error).message}`);
    }
    log(`${name}: done in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  }
  const doc = {
    started_at: started.toISOString(),
    duration_s: Math.round((Date.now() - started.getTime()) / 1000),
    machine: { cpus: cpus().length, cpu_model: cpus()[0]?.model, mem_gb: Math.round(totalmem() / 2 ** 30), node: process.version, load_average_before: loadBefore, load_average_after: loadAverage() },
    results,
    failed,
  };
  const dir = join(ROOT, 'bench/results');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'latest.json'), JSON.stringify(doc, null, 2) + '\n');
  process.stdout.write(`\n${table(results)}\n\n`);
  process.stdout.write(`machine: ${doc.machine.cpus} cpus, load average before ${loadBefore.join(' ')}, after ${doc.machine.load_average_after.join(' ')}; ${doc.duration_s} s total\n`);
  process.stdout.write(`results: bench/results/latest.json\n`);
  if (failed.length) {
    for (const f of failed) process.stderr.write(`\n${f.name} failed:\n${f.error}\n`);
    process.exit(1);
  }
}

await main();
