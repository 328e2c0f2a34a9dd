import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startFakeDocker, type FakeDocker } from '../../test/fakes/docker.js';
import { makeCtx, makeDelivery, makeEvent } from '../lib/test-helpers/context.js';
import { dockerSource } from './docker.js';
import { dockerActor } from '../actors/docker.js';

let docker: FakeDocker;
afterEach(async () => docker?.close());

describe('docker source and actor over the Engine API unix socket', () => {
  it('the actor runs, stops and restarts containers; the source reads their events once each', async () => {
    docker = await startFakeDocker();
    const first = await dockerSource.poll!(makeCtx({ socket: docker.socket }), null, null);
    expect(first.events).toEqual([]);
    const api = docker.addContainer('api', 'acme/worker:1', true);
    const ctx = makeCtx({ socket: docker.socket, image: 'alpine:3.20', cmd: 'echo {{payload.title}}', env: { PR: '{{payload.pr_number}}' }, name: 'job-{{payload.pr_number}}' });
    expect(await dockerActor.deliver(ctx, makeDelivery())).toEqual({ ok: true });
    const job = docker.containers.find((c) => c.Name === 'job-42')!;
    expect(job).toMatchObject({ Image: 'alpine:3.20', Cmd: ['sh', '-c', "echo 'Fix the thing'"], Env: ['PR=42'], running: true, Labels: { 'orgloop.delivery': 'dlv_1' } });
    // a retried delivery (same id) starts the container it made instead of creating another
    expect(await dockerActor.deliver(ctx, makeDelivery())).toEqual({ ok: true });
    expect(docker.containers.filter((c) => c.Name.startsWith('job-'))).toHaveLength(1);
    const stop = makeCtx({ socket: docker.socket, action: 'stop', container: '{{payload.target}}' });
    expect(await dockerActor.deliver(stop, makeDelivery({ event: makeEvent({ payload: { target: 'api' } }) }))).toEqual({ ok: true });
    expect(api.running).toBe(false);
    expect(await dockerActor.deliver(stop, makeDelivery({ event: makeEvent({ payload: { target: 'api' } }) }))).toEqual({ ok: true }); // 304: already stopped
    expect(await dockerActor.deliver(makeCtx({ socket: docker.socket, action: 'restart', container: 'api' }), makeDelivery())).toEqual({ ok: true });
    expect(await dockerActor.deliver(makeCtx({ socket: docker.socket, action: 'start', container: 'ghost' }), makeDelivery())).toEqual({ ok: false, retryable: false, error: 'Docker start ghost failed (404): No such container: ghost' });
    expect(await dockerActor.deliver(makeCtx({ socket: docker.socket, image: 'nope:1' }), makeDelivery({ delivery_id: 'dlv_2' }))).toEqual({ ok: false, retryable: false, error: 'Docker create from nope:1 failed (404): No such image: nope:1' });

    const second = await dockerSource.poll!(makeCtx({ socket: docker.socket }), first.cursor, null);
    expect(second.events.map((e) => [e.provenance!.platform_event, e.payload.name])).toEqual([
      ['container.create', 'job-42'],
      ['container.start', 'job-42'],
      ['container.kill', 'api'],
      ['container.die', 'api'],
      ['container.stop', 'api'],
      ['container.restart', 'api'],
    ]);
    expect(second.events[3]!.payload.exit_code).toBe(0);
    const third = await dockerSource.poll!(makeCtx({ socket: docker.socket }), second.cursor, null);
    // the newest event is read again at the window's start; its dedupe key makes it a no-op
    expect(third.events.map((e) => e.dedupe_key)).toEqual([second.events.at(-1)!.dedupe_key]);
  });

  it('hole 9: a cmd string runs under sh -c with each event value one word, from the actor or the route', async () => {
    docker = await startFakeDocker();
    const title = `$(touch pwned1); echo "x' ; touch pwned2 \`touch pwned3\` \\`;
    const work = mkdtempSync(join(tmpdir(), 'orgloop-shell-'));
    const cmds = [
      { actor: { cmd: 'printf %s {{payload.title}}' }, route: {} },
      { actor: { cmd: "printf %s '{{payload.title}}'" }, route: {} },
      { actor: {}, route: { cmd: 'printf %s "{{payload.title}}"' } },
    ];
    for (const [i, c] of cmds.entries()) {
      const ctx = makeCtx({ socket: docker.socket, image: 'alpine:3.20', ...c.actor });
      const req = makeDelivery({ delivery_id: `dlv_sh${i}`, event: makeEvent({ payload: { title } }), routeConfig: {}, routeTemplate: c.route });
      expect(await dockerActor.deliver(ctx, req)).toEqual({ ok: true });
      const made = docker.containers.at(-1)!;
      expect(made.Cmd?.slice(0, 2)).toEqual(['sh', '-c']);
      // run what the container would run, with a real shell: it prints the title and nothing else happens
      const out = execFileSync('sh', ['-c', made.Cmd![2]!], { cwd: work, encoding: 'utf8' });
      expect(out).toBe(title);
      expect(readdirSync(work)).toEqual([]);
    }
    rmSync(work, { recursive: true, force: true });
  });

  it('health events, filters, an unreachable engine, and doctor', async () => {
    docker = await startFakeDocker();
    const first = await dockerSource.poll!(makeCtx({ socket: docker.socket, containers: ['db'] }), null, null);
    const db = docker.addContainer('db', 'postgres:16', true);
    const other = docker.addContainer('web', 'nginx', true);
    docker.emit(db, 'health_status: unhealthy');
    docker.emit(other, 'health_status: unhealthy');
    await new Promise((r) => setTimeout(r, 5)); // events after the poll's `until` (ms) are read by the next window, which starts at the newest event
    const r = await dockerSource.poll!(makeCtx({ socket: docker.socket, containers: ['db'] }), first.cursor, null);
    expect(r.events.map((e) => [e.provenance!.platform_event, e.payload.name])).toEqual([['container.unhealthy', 'db']]);
    expect(await dockerSource.check!(makeCtx({ socket: docker.socket }))).toEqual({ ok: true, detail: 'Docker Engine 27.0.3 (API 1.46) reachable' });
    const gone = await dockerSource.check!(makeCtx({ socket: '/nonexistent/docker.sock' }));
    expect(gone).toEqual({ ok: false, detail: 'Docker Engine at /nonexistent/docker.sock is not reachable: ENOENT' });
    await expect(dockerSource.poll!(makeCtx({ socket: '/nonexistent/docker.sock' }), null, null)).rejects.toThrow('not reachable');
  });
});
