// Scenario 10: the state store's filesystem fills up, then is made read-only. The store sits on a
// real, tiny tmpfs mounted over the project's .orgloop directory, so SQLite meets a real ENOSPC
// (SQLITE_FULL) and a real EROFS, not a simulation. Webhooks are then answered 503 (the sender
// retries) with a clear reason, the executor keeps running, and everything it acknowledged is
// delivered once space is back, also across a kill -9.
// Mounting needs root (CAP_SYS_ADMIN); where that is not available the test is skipped, loudly.

import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { applyDirect, byKey, cli, snapshot, startExec, startRecordingSink, tempProject, until, webhookToSink, type Exec } from './harness.js';

function tryMount(): string | null {
  const probe = mkdtempSync(join(tmpdir(), 'orgloop-mount-probe-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', probe], { stdio: 'ignore' });
    execFileSync('umount', [probe], { stdio: 'ignore' });
    return null;
  } catch (err) {
    return (err as Error).message;
  } finally {
    rmdirSync(probe);
  }
}
const mountError = tryMount();
if (mountError) console.warn(`disk-full scenario skipped: cannot mount a tmpfs here (needs root): ${mountError}`);

const cleanup: Array<() => Promise<unknown> | unknown> = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await Promise.resolve(f()).catch?.(() => {});
});

const mount = (opts: string, at: string) => execFileSync('mount', ['-t', 'tmpfs', '-o', opts, 'tmpfs', at], { stdio: 'pipe' });
const remount = (opts: string, at: string) => execFileSync('mount', ['-o', `remount,${opts}`, at], { stdio: 'pipe' });

async function post(url: string, key: string, pad: number) {
  try {
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ id: key, pad: 'x'.repeat(pad) }),
      signal: AbortSignal.timeout(15_000),
    });
    return { status: res.status, body: (await res.json().catch(() => null)) as { error?: string } | null };
  } catch {
    return { status: 0, body: null };
  }
}

describe.skipIf(mountError !== null)('reliability: disk full and read-only state (scenario 10)', () => {
  it('answers 503 with the reason while the store cannot be written, keeps serving, and loses nothing it acknowledged', async () => {
    const sink = await startRecordingSink();
    cleanup.push(sink.close);
    const dir = tempProject({ 'orgloop.yaml': webhookToSink(sink.url) });
    const stateDir = join(dir, '.orgloop');
    mkdirSync(stateDir);
    mount('size=1536k', stateDir);
    cleanup.push(() => execFileSync('umount', ['-l', stateDir], { stdio: 'ignore' }));
    await applyDirect(dir);

    let ex: Exec = await startExec(dir);
    cleanup.push(() => ex.kill9());
    const url = () => `${ex.url}/webhook/inbox`;
    const ackedKeys: string[] = [];
    let n = 0;

    // fill the filesystem: 20 KB events until the store refuses them
    let full: { status: number; body: { error?: string } | null } | null = null;
    while (n < 400 && !full) {
      const key = `fill-${n++}`;
      const r = await post(url(), key, 20_000);
      if (r.status === 202) ackedKeys.push(key);
      else full = r;
    }
    expect(full, 'the 1.5 MB filesystem filled up').not.toBeNull();
    expect(full!.status).toBe(503);
    expect(full!.body!.error).toMatch(/^could not store the event: state store .*state\.db is unavailable: the disk is full \(SQLITE_FULL/);
    // still refusing, still alive, still answering other requests. The failed write's pages go
    // back to the filesystem and a checkpoint may shrink the WAL, so a following event can fit:
    // it is acknowledged (and must then be delivered), and the disk fills again soon after.
    let again = 0;
    for (let i = 0; i < 50 && again !== 503; i++) {
      const key = `fill-${n++}`;
      again = (await post(url(), key, 20_000)).status;
      if (again === 202) ackedKeys.push(key);
      else expect(again).toBe(503);
    }
    expect(again, 'refused again while the disk is full').toBe(503);
    expect((await fetch(`${ex.url}/healthz`)).status).toBe(200);
    expect(ex.proc.exitCode).toBeNull();

    // space comes back: accepted again without a restart
    remount('size=64m', stateDir);
    const afterFull = await until(async () => {
      const key = `after-full-${n++}`;
      const r = await post(url(), key, 100);
      if (r.status === 202) ackedKeys.push(key);
      return r.status === 202;
    }, 15_000, 'accepting after space was freed');
    expect(afterFull).toBe(true);

    // a crash now must not lose anything that was acknowledged
    await ex.kill9();
    // and the state directory turns read-only (possible now that no process holds the file
    // open for writing): the executor refuses to start, with one clear line and no stack trace
    remount('ro', stateDir);
    const refused = await cli(['start', '--port', '0'], { cwd: dir });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/^Error: (cannot run: )?state store .*state\.db is unavailable: (the state file is read-only|the state file cannot be opened|an I\/O error occurred)/);
    expect(refused.stderr).not.toMatch(/\n\s+at /);
    remount('rw', stateDir);
    ex = await startExec(dir);
    await until(() => ackedKeys.every((k) => byKey(sink.hits).has(k)), 30_000, 'every acknowledged event delivered');
    const { events } = await snapshot(dir);
    const stored = new Set(events.map((e) => (JSON.parse(e.event_json) as { payload: { id: string } }).payload.id));
    for (const k of ackedKeys) expect(stored.has(k), k).toBe(true);
  });
});
