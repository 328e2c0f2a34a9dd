// OrgLoop 0.7.9 configuration shapes (its docs-site reference/config-schema, spec/transforms,
// guides/transform-filter, connector READMEs) load and mean the same here. The payloads and
// projects are ours, written from those documents.

import { describe, expect, it } from 'vitest';
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir, homedir } from 'node:os';
import { join } from 'node:path';
import { loadProject } from '../../engine/config/load.js';
import { ConfigError } from '../../engine/errors.js';
import { providerContext } from '../fakes/context.js';
import { filterTransform } from '../../providers/transforms/filter.js';
import { enrichTransform } from '../../providers/transforms/enrich.js';
import { dedupKey } from '../../providers/transforms/dedup.js';
import { scriptTransform } from '../../providers/transforms/script.js';
import { cronSource } from '../../providers/sources/cron.js';
import { fileLogSettings } from '../../providers/loggers/file.js';
import { authorization } from '../../providers/actors/webhook.js';
import { normalizeWebhook } from '../../providers/sources/webhook.js';
import { runTransforms } from '../../engine/run/pipeline.js';
import type { OrgEvent, TransformProvider } from '../../providers/types.js';
import type { RuntimeRoute } from '../../engine/run/graph.js';

function project(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'orgloop-upstream-'));
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(join(dir, name, '..'), { recursive: true });
    writeFileSync(join(dir, name), text, name.endsWith('.sh') ? { mode: 0o755 } : undefined);
  }
  return join(dir, 'orgloop.yaml');
}

async function loadErrors(file: string, env: NodeJS.ProcessEnv = {}): Promise<string[]> {
  try {
    await loadProject(file, { env });
    return [];
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    return err.diagnostics.filter((d) => d.severity === 'error').map((d) => `${d.line}:${d.col}: ${d.message}`);
  }
}

const event = (over: Partial<OrgEvent> = {}): OrgEvent => ({
  id: 'evt_1',
  type: 'resource.changed',
  source: 'github',
  time: '2026-01-01T00:00:00.000Z',
  provenance: { platform: 'github', platform_event: 'pull_request.review_submitted', author: 'alice', author_type: 'team_member', labels: ['needs-review'] },
  payload: { pr_number: 7, priority: 1, draft: false },
  trace_id: 'trc_1',
  parent_id: null,
  hops: 0,
  ...over,
});

const noStore = () => ({ seen: async () => false });

