// Several hosts for real (issue 22): three executors, each in a network namespace of its own
// joined to this one by a veth link, against one Postgres (ORGLOOP_TEST_PG_URL). Postgres listens
// on loopback only here, so each host reaches it through a TCP proxy on an address of this
// namespace (as hosts reach a database through pgbouncer or a cloud endpoint); the sink lives on
// the same address. Load goes round robin to the three ingresses, as from a load balancer. Mid-run
// one host's link is cut (its veth set down: packets dropped, no connection reset, so its
// Postgres session stays open behind the proxy and only its heartbeat and leases go stale): the
// other two take over the deliveries it held, and every acknowledged event is delivered. Then the
// link comes back: the cut executor's late completions are fenced, and it works again.
//
// Needs root and iproute2 (`ip netns`); skipped without them.

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { CLI } from '../../cmd/test-helpers/executor.js';
import { byKey, cli, postJson, sleep, startRecordingSink, tempProject, until, webhookToSink } from './harness.js';
import { createTestSchema, PG_URL, startTcpProxy, type TestSchema } from './pg-helpers.js';

function netnsUsable(): boolean {
  if (process.getuid?.() !== 0) return false;
  const probe = `olp${randomBytes(3).toString('hex')}`;
  if (spawnSync('ip', ['netns', 'add', probe]).status !== 0) return false;
  spawnSync('ip', ['netns', 'del', probe]);
  return true;
}

const usable = !!PG_URL && netnsUsable();

function ip(...args: string[]): void {
  const r = spawnSync('ip', args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`ip ${args.join(' ')}: ${r.stderr}`);
}

interface Host {
  ns: string;
  /** the link's end in this namespace: set down to cut the host off */
  link: string;
  addr: string;
  proc?: ChildProcess;
  url?: string;
  id?: string;
}

const tag = randomBytes(2).toString('hex');
const net = `10.${randomInt(200, 250)}`;
/** an address of this namespace every host routes to: the Postgres proxy and the sink */
const hub = `${net}.0.1`;
const hosts: Host[] = [1, 2, 3].map((i) => ({ ns: `ol${tag}h${i}`, link: `ol${tag}v${i}`, addr: `${net}.${i}.2` }));
const cleanup: Array<() => Promise<unknown> | unknown> = [];

afterAll(async () => {
  for (const f of cleanup.splice(0).reverse()) {
    try {
      await f();
    } catch {
      // best effort: the rest still gets cleaned up
    }
  }
});

function buildNetwork(): void {
  ip('addr', 'add', `${hub}/32`, 'dev', 'lo');
  cleanup.push(() => ip('addr', 'del', `${hub}/32`, 'dev', 'lo'));
  hosts.forEach((h, k) => {
    const i = k + 1;
    ip('netns', 'add', h.ns);
    cleanup.push(() => ip('netns', 'del', h.ns));
    ip('link', 'add', h.link, 'type', 'veth', 'peer', 'name', `${h.link}n`);
    cleanup.push(() => ip('link', 'del', h.link));
    ip('link', 'set', `${h.link}n`, 'netns', h.ns);
    ip('addr', 'add', `${net}.${i}.1/24`, 'dev', h.link);
    ip('link', 'set', h.link, 'up');
    ip('netns', 'exec', h.ns, 'ip', 'addr', 'add', `${h.addr}/24`, 'dev', `${h.link}n`);
    ip('netns', 'exec', h.ns, 'ip', 'link', 'set', `${h.link}n`, 'up');
    ip('netns', 'exec', h.ns, 'ip', 'link', 'set', 'lo', 'up');
    ip('netns', 'exec', h.ns, 'ip', 'route', 'add', 'default', 'via', `${net}.${i}.1`);
  });
}

