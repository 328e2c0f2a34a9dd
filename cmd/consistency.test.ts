// Issue 20 item 13: the same words for the same things across commands, checked on what the CLI
// prints as a real child process against real SQLite state.

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { cli, postJson, runExecutor, tempProject, until, type RunningExecutor } from './test-helpers/executor.js';

const running: RunningExecutor[] = [];
afterEach(async () => {
  for (const r of running.splice(0)) await r.stop();
});

const BASE = `sources:
  - id: hooks
    connector: webhook
    config: { colour: blue }
actors:
  - id: worker
    connector: command
    config: { command: "cat > /dev/null" }
`;
const ROUTE = `routes:
  - name: triage
    when: { source: hooks }
    then: { actor: worker }
`;
const PAGER = `  - id: pager
    connector: command
    config: { command: "cat > /dev/null" }
`;

async function ok(dir: string, args: string[]) {
  const r = await cli(['-c', join(dir, 'orgloop.yaml'), ...args], { cwd: dir });
  if (r.code !== 0) throw new Error(`orgloop ${args.join(' ')} exited ${r.code}\n${r.stdout}\n${r.stderr}`);
  return r;
}

describe('consistent wording', () => {
  it('a config warning appears once in the plan, as "Warning: file:line:col: message"', async () => {
    const dir = tempProject({ 'orgloop.yaml': BASE + ROUTE });
    const r = await ok(dir, ['plan']);
    const line = /Warning: \S*orgloop\.yaml:4:15: source "hooks": unknown field config\.colour \(ignored\)\n/g;
    expect(r.stdout.match(line)).toHaveLength(1);
    expect(r.stdout + r.stderr).not.toMatch(/Warning: .*: warning:/);
  });

  it('rollback plans say what version N had, not what the configuration lacks', async () => {
    const dir = tempProject({ 'orgloop.yaml': BASE + ROUTE });
    const first = await ok(dir, ['apply', '--auto-approve']);
    expect(first.stdout).toContain('Apply complete! Resources: 3 added, 0 changed, 0 destroyed.');
    expect(first.stdout).toContain('State serial: 1');
    // version 2 drops the route and adds an actor
    writeFileSync(join(dir, 'orgloop.yaml'), BASE + PAGER);
    await ok(dir, ['apply', '--auto-approve']);
    const r = await ok(dir, ['rollback', '--to', '1', '-out', join(dir, 'rb.plan')]);
    expect(r.stdout).toContain('# route.triage will be created (restored from version 1)');
    expect(r.stdout).toContain('# actor.pager will be destroyed (not in version 1)');
    expect(r.stdout).not.toContain('configuration)');
  });

  it('deliveries show includes a successful run\'s outcome and output; stop suggests nothing else', async () => {
    const yaml = `sources:
  - id: hooks
    connector: webhook
actors:
  - id: echo
    connector: command
    config: { command: "echo first line; echo second line" }
routes:
  - name: say
    when: { source: hooks }
    then: { actor: echo }
`;
    const dir = tempProject({ 'orgloop.yaml': yaml });
    await ok(dir, ['apply', '--auto-approve']);
    const ex = await runExecutor(['start', '--port', '0'], { cwd: dir });
    running.push(ex);
    const posted = await postJson(`${ex.url}/webhook/hooks`, { type: 'test' });
    expect(posted.status).toBe(202);
    const id = await until(async () => {
      const list = JSON.parse((await ok(dir, ['deliveries', 'list', '--json'])).stdout) as Array<{ id: string; status: string; route: string }>;
      const d = list.find((x) => x.route === 'say');
      return d?.status === 'delivered' ? d.id : null;
    }, 15_000, 'the delivery to finish');
    // actor.stopped is committed before the delivery completes, so it is there now
    const text = (await ok(dir, ['deliveries', 'show', id])).stdout;
    expect(text).toMatch(/ {2}run: {7}success, exit 0, \d+ ms\n {2}output:\n {4}first line\n {4}second line\n/);
    const json = JSON.parse((await ok(dir, ['deliveries', 'show', id, '--json'])).stdout);
    expect(json.run).toMatchObject({ outcome: 'success', exit_code: 0, output_tail: 'first line\nsecond line\n' });

    // every time in --json is ISO-8601 UTC (the store keeps run_at and lease_until as epoch ms)
    const iso = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;
    const listed = JSON.parse((await ok(dir, ['deliveries', 'list', '--json'])).stdout)[0];
    for (const d of [json, listed]) {
      for (const k of ['created_at', 'updated_at', 'run_at']) expect([k, d[k]]).toEqual([k, expect.stringMatching(iso)]);
      expect(d.lease_until).toBeNull();
    }
    const hist = JSON.parse((await ok(dir, ['history', '--json'])).stdout)[0];
    expect(hist.created_at).toMatch(iso);
    const logs = (await ok(dir, ['logs', '--json'])).stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(logs.length).toBeGreaterThan(0);
    for (const l of logs) expect(l.time).toMatch(iso);

    // `stop` with no daemon says how to start one and does not point at `show`
    const stop = await cli(['stop'], { cwd: dir });
    expect(stop.code).toBe(0);
    expect(stop.stdout + stop.stderr).not.toMatch(/show/);
  });

  it('status and deliveries list are aligned tables with dead deliveries in red (FORCE_COLOR), plain under NO_COLOR', async () => {
    const yaml = `sources:
  - id: hooks
    connector: webhook
actors:
  - id: broken
    connector: command
    config: { command: "exit 3" }
routes:
  - name: fails
    when: { source: hooks }
    then: { actor: broken }
    delivery: { max_attempts: 1 }
`;
    const dir = tempProject({ 'orgloop.yaml': yaml });
    await ok(dir, ['apply', '--auto-approve']);
    const ex = await runExecutor(['start', '--port', '0'], { cwd: dir });
    running.push(ex);
    expect((await postJson(`${ex.url}/webhook/hooks`, { type: 'test' })).status).toBe(202);
    await until(async () => JSON.parse((await ok(dir, ['deliveries', 'list', '--json'])).stdout)[0]?.status === 'dead', 15_000, 'the delivery to die');
    const RED = '\u001b[31m';
    const run = (args: string[], env: NodeJS.ProcessEnv) => cli(['-c', join(dir, 'orgloop.yaml'), ...args], { cwd: dir, env });

    const coloured = await run(['status'], { NO_COLOR: '', FORCE_COLOR: '1' });
    expect(coloured.stdout).toMatch(new RegExp(`fails +broken +0 +0 +0 +0 +${RED.replace('[', '\\[')}1`));
    const plain = await run(['status'], { NO_COLOR: '1' });
    expect(plain.stdout).not.toContain('\u001b[');
    // the header and the row line up: DEAD starts where the 1 does
    const lines = plain.stdout.split('\n');
    const head = lines.find((l) => l.startsWith('ROUTE'))!;
    const row = lines.find((l) => l.startsWith('fails'))!;
    expect(row[head.indexOf('DEAD')]).toBe('1');

    const list = await run(['deliveries', 'list'], { NO_COLOR: '', FORCE_COLOR: '1' });
    expect(list.stdout).toContain(`${RED}dead, 1 attempt`);
    const plainList = (await run(['deliveries', 'list'], { NO_COLOR: '1' })).stdout.split('\n');
    expect(plainList[0]).toMatch(/^ID +ROUTE -> ACTOR +STATUS +EVENT$/);
    expect(plainList[1]!.indexOf('dead')).toBe(plainList[0]!.indexOf('STATUS'));
    expect(plainList[2]).toMatch(/^ {4}last error: exited with code 3/);

    const events = (await run(['events', 'list'], { NO_COLOR: '1' })).stdout.split('\n');
    expect(events[0]).toMatch(/^ID +RECEIVED +SOURCE +TYPE +HOPS$/);
    // the webhook's event, then the dead delivery's actor.stopped one hop later, in aligned columns
    const stopped = events.find((l) => l.includes('actor.stopped'))!;
    expect(stopped.indexOf('broken')).toBe(events[0]!.indexOf('SOURCE'));
    expect(stopped.slice(events[0]!.indexOf('HOPS'))).toBe('1');
  });
});
