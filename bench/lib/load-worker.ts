// The load side of the executor benchmarks, run as its own process (child_process.fork) so the
// load generator and the sink never share an event loop with the executor under test.
//
// It holds: a sink HTTP server that records when each benchmark event arrives (by run id and
// sequence number, from orgloop's webhook-actor body or a direct POST), answers 200 at once, and
// for /chain/<k> calls the executor back on the callback sent with the delivery (the agent finished, with its token); the load
// generator (closed loop at a concurrency, or open loop at a fixed rate); and a fake GitHub API
// for the idle benchmark. The parent talks to it with request/response messages.

import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

type Msg = { id: number; op: string; [k: string]: unknown };

interface Arrival {
  first: number;
  last: number;
  count: number;
}

const runs = new Map<string, Map<number, Arrival>>();
const chainHits = new Map<string, number>(); // `${run}:${seq}:${k}` -> time
const chainTraces = new Map<string, string>(); // trace id -> `${run}:${seq}`
const callbackAgent = new http.Agent({ keepAlive: true, maxSockets: 64 });

function record(run: string, seq: number, now: number): void {
  let m = runs.get(run);
  if (!m) runs.set(run, (m = new Map()));
  const a = m.get(seq);
  if (a) {
    a.count++;
    a.last = now;
  } else m.set(seq, { first: now, last: now, count: 1 });
}

function post(agent: http.Agent, url: string, body: string, headers: Record<string, string> = {}): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)), ...headers } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

const sink = http.createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const now = performance.now();
    // /slow/<ms>/...: the actor takes that long to answer (an agent does real work), arrival recorded now
    const slow = /^\/slow\/(\d+)\//.exec(req.url ?? '');
    const answer = () => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': '2' });
      res.end('{}');
    };
    if (slow) setTimeout(answer, Number(slow[1]));
    else answer();
    let body: any;
    try {
      body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    } catch {
      return;
    }
    const p = body?.event?.payload ?? body;
    const chain = /^\/chain\/(\d+)$/.exec(req.url ?? '');
    if (chain) {
      // hop 0 carries the benchmark payload; later hops carry actor.stopped, same trace id
      const k = Number(chain[1]);
      const trace = body?.event?.trace_id;
      if (typeof p?.run === 'string' && typeof p?.seq === 'number' && typeof trace === 'string') chainTraces.set(trace, `${p.run}:${p.seq}`);
      const key = typeof trace === 'string' ? chainTraces.get(trace) : undefined;
      if (key) chainHits.set(`${key}:${k}`, now);
      const deliveryId = body?.delivery?.id;
      const cb = body?.delivery?.callback;
      if (typeof deliveryId === 'string' && typeof cb?.url === 'string' && typeof cb?.token === 'string') {
        void post(callbackAgent, cb.url, JSON.stringify({ delivery_id: deliveryId, outcome: 'success' }), { authorization: `Bearer ${cb.token}` }).catch(() => {});
      }
      return;
    }
    if (typeof p?.run !== 'string' || typeof p?.seq !== 'number') return;
    record(p.run, p.seq, now);
  });
});

function sorted(xs: number[]): number[] {
  return xs.filter(Number.isFinite).sort((a, b) => a - b);
}

function pct(s: number[], p: number): number {
  if (!s.length) return NaN;
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!;
}

function summary(s: number[]) {
  return { p50: pct(s, 50), p95: pct(s, 95), p99: pct(s, 99), max: s[s.length - 1] ?? NaN, n: s.length };
}

/** Waits until every event of the run arrived, or nothing new arrived for `quietMs`. */
async function settle(run: string, n: number, quietMs: number): Promise<void> {
  let last = -1;
  let since = performance.now();
  for (;;) {
    const got = runs.get(run)?.size ?? 0;
    if (got >= n) {
      await sleep(300); // let duplicates, if any, show up
      return;
    }
    if (got !== last) {
      last = got;
      since = performance.now();
    } else if (performance.now() - since > quietMs) return;
    await sleep(5);
  }
}

function outcome(run: string, n: number, sendAt: Float64Array, ackMs: number[], errors: number, firstSend: number, ok?: Uint8Array) {
  const m = runs.get(run) ?? new Map<number, Arrival>();
  let dups = 0;
  // acknowledged (2xx) and never delivered: what at-least-once forbids (the rest of `lost` was refused or never sent)
  let ackedLost = 0;
  if (ok) for (let seq = 0; seq < n; seq++) if (ok[seq] && !m.has(seq)) ackedLost++;
  let lastArrival = firstSend;
  const e2e: number[] = [];
  for (const [seq, a] of m) {
    dups += a.count - 1;
    if (a.first > lastArrival) lastArrival = a.first;
    e2e.push(a.first - sendAt[seq]!);
  }
  runs.delete(run);
  const elapsed = (lastArrival - firstSend) / 1000;
  return {
    sent: n,
    received: m.size,
    lost: n - m.size,
    ...(ok ? { acked: ok.reduce((a, b) => a + b, 0), acked_lost: ackedLost } : {}),
    duplicated: dups,
    ingress_errors: errors,
    elapsed_s: elapsed,
    events_per_s: m.size / elapsed,
    ingress_ms: summary(sorted(ackMs)),
    e2e_ms: summary(sorted(e2e)),
  };
}

function eventBody(run: string, seq: number): string {
  return JSON.stringify({ id: `${run}-${seq}`, type: 'bench.event', run, seq, title: 'benchmark event', labels: ['a', 'b'] });
}

