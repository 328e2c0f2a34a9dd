// Benchmarks 2, 3 and 5: the executor (`orgloop start`, the real CLI as a child process) between
// a load generator and a sink that live in another process (bench/lib/load-worker.ts).
//
//   throughput  webhook source -> one route -> webhook actor -> sink; 10,000 events at concurrency
//               1, 16 and 64 (closed loop), each against a fresh executor and state; the same load
//               straight to the sink, right before and right after, is the bare-HTTP ceiling
//               (the mean of the two); at the top level the same load
//               also goes through two floors (bench/lib/relay.mjs): a relay that stores nothing
//               and the least an at-least-once relay must store.
//   latency     200 events/s for 30 s (open loop): end-to-end p50/p99.
//   fanout      one event matching 50 routes: time until the 50th delivery arrives; and a chain of
//               5 actor.stopped hops (the sink calls /callback/<actor> like an agent finishing).

import { fork, spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLI, log, procCpuMs, procMemory, round, runCli } from './lib/measure.js';
import type { BenchResult } from './lib/report.js';

export const EVENTS = Number(process.env.BENCH_EVENTS ?? 10_000);
const WARMUP = 500;

export class LoadWorker {
  private seq = 0;
  private pending = new Map<number, { res: (v: any) => void; rej: (e: Error) => void }>();
  private constructor(private readonly proc: ChildProcess) {
    proc.on('message', (m: any) => {
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      if (m.error) p.rej(new Error(m.error));
      else p.res(m.result);
    });
  }

