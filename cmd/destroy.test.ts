// `plan -destroy` and `orgloop destroy` as a user runs them: the CLI as a child process against a
// real SQLite state file; the pending-delivery refusal with a real executor's backlog.

import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { appliedProject, cli, postJson, snapshot, startExec, startRecordingSink, tempProject, until } from '../test/reliability/harness.js';
import { webhookProject } from './test-helpers/executor.js';

async function history(dir: string): Promise<Array<{ serial: number; kind: string; message: string | null; summary: { destroy: number } }>> {
  const r = await cli(['history', '--json'], { cwd: dir });
  expect(r.code).toBe(0);
  return JSON.parse(r.stdout);
}

describe('plan -destroy / destroy', () => {
  it('plan -destroy lists every applied resource as destroyed and changes nothing; -out then apply records a destroy', async () => {
    const dir = await appliedProject(webhookProject());
    const plan = await cli(['plan', '-destroy', '--detailed-exitcode'], { cwd: dir });
    expect(plan.code).toBe(2);
    expect(plan.stdout).toContain('Plan: 0 to add, 0 to change, 3 to destroy.');
    for (const a of ['source.hook', 'actor.sink', 'route.hook-to-sink']) expect(plan.stdout).toContain(a);
    expect(await history(dir)).toHaveLength(1);

    const json = JSON.parse((await cli(['plan', '--destroy', '--json'], { cwd: dir })).stdout);
    expect(json.origin).toEqual({ type: 'destroy' });
    expect(json.changes.map((c: { actions: string[] }) => c.actions)).toEqual([['delete'], ['delete'], ['delete']]);

    expect((await cli(['plan', '-destroy', '-out', 'd.plan'], { cwd: dir })).code).toBe(0);
    const applied = await cli(['apply', 'd.plan'], { cwd: dir });
    expect(applied.code, applied.stderr).toBe(0);
    expect(applied.stdout).toContain('0 added, 0 changed, 3 destroyed');
    const h = await history(dir);
    expect(h.map((v) => [v.serial, v.kind, v.message, v.summary.destroy])).toEqual([
      [1, 'apply', null, 0],
      [2, 'destroy', 'Destroy', 3],
    ]);
    const again = await cli(['plan', '-destroy'], { cwd: dir });
    expect(again.stdout).toContain('No changes');
  });

  it('destroy -auto-approve empties the state; without a terminal and without it, it refuses', async () => {
    const dir = await appliedProject(webhookProject());
    const refused = await cli(['destroy'], { cwd: dir });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('destroy needs confirmation');
    expect(await history(dir)).toHaveLength(1);

    const r = await cli(['destroy', '-auto-approve'], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('Plan: 0 to add, 0 to change, 3 to destroy.');
    expect(r.stdout).toContain('Destroy complete! Resources: 3 destroyed.');
    const pulled = JSON.parse((await cli(['state', 'pull'], { cwd: dir })).stdout);
    expect(pulled.snapshot.resources).toEqual({});
    expect((await history(dir)).at(-1)).toMatchObject({ serial: 2, kind: 'destroy', message: 'Destroy' });
    // the project files still say what to build: a plain plan creates it all again
    expect((await cli(['plan'], { cwd: dir })).stdout).toContain('Plan: 3 to add, 0 to change, 0 to destroy.');

    const nothing = await cli(['destroy', '--auto-approve'], { cwd: dir });
    expect(nothing.code).toBe(0);
    expect(nothing.stdout).toContain('nothing to destroy');
  });

  it('with nothing applied, destroy says so and creates no state file', async () => {
    const dir = tempProject({ 'orgloop.yaml': webhookProject() });
    const r = await cli(['destroy', '--auto-approve'], { cwd: dir });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Nothing has been applied');
    expect(existsSync(join(dir, '.orgloop', 'state.db'))).toBe(false);
  });

  describe('pending deliveries', () => {
    let down = true;
    const sinkP = startRecordingSink(() => (down ? { status: 503, headers: { 'retry-after': '1' } } : { status: 200 }));
    afterAll(async () => (await sinkP).close());

    it('destroy --auto-approve refuses to cancel an actor backlog without --cancel-pending', async () => {
      const sink = await sinkP;
      down = true;
      const dir = await appliedProject(`
sources:
  - id: inbox
    connector: webhook
actors:
  - id: reviewer
    connector: webhook
    config: { url: ${sink.url}/deliver }
routes:
  - name: to-sink
    when: { source: inbox }
    then: { actor: reviewer }
    delivery: { retry: [1s, 1s, 1s, 1s, 1s, 1s, 1s, 1s] }
`);
      const ex = await startExec(dir);
      try {
        for (let i = 0; i < 2; i++) expect((await postJson(`${ex.url}/webhook/inbox`, { id: `d-${i}` })).status).toBe(202);
        await until(async () => (await snapshot(dir)).deliveries.filter((d) => d.status === 'retry').length === 2, 15_000, 'the backlog');
      } finally {
        await ex.kill9();
      }
      const refused = await cli(['destroy', '--auto-approve'], { cwd: dir });
      expect(refused.code).toBe(1);
      expect(refused.stderr).toContain('this apply would cancel 2 pending deliveries to removed actors (route.to-sink: 2)');
      expect(await history(dir)).toHaveLength(1);
      const done = await cli(['destroy', '--auto-approve', '--cancel-pending'], { cwd: dir });
      expect(done.code, done.stderr).toBe(0);
      // the executor cancels them when it next runs under the new version; the version is written now
      expect((await history(dir)).at(-1)).toMatchObject({ serial: 2, kind: 'destroy' });
    }, 30_000);
  });
});
