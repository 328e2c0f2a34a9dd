// Inbox batching end to end: a real executor, a webhook source, an inbox route to a command
// actor, and `orgloop inbox drain|status` as the agent would run them (child processes).

import { afterEach, describe, expect, it } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { cli, runExecutor, tempProject, type RunningExecutor } from './test-helpers/executor.js';

const running: RunningExecutor[] = [];
afterEach(async () => {
  for (const r of running.splice(0)) await r.stop();
});

const PROJECT = `
sources:
  - id: hooks
    connector: webhook
actors:
  - id: agent
    connector: command
    config: { command: "cat >> woken.jsonl; echo >> woken.jsonl" }
routes:
  - name: batched
    when: { source: hooks }
    then:
      actor: agent
      config: { inbox: true, session_key: "pr-{{payload.pr}}", inbox_max_batch: 2, inbox_ttl: 1h }
`;

const woken = (dir: string): any[] => {
  const f = join(dir, 'woken.jsonl');
  return existsSync(f) ? readFileSync(f, 'utf8').split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l)) : [];
};

async function until<T>(fn: () => T | Promise<T>, ok: (v: T) => boolean, what: string): Promise<T> {
  for (let i = 0; i < 300; i++) {
    const v = await fn();
    if (ok(v)) return v;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe('inbox batching', () => {
  it('events of a key wait in its inbox; the agent is woken once and drains them in batches; what is left notifies again', async () => {
    const dir = tempProject({ 'orgloop.yaml': PROJECT });
    const validated = await cli(['validate'], { cwd: dir });
    expect(validated.stderr).toBe('');
    expect((await cli(['apply', '--auto-approve'], { cwd: dir })).code).toBe(0);
    const ex = await runExecutor(['start', '--port', '0'], { cwd: dir });
    running.push(ex);

    const post = (body: unknown) => fetch(`${ex.url}/webhook/hooks`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    for (const n of [1, 2, 3]) expect((await post({ type: 'review', pr: 7, n })).status).toBe(202);
    await until(() => cli(['inbox', 'status', '--key', 'pr-7', '--json'], { cwd: dir }), (r) => JSON.parse(r.stdout).pending === 3, 'three entries');

    // one notification, with the drain command (naming this project's store) and the key
    const [note] = await until(() => woken(dir), (w) => w.length >= 1, 'the notification');
    expect(note).toMatchObject({ type: 'message.received', source: 'orgloop', provenance: { platform_event: 'inbox.notification' } });
    expect(note.payload).toMatchObject({ kind: 'inbox.notification', session_key: 'pr-7' });
    expect(note.payload.pending_count).toBeGreaterThanOrEqual(1);
    expect(note.payload.drain_command).toBe(`orgloop --state '${join(dir, '.orgloop', 'state.db')}' inbox drain --key 'pr-7' --format json`);

    const status = await cli(['inbox', 'status'], { cwd: dir });
    expect(status.stdout).toMatch(/^Inbox sessions:\n {2}pr-7 {2}\(3 pending\) {2}batched -> agent {2}notified\n$/);

    // the first drain takes inbox_max_batch (2), oldest first
    const d1 = await cli(['inbox', 'drain', '--key', 'pr-7'], { cwd: '/', env: { ORGLOOP_STATE: join(dir, '.orgloop', 'state.db') } });
    expect(d1.stderr).toBe('');
    const r1 = JSON.parse(d1.stdout);
    expect(r1.events.map((e: any) => e.payload.n)).toEqual([1, 2]);
    expect(r1.remaining).toBe(1);
    expect(r1.continuation).toMatch(/^\d+$/);
    // what is left wakes the agent again
    const w2 = await until(() => woken(dir), (w) => w.length >= 2, 'the second notification');
    expect(w2[1].payload).toMatchObject({ session_key: 'pr-7', pending_count: 1 });

    const d2 = await cli(['inbox', 'drain', '--key', 'pr-7', '--format', 'text'], { cwd: dir });
    expect(d2.stdout).toMatch(/^Drained 1 event\(s\)\n {2}\S+ {2}resource\.changed {2}hooks {2}evt_\w+\n$/);
    const empty = await cli(['inbox', 'drain', '--key', 'pr-7'], { cwd: dir });
    expect(JSON.parse(empty.stdout)).toEqual({ events: [], remaining: 0, continuation: null });
    expect((await cli(['inbox', 'status'], { cwd: dir })).stdout).toBe('No pending inbox sessions.\n');
    expect(JSON.parse((await cli(['inbox', 'status', '--json'], { cwd: dir })).stdout)).toEqual({ sessions: [] });

    // another key is its own inbox; nothing was delivered one by one
    expect((await post({ type: 'review', pr: 8 })).status).toBe(202);
    const w3 = await until(() => woken(dir), (w) => w.length >= 3, 'pr-8 notification');
    expect(w3.map((w) => w.payload.session_key)).toEqual(['pr-7', 'pr-7', 'pr-8']);
  });

  it('what waits survives kill -9 of the executor, and drains without one', async () => {
    const dir = tempProject({ 'orgloop.yaml': PROJECT });
    expect((await cli(['apply', '--auto-approve'], { cwd: dir })).code).toBe(0);
    const ex = await runExecutor(['start', '--port', '0'], { cwd: dir });
    running.push(ex);
    for (const n of [1, 2, 3]) {
      const res = await fetch(`${ex.url}/webhook/hooks`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ pr: 9, n }) });
      expect(res.status).toBe(202);
    }
    await until(() => cli(['inbox', 'status', '--key', 'pr-9', '--json'], { cwd: dir }), (r) => JSON.parse(r.stdout).pending === 3, 'three entries');
    ex.proc.kill('SIGKILL');
    await ex.stop();
    const d = await cli(['inbox', 'drain', '--key', 'pr-9', '--limit', '10'], { cwd: dir });
    expect(d.stderr).toBe('');
    expect(JSON.parse(d.stdout).events.map((e: any) => e.payload.n)).toEqual([1, 2, 3]);
  });

  it('validate names what inbox needs: a session key, and a valid ttl', async () => {
    const dir = tempProject({
      'orgloop.yaml': PROJECT.replace('session_key: "pr-{{payload.pr}}", ', '').replace('inbox_ttl: 1h', 'inbox_ttl: soon'),
    });
    const r = await cli(['validate'], { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/orgloop\.yaml:\d+:\d+: .*inbox_ttl/);
    expect(r.stderr).toMatch(/orgloop\.yaml:\d+:\d+: warning: .*inbox needs then\.config\.session_key/);
    const bad = await cli(['inbox', 'drain', '--key', 'x', '--limit', '0'], { cwd: dir });
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('invalid --limit "0": expected a positive integer');
  });
});
