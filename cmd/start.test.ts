// End-to-end: the real CLI runs the executor as a child process; events arrive over real HTTP
// on 127.0.0.1 and command actors are real processes.

import { afterEach, describe, expect, it } from 'vitest';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { applyDirect, cli, postJson, runExecutor, tempProject, until, type RunningExecutor } from './test-helpers/executor.js';

const running: RunningExecutor[] = [];
afterEach(async () => {
  for (const r of running.splice(0)) await r.stop();
});

async function start(dir: string, env?: NodeJS.ProcessEnv): Promise<RunningExecutor> {
  const ex = await runExecutor(['start', '--port', '0'], { cwd: dir, env });
  running.push(ex);
  return ex;
}

function lines(file: string): string[] {
  return existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(Boolean) : [];
}

describe('orgloop start', () => {
  it('refuses clearly when nothing has been applied', async () => {
    const dir = tempProject({ 'orgloop.yaml': 'sources: []\n' });
    const r = await cli(['start', '--port', '0'], { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/No applied version in .*state\.db\. Run `orgloop apply` first \(or `orgloop up` to plan, apply and start\)\./);
  });

  it('says when the YAML on disk differs from the applied version it runs, and how to apply it', async () => {
    const yaml = `
sources:
  - id: hook
    connector: webhook
actors:
  - id: a
    connector: command
    config: { command: 'true' }
routes:
  - name: r
    when: { source: hook, events: [resource.changed] }
    then: { actor: a }
`;
    const dir = tempProject({ 'orgloop.yaml': yaml });
    await applyDirect(dir);
    const same = await start(dir);
    expect(same.output()).not.toContain('differs from the applied version');
    await same.stop();

    writeFileSync(join(dir, 'orgloop.yaml'), yaml.replace("command: 'true'", "command: 'echo changed'"));
    const edited = await start(dir);
    expect(edited.output()).toContain(
      'orgloop.yaml differs from the applied version 1 (0 to add, 1 to change, 0 to destroy): this executor runs version 1. `orgloop plan` shows the changes; `orgloop apply` makes them live',
    );
    await edited.stop();

    writeFileSync(join(dir, 'orgloop.yaml'), yaml.replace('routes:', 'routez:'));
    const broken = await start(dir);
    expect(broken.output()).toMatch(/orgloop\.yaml does not load \(1 error\(s\); `orgloop validate` lists them\): this executor runs the applied version 1\./);
  });

  it('delivers a webhook to a command actor with the event and the prompt, and answers bad requests with 4xx', async () => {
    const dir = tempProject({
      'orgloop.yaml': `
sources:
  - id: webhook
    connector: webhook
actors:
  - id: agent
    connector: command
    config:
      command: 'cat > "got-$ORGLOOP_DELIVERY_ID.json"; printf "%s" "$ORGLOOP_PROMPT" > "prompt-$ORGLOOP_DELIVERY_ID.md"; echo "$ORGLOOP_DELIVERY_ID" >> runs.txt'
routes:
  - name: hello
    when: { source: webhook, events: [resource.changed] }
    then: { actor: agent }
    with: { prompt_file: ./sops/hello.md }
`,
      'sops/hello.md': '# Hello SOP\nSay hello.\n',
    });
    await applyDirect(dir);
    const ex = await start(dir);

    const ok = await postJson(`${ex.url}/webhook/webhook`, { type: 'test', message: 'hello from orgloop' });
    expect(ok.status).toBe(202);
    expect(ok.json).toMatchObject({ ok: true, deliveries: 1, duplicate: false });
    expect(ok.json.event_id).toMatch(/^evt_/);

    const runs = await until(() => (lines(join(dir, 'runs.txt')).length ? lines(join(dir, 'runs.txt')) : null), 15_000, 'actor run');
    const delivered = JSON.parse(readFileSync(join(dir, `got-${runs[0]}.json`), 'utf8'));
    expect(delivered).toMatchObject({
      id: ok.json.event_id,
      type: 'resource.changed',
      source: 'webhook',
      provenance: { platform_event: 'test' },
      payload: { type: 'test', message: 'hello from orgloop' },
      hops: 0,
    });
    expect(readFileSync(join(dir, `prompt-${runs[0]}.md`), 'utf8')).toBe('# Hello SOP\nSay hello.\n');
    await ex.waitFor('deliver.success');

    const unknown = await postJson(`${ex.url}/webhook/nope`, { a: 1 });
    expect(unknown.status).toBe(404);
    expect(unknown.json.error).toBe('unknown source "nope"');
    const bad = await postJson(`${ex.url}/webhook/webhook`, '{not json');
    expect(bad.status).toBe(400);
    const health = await fetch(`${ex.url}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ ok: true, serial: 1 });
    expect(ex.output()).toMatch(/ingress\.reject .*404/);

    const stopped = await ex.stop();
    expect(stopped.code).toBe(0);
    expect(lines(join(dir, 'runs.txt'))).toHaveLength(1);

    // the store log shows the whole path of the event, in order
    const logs = await cli(['logs', '--json'], { cwd: dir });
    expect(logs.code).toBe(0);
    const phases = logs.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l))
      .filter((e) => e.event_id === ok.json.event_id)
      .map((e) => e.phase);
    expect(phases.filter((p) => p !== 'deliver.attempt')).toEqual(['source.emit', 'route.match', 'deliver.success']);
    const text = await cli(['logs', '--route', 'hello'], { cwd: dir });
    expect(text.stdout).toMatch(/route\.match .*route=hello/);
    expect(text.stdout).toMatch(/deliver\.success .*route=hello/);
  });

  it('runs a chain through actor.stopped and cuts a self-loop at max_hops', async () => {
    const dir = tempProject({
      'orgloop.yaml': `
sources:
  - id: hook
    connector: webhook
actors:
  - id: x
    connector: command
    config: { command: 'echo "x $ORGLOOP_EVENT_ID" >> trail.txt' }
  - id: y
    connector: command
    config: { command: 'cat > y-event.json; echo "y $ORGLOOP_EVENT_ID" >> trail.txt' }
  - id: looper
    connector: command
    config: { command: 'echo "$ORGLOOP_EVENT_ID" >> loops.txt' }
routes:
  - name: start-chain
    when: { source: hook, events: [resource.changed], filter: { payload.kind: chain } }
    then: { actor: x }
  - name: x-done
    when: { source: x, events: [actor.stopped] }
    then: { actor: y }
  - name: start-loop
    when: { source: hook, events: [resource.changed], filter: { payload.kind: loop } }
    then: { actor: looper }
  - name: loop
    when: { source: looper, events: [actor.stopped] }
    then: { actor: looper }
    max_hops: 3
`,
    });
    await applyDirect(dir);
    const ex = await start(dir);

    const chain = await postJson(`${ex.url}/webhook/hook`, { kind: 'chain' });
    expect(chain.status).toBe(202);
    await until(() => lines(join(dir, 'trail.txt')).length >= 2, 15_000, 'chain to reach y');
    const trail = lines(join(dir, 'trail.txt'));
    expect(trail[0]).toBe(`x ${chain.json.event_id}`);
    const yEvent = JSON.parse(readFileSync(join(dir, 'y-event.json'), 'utf8'));
    expect(yEvent).toMatchObject({
      type: 'actor.stopped',
      source: 'x',
      parent_id: chain.json.event_id,
      trace_id: `trc_${chain.json.event_id.slice(4)}`,
      hops: 1,
      payload: { outcome: 'success', exit_code: 0, route: 'start-chain', actor: 'x' },
    });
    expect(trail[1]).toBe(`y ${yEvent.id}`);

    const loop = await postJson(`${ex.url}/webhook/hook`, { kind: 'loop' });
    expect(loop.status).toBe(202);
    await ex.waitFor('loop.cut');
    // hops 0 (from the webhook) and 1..3 through the self-loop; the hops-4 event is cut
    expect(lines(join(dir, 'loops.txt'))).toHaveLength(4);
    expect(ex.output()).toMatch(/loop\.cut .*route=loop .*4 hops deep, route loop allows max_hops 3/);
  });

  it('retries with backoff until success, ends dead after max_attempts, and `deliveries retry` redelivers', async () => {
    const dir = tempProject({
      'orgloop.yaml': `
sources:
  - id: hook
    connector: webhook
actors:
  - id: flaky
    connector: command
    config: { command: 'echo "$ORGLOOP_DELIVERY_ID $ORGLOOP_ATTEMPT" >> flaky.txt; [ "$ORGLOOP_ATTEMPT" -ge 3 ]' }
  - id: broken
    connector: command
    config: { command: 'echo "$ORGLOOP_ATTEMPT" >> broken.txt; [ -f fixed ]' }
routes:
  - name: to-flaky
    when: { source: hook, events: [resource.changed], filter: { payload.to: flaky } }
    then: { actor: flaky }
  - name: to-broken
    when: { source: hook, events: [resource.changed], filter: { payload.to: broken } }
    then: { actor: broken }
    delivery: { max_attempts: 2 }
`,
    });
    await applyDirect(dir);
    const ex = await start(dir);

    const f = await postJson(`${ex.url}/webhook/hook`, { to: 'flaky' });
    expect(f.status).toBe(202);
    const b = await postJson(`${ex.url}/webhook/hook`, { to: 'broken' });
    expect(b.status).toBe(202);
    await ex.waitFor(/deliver\.success .*route=to-flaky/);
    await ex.waitFor(/deliver\.dead .*route=to-broken/);
    expect(lines(join(dir, 'flaky.txt')).map((l) => l.split(' ')[1])).toEqual(['1', '2', '3']);
    expect(lines(join(dir, 'broken.txt'))).toEqual(['1', '2']);

    const flakyList = JSON.parse((await cli(['deliveries', 'list', '--route', 'to-flaky', '--json'], { cwd: dir })).stdout);
    expect(flakyList).toHaveLength(1);
    expect(flakyList[0]).toMatchObject({ status: 'delivered', attempts: 3 });

    const dead = await cli(['deliveries', 'list', '--status', 'dead'], { cwd: dir });
    expect(dead.code).toBe(0);
    const deadId = /^(dlv_\w+)/m.exec(dead.stdout)![1]!;
    expect(dead.stdout).toMatch(/to-broken -> broken\s+dead, 2 attempts/);
    expect(dead.stdout).toMatch(/gave up after 2 attempts/);

    const notDead = await cli(['deliveries', 'retry', flakyList[0].id], { cwd: dir });
    expect(notDead.code).toBe(1);
    expect(notDead.stderr).toContain(`delivery ${flakyList[0].id} is delivered; only dead or cancelled deliveries can be retried`);

    writeFileSync(join(dir, 'fixed'), '');
    const retry = await cli(['deliveries', 'retry', deadId], { cwd: dir });
    expect(retry.code).toBe(0);
    expect(retry.stdout).toContain('Queued 1 delivery');
    await until(async () => {
      const d = JSON.parse((await cli(['deliveries', 'show', deadId, '--json'], { cwd: dir })).stdout);
      return d.status === 'delivered' ? d : null;
    }, 15_000, 'redelivery');
    expect(lines(join(dir, 'broken.txt'))).toEqual(['1', '2', '1']);
  });

  it('turns 50 concurrent posts of the same GitHub delivery id into one event', async () => {
    const dir = tempProject({
      'orgloop.yaml': `
sources:
  - id: gh
    connector: webhook
actors:
  - id: a
    connector: command
    config: { command: 'echo run >> runs.txt' }
routes:
  - name: pushes
    when: { source: gh, events: [push] }
    then: { actor: a }
`,
    });
    await applyDirect(dir);
    const ex = await start(dir);
    const body = JSON.stringify({ ref: 'refs/heads/main' });
    const answers = await Promise.all(
      Array.from({ length: 50 }, () =>
        postJson(`${ex.url}/webhook/gh`, body, { 'x-github-event': 'push', 'x-github-delivery': '72d3162e-cc78-11e3-81ab-4c9367dc0958' }),
      ),
    );
    expect(answers.every((a) => a.status === 202 || a.status === 200)).toBe(true);
    const firsts = answers.filter((a) => a.json.duplicate === false);
    expect(firsts).toHaveLength(1);
    expect(new Set(answers.map((a) => a.json.event_id)).size).toBe(1);
    await ex.waitFor('deliver.success');
    const events = JSON.parse((await cli(['events', 'list', '--source', 'gh', '--json'], { cwd: dir })).stdout);
    expect(events).toHaveLength(1);
    expect(events[0].dedupe_key).toBe('72d3162e-cc78-11e3-81ab-4c9367dc0958');
    expect(lines(join(dir, 'runs.txt'))).toHaveLength(1);
  });

  it('picks up a newly applied route without a restart', async () => {
    const v1 = `
sources:
  - id: hook
    connector: webhook
actors:
  - id: a
    connector: command
    config: { command: 'echo a >> runs.txt' }
  - id: b
    connector: command
    config: { command: 'echo b >> runs.txt' }
routes:
  - name: to-a
    when: { source: hook, events: [resource.changed] }
    then: { actor: a }
`;
    const dir = tempProject({ 'orgloop.yaml': v1 });
    await applyDirect(dir);
    const ex = await start(dir);
    expect((await postJson(`${ex.url}/webhook/hook`, { n: 1 })).json.deliveries).toBe(1);
    await until(() => lines(join(dir, 'runs.txt')).length === 1, 15_000, 'first delivery');

    writeFileSync(
      join(dir, 'orgloop.yaml'),
      v1 +
        `  - name: to-b
    when: { source: hook, events: [resource.changed] }
    then: { actor: b }
`,
    );
    await applyDirect(dir);
    await ex.waitFor('now running version 2');
    const second = await postJson(`${ex.url}/webhook/hook`, { n: 2 });
    expect(second.json.deliveries).toBe(2);
    await until(() => lines(join(dir, 'runs.txt')).length === 3, 15_000, 'deliveries under version 2');
    expect(lines(join(dir, 'runs.txt')).sort()).toEqual(['a', 'a', 'b']);
    const health = (await (await fetch(`${ex.url}/healthz`)).json()) as { serial: number };
    expect(health.serial).toBe(2);
  });
});
