// The hook spool on real files in a temp directory.
import { existsSync, mkdtempSync, readdirSync, readFileSync, renameSync, statSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { reportTarget, spoolAppend, spoolDrain, spoolPath, type SpoolEntry } from './spool.js';

const entry = (n: number): SpoolEntry => ({ v: 1, source: 'codex', body: JSON.stringify({ session_id: `s${n}` }), headers: { 'idempotency-key': `k${n}` }, spooled_at: '2026-01-01T00:00:00Z' });

describe('hook spool', () => {
  it('appends to a 0600 file in a 0700 .orgloop, and refuses to grow past its bound', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'orgloop-spool-'));
    const path = spoolPath(dir);
    const one = JSON.stringify(entry(1)).length + 1;
    expect(await spoolAppend(path, [entry(1)], one * 2)).toEqual({ ok: true, bytes: one });
    expect(await spoolAppend(path, [entry(2)], one * 2)).toEqual({ ok: true, bytes: one * 2 });
    const full = await spoolAppend(path, [entry(3)], one * 2);
    expect(full).toEqual({ ok: false, error: `the hook spool ${path} is full (${one * 2} bytes, limit ${one * 2})` });
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, '.orgloop')).mode & 0o777).toBe(0o700);
    expect(readFileSync(path, 'utf8').trim().split('\n')).toHaveLength(2);
  });

  it('drains oldest first; stops at the first retryable failure and keeps the rest; drops refused ones', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'orgloop-spool-'));
    const path = spoolPath(dir);
    await spoolAppend(path, [entry(1), entry(2), entry(3), entry(4)]);
    const seen: string[] = [];
    const r = await spoolDrain(path, async (e) => {
      seen.push(e.headers['idempotency-key']!);
      if (e.headers['idempotency-key'] === 'k2') return { ok: false, error: 'HTTP 404', retryable: false };
      if (e.headers['idempotency-key'] === 'k3') return { ok: false, error: 'down', retryable: true };
      return { ok: true };
    });
    expect(seen).toEqual(['k1', 'k2', 'k3']);
    expect(r).toEqual({ sent: 1, refused: [{ source: 'codex', error: 'HTTP 404' }], kept: 2, error: 'down' });
    expect(readFileSync(path, 'utf8').trim().split('\n').map((l) => JSON.parse(l).headers['idempotency-key'])).toEqual(['k3', 'k4']);
    expect(readdirSync(join(dir, '.orgloop')).filter((n) => n.endsWith('.draining'))).toEqual([]);
  });

  it('a claim left by a killed drainer is resent once it is stale; a fresh one is left to its drainer', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'orgloop-spool-'));
    const path = spoolPath(dir);
    await spoolAppend(path, [entry(1)]);
    const claim = `${path}.4242-abcd.draining`;
    renameSync(path, claim); // what a drainer does, before it was killed
    await spoolAppend(path, [entry(2)]);
    const sent: string[] = [];
    const send = async (e: SpoolEntry) => (sent.push(e.headers['idempotency-key']!), { ok: true as const });
    await spoolDrain(path, send);
    expect(sent).toEqual(['k2']);
    expect(existsSync(claim)).toBe(true);
    const old = new Date(Date.now() - 60_000);
    utimesSync(claim, old, old);
    await spoolDrain(path, send);
    expect(sent).toEqual(['k2', 'k1']);
    expect(readdirSync(join(dir, '.orgloop')).filter((n) => n.startsWith('hook-spool'))).toEqual([]);
  });

  it('skips a line a killed writer left cut, and the next append starts a line of its own', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'orgloop-spool-'));
    const path = spoolPath(dir);
    await spoolAppend(path, [entry(1)]);
    const { appendFileSync } = await import('node:fs');
    appendFileSync(path, '{"v":1,"source":"co');
    await spoolAppend(path, [entry(2)]);
    const sent: string[] = [];
    const r = await spoolDrain(path, async (e) => (sent.push(e.headers['idempotency-key']!), { ok: true }));
    expect(sent).toEqual(['k1', 'k2']);
    expect(r.sent).toBe(2);
  });

  it("a report keeps its URL for a hook; an executor draining takes it on its own address", () => {
    const url = 'https://agents.example.com/orgloop/callback/agent%201';
    expect(reportTarget(url, 'http://127.0.0.1:4800', false)).toBe(url);
    expect(reportTarget(url, 'http://127.0.0.1:4800/', true)).toBe('http://127.0.0.1:4800/callback/agent%201');
    expect(reportTarget('not a url', 'http://127.0.0.1:4800', true)).toBe('not a url');
  });
});
