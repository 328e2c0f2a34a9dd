// End-to-end (issue 23): stored events replayed through a changed config. `orgloop test
// --from-store` reports per route and per transform, `orgloop plan` annotates with the same
// counts, and `orgloop events replay --since --route` backfills a new route that a real executor
// then delivers to a sink, adding nothing when run again. Real SQLite file, CLI as a child.

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli, runExecutor, startSink, tempProject, until, type RunningExecutor } from './test-helpers/executor.js';
import { openStore } from '../state/open.js';

const MIN = 60_000;

const v1 = (sink: string) => `
sources:
  - id: hooks
    connector: webhook
actors:
  - id: bot
    connector: webhook
    config: { url: "${sink}/bot" }
routes:
  - name: prs
    when: { source: hooks, events: [resource.changed], filter: { provenance.platform_event: pull_request } }
    then: { actor: bot }
`;
const v2 = (sink: string) => `
sources:
  - id: hooks
    connector: webhook
actors:
  - id: bot
    connector: webhook
    config: { url: "${sink}/bot" }
transforms:
  - name: only-opened
    type: filter
    config: { match: { payload.action: opened } }
  - name: once
    type: dedup
    config: { key: payload.number, window: 1h }
  - name: stamp
    type: enrich
    config: { set: { payload.seen_by: orgloop } }
routes:
  - name: prs
    when: { source: hooks, events: [resource.changed], filter: { provenance.platform_event: pull_request } }
    transforms: [only-opened, once, stamp]
    then: { actor: bot }
  - name: issues
    when: { source: hooks, events: [resource.changed], filter: { provenance.platform_event: issues } }
    then: { actor: bot }
`;

let n = 0;
function stored(platformEvent: string, action: string, number: number, ageMs: number) {
  const id = `evt_t${String(++n).padStart(5, '0')}`;
  const received_at = new Date(Date.now() - ageMs).toISOString();
  const e = { id, source: 'hooks', type: 'resource.changed', time: received_at, hops: 0, trace_id: id, parent_id: null, provenance: { platform: 'github', platform_event: platformEvent }, payload: { action, number } };
  return { event: { id, source: 'hooks', type: 'resource.changed', dedupe_key: id, event_json: JSON.stringify(e), trace_id: id, parent_id: null, hops: 0, received_at }, deliveries: [] };
}

