// End-to-end: the department examples (examples/support, devops, sales, legal) through the real
// CLI against local fakes of Zendesk, PagerDuty, Salesforce and Slack (the same provider code as
// production; only base URLs differ): apply, start, a change at the vendor, the message or the
// actor's output at the other end.

import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { copyFileSync, cpSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createHmac } from 'node:crypto';
import { cli, postJson, runExecutor, until, type RunningExecutor } from './test-helpers/executor.js';
import { startFakeSlack, type FakeSlack } from '../test/fakes/slack.js';
import { startFakeZendesk, type FakeZendesk } from '../test/fakes/zendesk.js';
import { startFakePagerduty, type FakePagerduty } from '../test/fakes/pagerduty.js';
import { startFakeSalesforce, type FakeSalesforce } from '../test/fakes/salesforce.js';

const EXAMPLES = resolve(dirname(fileURLToPath(import.meta.url)), '../examples');
let slack: FakeSlack;
let zd: FakeZendesk;
let pd: FakePagerduty;
let sf: FakeSalesforce;
const running: RunningExecutor[] = [];

beforeAll(async () => {
  [slack, zd, pd, sf] = await Promise.all([startFakeSlack(), startFakeZendesk(), startFakePagerduty(), startFakeSalesforce()]);
});
afterAll(async () => Promise.all([slack.close(), zd.close(), pd.close(), sf.close()]));
afterEach(async () => {
  for (const r of running.splice(0)) await r.stop();
});

async function startExample(name: string, vars: Record<string, string>): Promise<{ dir: string; port: number }> {
  const dir = mkdtempSync(join(tmpdir(), `orgloop-${name}-`));
  cpSync(join(EXAMPLES, name), dir, { recursive: true });
  const env = { POLL_INTERVAL: '1s', SLACK_BOT_TOKEN: slack.token, SLACK_API_URL: `${slack.url}/api`, ...vars };
  writeFileSync(join(dir, '.env'), Object.entries(env).map(([k, v]) => `${k}=${v}`).join('\n') + '\n');
  const v = await cli(['validate'], { cwd: dir, env: {} });
  expect(v.stderr).toBe('');
  const a = await cli(['apply', '--auto-approve'], { cwd: dir, env: {} });
  expect(a.code).toBe(0);
  const ex = await runExecutor(['start', '--port', '0'], { cwd: dir, env: {} });
  running.push(ex);
  return { dir, port: Number(new URL(ex.url).port) };
}

const polled = (fake: { requests: unknown[] }, n: number) => until(() => fake.requests.length >= n, 15_000, `${n} requests at the fake`);
const slackSaid = (re: RegExp) => until(() => slack.messages.find((m) => re.test(m.text)), 20_000, `a Slack message matching ${re}`);

describe('department examples: the documented first step', () => {
  // `cp .env.example .env`: validate and plan run on its placeholders, with nothing else set
  it.each(['support', 'devops', 'sales', 'legal'])('%s validates and plans from its .env.example', async (name) => {
    const dir = mkdtempSync(join(tmpdir(), `orgloop-${name}-env-`));
    cpSync(join(EXAMPLES, name), dir, { recursive: true });
    copyFileSync(join(dir, '.env.example'), join(dir, '.env'));
    const v = await cli(['validate'], { cwd: dir, env: {} });
    expect(v).toMatchObject({ code: 0, stderr: '' });
    expect(v.stdout).toMatch(new RegExp(`^✓ ${name}: `));
    const p = await cli(['plan'], { cwd: dir, env: {} });
    expect(p).toMatchObject({ code: 0, stderr: '' });
    expect(p.stdout).toMatch(/Plan: \d+ to add, 0 to change, 0 to destroy\./);
    // placeholders of secrets are secrets too: never printed (client ids, URLs and names are shown)
    const secrets = readFileSync(join(dir, '.env.example'), 'utf8')
      .split('\n')
      .map((l) => /^([A-Z_]+)=(.+)$/.exec(l))
      .filter((m) => m && /SECRET|TOKEN|PASSWORD|KEY/.test(m[1]!));
    expect(secrets.length).toBeGreaterThan(0);
    for (const m of secrets) expect(p.stdout).not.toContain(m![2]);
  }, 30_000);
});