  static async start(): Promise<LoadWorker> {
    const proc = fork(join(import.meta.dirname, 'lib/load-worker.ts'), [], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    await new Promise<void>((res, rej) => {
      proc.once('message', () => res());
      proc.once('exit', (code) => rej(new Error(`load worker exited ${code}`)));
    });
    return new LoadWorker(proc);
  }

  call<T = any>(op: string, args: Record<string, unknown> = {}): Promise<T> {
    const id = ++this.seq;
    return new Promise((res, rej) => {
      this.pending.set(id, { res, rej });
      this.proc.send({ id, op, ...args });
    });
  }

  get pid(): number {
    return this.proc.pid!;
  }

  close(): void {
    this.proc.disconnect();
  }
}

export interface RunningExecutor {
  url: string;
  pid: number;
  dir: string;
  stop(): Promise<void>;
}

/** Writes `yaml` into a fresh project, applies it, and starts `orgloop start --port 0 --quiet`. */
export async function startExecutor(yaml: string, env: NodeJS.ProcessEnv = {}, cli = CLI): Promise<RunningExecutor> {
  const dir = mkdtempSync(join(tmpdir(), 'orgloop-bench-exec-'));
  writeFileSync(join(dir, 'orgloop.yaml'), yaml);
  // applied by the build under test: another build's store may carry a schema it does not know
  await runCli(['apply', '--auto-approve'], { cwd: dir, env, cli });
  // BENCH_EXECUTOR_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" profiles the executor under load
  // (from `env` first, so bench/ab.ts can compare node flags)
  const nodeArgs = (env.BENCH_EXECUTOR_NODE_ARGS ?? process.env.BENCH_EXECUTOR_NODE_ARGS ?? '').split(/\s+/).filter(Boolean);
  return spawnListening('executor', [...nodeArgs, cli, 'start', '--port', '0', '--quiet'], dir, { ...process.env, NO_COLOR: '1', ...env });
}

export type RelayMode = 'memory' | 'durable' | 'records';

/** Starts bench/lib/relay.mjs in a fresh directory. */
export function startRelay(sinkUrl: string, mode: RelayMode): Promise<RunningExecutor> {
  const dir = mkdtempSync(join(tmpdir(), 'orgloop-bench-relay-'));
  return spawnListening('relay', [join(import.meta.dirname, 'lib/relay.mjs'), sinkUrl, mode, join(dir, 'relay.db')], dir, process.env);
}

/** Spawns a node process in `dir` and waits until it prints "listening on <url>"; stop() ends it and removes `dir`. */
export async function spawnListening(what: string, args: string[], dir: string, env: NodeJS.ProcessEnv): Promise<RunningExecutor> {
  const proc = spawn(process.execPath, args, { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const url = await new Promise<string>((res, rej) => {
    const timer = setTimeout(() => rej(new Error(`${what} did not start:\n${out}`)), 30_000);
    const onData = (c: Buffer) => {
      out += c.toString();
      const m = /listening on (http:\/\/[\d.]+:\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        res(m[1]!);
      }
    };
    proc.stdout!.on('data', onData);
    proc.stderr!.on('data', onData);
    proc.once('exit', (code) => {
      clearTimeout(timer);
      rej(new Error(`${what} exited ${code}:\n${out}`));
    });
  });
  // BENCH_EXECUTOR_LOG=<file> keeps what the process prints (say, with --trace-gc) instead of dropping it
  const keep = process.env.BENCH_EXECUTOR_LOG ? createWriteStream(process.env.BENCH_EXECUTOR_LOG, { flags: 'a' }) : null;
  if (keep) {
    proc.stdout!.pipe(keep);
    proc.stderr!.pipe(keep);
  } else {
    proc.stdout!.resume();
    proc.stderr!.resume();
  }
  return {
    url,
    pid: proc.pid!,
    dir,
    stop: async () => {
      // a process already gone (killed by the benchmark) has nothing left to wait for
      const exited = new Promise<void>((r) => (proc.exitCode !== null || proc.signalCode !== null ? r() : proc.once('exit', () => r())));
      proc.kill('SIGTERM');
      const t = setTimeout(() => proc.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(t);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The same closed-loop load through a relay floor: events/s, ratio of the ceiling, CPU per event. */
async function relayFloor(lw: LoadWorker, sinkUrl: string, mode: RelayMode, c: number, ceiling: number) {
  const relay = await startRelay(sinkUrl, mode);
  try {
    const { result: r, cpuPerEvent } = await loadThrough(lw, relay, c, `relay-${mode}-${c}`);
    return { events_per_s: round(r.events_per_s, 0), ratio_of_ceiling: round(r.events_per_s / ceiling, 3), cpu_ms_per_event: round(cpuPerEvent, 3), lost: r.lost, duplicated: r.duplicated };
  } finally {
    await relay.stop();
  }
}

/** `actorMs`: the sink answers that long after a delivery arrives (an actor that works), else at once. */
export function throughputProject(sinkUrl: string, actorMs = 0): string {
  return `sources:
  - id: hook
    connector: webhook
actors:
  - id: sink
    connector: webhook
    config: { url: "${sinkUrl}${actorMs > 0 ? `/slow/${actorMs}` : ''}/orgloop", timeout: 30s }
routes:
  - name: to-sink
    when: { source: hook, events: [resource.changed] }
    then: { actor: sink }
`;
}

/**
 * The closed-loop load through a running executor (or relay floor, which answers on any path) after a warm-up: the load worker's figures and
 * the executor's CPU per event (all threads, main thread; the settle wait is idle, so these stay
 * comparable on a busy machine) and peak RSS.
 */
export async function loadThrough(lw: LoadWorker, ex: RunningExecutor, c: number, run: string, afterWarmup?: () => Promise<void>, warmup = WARMUP) {
  const ingress = `${ex.url}/webhook/hook`;
  await lw.call('load', { url: ingress, run: `warm-${run}`, n: warmup, concurrency: c });
  await afterWarmup?.();
  const cpu0 = procCpuMs(ex.pid);
  const main0 = procCpuMs(ex.pid, ex.pid);
  const result = await lw.call('load', { url: ingress, run, n: EVENTS, concurrency: c });
  return {
    result,
    cpuPerEvent: (procCpuMs(ex.pid) - cpu0) / EVENTS,
    mainPerEvent: (procCpuMs(ex.pid, ex.pid) - main0) / EVENTS,
    peakMb: procMemory(ex.pid).peakMb,
  };
}

export async function runThroughput(): Promise<BenchResult> {
  const lw = await LoadWorker.start();
  const levels: Record<string, unknown> = {};
  try {
    const { url: sinkUrl } = await lw.call<{ url: string }>('sink');
    const levelsWanted = (process.env.BENCH_LEVELS ?? '1,16,64').split(',').map(Number);
    for (const c of levelsWanted) {
      // The ceiling moves by 2x within minutes on a shared host: measure it right before and right
      // after orgloop's run and compare against the mean of the two.
      const direct = (when: string) => lw.call('load', { url: `${sinkUrl}/direct`, run: `direct-${c}-${when}`, n: EVENTS, concurrency: c });
      const before = await direct('before');
      const ex = await startExecutor(throughputProject(sinkUrl));
      let level: Record<string, any>;
      try {
        const m = await loadThrough(lw, ex, c, `orgloop-${c}`);
        level = { concurrency: c, orgloop: m.result, bare_http: before, executor_peak_rss_mb: round(m.peakMb), executor_cpu_ms_per_event: round(m.cpuPerEvent, 3), executor_main_thread_cpu_ms_per_event: round(m.mainPerEvent, 3) };
      } finally {
        await ex.stop();
      }
      level.bare_http_after = await direct('after');
      level.ceiling_events_per_s = (before.events_per_s + level.bare_http_after.events_per_s) / 2;
      level.ratio_of_ceiling = level.orgloop.events_per_s / level.ceiling_events_per_s;
      levels[`c${c}`] = level;
      const r = level.orgloop;
      log(`executor c=${c}: ${round(r.events_per_s, 0)} ev/s (ceiling ${round(before.events_per_s, 0)} before, ${round(level.bare_http_after.events_per_s, 0)} after), e2e p99 ${round(r.e2e_ms.p99)} ms, lost ${r.lost}, dup ${r.duplicated}, peak ${level.executor_peak_rss_mb} MB, cpu ${level.executor_cpu_ms_per_event} ms/event (main thread ${level.executor_main_thread_cpu_ms_per_event})`);
      if (c === levelsWanted[levelsWanted.length - 1]) {
        level.relay_memory = await relayFloor(lw, sinkUrl, 'memory', c, level.ceiling_events_per_s);
        level.relay_durable = await relayFloor(lw, sinkUrl, 'durable', c, level.ceiling_events_per_s);
        level.relay_records = await relayFloor(lw, sinkUrl, 'records', c, level.ceiling_events_per_s);
        log(`floors c=${c}: relay storing nothing ${JSON.stringify(level.relay_memory)}; durable relay ${JSON.stringify(level.relay_durable)}; relay writing orgloop's records ${JSON.stringify(level.relay_records)}`);
      }
    }
  } finally {
    lw.close();
  }
  const c64 = (levels.c64 ?? Object.values(levels).pop()) as any;
  const info = Object.values(levels).map((l: any) => ({
    what: `concurrency ${l.concurrency}`,
    measured:
      `${round(l.orgloop.events_per_s, 0)} ev/s (bare ${round(l.ceiling_events_per_s, 0)}: ${round(l.bare_http.events_per_s, 0)} before, ${round(l.bare_http_after.events_per_s, 0)} after; ${round(l.ratio_of_ceiling * 100, 0)}%), ` +
      `ingress p50/p99 ${round(l.orgloop.ingress_ms.p50)}/${round(l.orgloop.ingress_ms.p99)} ms, ` +
      `e2e p50/p95/p99 ${round(l.orgloop.e2e_ms.p50)}/${round(l.orgloop.e2e_ms.p95)}/${round(l.orgloop.e2e_ms.p99)} ms, ` +
      `lost ${l.orgloop.lost}, dup ${l.orgloop.duplicated}, RSS ${l.executor_peak_rss_mb} MB, executor CPU ${l.executor_cpu_ms_per_event} ms/event (main thread ${l.executor_main_thread_cpu_ms_per_event})`,
  }));
  for (const l of Object.values(levels) as any[]) {
    for (const [key, what] of [['relay_memory', 'relay storing nothing'], ['relay_durable', 'durable relay (insert + mark delivered, group commit, synchronous=FULL)'], ['relay_records', "relay writing orgloop's records through its store (event, leased delivery, completion, 3 log rows)"]] as const) {
      const f = l[key];
      if (f) info.push({ what: `floor at concurrency ${l.concurrency}: ${what}`, measured: `${f.events_per_s} ev/s (${round(f.ratio_of_ceiling * 100, 0)}% of bare), CPU ${f.cpu_ms_per_event} ms/event, lost ${f.lost}` });
    }
  }
  return {
    name: 'executor',
    metrics: { events: EVENTS, warmup: WARMUP, levels },
    checks: [
      { target: '>= 3,000 events/s e2e at concurrency 64', measured: `${round(c64.orgloop.events_per_s, 0)} ev/s`, pass: c64.orgloop.events_per_s >= 3000 },
      { target: '0 lost, 0 duplicated (all levels)', measured: Object.values(levels).map((l: any) => `${l.orgloop.lost}/${l.orgloop.duplicated}`).join(', '), pass: Object.values(levels).every((l: any) => l.orgloop.lost === 0 && l.orgloop.duplicated === 0 && l.orgloop.ingress_errors === 0) },
      { target: '>= 40% of bare-HTTP ceiling at concurrency 64', measured: `${round(c64.ratio_of_ceiling * 100, 0)}%`, pass: c64.ratio_of_ceiling >= 0.4 },
      { target: 'executor peak RSS < 150 MB (10,000-event run, c=64)', measured: `${c64.executor_peak_rss_mb} MB`, pass: c64.executor_peak_rss_mb < 150 },
    ],
    info,
  };
}

export async function runLatency(): Promise<BenchResult> {
  const rate = Number(process.env.BENCH_RATE ?? 200);
  const durationMs = Number(process.env.BENCH_RATE_SECONDS ?? 30) * 1000;
  const lw = await LoadWorker.start();
  let r: any;
  let peak = NaN;
  try {
    const { url: sinkUrl } = await lw.call<{ url: string }>('sink');
    const ex = await startExecutor(throughputProject(sinkUrl));
    try {
      const ingress = `${ex.url}/webhook/hook`;
      await lw.call('load', { url: ingress, run: 'warm', n: WARMUP, concurrency: 8 });
      r = await lw.call('rate', { url: ingress, run: 'rate', rate, durationMs });
      peak = procMemory(ex.pid).peakMb;
    } finally {
      await ex.stop();
    }
  } finally {
    lw.close();
  }
  log(`latency ${rate}/s: e2e p50 ${round(r.e2e_ms.p50)} ms, p99 ${round(r.e2e_ms.p99)} ms, lost ${r.lost}`);
  return {
    name: 'latency',
    metrics: { ...r, executor_peak_rss_mb: round(peak) },
    checks: [
      { target: `e2e p99 < 50 ms at ${rate} events/s`, measured: `p99 ${round(r.e2e_ms.p99)} ms`, pass: r.e2e_ms.p99 < 50 && r.lost === 0 },
    ],
    info: [{ what: `${rate} events/s for ${durationMs / 1000} s`, measured: `e2e p50 ${round(r.e2e_ms.p50)} ms, p95 ${round(r.e2e_ms.p95)} ms, max ${round(r.e2e_ms.max)} ms; ingress p99 ${round(r.ingress_ms.p99)} ms; lost ${r.lost}, dup ${r.duplicated}` }],
  };
}

function fanoutProject(sinkUrl: string, fan: number, hops: number): string {
  const lines = ['sources:', '  - id: fan', '    connector: webhook', '  - id: start', '    connector: webhook', 'actors:'];
  for (let i = 0; i < fan; i++) lines.push(`  - id: fan-${i}`, '    connector: webhook', `    config: { url: "${sinkUrl}/fan/${i}" }`);
  for (let k = 0; k <= hops; k++) lines.push(`  - id: chain-${k}`, '    connector: webhook', `    config: { url: "${sinkUrl}/chain/${k}" }`);
  lines.push('routes:');
  for (let i = 0; i < fan; i++) lines.push(`  - name: fan-${i}`, '    when: { source: fan, events: [resource.changed] }', `    then: { actor: fan-${i} }`);
  lines.push('  - name: chain-0', '    when: { source: start, events: [resource.changed] }', '    then: { actor: chain-0 }');
  for (let k = 1; k <= hops; k++) lines.push(`  - name: chain-${k}`, `    when: { source: chain-${k - 1}, events: [actor.stopped] }`, `    then: { actor: chain-${k} }`);
  return lines.join('\n') + '\n';
}

export async function runFanout(): Promise<BenchResult> {
  const FAN = 50;
  const HOPS = 5;
  const REPEATS = 30;
  const lw = await LoadWorker.start();
  let fan: any;
  let chain: any;
  try {
    const { url: sinkUrl } = await lw.call<{ url: string }>('sink');
    const ex = await startExecutor(fanoutProject(sinkUrl, FAN, HOPS));
    try {
      await lw.call('fanout', { url: `${ex.url}/webhook/fan`, run: 'fan-warm', expect: FAN, repeats: 5 });
      fan = await lw.call('fanout', { url: `${ex.url}/webhook/fan`, run: 'fan', expect: FAN, repeats: REPEATS });
      chain = await lw.call('chain', { url: `${ex.url}/webhook/start`, run: 'chain', hops: HOPS, repeats: REPEATS });
    } finally {
      await ex.stop();
    }
  } finally {
    lw.close();
  }
  log(`fan-out 50: p50 ${round(fan.ms.p50)} ms; chain ${HOPS} hops: p50 ${round(chain.ms.p50)} ms`);
  return {
    name: 'fanout',
    metrics: { fanout: fan, chain },
    checks: [],
    info: [
      { what: `one event -> ${FAN} routes: time to the last delivery (${REPEATS} runs)`, measured: `p50 ${round(fan.ms.p50)} ms, p95 ${round(fan.ms.p95)} ms, incomplete ${fan.incomplete}` },
      { what: `${HOPS}-hop actor.stopped chain: time to the last hop (${REPEATS} runs)`, measured: `p50 ${round(chain.ms.p50)} ms, p95 ${round(chain.ms.p95)} ms, incomplete ${chain.incomplete}` },
    ],
  };
}