/** Closed loop: `concurrency` senders, each sending the next event when its previous one is answered. */
async function closedLoop(url: string, run: string, n: number, concurrency: number, quietMs = 10_000) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
  const sendAt = new Float64Array(n);
  const ackMs: number[] = new Array(n);
  const ok = new Uint8Array(n);
  let next = 0;
  let errors = 0;
  const firstSend = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      for (;;) {
        const seq = next++;
        if (seq >= n) return;
        const t = performance.now();
        sendAt[seq] = t;
        try {
          const status = await post(agent, url, eventBody(run, seq));
          if (status < 200 || status >= 300) errors++;
          else ok[seq] = 1;
        } catch {
          errors++;
        }
        ackMs[seq] = performance.now() - t;
      }
    }),
  );
  await settle(run, n, quietMs);
  agent.destroy();
  return outcome(run, n, sendAt, ackMs, errors, firstSend, ok);
}

/** Open loop: event i is sent at start + i / rate, whether or not earlier ones were answered. */
async function openLoop(url: string, run: string, rate: number, durationMs: number) {
  const n = Math.round((rate * durationMs) / 1000);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
  const sendAt = new Float64Array(n);
  const ackMs: number[] = new Array(n).fill(NaN);
  let errors = 0;
  let sent = 0;
  const inflight: Promise<void>[] = [];
  const start = performance.now();
  while (sent < n) {
    const due = Math.min(n, Math.floor(((performance.now() - start) * rate) / 1000) + 1);
    while (sent < due) {
      const seq = sent++;
      const t = performance.now();
      sendAt[seq] = t;
      inflight.push(
        post(agent, url, eventBody(run, seq)).then(
          (status) => {
            if (status < 200 || status >= 300) errors++;
            ackMs[seq] = performance.now() - t;
          },
          () => {
            errors++;
          },
        ),
      );
    }
    await sleep(1);
  }
  await Promise.all(inflight);
  await settle(run, n, 10_000);
  agent.destroy();
  return { rate, duration_ms: durationMs, ...outcome(run, n, sendAt, ackMs, errors, start) };
}

/** One event at a time; waits until `expect` deliveries of it arrived; reports each wait. */
async function fanout(url: string, run: string, expect: number, repeats: number) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });
  const times: number[] = [];
  let incomplete = 0;
  for (let seq = 0; seq < repeats; seq++) {
    const t = performance.now();
    await post(agent, url, eventBody(run, seq));
    const deadline = t + 10_000;
    for (;;) {
      const a = runs.get(run)?.get(seq);
      if (a && a.count >= expect) {
        times.push(a.last - t);
        break;
      }
      if (performance.now() > deadline) {
        incomplete++;
        break;
      }
      await sleep(1);
    }
  }
  agent.destroy();
  runs.delete(run);
  return { repeats, expect, incomplete, ms: summary(sorted(times)) };
}

/** One event at a time into a chain of `hops` actor.stopped hops; time until the last hop arrived. */
async function chain(url: string, run: string, hops: number, repeats: number) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });
  const times: number[] = [];
  let incomplete = 0;
  for (let seq = 0; seq < repeats; seq++) {
    const t = performance.now();
    await post(agent, url, eventBody(run, seq));
    const key = `${run}:${seq}:${hops}`;
    const deadline = t + 15_000;
    while (!chainHits.has(key) && performance.now() < deadline) await sleep(1);
    const at = chainHits.get(key);
    if (at === undefined) {
      if (++incomplete >= 3) break; // the chain is broken; no use waiting 15 s per repeat
    } else times.push(at - t);
  }
  agent.destroy();
  return { repeats, hops, incomplete, ms: summary(sorted(times)) };
}

let fakeGithub: { url: string; state: { requests: unknown[] }; close(): Promise<void> } | null = null;

const handlers: Record<string, (m: Msg) => Promise<unknown>> = {
  sink: async () => {
    if (!sink.listening) await new Promise<void>((r) => sink.listen(0, '127.0.0.1', r));
    return { url: `http://127.0.0.1:${(sink.address() as AddressInfo).port}` };
  },
  load: async (m) => closedLoop(String(m.url), String(m.run), Number(m.n), Number(m.concurrency), m.quietMs === undefined ? undefined : Number(m.quietMs)),
  received: async (m) => ({ received: runs.get(String(m.run))?.size ?? 0 }),
  rate: async (m) => openLoop(String(m.url), String(m.run), Number(m.rate), Number(m.durationMs)),
  fanout: async (m) => fanout(String(m.url), String(m.run), Number(m.expect), Number(m.repeats)),
  chain: async (m) => chain(String(m.url), String(m.run), Number(m.hops), Number(m.repeats)),
  github: async (m) => {
    const { startFakeGithub } = await import('../../test/fakes/github.js');
    const gh = await startFakeGithub({ token: String(m.token), rateLimit: 1e9 });
    for (let i = 0; i < Number(m.repos); i++) gh.repo(`${m.owner}/repo-${i}`);
    fakeGithub = gh as unknown as typeof fakeGithub;
    return { url: gh.url };
  },
  githubRequests: async () => {
    const n = fakeGithub?.state.requests.length ?? 0;
    if (fakeGithub) fakeGithub.state.requests.length = 0; // keep memory flat over a long run
    return { requests: n };
  },
};

process.on('message', (m: Msg) => {
  const h = handlers[m.op];
  if (!h) {
    process.send!({ id: m.id, error: `unknown op ${m.op}` });
    return;
  }
  h(m).then(
    (result) => process.send!({ id: m.id, result }),
    (err: Error) => process.send!({ id: m.id, error: err.stack ?? String(err) }),
  );
});
process.on('disconnect', () => process.exit(0));
process.send!({ ready: true });
