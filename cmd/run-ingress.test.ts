// End-to-end edges of the executor: ingress rejections, agent callbacks, cancellation of
// deliveries to removed actors, cron, and the dry-run / inspection commands.

import { afterEach, describe, expect, it } from 'vitest';
import { createHmac } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { join } from 'node:path';
import { applyDirect, cli, postJson, runExecutor, tempProject, until, type RunningExecutor } from './test-helpers/executor.js';

const running: RunningExecutor[] = [];
afterEach(async () => {
  for (const r of running.splice(0)) await r.stop();
});
async function start(dir: string, env?: NodeJS.ProcessEnv) {
  const ex = await runExecutor(['start', '--port', '0'], { cwd: dir, env });
  running.push(ex);
  return ex;
}
const lines = (f: string) => (existsSync(f) ? readFileSync(f, 'utf8').split('\n').filter(Boolean) : []);

/** Streams `total` bytes without a content-length (chunked), resolving with the status the server answered. */
function postStreaming(url: string, total: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const req = http.request({ host: u.hostname, port: u.port, path: u.pathname, method: 'POST', headers: { 'content-type': 'application/json' } }, (res) => {
      res.resume();
      resolve(res.statusCode!);
    });
    req.on('error', reject);
    const chunk = Buffer.alloc(64 * 1024, 'a');
    let sent = 0;
    const pump = () => {
      while (sent < total) {
        sent += chunk.length;
        if (!req.write(chunk)) return void req.once('drain', pump);
      }
      req.end();
    };
    pump();
  });
}

