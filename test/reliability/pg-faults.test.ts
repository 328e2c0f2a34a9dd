// Postgres faults under load (issue 22), with the real executor as a child process and a real
// Postgres (ORGLOOP_TEST_PG_URL), each test in a schema of its own:
// - every connection of the executor ended by the server (pg_terminate_backend) mid-load: it
//   reconnects, keeps acknowledging, and delivers every event it acknowledged; and again every
//   100-200 ms for a whole run, where each termination lands somewhere else;
// - Postgres unreachable (a TCP proxy in front of it stopped, then started on the same port):
//   webhooks answer 503 while it is gone (so senders retry; nothing unstored is acknowledged), the
//   executor recovers on its own when it is back, and every acknowledged event is delivered;
// - the real server restarted (pg_ctlcluster, fast shutdown) mid-load, where this machine runs it.
// At-least-once allows a duplicate where an outcome could not be recorded; nothing is lost.

import { afterEach, describe, expect, it } from 'vitest';
import { acked, byKey, cli, postJson, sendLoad, sleep, startExec, startRecordingSink, tempProject, until, webhookToSink, type Exec, type Sent } from './harness.js';
import { createTestSchema, localCluster, PG_URL, restartCluster, startTcpProxy, type TcpProxy, type TestSchema } from './pg-helpers.js';

// restarted for real only where this machine runs the server and the tests run as root
const cluster = localCluster();

const cleanup: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f().catch(() => {});
});

/** A project applied into `stateUrl`, and the executor started on `runUrl` (the same store, maybe through a proxy). */
async function executorOn(sinkUrl: string, stateUrl: string, runUrl = stateUrl): Promise<Exec> {
  const dir = tempProject({ 'orgloop.yaml': webhookToSink(sinkUrl) });
  const applied = await cli(['apply', '--auto-approve'], { cwd: dir, env: { ORGLOOP_STATE: stateUrl } });
  expect(applied.code, applied.stderr).toBe(0);
  // a short lease: an outcome the store could not record is retried in seconds, not 30
  const ex = await startExec(dir, { ORGLOOP_STATE: runUrl, ORGLOOP_LEASE_MS: '2000' });
  cleanup.push(() => ex.kill9());
  return ex;
}

/** A test schema, a recording sink and an executor on the schema, all cleaned up after the test. */
async function faultRun(prefix: string): Promise<{ db: TestSchema; sink: Awaited<ReturnType<typeof startRecordingSink>>; ex: Exec }> {
  const db = await createTestSchema(prefix);
  cleanup.push(() => db.drop());
  const sink = await startRecordingSink();
  cleanup.push(() => sink.close());
  return { db, sink, ex: await executorOn(sink.url, db.stateUrl()) };
}

/** How the executor process ended, or null while it runs. */
function exitOf(ex: Exec): () => string | null {
  let exited: string | null = null;
  ex.proc.once('exit', (code, signal) => (exited = `exit code ${code}, signal ${signal}`));
  return () => exited;
}

/** Answers other than 2xx and 503 (a 503 stored nothing; its sender retries). */
const neither2xxNor503 = (sent: Sent[]) => sent.filter((s) => !((s.status >= 200 && s.status < 300) || s.status === 503));

/** Waits until the executor's LISTEN session is back, so peers do not take its leases for abandoned. */
async function sessionBack(db: TestSchema, pid: number): Promise<void> {
  const [me] = await db.query<{ id: string }>('SELECT id FROM executors WHERE pid = $1', [pid]);
  await until(async () => (await db.query('SELECT 1 FROM pg_stat_activity WHERE application_name = $1', [`orgloop:${me!.id}`])).length === 1, 10_000, 'its LISTEN session back');
}

