// The four YAML snippets of the seed article "Beyond Engineering", as printed (testdata/valid/
// support, devops, sales, legal), through the real CLI: validate, plan, apply, start, then a change
// at the vendor (a local fake speaking its documented API) and the actor's input at the other end.
// What the article leaves implicit is supplied, and nothing else: the actors it names but does not
// declare (local commands), the variables (.env) and SOP files. To reach the fakes, `base_url` is
// added where a snippet has no URL of its own, and poll intervals are shortened to 1s.
// examples/{support,devops,sales,legal} (the runnable versions) are covered by
// department-examples.test.ts.

import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { cpSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createHmac } from 'node:crypto';
import { cli, postJson, runExecutor, until, type RunningExecutor } from './test-helpers/executor.js';
import { startFakeZendesk, type FakeZendesk } from '../test/fakes/zendesk.js';
import { startFakePagerduty, type FakePagerduty } from '../test/fakes/pagerduty.js';
import { startFakeSalesforce, type FakeSalesforce } from '../test/fakes/salesforce.js';
import { startFakeOpenclaw, type FakeOpenclaw } from '../test/fakes/openclaw.js';

const SEEDS = resolve(dirname(fileURLToPath(import.meta.url)), '../testdata/valid');
let zd: FakeZendesk;
let pd: FakePagerduty;
let sf: FakeSalesforce;
let oc: FakeOpenclaw;
const running: RunningExecutor[] = [];

beforeAll(async () => {
  [zd, pd, sf, oc] = await Promise.all([startFakeZendesk(), startFakePagerduty(), startFakeSalesforce(), startFakeOpenclaw()]);
});
afterAll(async () => Promise.all([zd.close(), pd.close(), sf.close(), oc.close()]));
afterEach(async () => {
  for (const r of running.splice(0)) await r.stop();
});

/** Copies the snippet's project, applies `edit` to its YAML, writes .env; validate, plan, apply, start. */
async function run(name: string, vars: Record<string, string>, edit: (yaml: string) => string = (y) => y) {
  const dir = mkdtempSync(join(tmpdir(), `orgloop-seed-${name}-`));
  cpSync(join(SEEDS, name), dir, { recursive: true });
  const file = join(dir, 'orgloop.yaml');
  const yaml = edit(readFileSync(file, 'utf8').replace(/interval: \d+m/g, 'interval: 1s'));
  writeFileSync(file, yaml);
  writeFileSync(join(dir, '.env'), Object.entries(vars).map(([k, v]) => `${k}=${v}`).join('\n') + '\n');
  const v = await cli(['validate'], { cwd: dir, env: {} });
  expect(v).toMatchObject({ code: 0, stderr: '' });
  const p = await cli(['plan'], { cwd: dir, env: {} });
  expect(p.code).toBe(0);
  expect(p.stdout).toMatch(/Plan: \d+ to add, 0 to change, 0 to destroy\./);
  for (const [k, val] of Object.entries(vars)) if (/TOKEN|KEY|SECRET/.test(k)) expect(p.stdout).not.toContain(val);
  const a = await cli(['apply', '--auto-approve'], { cwd: dir, env: {} });
  expect(a.code).toBe(0);
  const ex = await runExecutor(['start', '--port', '0'], { cwd: dir, env: {} });
  running.push(ex);
  return { dir, port: Number(new URL(ex.url).port) };
}

const fileHas = (path: string, text: string) =>
  until(() => existsSync(path) && readFileSync(path, 'utf8').includes(text) && readFileSync(path, 'utf8'), 20_000, `${text} in ${path}`);

