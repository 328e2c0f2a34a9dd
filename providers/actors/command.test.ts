import { mkdtempSync, readFileSync, writeFileSync, existsSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { makeCtx, makeDelivery } from '../lib/test-helpers/context.js';
import { commandActor, PROMPT_ENV_LIMIT } from './command.js';

const dir = mkdtempSync(join(tmpdir(), 'orgloop-cmd-'));

describe('command actor', () => {
  it('runs sh -c with the event on stdin and the delivery in the environment', async () => {
    const out = join(dir, 'out.json');
    const ctx = makeCtx(
      {
        command: `cat > ${out}.stdin; env | grep '^ORGLOOP_\\|^TEAM=' | sort > ${out}.env; echo done`,
        env: { TEAM: 'eng' },
      },
      { projectDir: dir },
    );
    const req = makeDelivery({ attempt: 3 });
    const r = await commandActor.deliver(ctx, req);
    expect(r).toMatchObject({ ok: true, stopped: { outcome: 'success', exit_code: 0, output_tail: 'done\n' } });
    expect(JSON.parse(readFileSync(`${out}.stdin`, 'utf8'))).toEqual(req.event);
    const env = readFileSync(`${out}.env`, 'utf8');
    for (const line of [
      'ORGLOOP_DELIVERY_ID=dlv_1',
      'ORGLOOP_ATTEMPT=3',
      'ORGLOOP_ROUTE=pr-review',
      'ORGLOOP_EVENT_ID=evt_1',
      'ORGLOOP_TRACE_ID=trc_1',
      'ORGLOOP_PROMPT=Review the PR.',
      'ORGLOOP_CONFIG={"session_key":"pr-42"}',
      'TEAM=eng',
    ]) {
      expect(env).toContain(line);
    }
  });

  it('gives the agent the callback address and token, and no stale ones', async () => {
    const out = join(dir, 'cb.env');
    const ctx = makeCtx({ command: `env | grep '^ORGLOOP_CALLBACK_' | sort > ${out}` }, { projectDir: dir });
    await commandActor.deliver(ctx, makeDelivery({ callback: { url: 'http://127.0.0.1:4800/callback/a', token: 'olcb_t' } }));
    expect(readFileSync(out, 'utf8')).toBe('ORGLOOP_CALLBACK_TOKEN=olcb_t\nORGLOOP_CALLBACK_URL=http://127.0.0.1:4800/callback/a\n');
    process.env.ORGLOOP_CALLBACK_TOKEN = 'inherited';
    try {
      await commandActor.deliver(ctx, makeDelivery());
    } finally {
      delete process.env.ORGLOOP_CALLBACK_TOKEN;
    }
    expect(readFileSync(out, 'utf8')).toBe('');
  });

  it('runs an argv array directly in cwd relative to the project', async () => {
    mkdirSync(join(dir, 'work'), { recursive: true });
    const ctx = makeCtx({ command: ['/bin/sh', '-c', 'pwd; echo "$1"', 'sh', 'arg with spaces'], cwd: 'work' }, { projectDir: dir });
    const r = await commandActor.deliver(ctx, makeDelivery());
    expect(r).toMatchObject({ ok: true, stopped: { output_tail: `${join(dir, 'work')}\narg with spaces\n` } });
  });

  it('large prompts go through ORGLOOP_PROMPT_FILE, removed afterwards', async () => {
    const copy = join(dir, 'prompt-copy.md');
    const prompt = 'x'.repeat(PROMPT_ENV_LIMIT + 10);
    const ctx = makeCtx({ command: `test -z "$ORGLOOP_PROMPT" && cp "$ORGLOOP_PROMPT_FILE" ${copy} && echo "$ORGLOOP_PROMPT_FILE"` });
    const r = await commandActor.deliver(ctx, makeDelivery({ prompt }));
    expect(r.ok).toBe(true);
    expect(readFileSync(copy, 'utf8')).toBe(prompt);
    const file = r.ok ? r.stopped!.output_tail!.trim() : '';
    expect(existsSync(file)).toBe(false);
  });

  it('non-zero exit is a retryable failure with the output tail', async () => {
    const r = await commandActor.deliver(makeCtx({ command: 'echo working; echo "token expired" >&2; exit 3' }), makeDelivery());
    expect(r).toMatchObject({
      ok: false,
      retryable: true,
      error: 'exited with code 3: token expired',
      stopped: { outcome: 'failure', exit_code: 3, output_tail: 'working\ntoken expired\n' },
    });
  });

  it('a timeout kills the whole process group', async () => {
    const marker = join(dir, 'grandchild-survived');
    // the grandchild would write the marker after 1.5 s if it outlived the timeout
    const ctx = makeCtx({ command: `(sleep 1.5; touch ${marker}) & sleep 30`, timeout: '300ms' });
    const r = await commandActor.deliver(ctx, makeDelivery());
    expect(r).toMatchObject({ ok: false, retryable: true, error: 'timed out after 300ms (process group killed)', stopped: { outcome: 'timeout' } });
    await new Promise((res) => setTimeout(res, 2000));
    expect(existsSync(marker)).toBe(false);
  });

  it('a program that ignores SIGTERM is killed after the grace period', async () => {
    const ctx = makeCtx({ command: `trap '' TERM; while :; do sleep 0.1; done`, timeout: '200ms' });
    expect(await commandActor.deliver(ctx, makeDelivery())).toMatchObject({ ok: false, stopped: { outcome: 'timeout', exit_code: null } });
  });

  it('an abort (executor stopping) kills the group and reports a retryable failure without stopped', async () => {
    const ac = new AbortController();
    const p = commandActor.deliver(makeCtx({ command: 'sleep 30' }), makeDelivery({ signal: ac.signal }));
    setTimeout(() => ac.abort(), 100);
    expect(await p).toEqual({ ok: false, retryable: true, error: 'delivery aborted (executor stopping)' });
  });

  it('keeps only the last 4 KB of output', async () => {
    const r = await commandActor.deliver(makeCtx({ command: 'head -c 20000 /dev/zero | tr "\\0" a; echo END' }), makeDelivery());
    expect(r.ok).toBe(true);
    const tail = r.ok ? r.stopped!.output_tail! : '';
    expect(tail.length).toBe(4096);
    expect(tail.endsWith('aEND\n')).toBe(true);
  });

  it('a missing program is reported clearly', async () => {
    const r = await commandActor.deliver(makeCtx({ command: ['/nonexistent/agent'] }), makeDelivery());
    expect(r).toMatchObject({ ok: false, retryable: true, error: expect.stringContaining('could not start /nonexistent/agent: spawn /nonexistent/agent ENOENT') });
  });

  it('a program that ignores stdin is fine', async () => {
    writeFileSync(join(dir, 'noop.sh'), 'exit 0\n');
    const big = makeDelivery();
    big.event.payload = { blob: 'y'.repeat(500_000) };
    expect(await commandActor.deliver(makeCtx({ command: `sh ${join(dir, 'noop.sh')}` }), big)).toMatchObject({ ok: true });
  });

  it('validate', () => {
    expect(commandActor.validate!({ command: 'x', timeout: '10m' })).toEqual([]);
    expect(commandActor.validate!({ command: ['', 'a'] })).toEqual([{ path: 'command', message: 'command array must start with the program to run' }]);
    expect(commandActor.validate!({ command: 'x', timeout: '10 mins' })).toEqual([{ path: 'timeout', message: expect.stringContaining('invalid duration "10 mins"') }]);
  });
});
