// Benchmark 6: idle cost. 2,000 github sources polling every minute against a local fake GitHub
// API (nothing new to report, so ETags answer 304), one route each. After the executor has
// started, finished its first round of polls and settled on its poll schedule, CPU time and RSS
// of the executor process are sampled from /proc over 60 s, which contains one full round of
// 2,000 polls. Then, against the same fake API, a bare node:http client sends the same
// conditional requests on the same 1-second slots for 60 s (bench/lib/bare-poller.mjs): the CPU
// the requests alone cost on this machine, the floor under the executor's figure.

import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { LoadWorker, startExecutor } from './executor.js';
import { log, procCpuMs, procMemory, round } from './lib/measure.js';
import type { BenchResult } from './lib/report.js';

const SOURCES = Number(process.env.BENCH_IDLE_SOURCES ?? 2_000);
const WINDOW_S = Number(process.env.BENCH_IDLE_SECONDS ?? 60);
const TOKEN = 'bench-idle-token';
const POLL_INTERVAL_S = 60;

function project(githubUrl: string, sinkUrl: string): string {
  const lines = ['sources:'];
  for (let i = 0; i < SOURCES; i++) {
    lines.push(`  - id: gh-${i}`, '    connector: github', `    config: { repo: idle/repo-${i}, token: "\${BENCH_GH_TOKEN}", base_url: "${githubUrl}" }`, `    poll: { interval: ${POLL_INTERVAL_S}s }`);
  }
  lines.push('actors:', '  - id: agent', '    connector: webhook', `    config: { url: "${sinkUrl}/idle" }`, 'routes:');
  for (let i = 0; i < SOURCES; i++) lines.push(`  - name: r-${i}`, `    when: { source: gh-${i} }`, '    then: { actor: agent }');
  return lines.join('\n') + '\n';
}

interface BareFloor {
  cpu_ms: number;
  window_s: number;
  cpu_percent: number;
  requests: number;
}

/** CPU of the same idle requests sent by a bare client, in a process of its own. */
async function bareFloor(githubUrl: string): Promise<BareFloor> {
  const script = join(import.meta.dirname, 'lib/bare-poller.mjs');
  const args = [script, githubUrl, TOKEN, 'idle', String(SOURCES), String(POLL_INTERVAL_S), String(WINDOW_S)];
  const { stdout } = await promisify(execFile)(process.execPath, args, { timeout: (WINDOW_S + 120) * 1000 });
  return JSON.parse(stdout.trim().split('\n').pop()!) as BareFloor;
}

export async function run(): Promise<BenchResult> {
  const lw = await LoadWorker.start();
  let m: Record<string, unknown>;
  try {
    const { url: sinkUrl } = await lw.call<{ url: string }>('sink');
    const { url: ghUrl } = await lw.call<{ url: string }>('github', { token: TOKEN, repos: SOURCES, owner: 'idle' });
    const ex = await startExecutor(project(ghUrl, sinkUrl), { BENCH_GH_TOKEN: TOKEN });
    try {
      // first round: wait until the fake API has been quiet for 2 s
      const t0 = performance.now();
      let firstRound = 0;
      for (;;) {
        await sleep(2000);
        const { requests } = await lw.call<{ requests: number }>('githubRequests');
        firstRound += requests;
        if (requests === 0 && firstRound > 0) break;
        if (performance.now() - t0 > 50_000) break;
      }
      const startupS = (performance.now() - t0) / 1000 - 2;
      // The scheduler puts each source on a fixed grid (phase + k * interval) after its first
      // poll, with a first gap of half to one and a half intervals (engine/run/scheduler.ts).
      // Only from then on does every 60 s window hold exactly one poll per source: measuring
      // earlier would see part of a round and under-count.
      const steady = t0 + 1.5 * POLL_INTERVAL_S * 1000 + 5000;
      if (performance.now() < steady) await sleep(steady - performance.now());
      await lw.call('githubRequests'); // start the window's request count at zero
      const cpu0 = procCpuMs(ex.pid);
      const w0 = performance.now();
      const rss: number[] = [];
      let requests = 0;
      while (performance.now() - w0 < WINDOW_S * 1000) {
        await sleep(1000);
        rss.push(procMemory(ex.pid).rssMb);
        requests += (await lw.call<{ requests: number }>('githubRequests')).requests;
      }
      const cpuMs = procCpuMs(ex.pid) - cpu0;
      const wallMs = performance.now() - w0;
      m = {
        sources: SOURCES,
        poll_interval_s: POLL_INTERVAL_S,
        first_round: { requests: firstRound, approx_s: round(startupS) },
        window_s: round(wallMs / 1000),
        cpu_ms: round(cpuMs, 0),
        cpu_percent: round((cpuMs / wallMs) * 100, 2),
        api_requests_in_window: requests,
        rss_mb_max: round(Math.max(...rss)),
        rss_mb_mean: round(rss.reduce((a, b) => a + b, 0) / rss.length),
        executor_peak_rss_mb: round(procMemory(ex.pid).peakMb),
      };
    } finally {
      await ex.stop();
    }
    const bare = await bareFloor(ghUrl);
    m.bare_client = bare;
    m.orgloop_over_bare_percent = round((m.cpu_percent as number) - bare.cpu_percent, 2);
  } finally {
    lw.close();
  }
  const bare = m.bare_client as BareFloor;
  log(`idle: ${m.cpu_percent}% CPU, RSS max ${m.rss_mb_max} MB, ${m.api_requests_in_window} API requests in ${m.window_s} s; bare client ${bare.cpu_percent}% for ${bare.requests} requests`);
  return {
    name: 'idle',
    metrics: m,
    checks: [{ target: `idle (${SOURCES} sources, 1-minute polls) < 2% CPU`, measured: `${m.cpu_percent}%`, pass: (m.cpu_percent as number) < 2 }],
    info: [
      { what: `RSS over ${m.window_s} s`, measured: `max ${m.rss_mb_max} MB, mean ${m.rss_mb_mean} MB; ${m.api_requests_in_window} API requests` },
      { what: 'the same requests from a bare node:http client (floor)', measured: `${bare.cpu_percent}% CPU for ${bare.requests} requests; orgloop adds ${m.orgloop_over_bare_percent} points` },
    ],
  };
}