describe('executor ingress and loop edges', () => {
  it('answers each kind of bad request with its own 4xx, logs it, and keeps serving', async () => {
    const dir = tempProject({
      'orgloop.yaml': `
sources:
  - id: signed
    connector: webhook
    config: { secret: "\${HOOK_SECRET}", max_body: 1KB }
actors:
  - id: a
    connector: command
    config: { command: 'cat >> got.jsonl; echo >> got.jsonl' }
routes:
  - name: r
    when: { source: signed }
    then: { actor: a }
`,
      '.env': 'HOOK_SECRET=s3cret\n',
    });
    await applyDirect(dir);
    const ex = await start(dir);
    const url = `${ex.url}/webhook/signed`;
    const body = JSON.stringify({ hello: 'world' });
    const sig = 'sha256=' + createHmac('sha256', 's3cret').update(body).digest('hex');

    const unsigned = await postJson(url, body);
    expect(unsigned.status).toBe(401);
    const wrong = await postJson(url, body, { 'x-hub-signature-256': 'sha256=' + '0'.repeat(64) });
    expect(wrong.status).toBe(401);
    const declaredTooBig = await postJson(url, JSON.stringify({ pad: 'x'.repeat(5000) }), { 'x-hub-signature-256': sig });
    expect(declaredTooBig.status).toBe(413);
    expect(declaredTooBig.json.error).toMatch(/exceeds the limit of 1024 bytes/);
    expect(await postStreaming(url, 8 * 1024 * 1024)).toBe(413);
    const unknown = await postJson(`${ex.url}/webhook/missing`, body);
    expect(unknown.status).toBe(404);
    expect((await fetch(`${ex.url}/nowhere`)).status).toBe(404);

    const good = await postJson(url, body, { 'x-hub-signature-256': sig, 'x-github-delivery': 'd-1' });
    expect(good.status).toBe(202);
    await until(() => lines(join(dir, 'got.jsonl')).length === 1, 15_000, 'delivery after the rejections');

    // the log bus writes its rows in batches (every 200 ms), so they may trail the delivery
    const rejects = await until(async () => {
      const logs = await cli(['logs', '--json'], { cwd: dir });
      expect(logs.stderr).toBe('');
      const found = logs.stdout
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l))
        .filter((e) => e.phase === 'ingress.reject');
      return found.length >= 6 && found;
    }, 15_000, 'six ingress.reject entries in orgloop logs');
    expect(rejects.map((e) => e.data.status).sort()).toEqual([401, 401, 404, 404, 413, 413]);
  });

  it('turns an agent callback into actor.stopped in the trace of the delivery', async () => {
    const dir = tempProject({
      'orgloop.yaml': `
sources:
  - id: hook
    connector: webhook
actors:
  - id: agent
    connector: command
    config: { command: 'node agent.mjs' }
  - id: reviewer
    connector: command
    config: { command: 'cat > review.json' }
routes:
  - name: work
    when: { source: hook }
    then: { actor: agent }
  - name: review
    when: { source: agent, events: [actor.stopped], filter: { payload.outcome: needs-review } }
    then: { actor: reviewer }
`,
      // task 1 records what it was given; task 2 reports back before it exits
      'agent.mjs': `
import { writeFileSync } from 'node:fs';
let input = '';
for await (const c of process.stdin) input += c;
const { ORGLOOP_DELIVERY_ID: id, ORGLOOP_CALLBACK_TOKEN: token, ORGLOOP_CALLBACK_URL: url } = process.env;
if (JSON.parse(input).payload.task === 1) writeFileSync('delivery.txt', [id, token, url].join(' '));
else await fetch(url, {
  method: 'POST',
  headers: { 'content-type': 'application/json', authorization: 'Bearer ' + token },
  body: JSON.stringify({ delivery_id: id, outcome: 'needs-review', output_tail: 'done, please review' }),
});
`,
    });
    await applyDirect(dir);
    const ex = await start(dir);
    const first = await postJson(`${ex.url}/webhook/hook`, { task: 1 });
    const [deliveryId, token, callbackUrl] = (
      await until(() => (existsSync(join(dir, 'delivery.txt')) ? readFileSync(join(dir, 'delivery.txt'), 'utf8').trim() : null), 15_000, 'agent run')
    ).split(' ');
    expect(callbackUrl).toBe(`${ex.url}/callback/agent`);
    const auth = { authorization: `Bearer ${token}` };

    const bad = await postJson(`${ex.url}/callback/agent`, '[1,2]', auth);
    expect(bad.status).toBe(400);
    expect(bad.json.error).toBe('callback body must be a JSON object');
    const unknownActor = await postJson(`${ex.url}/callback/ghost`, {});
    expect(unknownActor.status).toBe(404);
    // a delivery id without the token sent with it proves nothing
    const unknownDelivery = await postJson(`${ex.url}/callback/agent`, { delivery_id: 'dlv_nope' }, auth);
    expect(unknownDelivery.status).toBe(401);

    // the command actor's own exit already emitted actor.stopped for this delivery (outcome success),
    // so a callback for the same delivery is a duplicate; naming only the event proves nothing
    const dup = await postJson(`${ex.url}/callback/agent`, { delivery_id: deliveryId, outcome: 'needs-review' }, auth);
    expect(dup.status).toBe(200);
    expect(dup.json.duplicate).toBe(true);
    const byEvent = await postJson(`${ex.url}/callback/agent`, { event_id: first.json.event_id, outcome: 'needs-review' }, auth);
    expect(byEvent.status).toBe(401);

    // an agent that reports before it exits, as a real one does: its report, sent with the token
    // it was given, is the delivery's actor.stopped and wakes the review route
    const second = await postJson(`${ex.url}/webhook/hook`, { task: 2 });
    expect(second.status).toBe(202);
    const review = await until(() => (existsSync(join(dir, 'review.json')) ? readFileSync(join(dir, 'review.json'), 'utf8') : null), 15_000, 'review');
    expect(JSON.parse(review)).toMatchObject({
      type: 'actor.stopped',
      source: 'agent',
      trace_id: `trc_${second.json.event_id.slice(4)}`,
      parent_id: second.json.event_id,
      hops: 1,
      payload: { outcome: 'needs-review', output_tail: 'done, please review' },
    });
  });

  it('cancels deliveries to an actor that a new version removed', async () => {
    const v1 = `
sources:
  - id: hook
    connector: webhook
actors:
  - id: keep
    connector: command
    config: { command: 'true' }
  - id: doomed
    connector: command
    config: { command: 'touch started; sleep 10' }
routes:
  - name: to-doomed
    when: { source: hook }
    then: { actor: doomed }
`;
    const dir = tempProject({ 'orgloop.yaml': v1 });
    await applyDirect(dir);
    const ex = await start(dir, { ORGLOOP_SHUTDOWN_GRACE_MS: '100' });
    const r = await postJson(`${ex.url}/webhook/hook`, {});
    expect(r.json.deliveries).toBe(1);
    await until(() => existsSync(join(dir, 'started')), 15_000, 'actor start');
    expect((await ex.stop()).code).toBe(0);

    writeFileSync(
      join(dir, 'orgloop.yaml'),
      `
sources:
  - id: hook
    connector: webhook
actors:
  - id: keep
    connector: command
    config: { command: 'true' }
routes:
  - name: to-keep
    when: { source: hook }
    then: { actor: keep }
`,
    );
    await applyDirect(dir);
    const ex2 = await start(dir);
    await ex2.waitFor('deliver.cancel');
    const cancelled = JSON.parse((await cli(['deliveries', 'list', '--status', 'cancelled', '--json'], { cwd: dir })).stdout);
    expect(cancelled).toHaveLength(1);
    expect(cancelled[0]).toMatchObject({ route: 'to-doomed', actor: 'doomed' });
    expect(cancelled[0].last_error).toBe('actor "doomed" was removed in version 2');
  });

  it('fires cron sources and shows status, routes and dry runs', async () => {
    const dir = tempProject({
      'orgloop.yaml': `
sources:
  - id: tick
    connector: cron
    config: { every: 1s }
  - id: hook
    connector: webhook
transforms:
  - name: only-bugs
    type: filter
    config: { match: { payload.kind: bug } }
actors:
  - id: a
    connector: command
    config: { command: 'echo tick >> ticks.txt' }
routes:
  - name: on-tick
    when: { source: tick }
    then: { actor: a }
  - name: bugs
    when: { source: hook, events: [resource.changed] }
    transforms: [only-bugs]
    then: { actor: a, config: { key: "issue-{{payload.n}}" } }
`,
      'bug.json': JSON.stringify({ source: 'hook', payload: { kind: 'bug', n: 7 } }),
      'docs.json': JSON.stringify({ source: 'hook', payload: { kind: 'docs' } }),
    });
    await applyDirect(dir);
    const ex = await start(dir);
    await until(() => lines(join(dir, 'ticks.txt')).length >= 2, 15_000, 'two cron ticks');

    const status = JSON.parse((await cli(['status', '--json'], { cwd: dir })).stdout);
    expect(status.serial).toBe(1);
    expect(status.executors).toHaveLength(1);
    expect(status.executors[0]).toMatchObject({ serial_loaded: 1, alive: true });
    expect(status.sources.find((s: any) => s.id === 'tick').last_event_type).toBe('resource.changed');
    expect(status.routes.find((r: any) => r.name === 'on-tick').counts.delivered).toBeGreaterThanOrEqual(1);
    const text = await cli(['status'], { cwd: dir });
    expect(text.stdout).toMatch(/Executors:\n.*\n.*alive/);

    const routes = await cli(['routes'], { cwd: dir });
    expect(routes.stdout).toContain('bugs: [resource.changed] -> [only-bugs] -> a');

    const bug = await cli(['test', 'bug.json'], { cwd: dir });
    expect(bug.code).toBe(0);
    expect(bug.stdout).toContain('route bugs -> actor a');
    expect(bug.stdout).toContain('transform only-bugs (filter): pass');
    expect(bug.stdout).toContain('config: {"key":"issue-7"}');
    const docs = JSON.parse((await cli(['test', 'docs.json', '--json'], { cwd: dir })).stdout);
    expect(docs.matched).toHaveLength(1);
    expect(docs.matched[0]).toMatchObject({ route: 'bugs', result: 'drop' });
    const missing = await cli(['test', 'nope.json'], { cwd: dir });
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('cannot read nope.json: no such file');
    writeFileSync(join(dir, 'nosource.json'), '{"payload": {}}');
    const nosrc = await cli(['test', 'nosource.json'], { cwd: dir });
    expect(nosrc.stderr).toContain('nosource.json: the event needs "source"');
    expect(ex.output()).not.toContain('Error');
  });
});
