// agent-gate against a stand-in agent-ctl whose sessions are real child processes: unit cases
// call the transform through the contract; the route cases run it in a real executor between a
// webhook source and a command actor.

import { once } from 'node:events';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { agentGateTransform } from './agent-gate.js';
import { fakeAgentCtl, type FakeAgentCtl } from '../../test/fakes/agent-ctl.js';
import { makeCtx, makeEvent } from '../lib/test-helpers/context.js';
import { startHarness, type ProviderHarness } from '../../sdk/harness.js';
import { openStore } from '../../state/open.js';
import type { TransformStore } from '../types.js';

const noStore: TransformStore = { seen: async () => false };

describe('agent-gate transform', () => {
  let fake: FakeAgentCtl;
  beforeAll(() => {
    fake = fakeAgentCtl();
  });
  afterAll(() => fake.close());
  const run = (config: Record<string, unknown>) => {
    const ctx = makeCtx({ binary_path: fake.binary, ...config });
    return { ctx, result: agentGateTransform.transform(ctx, makeEvent({ type: 'actor.stopped' }), noStore) };
  };

  it('drops while a session runs, passes once none does', async () => {
    const proc = fake.launch();
    fake.write([{ id: 'a1', adapter: 'claude-code', pid: proc.pid }]);
    expect(await run({}).result).toEqual({ action: 'drop', reason: 'agent-gate: 1 session(s) running (a1)' });
    proc.kill();
    await once(proc, 'exit');
    const r = await run({}).result;
    expect(r.action).toBe('pass');
    expect(r).toEqual({ action: 'pass', event: makeEvent({ type: 'actor.stopped' }) });
  });

  it('counts only active_statuses, and only adapter_filter sessions when set', async () => {
    fake.write([
      { id: 'b1', adapter: 'codex', status: 'running' },
      { id: 'b2', adapter: 'claude-code', status: 'idle' },
      { id: 'b3', adapter: 'claude-code', status: 'stopped' },
      { id: 'b4', adapter: 'claude-code', status: 'error' },
    ]);
    expect((await run({ adapter_filter: 'claude-code' }).result).action).toBe('pass');
    expect(await run({}).result).toMatchObject({ action: 'drop' });
    expect(await run({ adapter_filter: 'claude-code', active_statuses: ['running', 'idle'] }).result).toEqual({ action: 'drop', reason: 'agent-gate: 1 claude-code session(s) running/idle (b2)' });
  });

  it('fails open: a listing that fails lets the event through with one warning', async () => {
    fake.write([{ id: 'c1', adapter: 'claude-code', status: 'running' }], { fail: 'registry locked' });
    const { ctx, result } = run({});
    expect((await result).action).toBe('pass');
    expect(ctx.logged.filter(([l]) => l === 'warn').map(([, m]) => m)).toEqual([expect.stringMatching(/could not list sessions, letting events through: .*exited with 2: registry locked/)]);
    // the same config again within the minute: no second warning
    expect((await agentGateTransform.transform(ctx, makeEvent(), noStore)).action).toBe('pass');
    expect(ctx.logged.filter(([l]) => l === 'warn')).toHaveLength(1);
    expect((await run({ binary_path: join(fake.dir, 'missing') }).result).action).toBe('pass');
  });

  it('doctor lists the sessions and says whether the gate is open', async () => {
    fake.write([{ id: 'e1', adapter: 'claude-code', status: 'running' }]);
    expect(await agentGateTransform.check!(makeCtx({ binary_path: fake.binary }))).toEqual({ ok: true, detail: `${fake.binary} lists 1 session(s); the gate is closed now: 1 session(s) running (e1)` });
    expect(await agentGateTransform.check!(makeCtx({ binary_path: join(fake.dir, 'missing') }))).toMatchObject({ ok: false, detail: expect.stringMatching(/could not run .*\(events would pass: the gate fails open\)$/) });
  });

  it("rejects keys it does not know, as OrgLoop's does", () => {
    expect(agentGateTransform.configSchema.additionalProperties).toBe(false);
    expect(agentGateTransform.validate!({ timeout: 'later' })[0]).toMatchObject({ path: 'timeout' });
  });
});

describe('agent-gate on a route, in a real executor', () => {
  let fake: FakeAgentCtl;
  let h: ProviderHarness;
  let out: string;
  const sink = (name: string) => join(out, `${name}.jsonl`);
  const lines = (name: string) => (existsSync(sink(name)) ? readFileSync(sink(name), 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l)) : []);
  const until = async (what: string, fn: () => boolean) => {
    const deadline = Date.now() + 15_000;
    while (!fn()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };

  beforeAll(async () => {
    fake = fakeAgentCtl();
    out = mkdtempSync(join(tmpdir(), 'orgloop-gate-out-'));
    const actor = (name: string) => ({ id: name, connector: 'command', config: { command: `cat >> ${JSON.stringify(sink(name))}; echo >> ${JSON.stringify(sink(name))}` } });
    h = await startHarness({
      provider: agentGateTransform,
      config: { binary_path: fake.binary, adapter_filter: 'claude-code' },
      project: {
        sources: [{ id: 'sessions', connector: 'webhook' }],
        actors: [actor('supervisor'), actor('audit')],
        routes: [
          // upstream's supervisor pattern: wake the supervisor when the last agent has stopped
          { name: 'last-agent-done', when: { source: 'sessions', events: ['session.stopped'] }, transforms: [{ ref: 'under-test' }], then: { actor: 'supervisor' } },
          { name: 'every-stop', when: { source: 'sessions', events: ['session.stopped'] }, then: { actor: 'audit' } },
        ],
      },
    });
  });
  afterAll(async () => {
    await h.close();
    fake.close();
    rmSync(out, { recursive: true, force: true });
  });

  it('a stop while another claude-code session runs is dropped on the gated route only; the last stop gets through', async () => {
    const other = fake.launch();
    fake.write([{ id: 'agent-2', adapter: 'claude-code', pid: other.pid }]);
    const stop = (id: string) => h.webhook({ type: 'session.stopped', session_id: id }, {}, '/webhook/sessions');

    expect((await stop('agent-1')).status).toBeLessThan(300);
    await until('the audit copy of agent-1', () => lines('audit').length === 1);
    const store = await openStore(join(h.dir, '.orgloop', 'state.db'));
    const gated = async () => (await store.deliveries({ route: 'last-agent-done', limit: 10 }))[0];
    const deadline = Date.now() + 15_000;
    while ((await gated())?.status !== 'delivered') {
      if (Date.now() > deadline) throw new Error('gated delivery never settled');
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(lines('supervisor')).toEqual([]);
    // the delivery completed as dropped by the gate (its log entry reaches the store in a batch)
    const dropped = async () => (await store.logs({ route: 'last-agent-done', limit: 100 })).some((l) => l.phase === 'deliver.success' && l.message === 'dropped by transform under-test');
    for (const deadline = Date.now() + 15_000; !(await dropped()); ) {
      if (Date.now() > deadline) throw new Error('no log entry says the gate dropped the event');
      await new Promise((r) => setTimeout(r, 50));
    }

    other.kill();
    await once(other, 'exit');
    expect((await stop('agent-2')).status).toBeLessThan(300);
    await until('the supervisor to be woken', () => lines('supervisor').length === 1);
    expect(lines('supervisor')[0].payload.session_id).toBe('agent-2');
    expect(lines('audit').map((e) => e.payload.session_id)).toEqual(['agent-1', 'agent-2']);
    await store.close();
  });
});