/** `orgloop start` inside the host's namespace, listening on its address. */
async function startOn(h: Host, dir: string, stateUrl: string): Promise<void> {
  const proc = spawn('ip', ['netns', 'exec', h.ns, process.execPath, CLI, 'start', '--host', h.addr, '--port', '0'], {
    cwd: dir,
    // a short lease: a cut-off host's deliveries go to the others in seconds (default 30 s)
    env: { ...process.env, NO_COLOR: '1', ORGLOOP_STATE: stateUrl, ORGLOOP_LEASE_MS: '4000', ORGLOOP_LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  cleanup.push(() => proc.kill('SIGKILL'));
  h.proc = proc;
  let out = '';
  h.url = await new Promise<string>((res, rej) => {
    const timer = setTimeout(() => rej(new Error(`executor in ${h.ns} did not start:\n${out}`)), 30_000);
    const on = (c: Buffer) => {
      out += c.toString();
      const m = /listening on (http:\/\/[\d.]+:\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        res(m[1]!);
      }
    };
    proc.stdout!.on('data', on);
    proc.stderr!.on('data', on);
    proc.once('exit', (code) => rej(new Error(`executor in ${h.ns} exited ${code}:\n${out}`)));
  });
}

describe.skipIf(!usable)('several hosts (network namespaces) on one Postgres', () => {
  it("a host cut off mid-run: the others take over its deliveries, nothing acknowledged is lost, and its late completions are fenced", async () => {
    buildNetwork();
    const db: TestSchema = await createTestSchema('orgloop_rel_hosts');
    cleanup.push(() => db.drop());
    const target = new URL(PG_URL!);
    const proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port || 5432) }, hub);
    cleanup.push(() => proxy.close());
    // each delivery takes a while, so every host always has some in flight when the link goes
    const sink = await startRecordingSink(async () => (await sleep(150), { status: 200 }), hub);
    cleanup.push(() => sink.close());

    const dir = tempProject({ 'orgloop.yaml': webhookToSink(sink.url) });
    cleanup.push(() => spawnSync('rm', ['-rf', dir]));
    const applied = await cli(['apply', '--auto-approve'], { cwd: dir, env: { ORGLOOP_STATE: db.stateUrl() } });
    expect(applied.code, applied.stderr).toBe(0);
    const stateUrl = db.stateUrl({ host: hub, port: proxy.port });
    for (const h of hosts) await startOn(h, dir, stateUrl);
    for (const h of hosts) h.id = (await db.query<{ id: string }>('SELECT id FROM executors WHERE pid = $1', [h.proc!.pid]))[0]!.id;

    // round robin over the hosts still reachable, as a load balancer with health checks would
    const live = new Set(hosts);
    const ok: string[] = [];
    let next = 0;
    const N = 450;
    const sender = async () => {
      while (next < N) {
        const key = `hosts-${next}`;
        const h = [...live][next++ % live.size]!;
        try {
          const r = await fetch(`${h.url}/webhook/inbox`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ id: key, type: 'load' }),
            signal: AbortSignal.timeout(3000),
          });
          if (r.status === 202) ok.push(key);
          await r.arrayBuffer();
        } catch {
          // the cut host: not acknowledged, so the sender would retry it elsewhere
        }
      }
    };
    const load = Promise.all(Array.from({ length: 9 }, sender));

    await until(() => sink.hits.length >= 120, 90_000, '120 deliveries');
    const cut = hosts[1]!;
    live.delete(cut);
    ip('link', 'set', cut.link, 'down');
    // what the cut host held: leased to it and not finished
    const held = (await db.query<{ id: string }>(`SELECT id FROM deliveries WHERE status = 'leased' AND lease_owner = $1`, [cut.id])).map((r) => r.id);
    await load;

    await until(() => ok.every((k) => byKey(sink.hits).has(k)), 60_000, 'every acknowledged event delivered');
    expect(ok.length).toBeGreaterThan(N * 0.8);
    // the deliveries the cut host held were finished, by the others (a completion it sent just
    // before the cut may still have landed)
    expect(held.length).toBeGreaterThan(0);
    const finished = await until(async () => {
      const rows = await db.query<{ status: string; lease_owner: string }>('SELECT status, lease_owner FROM deliveries WHERE id = ANY($1)', [held]);
      return rows.length === held.length && rows.every((r) => r.status === 'delivered') && rows;
    }, 60_000, "the cut host's deliveries finished");
    expect(finished.filter((r) => r.lease_owner !== cut.id).length).toBeGreaterThan(held.length / 2);

    // the link comes back: the cut executor reconnects; what it finishes late is refused (fenced),
    // so no delivery goes back to another state, and it takes new work again
    ip('link', 'set', cut.link, 'up');
    live.add(cut);
    await until(async () => (await postJson(`${cut.url}/webhook/inbox`, { id: 'after-heal', type: 'load' }).catch(() => ({ status: 0 }))).status === 202, 60_000, 'the healed host to accept again');
    await until(() => byKey(sink.hits).has('after-heal'), 30_000, 'the event sent to the healed host');
    // Every delivery ends delivered. Poll for that (bounded) rather than sleep a fixed time: the
    // sink counts a hit when the request arrives, and the healed host records the completion
    // after it; statements the cut host sent just before the cut sit in its connections' TCP send
    // queues until the next retransmission after the link is back, and its completions wait for
    // those connections (the pool's, or the three batches the batcher keeps in flight): recording
    // 'after-heal' took 1.1 s and 2.4 s after its hit in two runs of seven here, where a fixed 1 s
    // sleep found it still leased. Not a takeover: it is leased to the healed host itself, which
    // finishes it. On a timeout, say what was left.
    let left: Array<Record<string, unknown>> = [];
    const settled = await until(async () => {
      left = await db.query('SELECT id, status, lease_owner, lease_until, attempts, updated_at FROM deliveries WHERE status <> $1', ['delivered']);
      return left.length === 0;
    }, 60_000, 'every delivery delivered').catch(() => false);
    expect(settled, `not delivered (the cut host is ${cut.id}, now ${Date.now()}): ${JSON.stringify(left)}`).toBe(true);
    const rows = await db.query<{ status: string }>('SELECT status FROM deliveries WHERE id = ANY($1)', [held]);
    expect(rows.every((r) => r.status === 'delivered')).toBe(true);
  }, 300_000);
});
