// The agent-ctl source against a stand-in agent-ctl program (test/fakes/agent-ctl.ts) whose
// sessions are real child processes: a session is running while its process lives.

import { once } from 'node:events';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { agentCtlSource } from './agent-ctl.js';
import { fakeAgentCtl, type FakeAgentCtl, type RegistryEntry } from '../../test/fakes/agent-ctl.js';
import { makeCtx } from '../lib/test-helpers/context.js';
import { startHarness, type ProviderHarness } from '../../sdk/harness.js';
import type { EmittedEvent } from '../types.js';

const entry = (over: Partial<RegistryEntry> & { id: string }): RegistryEntry => ({ adapter: 'claude-code', startedAt: '2026-06-01T10:00:00.000Z', cwd: '/work/repo', ...over });

describe('agent-ctl source: polls', () => {
  let fake: FakeAgentCtl;
  let cursor: string | null = null;
  const ctx = () => makeCtx({ binary_path: fake.binary });
  const poll = async (): Promise<EmittedEvent[]> => {
    const r = await agentCtlSource.poll!(ctx(), cursor, null);
    cursor = r.cursor;
    return r.events;
  };
  const pe = (evs: EmittedEvent[]) => evs.map((e) => [e.payload.session_id, e.type, e.provenance!.platform_event, e.payload.action]);

  beforeAll(() => {
    fake = fakeAgentCtl();
  });
  afterEach(() => {
    cursor = null;
  });
  afterAll(() => fake.close());

  it('a launched session is started; idle is active (reason idle); its process exiting is stopped; nothing changes, nothing is emitted', async () => {
    const proc = fake.launch();
    fake.write([entry({ id: 'sess-a', pid: proc.pid, spec: 'review-pr', model: 'opus', tokens: { in: 10, out: 3 }, cost: 0.25, meta: { branch: 'main' } })]);
    const [started] = await poll();
    expect(started).toMatchObject({
      type: 'resource.changed',
      provenance: { platform: 'agent-ctl', platform_event: 'session.started', author: 'claude-code', author_type: 'bot' },
      payload: {
        lifecycle: { phase: 'started', terminal: false, dedupe_key: 'claude-code:sess-a:started' },
        session: { id: 'sess-a', adapter: 'claude-code', harness: 'claude-code', cwd: '/work/repo', started_at: '2026-06-01T10:00:00.000Z' },
        action: 'session.started',
        session_id: 'sess-a',
        adapter: 'claude-code',
        status: 'running',
        spec: 'review-pr',
        model: 'opus',
        tokens: { in: 10, out: 3 },
        cost: 0.25,
        pid: proc.pid,
        meta: { branch: 'main' },
      },
    });
    expect((started!.payload.lifecycle as Record<string, unknown>).outcome).toBeUndefined();
    expect(await poll()).toEqual([]);

    fake.write([entry({ id: 'sess-a', pid: proc.pid, idle: true })]);
    const [idle] = await poll();
    expect(idle).toMatchObject({ type: 'resource.changed', provenance: { platform_event: 'session.active' }, payload: { action: 'session.idle', status: 'idle', lifecycle: { phase: 'active', terminal: false, reason: 'idle' } } });
    fake.write([entry({ id: 'sess-a', pid: proc.pid })]);
    expect((await poll()).map((e) => [e.payload.action, (e.payload.lifecycle as any).reason])).toEqual([['session.active', 'running']]);

    proc.kill('SIGTERM');
    await once(proc, 'exit');
    const [stopped] = await poll();
    expect(stopped).toMatchObject({
      type: 'actor.stopped',
      provenance: { platform_event: 'session.stopped' },
      payload: {
        lifecycle: { phase: 'stopped', terminal: true, outcome: 'unknown', reason: 'session_stopped', dedupe_key: 'claude-code:sess-a:stopped' },
        session: { ended_at: '2026-06-01T10:30:00.000Z' },
        stopped_at: '2026-06-01T10:30:00.000Z',
        status: 'stopped',
      },
    });
    // already stopped: leaving the registry says nothing more
    fake.write([]);
    expect(await poll()).toEqual([]);
  });

  it('error is session.failed (outcome failure); a session that vanishes while running is stopped from its last state', async () => {
    const a = fake.launch();
    const b = fake.launch();
    fake.write([entry({ id: 's1', pid: a.pid, adapter: 'codex' }), entry({ id: 's2', pid: b.pid, adapter: 'cursor', idle: true })]);
    expect(pe(await poll())).toEqual([
      ['s1', 'resource.changed', 'session.started', 'session.started'],
      ['s2', 'resource.changed', 'session.started', 'session.started'],
    ]);
    fake.write([entry({ id: 's1', pid: a.pid, adapter: 'codex', status: 'error' })]);
    const evs = await poll();
    expect(pe(evs)).toEqual([
      ['s1', 'actor.stopped', 'session.failed', 'session.error'],
      ['s2', 'actor.stopped', 'session.stopped', 'session.stopped'],
    ]);
    expect(evs[0]!.payload.lifecycle).toMatchObject({ phase: 'failed', terminal: true, outcome: 'failure', reason: 'session_error', dedupe_key: 'codex:s1:failed' });
    expect(evs[0]!.payload.session).toMatchObject({ harness: 'codex' });
    // unknown adapters are harness "other"; the vanished one is reported from what was last listed
    expect(evs[1]!.payload).toMatchObject({ adapter: 'cursor', status: 'stopped', session: { harness: 'other' } });
    expect(typeof (evs[1]!.payload.session as any).ended_at).toBe('string');
  });

  it('sessions first seen already stopped or failed are reported so; known adapters map to their harness', async () => {
    fake.write([
      entry({ id: 'x1', status: 'stopped' }),
      entry({ id: 'x2', status: 'error', adapter: 'pi-rust' }),
      entry({ id: 'x3', status: 'running', adapter: 'Claude' }),
      entry({ id: 'x4', status: 'running', adapter: 'opencode' }),
    ]);
    const evs = await poll();
    expect(evs.map((e) => [e.provenance!.platform_event, (e.payload.session as any).harness])).toEqual([
      ['session.stopped', 'claude-code'],
      ['session.failed', 'pi-rust'],
      ['session.started', 'claude-code'],
      ['session.started', 'opencode'],
    ]);
  });

  it('a listing that fails fails the poll, naming why, and reports nothing (upstream would report every session stopped)', async () => {
    fake.write([entry({ id: 'k1', status: 'running' })]);
    await poll();
    const before = cursor;
    fake.write([], { fail: 'registry locked' });
    await expect(agentCtlSource.poll!(ctx(), before, null)).rejects.toThrow(/list --json exited with 2: registry locked/);
    fake.write([], { garbage: true });
    await expect(agentCtlSource.poll!(ctx(), before, null)).rejects.toThrow(/not JSON/);
    await expect(agentCtlSource.poll!(makeCtx({ binary_path: `${fake.dir}/nope` }), before, null)).rejects.toThrow(/could not run .*nope/);
    fake.write([entry({ id: 'k1', status: 'running' })]);
    expect(await poll()).toEqual([]);
  });

  it('doctor runs the program; the binary comes from binary_path, else AGENT_CTL_PATH', async () => {
    fake.write([entry({ id: 'd1', status: 'running' }), entry({ id: 'd2', status: 'stopped' })]);
    expect(await agentCtlSource.check!(ctx())).toEqual({ ok: true, detail: `${fake.binary} lists 2 session(s), 1 running or idle` });
    const viaEnv = makeCtx({}, { env: (n) => (n === 'AGENT_CTL_PATH' ? fake.binary : undefined) });
    expect((await agentCtlSource.check!(viaEnv)).ok).toBe(true);
    expect(agentCtlSource.validate!({ timeout: 'soon' })[0]).toMatchObject({ path: 'timeout' });
    expect(agentCtlSource.validate!({ timeout: 5000 })).toEqual([]);
  });
});

describe('agent-ctl source: in a real executor', () => {
  let fake: FakeAgentCtl;
  let h: ProviderHarness;
  beforeAll(async () => {
    fake = fakeAgentCtl();
    h = await startHarness({ provider: agentCtlSource, config: { binary_path: fake.binary, timeout: 5000 }, poll: '1s' });
  });
  afterAll(async () => {
    await h.close();
    fake.close();
  });

  it('emits started, then stopped when the process exits; after a restart nothing is announced twice', async () => {
    const proc = fake.launch();
    fake.write([entry({ id: 'live-1', pid: proc.pid })]);
    const [started] = await h.events(1);
    expect(started).toMatchObject({ source: 'under-test', type: 'resource.changed', provenance: { platform_event: 'session.started' } });
    await h.restart();
    proc.kill('SIGKILL');
    await once(proc, 'exit');
    const all = await h.events(2);
    expect(all.map((e) => e.provenance.platform_event)).toEqual(['session.started', 'session.stopped']);
    expect(all[1]).toMatchObject({ type: 'actor.stopped', payload: { lifecycle: { outcome: 'unknown' } } });
  });
});
