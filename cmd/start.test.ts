// End-to-end: the real CLI runs the executor as a child process; events arrive over real HTTP
// on 127.0.0.1 and command actors are real processes.

import { afterEach, describe, expect, it } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { applyDirect, cli, postJson, runExecutor, tempProject, until, type RunningExecutor } from './test-helpers/executor.js';

const running: RunningExecutor[] = [];
afterEach(async () => {
  for (const r of running.splice(0)) await r.stop();
});

async function start(dir: string, env?: NodeJS.ProcessEnv): Promise<RunningExecutor> {
  const ex = await runExecutor(['start', '--port', '0'], { cwd: dir, env });
  running.push(ex);
  return ex;
}

function lines(file: string): string[] {
  return existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(Boolean) : [];
}

describe('orgloop start', () => {
  it('refuses clearly when nothing has been applied', async () => {
    const dir = tempProject({ 'orgloop.yaml': 'sources: []\n' });
    const r = await cli(['start', '--port', '0'], { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/No applied version in .*state\.db\. Run `orgloop apply` first\./);
  });

  it('delivers a webhook to a command actor with the event and the prompt, and answers bad requests with 4xx', async () => {
    const dir = tempProject({
      'orgloop.yaml': `
sources:
  - id: webhook
    connector: webhook
actors:
  - id: agent
    connector: command
    config:
      command: 'cat > "got-$ORGLOOP_DELIVERY_ID.json"; printf "%s" "$ORGLOOP_PROMPT" > "prompt-$ORGLOOP_DELIVERY_ID.md"; echo "$ORGLOOP_DELIVERY_ID" >> runs.txt'
routes:
  - name: hello
    when: { source: webhook, events: [resource.changed] }
    then: { actor: agent }
    with: { prompt_file: ./sops/hello.md }
`,
      'sops/hello.md': '# Hello SOP\nSay hello.\n',
    });
    await applyDirect(dir);
    const ex = await start(dir);

    const ok = await postJson(`${ex.url}/webhook/webhook`, { type: 'test', message: 'hello from orgloop' });
    expect(ok.status).toBe(202);
    expect(ok.json).toMatchObject({ deliveries: 1, duplicate: false });
    expect(ok.json.event_id).toMatch(/^evt_/);

    const runs = await until(() => (lines(join(dir, 'runs.txt')).length ? lines(join(dir, 'runs.txt')) : null), 15_000, 'actor run');
    const delivered = JSON.parse(readFileSync(join(dir, `got-${runs[0]}.json`), 'utf8'));
    expect(delivered).toMatchObject({
      id: ok.json.event_id,
      type: 'resource.changed',
      source: 'webhook',
      provenance: { platform_event: 'test' },
      payload: { type: 'test', message: 'hello from orgloop' },
      hops: 0,
    });
    expect(readFileSync(join(dir, `prompt-${runs[0]}.md`), 'utf8')).toBe('# Hello SOP\nSay hello.\n');
    await ex.waitFor('deliver.success');

    const unknown = await postJson(`${ex.url}/webhook/nope`, { a: 1 });
    expect(unknown.status).toBe(404);
    expect(unknown.json.error).toBe('unknown source "nope"');
    const bad = await postJson(`${ex.url}/webhook/webhook`, '{not json');
    expect(bad.status).toBe(400);
    const health = await fetch(`${ex.url}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ ok: true, serial: 1 });
    expect(ex.output()).toMatch(/ingress\.reject .*404/);

    const stopped = await ex.stop();
    expect(stopped.code).toBe(0);
    expect(lines(join(dir, 'runs.txt'))).toHaveLength(1);
  });
});
