// `orgloop hook <agent>-<phase>` end to end, with real child processes: the hook CLI, the
// executor (`orgloop start`) on a real SQLite store, and a port nothing listens on. An executor
// that is down costs the agent nothing (exit 0, request spooled on disk); once an executor is up
// the spooled requests are delivered, each stored exactly once.

import { afterEach, describe, expect, it } from 'vitest';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { cli, runExecutor, startSink, tempProject, until, type RunningExecutor } from './test-helpers/executor.js';

const running: RunningExecutor[] = [];
afterEach(async () => {
  for (const r of running.splice(0)) await r.stop();
});

const PROJECT = `
sources:
  - id: claude-code
    connector: claude-code
  - id: codex
    connector: codex
  - id: pi-rust
    connector: pi-rust
actors:
  - id: noop
    connector: command
    config: { command: "true" }
routes:
  - name: sessions
    when: { source: claude-code, events: [actor.stopped, resource.changed] }
    then: { actor: noop }
  - name: codex-sessions
    when: { source: codex, events: [actor.stopped, resource.changed] }
    then: { actor: noop }
  - name: pi-sessions
    when: { source: pi-rust, events: [actor.stopped, resource.changed] }
    then: { actor: noop }
`;

async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as { port: number }).port;
  await new Promise((r) => srv.close(r));
  return port;
}

async function events(dir: string, source: string): Promise<Array<{ type: string; payload: any }>> {
  const r = await cli(['events', 'list', '--source', source, '--json'], { cwd: dir });
  expect(r.stderr).toBe('');
  return JSON.parse(r.stdout);
}

const spoolLines = (dir: string): string[] => {
  const f = join(dir, '.orgloop', 'hook-spool.jsonl');
  return existsSync(f) ? readFileSync(f, 'utf8').split('\n').filter(Boolean) : [];
};

