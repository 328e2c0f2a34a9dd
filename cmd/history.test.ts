// End-to-end: history, diff, rollback, drift and state commands against real SQLite files,
// with the CLI as a child process.

import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { cli, tempProject } from './test-helpers/executor.js';
import { openStore } from '../state/open.js';

const SECRET_V1 = 'hook-secret-value-one';
const SECRET_V2 = 'hook-secret-value-two';

// Prompt texts with bytes a careless round trip would lose: CRLF, trailing spaces, unicode, no final newline.
const PROMPT_V1 = 'Triage the event.\r\n  keep   trailing spaces   \nÜnïcødé ✓\n\n\nend-without-newline';
const PROMPT_V2 = 'Triage the event, version two.\n';

const YAML_V1 = `sources:
  - id: hooks
    connector: webhook
    config: { secret: "\${HOOK_SECRET}" }
actors:
  - id: worker
    connector: command
    config: { command: "cat > /dev/null" }
routes:
  - name: triage
    when: { source: hooks, events: [resource.changed] }
    then: { actor: worker }
    with: { prompt_file: ./sops/triage.md }
`;
const YAML_V2 = YAML_V1.replace('events: [resource.changed]', 'events: [resource.changed, custom.ping]');

function project(): string {
  return tempProject({ 'orgloop.yaml': YAML_V1, 'sops/triage.md': PROMPT_V1, '.env': `HOOK_SECRET=${SECRET_V1}\n` });
}

async function run(dir: string, args: string[], env: NodeJS.ProcessEnv = {}) {
  return cli(['-c', join(dir, 'orgloop.yaml'), ...args], { cwd: dir, env });
}

async function ok(dir: string, args: string[], env: NodeJS.ProcessEnv = {}) {
  const r = await run(dir, args, env);
  if (r.code !== 0) throw new Error(`orgloop ${args.join(' ')} exited ${r.code}\n${r.stdout}\n${r.stderr}`);
  return r;
}

