// Issue 17 hole 19: renaming a busy actor cancelled its backlog under --auto-approve. Now an
// unattended apply refuses to cancel pending deliveries without --cancel-pending, and a rename
// declared under `moved:` carries them over (the plan says how many), so they reach the actor
// under its new name. Real executor, real SQLite store, the CLI as a child process.

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { appliedProject, cli, postJson, snapshot, startExec, startRecordingSink, until } from './harness.js';

const project = (sinkUrl: string, actor: string, moved = '') => `
sources:
  - id: inbox
    connector: webhook
actors:
  - id: ${actor}
    connector: webhook
    config: { url: ${sinkUrl}/deliver }
routes:
  - name: to-sink
    when: { source: inbox }
    then: { actor: ${actor} }
    delivery: { retry: [1s, 1s, 1s, 1s, 1s, 1s, 1s, 1s] }
${moved}`;

let down = true;
const sink = await startRecordingSink(() => (down ? { status: 503, headers: { 'retry-after': '1' } } : { status: 200 }));
afterAll(() => sink.close());

async function backlog(n: number): Promise<string> {
  down = true;
  const dir = await appliedProject(project(sink.url, 'reviewer'));
  const ex = await startExec(dir);
  try {
    for (let i = 0; i < n; i++) expect((await postJson(`${ex.url}/webhook/inbox`, { id: `r-${dir.length}-${i}` })).status).toBe(202);
    await until(async () => (await snapshot(dir)).deliveries.filter((d) => d.status === 'retry').length === n, 15_000, 'the backlog waiting to retry');
  } finally {
    await ex.kill9();
  }
  return dir;
}

describe('hole 19: a rename keeps the backlog', () => {
  it('apply --auto-approve refuses to cancel pending deliveries to a removed actor; --cancel-pending is the explicit way', async () => {
    const dir = await backlog(3);
    writeFileSync(join(dir, 'orgloop.yaml'), project(sink.url, 'pr-reviewer'));
    const plan = await cli(['plan'], { cwd: dir });
    expect(plan.stdout).toContain('3 pending deliveries to removed actors will be cancelled (renamed? declare it under moved:');
    const refused = await cli(['apply', '--auto-approve'], { cwd: dir });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('this apply would cancel 3 pending deliveries to removed actors (route.to-sink: 3)');
    expect(refused.stderr).toContain('--cancel-pending');
    const after = await snapshot(dir);
    expect(after.deliveries.map((d) => [d.actor, d.status])).toEqual(Array(3).fill(['reviewer', 'retry']));
    const applied = await cli(['apply', '--auto-approve', '--cancel-pending'], { cwd: dir });
    expect(applied.code).toBe(0);
  });

  it('moved: carries the pending deliveries to the new name, the plan says so, and they are delivered there', async () => {
    const dir = await backlog(4);
    writeFileSync(join(dir, 'orgloop.yaml'), project(sink.url, 'pr-reviewer', 'moved:\n  - { from: actor.reviewer, to: actor.pr-reviewer }\n'));
    const plan = await cli(['plan'], { cwd: dir });
    expect(plan.stdout).toContain('# actor.reviewer has moved to actor.pr-reviewer (4 pending deliveries go with it)');
    expect(plan.stdout).toContain('Plan: 0 to add, 0 to change, 0 to destroy, 1 moved.');
    expect(plan.stdout).not.toContain('will be cancelled');
    const json = JSON.parse((await cli(['plan', '--json'], { cwd: dir })).stdout);
    expect(json.moves).toEqual([{ from: 'actor.reviewer', to: 'actor.pr-reviewer', pending: 4 }]);

    const applied = await cli(['apply', '--auto-approve'], { cwd: dir });
    expect([applied.code, applied.stderr]).toEqual([0, '']);
    expect((await snapshot(dir)).deliveries.map((d) => [d.actor, d.status])).toEqual(Array(4).fill(['pr-reviewer', 'retry']));
    // applied: the next plan has nothing to do, with the moved: block still in the file
    expect((await cli(['plan'], { cwd: dir })).stdout).toContain('No changes.');

    down = false;
    const ex = await startExec(dir);
    try {
      await until(async () => (await snapshot(dir)).deliveries.every((d) => d.status === 'delivered'), 20_000, 'the carried backlog delivered');
      expect((await snapshot(dir)).deliveries.map((d) => d.actor)).toEqual(Array(4).fill('pr-reviewer'));
    } finally {
      await ex.kill9();
    }
  });

  it('validate: moved: must name a declared new address and an old one that is gone', async () => {
    const dir = await appliedProject(project(sink.url, 'reviewer'));
    writeFileSync(join(dir, 'orgloop.yaml'), project(sink.url, 'reviewer', 'moved:\n  - { from: actor.reviewer, to: actor.nobody }\n  - { from: actor.x, to: route.to-sink }\n'));
    const r = await cli(['validate'], { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/orgloop\.yaml:\d+:\d+: moved\[0\]: actor\.nobody is not declared in the project/);
    expect(r.stderr).toMatch(/orgloop\.yaml:\d+:\d+: moved\[1\]: actor\.x cannot become route\.to-sink/);
  });
});
