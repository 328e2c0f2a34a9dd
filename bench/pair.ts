// Paired A/B of two executor builds under load at the same moment: both run side by side, each
// fed its own closed-loop load by the same load worker, so a shared host's drift (which moves CPU
// cost per event by 1.5x within a minute here) hits both alike. Reports each build's CPU per event
// per round and the median ratio B/A. Use it for changes too small for bench/ab.ts to resolve.
//
//   node --import tsx bench/pair.ts <A label>=<cmd/main.js>[=ENV:v,...] <B label>=<cmd/main.js>[=ENV:v,...]
//   (or <label>=relay:memory|durable|records for a relay floor, as in bench/ab.ts)
//
// Knobs: AB_ROUNDS (default 5), BENCH_EVENTS (10,000 per build per round), AB_CONCURRENCY (32 per build).

import { EVENTS, LoadWorker, startExecutor, startRelay, throughputProject } from './executor.js';
import { parseBuild, type Build } from './lib/build-arg.js';
import { median, procCpuMs, procMemory, round } from './lib/measure.js';

const C = Number(process.env.AB_CONCURRENCY ?? 32);
const ROUNDS = Number(process.env.AB_ROUNDS ?? 5);

const USAGE = 'usage: node --import tsx bench/pair.ts <A label>=<cmd/main.js>[=ENV:v,...] <B label>=<cmd/main.js>[=ENV:v,...]';
let builds: Build[] = [];
try {
  builds = process.argv.slice(2, 4).map(parseBuild);
} catch (err) {
  console.error(`${(err as Error).message}\n${USAGE}`);
  process.exit(2);
}
if (builds.length !== 2) {
  console.error(USAGE);
  process.exit(2);
}
const lw = await LoadWorker.start();
const ratios: number[] = [];
const per: Record<string, { cpu: number[]; main: number[]; evs: number[]; rss: number[] }> = {};
for (const b of builds) per[b.label] = { cpu: [], main: [], evs: [], rss: [] };
try {
  const { url: sinkUrl } = await lw.call<{ url: string }>('sink');
  for (let r = 0; r < ROUNDS; r++) {
    const exs = await Promise.all(builds.map((b) => (b.relay ? startRelay(sinkUrl, b.relay) : startExecutor(throughputProject(sinkUrl), b.env, b.cli))));
    try {
      await Promise.all(exs.map((ex, i) => lw.call('load', { url: `${ex.url}/webhook/hook`, run: `warm-${r}-${i}`, n: 500, concurrency: C })));
      const cpu0 = exs.map((ex) => procCpuMs(ex.pid));
      const main0 = exs.map((ex) => procCpuMs(ex.pid, ex.pid));
      const results = await Promise.all(exs.map((ex, i) => lw.call('load', { url: `${ex.url}/webhook/hook`, run: `pair-${r}-${i}`, n: EVENTS, concurrency: C })));
      const cpu = exs.map((ex, i) => (procCpuMs(ex.pid) - cpu0[i]!) / EVENTS);
      exs.forEach((ex, i) => {
        const p = per[builds[i]!.label]!;
        p.cpu.push(cpu[i]!);
        p.main.push((procCpuMs(ex.pid, ex.pid) - main0[i]!) / EVENTS);
        p.evs.push(results[i].events_per_s);
        p.rss.push(procMemory(ex.pid).peakMb);
        if (results[i].lost || results[i].duplicated) console.log(`${builds[i]!.label}: lost ${results[i].lost}, dup ${results[i].duplicated}`);
      });
      ratios.push(cpu[1]! / cpu[0]!);
      console.log(`round ${r + 1}: ${builds.map((b, i) => `${b.label} ${round(cpu[i]!, 3)} ms/event (${round(results[i].events_per_s, 0)} ev/s)`).join(', ')}; ratio ${round(cpu[1]! / cpu[0]!, 3)}`);
    } finally {
      await Promise.all(exs.map((ex) => ex.stop()));
    }
  }
} finally {
  lw.close();
}
const summary = Object.fromEntries(Object.entries(per).map(([k, p]) => [k, { cpu_ms_per_event: round(median(p.cpu), 3), main_ms_per_event: round(median(p.main), 3), events_per_s: round(median(p.evs), 0), peak_rss_mb: round(median(p.rss)) }]));
console.log(JSON.stringify({ [`cpu_ratio_${builds[1]!.label}_over_${builds[0]!.label}`]: round(median(ratios), 3), ratios: ratios.map((x) => round(x, 3)), ...summary }, null, 2));