describe('rollback, history, diff and the re-apply warning', () => {
  let dir: string;
  let v1Pull: { snapshot: { resources: Record<string, unknown> }; blobs: Record<string, string> };

  beforeAll(async () => {
    dir = project();
    await ok(dir, ['apply', '--auto-approve', '-m', 'first']);
    v1Pull = JSON.parse((await ok(dir, ['state', 'pull'])).stdout);
    writeFileSync(join(dir, 'sops/triage.md'), PROMPT_V2);
    writeFileSync(join(dir, 'orgloop.yaml'), YAML_V2);
    await ok(dir, ['apply', '--auto-approve', '-m', 'second']);
  }, 30_000);

  it('diff --from 1 --to 2 shows exactly the v1 -> v2 changes', async () => {
    const text = (await ok(dir, ['diff', '--from', '1', '--to', '2'])).stdout;
    expect(text).toContain('Changes from version 1');
    expect(text).toContain('~ route.triage');
    expect(text).toContain('~ when.events = ["resource.changed"] -> ["resource.changed","custom.ping"]');
    expect(text).toContain('-Triage the event.');
    expect(text).toContain('+Triage the event, version two.');
    expect(text).toContain('Plan: 0 to add, 1 to change, 0 to destroy.');
    expect(text).not.toContain('source.hooks');

    const json = JSON.parse((await ok(dir, ['diff', '--from', '1', '--to', '2', '--json'])).stdout);
    expect(json.changes.map((c: { address: string; actions: string[] }) => [c.address, c.actions])).toEqual([['route.triage', ['update']]]);
    expect(json.changes[0].fields.map((f: { path: string }) => f.path)).toEqual(['when.events']);
    expect(json.changes[0].prompt.file).toBe('sops/triage.md');

    const md = (await ok(dir, ['diff', '--from', '1', '--format', 'markdown'])).stdout;
    expect(md).toContain('orgloop diff: version 1 → 2');
    expect(md).toContain('route.triage');

    const same = (await ok(dir, ['diff', '--from', '2', '--to', '2'])).stdout;
    expect(same).toContain('No differences: versions 2 and 2 declare the same configuration.');
  });

  it('diff names versions that do not exist', async () => {
    const r = await run(dir, ['diff', '--from', '9']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('--from 9: no such version (versions are 1..2; see `orgloop history`)');
    const bad = await run(dir, ['diff', '--from', 'abc']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('--from must be a version number from `orgloop history` (got "abc")');
  });

  it('rollback refuses without a terminal or --auto-approve, and for unknown versions', async () => {
    const r = await run(dir, ['rollback', '--to', '1']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('rollback needs confirmation, but there is no terminal');
    const missing = await run(dir, ['rollback', '--to', '7', '--auto-approve']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('--to 7: no such version');
    const current = await run(dir, ['rollback', '--to', '2', '--auto-approve']);
    expect(current.code).toBe(1);
    expect(current.stderr).toContain('version 2 is the current version; nothing to roll back');
  });

  it('rollback -out saves a reviewable plan that says runtime data is not rewound', async () => {
    const file = join(dir, 'rollback.plan');
    const r = await ok(dir, ['rollback', '--to', '1', '-out', file]);
    expect(r.stdout).toContain('Cursors and deliveries are not rewound');
    expect(r.stdout).toContain('~ route.triage');
    const plan = JSON.parse(readFileSync(file, 'utf8'));
    expect(plan.origin).toEqual({ type: 'version', serial: 1 });
    expect(Object.values(plan.blobs)).toContain(PROMPT_V1);
    // nothing was applied
    expect(JSON.parse((await ok(dir, ['history', '--json'])).stdout)).toHaveLength(2);
  });

  describe('after rollback --to 1 --auto-approve', () => {
    let rollbackOut: string;
    beforeAll(async () => {
      rollbackOut = (await ok(dir, ['rollback', '--to', '1', '--auto-approve'])).stdout;
    }, 20_000);

    it('restores version 1 exactly, prompt bytes included, although the files on disk changed', async () => {
      expect(rollbackOut).toContain('Cursors and deliveries are not rewound');
      expect(rollbackOut).toContain('Rollback complete!');
      const now = JSON.parse((await ok(dir, ['state', 'pull'])).stdout);
      expect(now.serial).toBe(3);
      expect(now.snapshot.resources).toEqual(v1Pull.snapshot.resources);
      expect(Object.values(now.blobs)).toEqual([PROMPT_V1]);
      const shown = JSON.parse((await ok(dir, ['state', 'show', 'route.triage', '--json'])).stdout);
      expect(shown.prompt).toBe(PROMPT_V1);
      expect(readFileSync(join(dir, 'sops/triage.md'), 'utf8')).toBe(PROMPT_V2);
    });

    it('history shows three versions with the rollback labelled', async () => {
      const rows = JSON.parse((await ok(dir, ['history', '--json'])).stdout);
      expect(rows.map((r: { serial: number; kind: string; message: string }) => [r.serial, r.kind, r.message])).toEqual([
        [1, 'apply', 'first'],
        [2, 'apply', 'second'],
        [3, 'rollback', 'Rollback to 1'],
      ]);
      expect(rows[2]).toMatchObject({ rollback_of: 1, current: true, rolled_back_by: null });
      expect(rows[1]).toMatchObject({ rolled_back_by: 3, current: false });
      const text = (await ok(dir, ['history'])).stdout;
      expect(text).toMatch(/\*3 .* rollback +- +\+0 ~1 -0 +Rollback to 1 +current, restores v1/);
      expect(text).toMatch(/ 2 .* apply +- +\+0 ~1 -0 +second +rolled back by v3/);
    });

    it('a following plan against the changed files shows the v2 changes again with the re-apply warning', async () => {
      const r = await run(dir, ['plan', '--detailed-exitcode']);
      expect(r.code).toBe(2);
      expect(r.stdout).toContain('This plan re-applies the changes of version 2, which was rolled back by version 3');
      expect(r.stdout.indexOf('re-applies')).toBeLessThan(r.stdout.indexOf('route.triage'));
      expect(r.stdout).toContain('~ when.events = ["resource.changed"] -> ["resource.changed","custom.ping"]');
      expect(r.stdout).toContain('+Triage the event, version two.');
      const json = JSON.parse((await ok(dir, ['plan', '--json'])).stdout);
      expect(json.warnings[0]).toContain('re-applies the changes of version 2');
    });

    it('a plan that does not equal a rolled-back version carries no warning', async () => {
      writeFileSync(join(dir, 'sops/triage.md'), 'something else entirely\n');
      const r = await run(dir, ['plan', '--detailed-exitcode']);
      writeFileSync(join(dir, 'sops/triage.md'), PROMPT_V2);
      expect(r.code).toBe(2);
      expect(r.stdout).not.toContain('re-applies');
    });

    it('apply shows the re-apply warning too (the plan is built once, with it)', async () => {
      const r = await ok(dir, ['apply', '--auto-approve']);
      expect(r.stdout).toContain('This plan re-applies the changes of version 2, which was rolled back by version 3');
      expect(r.stdout).toContain('Apply complete!');
    });
  });
});

describe('drift', () => {
  it('exits 0 right after apply, 2 after a prompt file or secret changes, naming what drifted', async () => {
    const dir = project();
    await ok(dir, ['apply', '--auto-approve']);
    const clean = await run(dir, ['drift', '--detailed-exitcode']);
    expect(clean.code).toBe(0);
    expect(clean.stdout).toContain('No drift: version 1 matches reality (checked 1 prompt file, 1 secret, 0 managed objects, 0 executors).');

    writeFileSync(join(dir, 'sops/triage.md'), PROMPT_V1 + ' edited');
    const prompt = await run(dir, ['drift']);
    expect(prompt.code).toBe(2);
    expect(prompt.stdout).toContain('route.triage: prompt file sops/triage.md changed since apply');
    writeFileSync(join(dir, 'sops/triage.md'), PROMPT_V1);
    expect((await run(dir, ['drift'])).code).toBe(0);

    writeFileSync(join(dir, '.env'), `HOOK_SECRET=${SECRET_V2}\n`);
    const secret = await run(dir, ['drift', '--json']);
    expect(secret.code).toBe(2);
    const report = JSON.parse(secret.stdout);
    expect(report.items).toEqual([
      { kind: 'secret', address: 'source.hooks', detail: 'config.secret', message: 'config.secret (${HOOK_SECRET}): the value changed since apply (sensitive value not shown)' },
    ]);
    // the shell wins over .env, as in config loading
    expect((await run(dir, ['drift'], { HOOK_SECRET: SECRET_V1 })).code).toBe(0);
    const unset = await run(dir, ['drift'], { HOOK_SECRET: '' });
    writeFileSync(join(dir, '.env'), '');
    const gone = await run(dir, ['drift']);
    expect(gone.code).toBe(2);
    expect(gone.stdout).toContain('source.hooks: config.secret (${HOOK_SECRET}) no longer resolves: environment variable HOOK_SECRET is not set');
    for (const out of [secret.stdout, secret.stderr, unset.stdout, gone.stdout, gone.stderr]) {
      expect(out).not.toContain(SECRET_V1);
      expect(out).not.toContain(SECRET_V2);
    }

    writeFileSync(join(dir, '.env'), `HOOK_SECRET=${SECRET_V1}\n`);
    (await import('node:fs')).rmSync(join(dir, 'sops/triage.md'));
    const deleted = await run(dir, ['drift']);
    expect(deleted.code).toBe(2);
    expect(deleted.stdout).toContain('prompt file sops/triage.md was deleted since apply');
    writeFileSync(join(dir, 'sops/triage.md'), PROMPT_V1);
  }, 30_000);

  it('reports an executor still running an older version, and ignores one that stopped heartbeating', async () => {
    const dir = project();
    await ok(dir, ['apply', '--auto-approve']);
    writeFileSync(join(dir, 'orgloop.yaml'), YAML_V2);
    await ok(dir, ['apply', '--auto-approve']);
    const store = await openStore(join(dir, '.orgloop', 'state.db'));
    const now = new Date().toISOString();
    await store.heartbeatExecutor({ id: 'exe_old', host: 'build-1', pid: 4242, serial_loaded: 1, started_at: now, heartbeat_at: now });
    const long = new Date(Date.now() - 3_600_000).toISOString();
    await store.heartbeatExecutor({ id: 'exe_dead', host: 'build-2', pid: 1, serial_loaded: 1, started_at: long, heartbeat_at: long });
    await store.close();
    const r = await run(dir, ['drift']);
    expect(r.code).toBe(2);
    expect(r.stdout).toContain('executor exe_old (build-1, pid 4242) is running version 1; the current version is 2');
    expect(r.stdout).toContain('executor exe_dead (build-2, pid 1) has not sent a heartbeat');
    expect(r.stdout).not.toContain('~ executor.exe_dead');
  }, 30_000);

  it('says when nothing was applied', async () => {
    const dir = project();
    const r = await run(dir, ['drift']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('nothing has been applied yet in');
  });
});

describe('state commands', () => {
  it('pull then push into a fresh store round-trips; a stale serial and a foreign lineage are refused', async () => {
    const dir = project();
    await ok(dir, ['apply', '--auto-approve']);
    const pulled = (await ok(dir, ['state', 'pull'])).stdout;
    expect(pulled).not.toContain(SECRET_V1);
    const file = join(dir, 'pulled.json');
    writeFileSync(file, pulled);

    const fresh = join(dir, 'other', 'fresh.db');
    const pushed = await ok(dir, ['--state', fresh, 'state', 'push', file]);
    expect(pushed.stdout).toContain('state is now at serial 1');
    const back = JSON.parse((await ok(dir, ['--state', fresh, 'state', 'pull'])).stdout);
    const orig = JSON.parse(pulled);
    expect(back.lineage).toBe(orig.lineage);
    expect(back.serial).toBe(orig.serial);
    expect(back.snapshot).toEqual(orig.snapshot);
    expect(back.blobs).toEqual(orig.blobs);
    expect(back.secret_salt).toBe(orig.secret_salt);
    expect(back.version.kind).toBe('import');
    // the pushed store plans like the original: nothing to do
    expect((await run(dir, ['--state', fresh, 'plan', '--detailed-exitcode'])).code).toBe(0);

    // the original moves on; the old file is now stale there
    writeFileSync(join(dir, 'orgloop.yaml'), YAML_V2);
    await ok(dir, ['apply', '--auto-approve']);
    const stale = await run(dir, ['state', 'push', file]);
    expect(stale.code).toBe(1);
    expect(stale.stderr).toContain('its serial 1 is not newer than this state\'s serial 2');
    const same = await run(dir, ['--state', fresh, 'state', 'push', file]);
    expect(same.code).toBe(1);
    expect(same.stderr).toContain('is already the current state (serial 1)');

    // another project's state has another lineage
    const other = project();
    await ok(other, ['apply', '--auto-approve']);
    const foreign = await run(other, ['state', 'push', file]);
    expect(foreign.code).toBe(1);
    expect(foreign.stderr).toMatch(/it belongs to another state \(lineage [0-9a-f-]+\), this state has lineage [0-9a-f-]+\. Use --force/);
    const forced = await ok(other, ['state', 'push', '--force', file]);
    expect(forced.stdout).toMatch(/stored as serial 2: local history already used 1.*replaced lineage/);
    expect(JSON.parse((await ok(other, ['state', 'pull'])).stdout).lineage).toBe(orig.lineage);

    const junk = join(dir, 'junk.json');
    writeFileSync(junk, '{"hello":1}');
    const bad = await run(dir, ['state', 'push', junk]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('is not an orgloop state file');
  }, 60_000);

  it('list, show, rm and mv edit the state as state-edit versions; mv keeps deliveries and cursor', async () => {
    const dir = project();
    await ok(dir, ['apply', '--auto-approve']);
    expect((await ok(dir, ['state', 'list'])).stdout).toBe('actor.worker\nroute.triage\nsource.hooks\n');
    const shown = (await ok(dir, ['state', 'show', 'source.hooks'])).stdout;
    expect(shown).toContain('"template": "${HOOK_SECRET}"');
    expect(shown).not.toContain(SECRET_V1);
    const missing = await run(dir, ['state', 'show', 'route.nope']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('route.nope is not in the state (routes in state: route.triage)');

    // runtime rows under the old names
    const db = join(dir, '.orgloop', 'state.db');
    let store = await openStore(db);
    const received = new Date().toISOString();
    await store.ingest([
      {
        event: { id: 'evt_1', source: 'hooks', type: 'resource.changed', dedupe_key: 'd1', event_json: '{}', trace_id: 't1', parent_id: null, hops: 0, received_at: received },
        deliveries: [{ id: 'dlv_1', route: 'triage', actor: 'worker', state_serial: 1 }],
      },
    ]);
    const term = await store.acquireLease('source:hooks', 'test', 60_000);
    await store.commitPoll('hooks', term!, 'cursor-42', null, []);
    await store.close();

    await ok(dir, ['state', 'mv', 'route.triage', 'route.triage-v2']);
    await ok(dir, ['state', 'mv', 'source.hooks', 'source.inbox']);
    await ok(dir, ['state', 'mv', 'actor.worker', 'actor.helper']);
    store = await openStore(db);
    const d = await store.delivery('dlv_1');
    expect(d).toMatchObject({ route: 'triage-v2', actor: 'helper' });
    expect((await store.event('evt_1'))?.source).toBe('inbox');
    expect((await store.cursor('inbox'))?.cursor).toBe('cursor-42');
    expect(await store.cursor('hooks')).toBeNull();
    const snap = (await store.current())!.snapshot;
    await store.close();
    expect(snap.resources['route.triage-v2']).toMatchObject({
      name: 'triage-v2',
      depends_on: ['actor.helper', 'source.inbox'],
      attributes: { name: 'triage-v2', when: { source: 'inbox' }, then: { actor: 'helper' } },
    });
    expect(snap.resources['source.inbox']?.attributes).toMatchObject({ id: 'inbox' });

    const wrongKind = await run(dir, ['state', 'mv', 'route.triage-v2', 'actor.x']);
    expect(wrongKind.code).toBe(1);
    expect(wrongKind.stderr).toContain('a route cannot become a actor');
    const taken = await run(dir, ['state', 'mv', 'actor.helper', 'actor.helper']);
    expect(taken.stderr).toContain('are the same address');

    const rm = await ok(dir, ['state', 'rm', 'actor.helper']);
    expect(rm.stdout).toContain('Removed actor.helper');
    expect(rm.stderr).toContain('route.triage-v2 still refers to actor.helper');
    expect((await ok(dir, ['state', 'list'])).stdout).toBe('route.triage-v2\nsource.inbox\n');
    const rows = JSON.parse((await ok(dir, ['history', '--json'])).stdout);
    expect(rows.map((r: { kind: string; message: string }) => [r.kind, r.message])).toEqual([
      ['apply', null],
      ['state-edit', 'state mv route.triage route.triage-v2'],
      ['state-edit', 'state mv source.hooks source.inbox'],
      ['state-edit', 'state mv actor.worker actor.helper'],
      ['state-edit', 'state rm actor.helper'],
    ]);
  }, 60_000);
});

