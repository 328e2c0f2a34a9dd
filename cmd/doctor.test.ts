// Issue 17 hole 18: misconfiguration found before a delivery is. `validate` warns (at
// file:line:col) about what it can check offline: a program that is not on PATH, a cwd that does
// not exist, a cron firing more often than its floor. `doctor` checks them as failures, tries to
// connect to each webhook actor's endpoint, and says what it checked. Real CLI child processes,
// a real listening port and a port nothing listens on.

import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli, tempProject } from './test-helpers/executor.js';
import { commandActor } from '../providers/actors/command.js';
import { makeCtx, makeDelivery } from '../providers/lib/test-helpers/context.js';

let up: http.Server;
let upUrl: string;
let downUrl: string;
beforeAll(async () => {
  up = http.createServer((_req, res) => res.end());
  await new Promise<void>((r) => up.listen(0, '127.0.0.1', r));
  upUrl = `http://127.0.0.1:${(up.address() as AddressInfo).port}`;
  // a port nothing listens on: take one, then close it
  const gone = http.createServer();
  await new Promise<void>((r) => gone.listen(0, '127.0.0.1', r));
  downUrl = `http://127.0.0.1:${(gone.address() as AddressInfo).port}`;
  await new Promise((r) => gone.close(r));
});
afterAll(() => new Promise((r) => up.close(r)));

const project = () => `name: preflight
sources:
  - id: inbox
    connector: webhook
  - id: ticker
    connector: cron
    config: { every: 1s }
  - id: slow-ticker
    connector: cron
    config: { every: 5s, min_interval: 5s }
actors:
  - id: missing-program
    connector: command
    config: { command: [orgloop-no-such-program-xyz, --run] }
  - id: missing-cwd
    connector: command
    config: { command: cat, cwd: ./not-here }
  - id: fine
    connector: command
    config: { command: cat }
  - id: reachable
    connector: webhook
    config: { url: "${upUrl}/hook" }
  - id: unreachable
    connector: webhook
    config: { url: "${downUrl}/hook" }
  - id: from-event
    connector: webhook
    config: { url: "https://{{payload.host}}/hook" }
routes:
${['missing-program', 'missing-cwd', 'fine', 'reachable', 'unreachable', 'from-event'].map((a) => `  - { name: to-${a}, when: { source: inbox }, then: { actor: ${a} } }`).join('\n')}
`;

describe('hole 18: misconfiguration is found before delivery time', () => {
  it('validate warns at file:line:col about a program not on PATH, a missing cwd and a cron every second', async () => {
    const dir = tempProject({ 'orgloop.yaml': project() });
    const r = await cli(['validate'], { cwd: dir });
    expect(r.code).toBe(0); // warnings: the executor may run on another machine
    expect(r.stderr).toMatch(/orgloop\.yaml:\d+:\d+: warning: actor "missing-program": config\.command: orgloop-no-such-program-xyz is not on PATH/);
    expect(r.stderr).toMatch(/orgloop\.yaml:\d+:\d+: warning: actor "missing-cwd": config\.cwd: cwd \S+\/not-here does not exist/);
    expect(r.stderr).toMatch(/orgloop\.yaml:\d+:\d+: warning: source "ticker": config\.every: fires every 1s \(86,400 events a day.*set min_interval: 1s/);
    expect(r.stderr).not.toContain('slow-ticker');
    expect(r.stderr).not.toContain('"fine"');
  });

  it('doctor fails them, connects to each webhook actor without sending a request, and says what it checked', async () => {
    const dir = tempProject({ 'orgloop.yaml': project() });
    let requests = 0;
    up.on('request', () => requests++);
    const r = await cli(['doctor', '--json', '--timeout', '5s'], { cwd: dir });
    expect(r.code).toBe(1);
    const rows = Object.fromEntries((JSON.parse(r.stdout).checks as Array<{ address: string; status: string; detail: string }>).map((c) => [c.address, c]));
    expect(rows['actor.missing-program']).toMatchObject({ status: 'fail', detail: 'orgloop-no-such-program-xyz is not on PATH' });
    expect(rows['actor.missing-cwd']).toMatchObject({ status: 'fail', detail: expect.stringMatching(/^cwd \S+\/not-here does not exist$/) });
    expect(rows['actor.fine']).toMatchObject({ status: 'ok', detail: expect.stringMatching(/^cwd \S+ exists; cat is \/\S+\/cat \(PATH of this shell/) });
    expect(rows['actor.reachable']).toMatchObject({ status: 'ok', detail: `connected to 127.0.0.1:${new URL(upUrl).port}; no request sent` });
    expect(rows['actor.unreachable']).toMatchObject({ status: 'fail', detail: expect.stringContaining(`cannot connect to 127.0.0.1:${new URL(downUrl).port}: connect ECONNREFUSED`) });
    expect(rows['actor.from-event']).toMatchObject({ status: 'skip', detail: expect.stringContaining('templated') });
    expect(requests).toBe(0);
  });

  it('a missing cwd at delivery time names the directory, not the shell', async () => {
    const r = await commandActor.deliver(makeCtx({ command: 'cat', cwd: 'no-such-dir' }, { projectDir: '/tmp' }), makeDelivery());
    expect(r).toEqual({ ok: false, retryable: true, error: 'could not start cat: cwd /tmp/no-such-dir does not exist (config.cwd, relative to the project)' });
  });
});