describe('orgloop hook', () => {
  it('executor down: exits 0 and spools (0600); the executor starting sends the spool, each event stored once', async () => {
    const dir = tempProject({ 'orgloop.yaml': PROJECT });
    expect((await cli(['apply', '--auto-approve'], { cwd: dir })).code).toBe(0);
    const port = await freePort();

    // the hook runs in the agent's working directory; -c names the project (as in the agent's settings)
    const stop = await cli(['-c', join(dir, 'orgloop.yaml'), 'hook', 'claude-code-stop', '--port', String(port)], {
      cwd: '/',
      input: JSON.stringify({ session_id: 'cc-1', hook_event_name: 'Stop', cwd: '/src', last_assistant_message: 'done' }),
    });
    expect(stop.code).toBe(0);
    expect(stop.stdout).toBe('');
    expect(stop.stderr).toMatch(/session cc-1 kept in .*hook-spool\.jsonl; it is sent when the executor is back \(executor not reachable/);
    // ORGLOOP_PORT is read too; codex's notify hands the input as an argument
    const notify = JSON.stringify({ type: 'agent-turn-complete', 'thread-id': 'cx-1', cwd: '/src', 'last-assistant-message': 'refactored' });
    const codex = await cli(['-c', join(dir, 'orgloop.yaml'), 'hook', 'codex-stop', notify, '-q'], { cwd: '/', env: { ORGLOOP_PORT: String(port) } });
    expect(codex).toEqual({ code: 0, stdout: '', stderr: '' });

    const spool = join(dir, '.orgloop', 'hook-spool.jsonl');
    expect(statSync(spool).mode & 0o777).toBe(0o600);
    const lines = spoolLines(dir).map((l) => JSON.parse(l));
    expect(lines.map((l) => l.source)).toEqual(['claude-code', 'codex']);
    expect(lines[1].headers['idempotency-key']).toMatch(/^[0-9a-f-]{36}$/);

    const ex = await runExecutor(['start', '--port', String(port)], { cwd: dir });
    running.push(ex);
    await ex.waitFor('sent 2 hook request(s) spooled');
    expect(spoolLines(dir)).toEqual([]);
    const cc = await events(dir, 'claude-code');
    expect(cc).toHaveLength(1);
    expect(cc[0]!.payload.provenance).toMatchObject({ platform_event: 'session.completed', session_id: 'cc-1' });
    const cx = await events(dir, 'codex');
    expect(cx).toHaveLength(1);
    expect(cx[0]!.payload.payload).toMatchObject({ session_id: 'cx-1', summary: 'refactored', lifecycle: { phase: 'completed' } });

    // a start hook of another agent, straight to the running executor
    const again = await cli(['-c', join(dir, 'orgloop.yaml'), 'hook', 'pi-rust-start', '--url', ex.url], {
      cwd: '/',
      input: JSON.stringify({ session_id: 'pr-1', cwd: '/src' }),
    });
    expect(again).toEqual({ code: 0, stdout: '', stderr: '' });
    const pr = await events(dir, 'pi-rust');
    expect(pr).toHaveLength(1);
    expect(pr[0]).toMatchObject({ type: 'resource.changed' });
    expect(pr[0]!.payload.provenance.platform_event).toBe('session.started');
  });

  it('the next hook call sends what earlier calls spooled, first, and a resent line is stored once', async () => {
    const dir = tempProject({ 'orgloop.yaml': PROJECT });
    expect((await cli(['apply', '--auto-approve'], { cwd: dir })).code).toBe(0);
    const ex = await runExecutor(['start', '--port', '0'], { cwd: dir });
    running.push(ex);
    const down = `http://127.0.0.1:${await freePort()}`;
    // found without -c: the nearest orgloop.yaml above the working directory
    for (const id of ['a', 'b']) {
      const r = await cli(['hook', 'codex-start', '--url', down, '-q'], { cwd: join(dir, '.orgloop'), input: JSON.stringify({ session_id: id }) });
      expect(r).toEqual({ code: 0, stdout: '', stderr: '' });
    }
    // a line twice, as a drainer killed after sending leaves its claim for the next one to resend
    const { appendFileSync } = await import('node:fs');
    appendFileSync(join(dir, '.orgloop', 'hook-spool.jsonl'), spoolLines(dir)[0]! + '\n');
    expect(spoolLines(dir)).toHaveLength(3);

    const r = await cli(['hook', 'codex-stop', '--url', ex.url], { cwd: dir, input: JSON.stringify({ session_id: 'a', exit_status: 130 }) });
    expect(r).toEqual({ code: 0, stdout: '', stderr: '' });
    expect(spoolLines(dir)).toEqual([]);
    const got = await events(dir, 'codex');
    expect(got.map((e) => `${e.payload.payload.session_id}:${e.payload.provenance.platform_event}`).sort()).toEqual(['a:session.started', 'a:session.stopped', 'b:session.started']);
  });

  it("executor down: an agent's report to its callback is spooled with its token; the executor starting takes it, once", async () => {
    const sink = await startSink();
    try {
      const dir = tempProject({
        'orgloop.yaml': `
sources:
  - id: claude-code
    connector: claude-code
  - id: tasks
    connector: webhook
actors:
  - id: agent
    connector: webhook
    config: { url: "${sink.url}/agent" }
routes:
  - name: work
    when: { source: tasks }
    then: { actor: agent }
`,
      });
      expect((await cli(['apply', '--auto-approve'], { cwd: dir })).code).toBe(0);
      const port = await freePort();
      const first = await runExecutor(['start', '--port', String(port)], { cwd: dir });
      running.push(first);
      expect((await fetch(`${first.url}/webhook/tasks`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"task":"fix the cache"}' })).status).toBe(202);
      // the agent is handed the delivery with its callback, then the executor goes down
      const sent = await until(() => sink.received[0], 15_000, 'the delivery to the agent');
      const callback = { url: String(sent.headers['orgloop-callback-url']), token: String(sent.headers['orgloop-callback-token']), delivery: String(sent.headers['webhook-id']) };
      expect(callback.url).toBe(`http://127.0.0.1:${port}/callback/agent`);
      await first.stop();

      const env = { ORGLOOP_CALLBACK_URL: callback.url, ORGLOOP_CALLBACK_TOKEN: callback.token, ORGLOOP_DELIVERY_ID: callback.delivery };
      const stop = await cli(['-c', join(dir, 'orgloop.yaml'), 'hook', 'claude-code-stop', '--port', String(port)], {
        cwd: '/',
        env,
        input: JSON.stringify({ session_id: 'cc-9', hook_event_name: 'Stop', cwd: '/src', last_assistant_message: 'cache fixed' }),
      });
      expect(stop.code).toBe(0);
      expect(stop.stderr).toContain(`the report of delivery ${callback.delivery} kept in`);
      const lines = spoolLines(dir).map((l) => JSON.parse(l));
      // the event first, then the report behind it, with its URL and token
      expect(lines.map((l) => l.url ?? l.source)).toEqual(['claude-code', callback.url]);
      expect(lines[1].headers.authorization).toBe(`Bearer ${callback.token}`);

      const next = await runExecutor(['start', '--port', String(port)], { cwd: dir });
      running.push(next);
      await next.waitFor('sent 2 hook request(s) spooled');
      expect(spoolLines(dir)).toEqual([]);
      const stopped = await events(dir, 'agent');
      expect(stopped).toHaveLength(1);
      expect(stopped[0]!.payload.payload).toMatchObject({ delivery_id: callback.delivery, outcome: 'success', output_tail: 'cache fixed' });
      expect(await events(dir, 'claude-code')).toHaveLength(1);

      // the same report resent (a drainer killed after sending leaves it for the next): still one
      const { appendFileSync } = await import('node:fs');
      appendFileSync(join(dir, '.orgloop', 'hook-spool.jsonl'), JSON.stringify(lines[1]) + '\n');
      const again = await cli(['-c', join(dir, 'orgloop.yaml'), 'hook', 'claude-code-start', '--url', next.url], { cwd: '/', input: JSON.stringify({ session_id: 'cc-10', hook_event_name: 'SessionStart' }) });
      expect(again).toEqual({ code: 0, stdout: '', stderr: '' });
      expect(spoolLines(dir)).toEqual([]);
      expect(await events(dir, 'agent')).toHaveLength(1);
    } finally {
      await sink.close();
    }
  });

  it('refuses a bad port, and input that is not a hook payload, with a message', async () => {
    const bad = await cli(['hook', 'opencode-stop', '--port', '99999'], { cwd: '/', input: '{"session_id":"x"}' });
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('--port must be a port number from 1 to 65535 (got "99999")');
    const env = await cli(['hook', 'opencode-stop'], { cwd: '/', input: '{"session_id":"x"}', env: { ORGLOOP_PORT: 'abc' } });
    expect(env.code).toBe(1);
    expect(env.stderr).toContain('ORGLOOP_PORT=abc must be a port number');
    const none = await cli(['hook', 'pi-stop'], { cwd: '/', input: '{"cwd":"/x"}' });
    expect(none.code).toBe(1);
    expect(none.stderr).toContain('orgloop hook: input has no session_id; expected the pi stop hook input');
  });
});