describe('department examples end to end', () => {
  it('support: a new Zendesk ticket reaches #support with its triage SOP', async () => {
    await startExample('support', { ZENDESK_SUBDOMAIN: 'acme', ZENDESK_EMAIL: zd.email, ZENDESK_TOKEN: zd.token, ZENDESK_API_URL: zd.url });
    await polled(zd, 1); // the first poll fixed the starting point
    const t = zd.createTicket({ subject: 'Printer on fire', priority: 'high' });
    const m = await slackSaid(/Printer on fire/);
    expect(m).toMatchObject({ via: 'api', channel: 'C0001' });
    expect(m.text).toContain(`New ticket #${t.id} (high): Printer on fire`);
    expect(m.text).toContain('Triage this ticket');
  }, 40_000);

  it('devops: an incident is announced, handed to the responder, and its completion raises the follow-up alert', async () => {
    const { dir } = await startExample('devops', { PAGERDUTY_API_KEY: pd.apiKey, PAGERDUTY_API_URL: pd.url, PAGERDUTY_ROUTING_KEY: pd.routingKey, PAGERDUTY_EVENTS_URL: pd.url });
    await polled(pd, 1);
    await new Promise((r) => setTimeout(r, 5));
    pd.addIncident({ title: 'API latency above SLO' });
    await slackSaid(/incident\.triggered: \[#\d+\] API latency above SLO|incident\.triggered: API latency above SLO/);
    await until(() => existsSync(join(dir, '.orgloop/responses.jsonl')) && readFileSync(join(dir, '.orgloop/responses.jsonl'), 'utf8').includes('API latency above SLO'), 20_000, 'the responder');
    const alert = await until(() => [...pd.alerts.entries()].find(([k]) => k.startsWith('followup-')), 20_000, 'the follow-up alert');
    expect(alert[1]).toMatchObject({ status: 'triggered', summary: 'Post-incident review due for incident-responder', severity: 'info' });
  }, 60_000);

  it('sales: lead.created and opportunity.closed_won go to their own channels', async () => {
    sf.create('Opportunity', { Name: 'Navy deal', StageName: 'Negotiation', Amount: 5000 }, new Date(Date.now() - 60_000).toISOString());
    await startExample('sales', {
      SALESFORCE_URL: sf.url,
      SALESFORCE_TOKEN: sf.accessToken,
      SALESFORCE_REFRESH_TOKEN: sf.refreshToken,
      SALESFORCE_CLIENT_ID: sf.clientId,
      SALESFORCE_CLIENT_SECRET: sf.clientSecret,
      SALESFORCE_LOGIN_URL: sf.url,
      SLACK_SALES_CHANNEL: 'C0001',
      SLACK_ONBOARDING_CHANNEL: 'C0002',
    });
    await until(() => sf.queries.length >= 2, 15_000, 'the first poll');
    await new Promise((r) => setTimeout(r, 5));
    sf.create('Lead', { Name: 'Grace Hopper', Company: 'Navy' });
    const opp = sf.records.Opportunity![0];
    sf.update('Opportunity', opp.Id, { StageName: 'Closed Won' });
    sf.expireSession(); // the access token expires: the source refreshes it and carries on
    const lead = await slackSaid(/New lead: Grace Hopper at Navy/);
    expect(lead.channel).toBe('C0001');
    expect(lead.text).toContain('Research this lead');
    const won = await slackSaid(/Closed won: Navy deal \(5000\)/);
    expect(won.channel).toBe('C0002');
    expect(sf.refreshes).toBeGreaterThanOrEqual(1);
  }, 60_000);

  it('legal: a signed contract webhook reaches the reviewer; a forged one is refused', async () => {
    const { dir, port } = await startExample('legal', { CONTRACT_HMAC_SECRET: 'legal-secret' });
    const body = JSON.stringify({ type: 'envelope.completed', envelope_id: 'env-7', title: 'MSA Acme' });
    const sig = createHmac('sha256', 'legal-secret').update(body).digest('hex');
    const forged = await postJson(`http://127.0.0.1:${port}/webhook/contracts`, body, { 'x-signature': `sha256=${'0'.repeat(64)}` });
    expect(forged.status).toBe(401);
    const ok = await postJson(`http://127.0.0.1:${port}/webhook/contracts`, body, { 'x-signature': `sha256=${sig}` });
    expect(ok.status).toBe(202);
    const out = await until(() => existsSync(join(dir, '.orgloop/contract-reviews.jsonl')) && readFileSync(join(dir, '.orgloop/contract-reviews.jsonl'), 'utf8'), 20_000, 'the reviewer');
    expect(out).toContain('MSA Acme');
  }, 40_000);
});