describe('replaying stored traffic (test --from-store, plan, events replay --route)', () => {
  let dir: string;
  let sink: Awaited<ReturnType<typeof startSink>>;
  let ex: RunningExecutor | undefined;
  const run = (args: string[]) => cli(['-c', join(dir, 'orgloop.yaml'), ...args], { cwd: dir });
  const ok = async (args: string[]) => {
    const r = await run(args);
    if (r.code !== 0) throw new Error(`orgloop ${args.join(' ')} exited ${r.code}\n${r.stdout}\n${r.stderr}`);
    return r.stdout;
  };

  beforeAll(async () => {
    sink = await startSink();
    dir = tempProject({ 'orgloop.yaml': v1(sink.url) });
    await ok(['apply', '--auto-approve']);
    // PRs #1-#4 opened, #1 again 10 minutes later (inside the dedup hour), #5 and #6 closed; 3 issues
    const items = [
      stored('pull_request', 'opened', 1, 60 * MIN),
      stored('pull_request', 'opened', 2, 58 * MIN),
      stored('pull_request', 'opened', 3, 56 * MIN),
      stored('pull_request', 'opened', 4, 54 * MIN),
      stored('pull_request', 'opened', 1, 50 * MIN),
      stored('pull_request', 'closed', 5, 40 * MIN),
      stored('pull_request', 'closed', 6, 30 * MIN),
      stored('issues', 'opened', 7, 20 * MIN),
      stored('issues', 'opened', 8, 10 * MIN),
      stored('issues', 'closed', 9, 5 * MIN),
      // older than the 24h window
      stored('issues', 'opened', 10, 30 * 60 * MIN),
    ];
    const store = await openStore(join(dir, '.orgloop', 'state.db'));
    try {
      await store.ingest(items);
    } finally {
      await store.close();
    }
    writeFileSync(join(dir, 'orgloop.yaml'), v2(sink.url));
  }, 60_000);

  afterAll(async () => {
    await ex?.stop();
    await sink?.close();
  });

  it('test --from-store: per route what would match and what each transform decides, delivering nothing', async () => {
    const text = await ok(['test', '--from-store']);
    expect(text).toContain('Replayed 10 stored events received in the last 24h through the config on disk; nothing was delivered.');
    expect(text).toContain('route issues (hooks -> bot): 3 matched, 3 would be delivered');
    expect(text).toContain('route prs (hooks -> bot): 7 matched, 4 would be delivered, 3 dropped');
    expect(text).toContain('  transform only-opened (filter): 5 pass, 2 drop');
    expect(text).toContain('  transform once (dedup): 4 pass, 1 drop');
    expect(text).toContain('  transform stamp (enrich): not evaluated (enrich: not run over stored events), passed 4');

    const json = JSON.parse(await ok(['test', '--from-store', '--route', 'prs', '--json']));
    expect(json.events).toBe(10);
    expect(json.routes).toHaveLength(1);
    expect(json.routes[0]).toMatchObject({ route: 'prs', matched: 7, would_deliver: 4, dropped: 3, errors: 0, loop_cut: 0 });
    expect(json.routes[0].transforms.map((t: { transform: string; decisions: unknown }) => [t.transform, t.decisions])).toEqual([
      ['only-opened', { pass: 5, drop: 2, error: 0, not_evaluated: 0 }],
      ['once', { pass: 4, drop: 1, error: 0, not_evaluated: 0 }],
      ['stamp', { pass: 0, drop: 0, error: 0, not_evaluated: 4 }],
    ]);
    // --since narrows the window; the applied version has no issues route
    const recent = JSON.parse(await ok(['test', '--from-store', '--since', '15m', '--json']));
    expect(recent.events).toBe(2);
    const applied = await ok(['test', '--from-store', '--applied']);
    expect(applied).toContain('route prs (hooks -> bot): 7 matched, 7 would be delivered');
    expect(applied).toContain('No route matched 3 events:\n  3 "issues" from hooks');

    const bad = await run(['test', '--from-store', '--route', 'nope']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('no route named "nope" in the config on disk');
    expect(sink.received).toHaveLength(0);
  });

  it('plan shows the same counts for the changed route', async () => {
    // the plan's window is 7 days: the 30-hour-old issue counts there
    const text = (await run(['plan'])).stdout;
    expect(text).toContain('Traffic over the last 7d (11 events of the affected sources):');
    expect(text).toContain('route.prs: events matched 7 -> 4 (-3); dropped by transforms 0 -> 3 (+3)');
    expect(text).toContain('route.issues: events matched 0 -> 4 (+4)');
    expect(text).toContain('actor.bot: deliveries 7 -> 8 (+1)');
    const day = JSON.parse((await run(['plan', '--traffic-window', '24h', '--json'])).stdout);
    expect(day.traffic.routes).toEqual([
      { route: 'route.issues', matched_before: 0, matched_after: 3 },
      { route: 'route.prs', matched_before: 7, matched_after: 4, dropped_before: 0, dropped_after: 3 },
    ]);
    expect(text).toContain('(not evaluated, counted as passing: transform.stamp (enrich: not run over stored events))');
  });

  it('events replay --since --route backfills the new route once, and an executor delivers it', async () => {
    const before = await run(['events', 'replay', '--since', '24h', '--route', 'issues']);
    expect(before.code).toBe(1);
    expect(before.stderr).toContain('route "issues" is not in the applied version 1: apply it first');

    await ok(['apply', '--auto-approve']);
    const first = await ok(['events', 'replay', '--since', '24h', '--route', 'issues']);
    expect(first).toContain('Backfilled route issues (-> bot) with the events of the last 24h: 10 events of its source, 3 matched; 3 deliveries added under version 2.');
    const again = JSON.parse(await ok(['events', 'replay', '--since', '24h', '--route', 'issues', '--json']));
    expect(again).toMatchObject({ route: 'issues', serial: 2, events: 10, matched: 3, added: 0, existing: 3 });

    ex = await runExecutor(['-c', join(dir, 'orgloop.yaml'), 'start', '--port', '0'], { cwd: dir });
    await until(() => sink.received.length >= 3, 15_000, 'the backfilled deliveries');
    expect(sink.received.map((r) => r.body.event?.payload?.number ?? r.body.payload?.number).sort()).toEqual([7, 8, 9]);
    const store = await openStore(join(dir, '.orgloop', 'state.db'));
    try {
      await until(async () => (await store.deliveries({ route: 'issues', status: 'delivered' })).length === 3, 15_000, 'settled');
      const rows = await store.deliveries({ route: 'issues' });
      expect(rows.map((d) => [d.status, d.state_serial])).toEqual([['delivered', 2], ['delivered', 2], ['delivered', 2]]);
    } finally {
      await store.close();
    }
    // a third run while the executor runs: still nothing new
    const third = JSON.parse(await ok(['events', 'replay', '--since', '24h', '--route', 'issues', '--json']));
    expect(third).toMatchObject({ added: 0, existing: 3 });
    expect(sink.received).toHaveLength(3);
  }, 60_000);
});
