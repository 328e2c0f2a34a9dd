// orgloop_leases_reclaimed_total: deliveries a crashed executor had leased (their leases run out)
// are taken over by a real executor, delivered, and counted per route and actor in /metrics.
// SQLite always; Postgres when ORGLOOP_TEST_PG_URL is set.

import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { openStore } from '../state/open.js';
import { cli, runExecutor, startSink, tempProject, until, type RunningExecutor } from './test-helpers/executor.js';

const PG_URL = process.env.ORGLOOP_TEST_PG_URL;
const schemas: string[] = [];
const running: RunningExecutor[] = [];
const sinks: Array<{ close(): Promise<void> }> = [];
afterEach(async () => {
  for (const r of running.splice(0)) await r.stop();
  for (const s of sinks.splice(0)) await s.close();
});

async function reclaims(state: (dir: string) => string): Promise<void> {
  const sink = await startSink();
  sinks.push(sink);
  const dir = tempProject({
    'orgloop.yaml': `
sources:
  - id: hooks
    connector: webhook
actors:
  - id: sink
    connector: webhook
    config: { url: "${sink.url}/sink" }
routes:
  - name: to-sink
    when: { source: hooks }
    then: { actor: sink }
`,
  });
  const loc = state(dir);
  const applied = await cli(['--state', loc, 'apply', '--auto-approve'], { cwd: dir });
  expect(applied.code, applied.stderr).toBe(0);
  // an executor that crashed holding two deliveries: leased to it, the leases already run out
  const store = await openStore(loc);
  try {
    const serial = (await store.meta()).serial;
    const items = ['a', 'b'].map((k) => {
      const id = `evt_reclaim_${k}`;
      const event = { id, source: 'hooks', type: 'resource.changed', time: new Date().toISOString(), hops: 0, trace_id: id, parent_id: null, provenance: { platform: 'webhook' }, payload: { k } };
      return {
        event: { id, source: 'hooks', type: 'resource.changed', dedupe_key: id, event_json: JSON.stringify(event), trace_id: id, parent_id: null, hops: 0, received_at: event.time },
        deliveries: [{ id: `dlv_reclaim_${k}`, route: 'to-sink', actor: 'sink', state_serial: serial }],
        leaseTo: { owner: 'crashed-executor', leaseMs: 1 },
      };
    });
    await store.ingest(items);
  } finally {
    await store.close();
  }
  await new Promise((r) => setTimeout(r, 20));
  const ex = await runExecutor(['--state', loc, 'start', '--port', '0'], { cwd: dir });
  running.push(ex);
  await until(() => sink.received.length >= 2, 20_000, 'the reclaimed deliveries');
  const metrics = await until(async () => {
    const text = await (await fetch(`${ex.url}/metrics`)).text();
    return text.includes('orgloop_deliveries_total{route="to-sink",actor="sink",outcome="delivered"} 2') ? text : null;
  }, 10_000, 'the deliveries in /metrics');
  expect(metrics).toContain('orgloop_leases_reclaimed_total{route="to-sink",actor="sink"} 2');
  expect(metrics).toContain('# TYPE orgloop_leases_reclaimed_total counter');
  expect(sink.received.map((r) => r.body.event?.payload?.k).sort()).toEqual(['a', 'b']);
}

describe('lease reclaims in /metrics', () => {
  it('counts the deliveries taken over from a crashed executor (SQLite)', async () => {
    await reclaims((dir) => join(dir, '.orgloop', 'state.db'));
  }, 60_000);

  describe.skipIf(!PG_URL)('on Postgres', () => {
    afterAll(async () => {
      const c = new pg.Client({ connectionString: PG_URL });
      await c.connect();
      for (const s of schemas) await c.query(`DROP SCHEMA IF EXISTS "${s}" CASCADE`);
      await c.end();
    });
    it('counts the same', async () => {
      const schema = `orgloop_reclaim_${process.pid}_${randomBytes(3).toString('hex')}`;
      schemas.push(schema);
      const u = new URL(PG_URL!);
      u.searchParams.set('schema', schema);
      await reclaims(() => u.toString());
    }, 60_000);
  });
});
