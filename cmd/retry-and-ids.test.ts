// "Fix the actor, apply, retry": a dead delivery retried with --current runs the actor as applied
// now; without it, under the version that routed it. And ids as people paste them: the short
// form the console logger prints, or any prefix, with ambiguous prefixes listing candidates.

import { afterEach, describe, expect, it } from 'vitest';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { applyDirect, cli, postJson, runExecutor, tempProject, until, type RunningExecutor } from './test-helpers/executor.js';

const running: RunningExecutor[] = [];
afterEach(async () => {
  for (const r of running.splice(0)) await r.stop();
});

const project = (command: string) => `
sources:
  - id: hook
    connector: webhook
actors:
  - id: worker
    connector: command
    config: { command: '${command}' }
loggers:
  - name: out
    type: console
routes:
  - name: work
    when: { source: hook, events: [resource.changed] }
    then: { actor: worker }
    delivery: { max_attempts: 1 }
`;

const lines = (f: string) => (existsSync(f) ? readFileSync(f, 'utf8').split('\n').filter(Boolean) : []);

async function statusOf(dir: string, id: string): Promise<string> {
  return JSON.parse((await cli(['deliveries', 'show', id, '--json'], { cwd: dir })).stdout).status;
}

describe('deliveries retry and short ids', () => {
  it('retries under the routing version by default and under the applied one with --current', async () => {
    const dir = tempProject({ 'orgloop.yaml': project('echo broken >> runs.txt; exit 3') });
    await applyDirect(dir);
    const ex = await runExecutor(['start', '--port', '0'], { cwd: dir });
    running.push(ex);

    const posted = await postJson(`${ex.url}/webhook/hook`, { n: 1 });
    expect(posted.status).toBe(202);
    await ex.waitFor(/deliver\.dead/);
    const [dead] = JSON.parse((await cli(['deliveries', 'list', '--status', 'dead', '--json'], { cwd: dir })).stdout);

    // the console logger printed the short form; it is a prefix that names this delivery
    const short = new RegExp(`dlv=(${dead.id.slice(0, 19)})\\b`).exec(ex.output())?.[1];
    expect(short).toBe(dead.id.slice(0, 19));

    // fix the actor and apply; the running executor swaps to it
    writeFileSync(join(dir, 'orgloop.yaml'), project('echo fixed >> runs.txt'));
    const serial = await applyDirect(dir);

    const pinned = await cli(['deliveries', 'retry', short!], { cwd: dir });
    expect(pinned.code).toBe(0);
    expect(pinned.stdout).toContain('Queued 1 delivery for another attempt under the version that routed it');
    expect(pinned.stdout).toContain('retry with --current');
    await until(async () => (lines(join(dir, 'runs.txt')).length === 2 && (await statusOf(dir, dead.id)) === 'dead') || null, 15_000, 'pinned retry to fail again');
    expect(lines(join(dir, 'runs.txt'))).toEqual(['broken', 'broken']);

    const current = await cli(['deliveries', 'retry', short!, '--current'], { cwd: dir });
    expect(current.code).toBe(0);
    expect(current.stdout).toContain(`under the current version ${serial}`);
    await until(async () => (await statusOf(dir, dead.id)) === 'delivered' || null, 15_000, 'current retry to deliver');
    expect(lines(join(dir, 'runs.txt'))).toEqual(['broken', 'broken', 'fixed']);
    const shown = JSON.parse((await cli(['deliveries', 'show', dead.id, '--json'], { cwd: dir })).stdout);
    expect(shown.state_serial).toBe(serial);

    const help = await cli(['deliveries', 'retry', '--help'], { cwd: dir });
    expect(help.stdout).toMatch(/--current\s+use the actor and route of the current applied version/);
    expect(help.stdout.replace(/\s+/g, ' ')).toContain('By default it runs under the version that routed it');
  });

  it('takes prefixes of event, delivery and trace ids everywhere, and lists the candidates of an ambiguous one', async () => {
    const dir = tempProject({ 'orgloop.yaml': project('true') });
    await applyDirect(dir);
    const ex = await runExecutor(['start', '--port', '0'], { cwd: dir });
    running.push(ex);
    // a burst within a few milliseconds: the old 12-character short form printed them all alike
    const ids = (await Promise.all(Array.from({ length: 6 }, (_, n) => postJson(`${ex.url}/webhook/hook`, { n })))).map((r) => r.json.event_id as string);
    await until(async () => (JSON.parse((await cli(['deliveries', 'list', '--status', 'delivered', '--json'], { cwd: dir })).stdout).length === 6) || null);
    await ex.stop();
    // each posted event's short form in the log lines names it alone
    const shorts = new Set([...ex.output().matchAll(/evt=(evt_\w+)/g)].map((m) => m[1]!).filter((s) => ids.some((i) => i.startsWith(s))));
    expect(shorts.size).toBe(6);
    for (const s of shorts) expect(ids.filter((i) => i.startsWith(s))).toHaveLength(1);

    const id = ids[0]!;
    const byShort = await cli(['events', 'show', id.slice(0, 19), '--json'], { cwd: dir });
    expect(byShort.code).toBe(0);
    expect(JSON.parse(byShort.stdout).event.id).toBe(id);

    // the six (and their actor.stopped events) share the time digits down to ~1 s
    const prefix = id.slice(0, 10);
    const ambiguous = await cli(['events', 'show', prefix], { cwd: dir });
    expect(ambiguous.code).toBe(1);
    const m = /^Error: "(\w+)" is the start of (\d+|more than 10) event ids; give more characters:\n((?: {2}\S+\n)+)(?: {2}…\n)?$/.exec(ambiguous.stderr);
    expect(m?.[1]).toBe(prefix);
    const listed = m![3]!.trim().split(/\s+/).filter((e) => e !== '…');
    expect(listed.length).toBeGreaterThan(1);
    for (const e of listed) expect(e.startsWith(prefix)).toBe(true);

    const none = await cli(['events', 'show', 'evt_zzzz'], { cwd: dir });
    expect(none.code).toBe(1);
    expect(none.stderr).toBe('Error: no event "evt_zzzz" (see `orgloop events list`)\n');

    const deliveries = JSON.parse((await cli(['deliveries', 'list', '--event', id.slice(0, 19), '--json'], { cwd: dir })).stdout);
    expect(deliveries).toHaveLength(1);
    const d = await cli(['deliveries', 'show', deliveries[0].id.slice(0, 16), '--json'], { cwd: dir });
    expect(JSON.parse(d.stdout).id).toBe(deliveries[0].id);

    const trace = `trc_${id.slice(4)}`;
    const byTrace = JSON.parse((await cli(['events', 'list', '--trace', trace.slice(0, 19), '--json'], { cwd: dir })).stdout);
    // the event and the actor.stopped it caused
    expect(byTrace.map((e: { id: string }) => e.id)).toContain(id);
    expect(byTrace.map((e: { trace_id: string }) => e.trace_id)).toEqual([trace, trace]);
    const logs = await cli(['logs', '--trace', trace.slice(0, 19), '--json'], { cwd: dir });
    const logged = logs.stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(logged.length).toBeGreaterThan(0);
    expect(new Set(logged.map((l: { trace_id: string }) => l.trace_id))).toEqual(new Set([trace]));
  });
});