describe('OrgLoop config shapes', () => {
  it('an enum outside its values names the allowed values, not the field description', async () => {
    const file = project({
      'orgloop.yaml': ['sources:', '  - id: cc', '    connector: claude-code', '    config: { hook_type: on-exit }', ''].join('\n'),
    });
    expect(await loadErrors(file)).toEqual([
      '4:26: source "cc": config.hook_type must be one of: any, post-exit, start, stop, subagent_stop, subagent-stop, session_end, session-end or a list of them',
    ]);
  });

  it('validate runs without secrets: an unset variable is a warning there and an error for plan', async () => {
    const file = project({
      'orgloop.yaml': ['sources:', '  - id: gh', '    connector: github', '    config: { repo: "${GH_REPO}", token: "${GH_TOKEN}" }', ''].join('\n'),
    });
    const p = await loadProject(file, { env: {}, unsetVars: 'warn' });
    expect(p.warnings.map((w) => `${w.line}:${w.col}: ${w.message}`)).toEqual([
      '4:21: source "gh": config.repo: environment variable GH_REPO is not set (plan, apply and start need it)',
      '4:42: source "gh": config.token: environment variable GH_TOKEN is not set (plan, apply and start need it)',
    ]);
    expect(await loadErrors(file)).toEqual([
      '4:21: source "gh": config.repo: environment variable GH_REPO is not set (and has no default: use ${GH_REPO:-default})',
      '4:42: source "gh": config.token: environment variable GH_TOKEN is not set (and has no default: use ${GH_TOKEN:-default})',
    ]);
  });

  it('script transforms in OrgLoop shape: script path beside the file, timeout_ms, on_error, exit 1 drops', async () => {
    const file = project({
      'orgloop.yaml': 'apiVersion: orgloop/v1alpha1\nkind: Project\nmetadata: { name: p }\ntransforms: [transforms/t.yaml]\n',
      'transforms/t.yaml': [
        'apiVersion: orgloop/v1alpha1',
        'kind: TransformGroup',
        'transforms:',
        '  - name: gate',
        '    type: script',
        '    script: ./gate.sh',
        '    timeout_ms: 1500',
        '    on_error: drop',
        '',
      ].join('\n'),
      'transforms/gate.sh': '#!/bin/sh\nin=$(cat)\ncase "$in" in *\'"draft":true\'*) exit 1;; *\'"boom"\'*) exit 3;; esac\necho "$in" | sed "s/\\"draft\\":false/\\"draft\\":false,\\"seen_by\\":\\"$ORGLOOP_TARGET\\"/"\n',
    });
    const p = await loadProject(file, { env: {} });
    const spec = p.resources.find((r) => r.address === 'transform.gate')!.spec as { type: string; config: Record<string, unknown> };
    expect(spec).toEqual({ name: 'gate', type: 'script', on_error: 'drop', config: { command: ['./transforms/gate.sh'], timeout: '1500ms', on_error: 'drop', drop_exit_codes: [1] } });
    const ctx = providerContext('gate', spec.config, {}, join(file, '..'));
    const t = scriptTransform as TransformProvider;
    const passed = await t.transform(ctx, event(), noStore(), { route: 'r', actor: 'agent' });
    expect(passed.action === 'pass' && passed.event.payload).toEqual({ pr_number: 7, priority: 1, draft: false, seen_by: 'agent' });
    expect(await t.transform(ctx, event({ payload: { draft: true } }), noStore())).toEqual({ action: 'drop', reason: 'script gate exited with code 1' });
    expect(await t.transform(ctx, event({ payload: { x: 'boom' } }), noStore())).toEqual({ action: 'drop', reason: 'script error: exited with code 3' });

    const missing = project({ 'orgloop.yaml': 'transforms:\n  - name: gate\n    type: script\n    script: ./nope.sh\n' });
    expect((await loadErrors(missing))[0]).toMatch(/^4:13: transform "gate": script "\.\/nope\.sh" not found/);
  });

  it('on_error on a transform and per route: pass goes on unchanged, drop drops, the route wins', async () => {
    const failing: TransformProvider = { kind: 'transform', name: 'broken', configSchema: {}, transform: () => ({ action: 'error', error: 'no upstream' }) };
    const ctx = providerContext('t', {});
    const route = (onError?: 'pass' | 'drop' | 'halt') => ({ name: 'r', actor: 'a', transforms: [{ name: 't', provider: failing, ctx, ...(onError ? { onError } : {}) }] }) as unknown as RuntimeRoute;
    expect((await runTransforms(route('pass'), event(), noStore)).action).toBe('pass');
    expect(await runTransforms(route('drop'), event(), noStore)).toMatchObject({ action: 'drop', reason: 'error: no upstream' });
    expect((await runTransforms(route(), event(), noStore)).action).toBe('error');

    const file = project({
      'orgloop.yaml': [
        'sources: [{ id: s, connector: webhook }]',
        'actors: [{ id: a, connector: command, config: { command: "true" } }]',
        'transforms:',
        '  - { name: f, type: filter, on_error: drop, config: { exclude: { provenance.author_type: bot } } }',
        'routes:',
        '  - name: PR review -> agent (with spaces)',
        '    when: { source: s, events: [resource.changed] }',
        '    transforms: [{ ref: f, on_error: pass, config: { match: { payload.x: "a,b" } } }, f]',
        '    then: { actor: a }',
        '',
      ].join('\n'),
    });
    const p = await loadProject(file, { env: {} });
    expect(p.resources.find((r) => r.address === 'transform.f')!.spec).toMatchObject({ on_error: 'drop' });
    expect(p.resources.find((r) => r.kind === 'route')!).toMatchObject({
      address: 'route.PR review -> agent (with spaces)',
      spec: { transforms: [{ ref: 'f', on_error: 'pass', config: { match: { 'payload.x': 'a,b' } } }, 'f'] },
    });
    const bad = project({ 'orgloop.yaml': 'sources: [{ id: s, connector: webhook }]\nactors: [{ id: a, connector: command, config: { command: "true" } }]\nroutes:\n  - { name: " x", when: { source: s }, then: { actor: a } }\n' });
    expect(await loadErrors(bad)).toEqual(['4:13: route " x": name must start with a letter or digit, have no control characters or trailing space, and be at most 200 characters']);
  });

  it('filter: "a,b" is a list, jq mode runs jq, and platform_event matches its aliases', async () => {
    const run = (config: Record<string, unknown>, e = event()) => filterTransform.transform(providerContext('f', config), e, noStore());
    expect(await run({ match: { 'provenance.author': 'bob, alice' } })).toMatchObject({ action: 'pass' });
    expect(await run({ match: { 'provenance.author': 'bob,carol' } })).toMatchObject({ action: 'drop' });
    // the seed's name for a submitted review matches OrgLoop's
    expect(await run({ match: { 'provenance.platform_event': 'pull_request_review' } })).toMatchObject({ action: 'pass' });
    expect(await run({ match_any: { 'provenance.platform_event': 'pull_request_review_comment,pull_request.review_submitted' } })).toMatchObject({ action: 'pass' });
    expect(await run({ jq: '.provenance.labels | index("needs-review") != null' })).toMatchObject({ action: 'pass' });
    expect(await run({ jq: '.payload.pr_number > 10' })).toMatchObject({ action: 'drop', reason: 'jq: ".payload.pr_number > 10" is false' });
    const reshaped = await run({ jq: '. + {payload: {pr_number: 8}, id: "evt_other"}' });
    expect(reshaped.action === 'pass' && [reshaped.event.id, reshaped.event.payload]).toEqual(['evt_1', { pr_number: 8 }]);
    expect((await run({ jq: '.[' })).action).toBe('drop');
  });

  it('enrich compute writes comparisons; dedup takes fields as its key', async () => {
    const r = await enrichTransform.transform(providerContext('e', { compute: { 'payload.urgent': 'payload.priority <= 1', 'payload.from_alice': "provenance.author === 'alice'" } }), event(), noStore());
    expect(r.action === 'pass' && r.event.payload).toMatchObject({ urgent: true, from_alice: true });
    expect(enrichTransform.validate!({ compute: { 'payload.x': 'payload.y is big' } })[0]!.message).toMatch(/is not a comparison/);
    const a = dedupKey('d', { fields: ['source', 'payload.pr_number'] }, event());
    expect(a).toBe(dedupKey('d', { key: ['source', 'payload.pr_number'] }, event({ id: 'evt_2' })));
    expect(a).not.toBe(dedupKey('d', { fields: ['source', 'payload.pr_number'] }, event({ payload: { pr_number: 8 } })));
    // the module spec's spelling is the same key
    expect(dedupKey('d', { key_fields: ['source', 'payload.pr_number'] }, event())).toBe(a);
  });

  it('cron schedules: several named schedules, schedule.<name> events, intervals and expressions', () => {
    const config = { schedules: [{ name: 'standup', cron: '0 9 * * 1-5', payload: { task: 'standup' } }, { name: 'health', cron: 'every 5m' }], timezone: 'UTC' };
    expect(cronSource.validate!(config)).toEqual([]);
    const ctx = providerContext('schedules', config);
    const next = cronSource.nextFire!(ctx, new Date('2026-01-05T08:58:00Z'))!; // a Monday
    expect(next.toISOString()).toBe('2026-01-05T09:00:00.000Z');
    const fired = cronSource.fire!(ctx, next) as Array<{ provenance: unknown; payload: unknown }>;
    expect(fired.map((e) => [e.provenance, e.payload])).toEqual([
      [{ platform: 'cron', platform_event: 'schedule.standup', author_type: 'system' }, { schedule: 'standup', task: 'standup', scheduled_at: '2026-01-05T09:00:00.000Z' }],
      [{ platform: 'cron', platform_event: 'schedule.health', author_type: 'system' }, { schedule: 'health', interval_ms: 300000, scheduled_at: '2026-01-05T09:00:00.000Z' }],
    ]);
    expect(cronSource.validate!({ schedules: [{ name: 'x', cron: 'at noon' }] })[0]!.message).toMatch(/invalid cron expression "at noon".*or write an interval/);
  });

  it('webhook actor auth (bearer, basic) and webhook source event_type_field', () => {
    expect(authorization({ type: 'bearer', token: 't0k' })).toBe('Bearer t0k');
    expect(authorization({ type: 'basic', username: 'u', password: 'p' })).toBe(`Basic ${Buffer.from('u:p').toString('base64')}`);
    const req = { method: 'POST', path: '/webhook', headers: {}, rawBody: Buffer.from('{}') };
    expect(normalizeWebhook({ event_type_field: 'data.kind' }, req, { data: { kind: 'deployment' } }).provenance?.platform_event).toBe('deployment');
    expect(normalizeWebhook({}, req, { hello: 'world' }).provenance?.platform_event).toBe('unknown');
  });

  it("a polled source's interval written inside its config (config.poll.interval, config.poll_interval) is its poll interval", async () => {
    const file = project({
      'orgloop.yaml': [
        'sources:',
        '  - { id: gh, connector: "@orgloop/connector-github", config: { repo: acme/api, token: t, poll: { interval: 7m } } }',
        '  - { id: lin, connector: "@orgloop/connector-linear", config: { team: ENG, api_key: k, poll_interval: 3m } }',
        '  - { id: both, connector: github, poll: { interval: 2m }, config: { repo: acme/web, token: t, poll_interval: 9m } }',
        '',
      ].join('\n'),
    });
    const p = await loadProject(file, { env: {} });
    expect(p.warnings).toEqual([]);
    const spec = (id: string) => p.resources.find((r) => r.address === `source.${id}`)!.spec as { poll?: { interval: string }; config: Record<string, unknown> };
    expect([spec('gh').poll, spec('gh').config]).toEqual([{ interval: '7m' }, { repo: 'acme/api', token: 't' }]);
    expect([spec('lin').poll, spec('lin').config]).toEqual([{ interval: '3m' }, { team: 'ENG', api_key: 'k' }]);
    expect(spec('both').poll).toEqual({ interval: '2m' });
    const bad = project({ 'orgloop.yaml': 'sources:\n  - { id: gh, connector: github, config: { repo: acme/api, token: t, poll_interval: 5 minutes } }\n' });
    expect((await loadErrors(bad)).join('\n')).toMatch(/poll\.interval: invalid duration/);
  });

  it('file logger paths starting with ~ are in the home directory', () => {
    expect(fileLogSettings({ path: '~/.orgloop/logs/orgloop.log', rotate: { max_size: '10mb' } }, '/srv/project')).toMatchObject({
      path: join(homedir(), '.orgloop/logs/orgloop.log'),
      maxSize: 10 * 1024 * 1024,
    });
  });
});