describe('seed "Beyond Engineering": each snippet runs', () => {
  it('customer support: a Zendesk ticket wakes the OpenClaw agent support-l1 with the triage SOP', async () => {
    await run('support', { ZENDESK_SUBDOMAIN: 'acme', ZENDESK_TOKEN: zd.oauthToken, OPENCLAW_WEBHOOK_TOKEN: oc.state.token! }, (y) =>
      y.replace('token: "${ZENDESK_TOKEN}"', `token: "\${ZENDESK_TOKEN}"\n      base_url: "${zd.url}"`).replace('agent_id: support-l1', `agent_id: support-l1\n      base_url: "${oc.url}"`),
    );
    await until(() => zd.requests.length >= 1, 15_000, 'the first poll');
    zd.createTicket({ subject: 'Printer on fire', priority: 'high' });
    const [run1] = await oc.waitForRuns(1, 20_000);
    expect(run1!.headers.authorization).toBe(`Bearer ${oc.state.token}`);
    expect(run1!.body.message).toContain('Printer on fire');
    expect(run1!.body.message).toContain(readFileSync(join(SEEDS, 'support/sops/triage-ticket.md'), 'utf8').trim().split('\n')[0]);
  }, 60_000);

  it('devops: a PagerDuty incident reaches the responder; its actor.stopped starts the post-incident review', async () => {
    const { dir } = await run('devops', { PAGERDUTY_API_KEY: pd.apiKey }, (y) => y.replace('api_key: "${PAGERDUTY_API_KEY}"', `api_key: "\${PAGERDUTY_API_KEY}"\n      base_url: "${pd.url}"`));
    await until(() => pd.requests.length >= 1, 15_000, 'the first poll');
    await new Promise((r) => setTimeout(r, 5));
    pd.addIncident({ title: 'API latency above SLO' });
    await fileHas(join(dir, '.orgloop/incidents.jsonl'), 'API latency above SLO');
    const review = await fileHas(join(dir, '.orgloop/post-incident.jsonl'), 'actor.stopped');
    expect(review).toContain('incident-responder');
  }, 60_000);

  it('sales: lead.created goes to the lead researcher, opportunity.closed_won to onboarding', async () => {
    sf.create('Opportunity', { Name: 'Navy deal', StageName: 'Negotiation', Amount: 5000 }, new Date(Date.now() - 60_000).toISOString());
    const { dir } = await run('sales', { SALESFORCE_URL: sf.url, SALESFORCE_TOKEN: sf.accessToken });
    await until(() => sf.queries.length >= 2, 15_000, 'the first poll');
    await new Promise((r) => setTimeout(r, 5));
    sf.create('Lead', { Name: 'Grace Hopper', Company: 'Navy' });
    sf.update('Opportunity', sf.records.Opportunity![0].Id, { StageName: 'Closed Won' });
    const leads = await fileHas(join(dir, '.orgloop/leads.jsonl'), 'Grace Hopper');
    expect(leads).not.toContain('Navy deal');
    const won = await fileHas(join(dir, '.orgloop/onboarding.jsonl'), 'Navy deal');
    expect(won).not.toContain('Grace Hopper');
  }, 60_000);

  it('legal: a signed contract webhook reaches the reviewer, a forged one is refused; the weekly audit fires', async () => {
    const { dir, port } = await run('legal', { CONTRACT_HMAC_SECRET: 'legal-secret' });
    const body = JSON.stringify({ type: 'envelope.completed', title: 'MSA Acme' });
    const sig = createHmac('sha256', 'legal-secret').update(body).digest('hex');
    expect((await postJson(`http://127.0.0.1:${port}/webhook/contracts`, body, { 'x-signature': `sha256=${'0'.repeat(64)}` })).status).toBe(401);
    expect((await postJson(`http://127.0.0.1:${port}/webhook/contracts`, body, { 'x-signature': `sha256=${sig}` })).status).toBe(202);
    await fileHas(join(dir, '.orgloop/contract-reviews.jsonl'), 'MSA Acme');
    // "0 6 * * 1" is Monday 06:00: fire it now rather than wait
    const f = await cli(['sources', 'fire', 'weekly-audit'], { cwd: dir, env: {} });
    expect(f.code).toBe(0);
    await fileHas(join(dir, '.orgloop/compliance-audits.jsonl'), 'weekly-audit');
  }, 60_000);
});