describe.skipIf(!PG_URL)('postgres faults', () => {
  it("pg_terminate_backend of the executor's connections mid-load: it reconnects and loses nothing acknowledged", async () => {
    const { db, sink, ex } = await faultRun('orgloop_rel_term');
    const terminated: number[] = [];
    const load = sendLoad(`${ex.url}/webhook/inbox`, 600, { prefix: 'term', concurrency: 8 });
    for (const at of [100, 300]) {
      // generous waits: the machines these run on are shared and busy
      await until(() => sink.hits.length >= at, 90_000, `${at} deliveries`);
      terminated.push(await db.terminate(ex.pid));
    }
    const sent = await load;
    // the pool's connections and the LISTEN session were ended, twice
    expect(terminated.every((n) => n >= 2)).toBe(true);
    const ok = acked(sent);
    // requests in flight at a termination may get 503 (and are retried by their sender); the rest are acknowledged
    expect(neither2xxNor503(sent)).toEqual([]);
    expect(ok.length).toBeGreaterThan(500);
    await until(() => ok.every((k) => byKey(sink.hits).has(k)), 60_000, 'every acknowledged event delivered');
    // it is still running and listening: a new event goes through
    const after = await postJson(`${ex.url}/webhook/inbox`, { id: 'after-term', type: 'load' });
    expect(after.status).toBe(202);
    await until(() => byKey(sink.hits).has('after-term'), 20_000, 'the event after the terminations');
    await sessionBack(db, ex.pid);
  }, 240_000);

  it("repeated pg_terminate_backend under load (every 100-200 ms): the executor stays up, answers 2xx or 503, and delivers every acknowledged event", async () => {
    // each termination may land anywhere: inside a transaction between statements, in the same
    // packet as a statement's answer, while a new version is being looked up; none may crash it
    const { db, sink, ex } = await faultRun('orgloop_rel_storm');
    const exited = exitOf(ex);
    let stop = false;
    let storms = 0;
    const storm = (async () => {
      while (!stop) {
        await sleep(100 + Math.random() * 100);
        if ((await db.terminate(ex.pid).catch(() => 0)) > 0) storms++;
      }
    })();
    const sent = await sendLoad(`${ex.url}/webhook/inbox`, 1000, { prefix: 'storm', concurrency: 8 });
    stop = true;
    await storm;
    expect(exited(), ex.output().slice(-3000)).toBeNull();
    expect(storms).toBeGreaterThan(5);
    expect(neither2xxNor503(sent)).toEqual([]);
    const ok = acked(sent);
    expect(ok.length).toBeGreaterThan(100);
    await until(() => ok.every((k) => byKey(sink.hits).has(k)), 60_000, 'every acknowledged event delivered');
    expect(exited()).toBeNull();
  }, 240_000);

  it.skipIf(!cluster)('a real Postgres restart under load: the executor stays up and reconnects, nothing acknowledged is lost', async () => {
    const { db, sink, ex } = await faultRun('orgloop_rel_restart');
    const exited = exitOf(ex);
    const hook = `${ex.url}/webhook/inbox`;
    // load that lasts well past the restart (about 2-3 s here)
    let sending = true;
    const load = sendLoad(hook, 20_000, { prefix: 'restart', concurrency: 4, stop: () => !sending });
    await until(() => sink.hits.length >= 100, 90_000, '100 deliveries');
    restartCluster(cluster!);
    const atRestart = sink.hits.length;
    await until(() => sink.hits.length >= atRestart + 200, 60_000, '200 deliveries after the restart');
    sending = false;
    const sent = await load;
    expect(exited(), ex.output().slice(-3000)).toBeNull();
    // requests while it was down wait for the pool or get 503 (the sender retries): never another status
    expect(neither2xxNor503(sent)).toEqual([]);
    const ok = acked(sent);
    await until(() => ok.every((k) => byKey(sink.hits).has(k)), 60_000, 'every acknowledged event delivered');
    await sessionBack(db, ex.pid);
  }, 240_000);

  it('Postgres unreachable: webhooks answer 503, the executor recovers when it is back, nothing acknowledged is lost', async () => {
    const db: TestSchema = await createTestSchema('orgloop_rel_down');
    cleanup.push(() => db.drop());
    const target = new URL(PG_URL!);
    const proxy: TcpProxy = await startTcpProxy({ host: target.hostname, port: Number(target.port || 5432) });
    cleanup.push(() => proxy.close());
    const sink = await startRecordingSink();
    cleanup.push(() => sink.close());
    const ex = await executorOn(sink.url, db.stateUrl(), db.stateUrl(proxy));
    const hook = `${ex.url}/webhook/inbox`;

    const load = sendLoad(hook, 400, { prefix: 'down', concurrency: 4 });
    await until(() => sink.hits.length >= 50, 90_000, '50 deliveries');
    await proxy.stop();
    // while the store is gone, every webhook is refused with 503: the sender keeps it and retries
    const down: number[] = [];
    for (let i = 0; i < 5; i++) {
      down.push((await postJson(hook, { id: `while-down-${i}`, type: 'load' })).status);
      await sleep(200);
    }
    expect(down).toEqual([503, 503, 503, 503, 503]);
    await proxy.start();
    // it recovers on its own: no restart, the pool and the LISTEN session reconnect
    await until(async () => (await postJson(hook, { id: `back-${Date.now()}`, type: 'load' })).status === 202, 30_000, 'a 202 after Postgres is back');
    const sent = await load;
    const ok = acked(sent);
    expect(neither2xxNor503(sent)).toEqual([]);
    await until(() => ok.every((k) => byKey(sink.hits).has(k)), 60_000, 'every acknowledged event delivered');
    // none of the events refused while it was down was delivered: a 503 stored nothing
    expect([...byKey(sink.hits).keys()].some((k) => k.startsWith('while-down-'))).toBe(false);
  }, 240_000);
});
