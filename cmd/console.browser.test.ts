// The web console in a real browser (Debian's Chromium driven by playwright-core) against a real
// executor with real traffic: each view, the trace of one event across the loop, a retry from
// the dead-letter view that reaches the sink, version diffs, a rollback plan and a saved plan.
// Skipped only off CI when no Chromium is installed; in CI (CI=true) a missing browser fails.
// ORGLOOP_SCREENSHOTS=<dir> saves a PNG of each view there (docs/console/ holds the committed ones).

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { applyDirect, cli, postJson, runExecutor, startSink, tempProject, until, type RunningExecutor } from './test-helpers/executor.js';

const CHROMIUM = process.env.ORGLOOP_CHROMIUM ?? '/usr/bin/chromium';
const haveBrowser = existsSync(CHROMIUM);
if (!haveBrowser && process.env.CI) throw new Error(`CI: the console's browser tests need Chromium at ${CHROMIUM} (.ci/run installs Debian's chromium package)`);
if (!haveBrowser) console.warn(`skipping the console browser tests: no Chromium at ${CHROMIUM} (apt-get install chromium, or set ORGLOOP_CHROMIUM)`);

const SHOTS = process.env.ORGLOOP_SCREENSHOTS;
const TOKEN = 'console-test-token';

const yaml = (sinkUrl: string, extra = '') => `
sources:
  - id: github
    connector: webhook
  - id: linear
    connector: webhook
actors:
  - id: reviewer
    connector: webhook
    config: { url: "${sinkUrl}/reviewer" }
  - id: triage
    connector: command
    config: { command: "cat > /dev/null" }
transforms:
  - name: no-bots
    type: filter
    config: { exclude: { payload.bot: true } }
routes:
  - name: review-prs
    when: { source: github }
    transforms: [no-bots]
    then: { actor: reviewer }
    with: { prompt_file: ./sops/review.md }
    delivery: { max_attempts: 1 }
  - name: triage-issues
    when: { source: linear }
    then: { actor: triage }
  - name: after-triage
    when: { source: triage, events: [actor.stopped] }
    then: { actor: reviewer }
${extra}`;

describe.skipIf(!haveBrowser)('web console in a browser', () => {
  let sinkFails = true;
  let sink: Awaited<ReturnType<typeof startSink>>;
  let dir: string;
  let ex: RunningExecutor;
  let ctx: BrowserContext;
  let page: Page;

  beforeAll(async () => {
    sink = await startSink(() => (sinkFails ? 503 : 200));
    dir = tempProject({ 'orgloop.yaml': yaml(sink.url), 'sops/review.md': 'Review the pull request.\n' });
    await applyDirect(dir);
    // a second version, so there is a history to diff and roll back
    writeFileSync(join(dir, 'orgloop.yaml'), yaml(sink.url, '  - name: bots-too\n    when: { source: github, filter: { payload.bot: true } }\n    then: { actor: triage }\n'));
    await applyDirect(dir);
    ex = await runExecutor(['start', '--port', '0'], { cwd: dir, env: { ORGLOOP_CONSOLE_TOKEN: TOKEN } });
    ctx = await chromium.launchPersistentContext(mkdtempSync(join(tmpdir(), 'orgloop-chromium-')), {
      executablePath: CHROMIUM,
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
      viewport: { width: 1280, height: 860 },
    });
    page = ctx.pages()[0] ?? (await ctx.newPage());
    page.setDefaultTimeout(10_000);
    if (SHOTS) mkdirSync(SHOTS, { recursive: true });
  }, 60_000);

  afterAll(async () => {
    await ctx?.close();
    await ex?.stop();
    await sink?.close();
  });

  const shot = async (name: string) => {
    if (SHOTS) await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
  };

  it('shows the organization, the events with a whole trace, retries a dead letter into the sink, and the versions', async () => {
    // real traffic: a PR event (its delivery dies: the sink is down), a bot PR (dropped by the
    // transform, delivered to triage by the new route), an issue (triage, then the loop)
    const ingress = { authorization: 'Bearer sk-live-never-shown', 'x-hub-signature-256': 'sha256=0123abcd', 'x-request-source': 'ci-bot' };
    const pr1 = await postJson(`${ex.url}/webhook/github`, { id: 'pr-1', title: 'Fix login' }, ingress);
    expect(pr1.status).toBe(202);
    expect((await postJson(`${ex.url}/webhook/github`, { id: 'pr-2', bot: true })).status).toBe(202);
    expect((await postJson(`${ex.url}/webhook/linear`, { id: 'iss-1', title: 'Crash on start' })).status).toBe(202);
    // triage's actor.stopped events (from the issue and from the bot PR via bots-too) go to the
    // reviewer too: three deliveries die while the sink is down
    await until(async () => {
      const r = await fetch(`${ex.url}/api/dead`);
      return ((await r.json()) as { deliveries: unknown[] }).deliveries.length === 3;
    }, 15_000, 'three dead letters');

    // Organization
    await page.goto(`${ex.url}/console`);
    await page.locator('#serial').filter({ hasText: '2' }).waitFor();
    for (const name of ['github', 'linear', 'review-prs', 'triage-issues', 'after-triage', 'bots-too', 'reviewer', 'triage']) {
      await page.locator(`svg.topology g.node`, { hasText: name }).first().waitFor();
    }
    await page.locator('svg.topology path.edge.loop').first().waitFor({ state: 'attached' });
    await page.locator('#routes tr', { hasText: 'review-prs' }).locator('.badge.dead').waitFor();
    await page.locator('svg.topology g.node.actor', { hasText: 'reviewer' }).locator('text.err', { hasText: '3 dead' }).waitFor();
    // provider-level drift (orgloop drift): in sync, then a prompt file edited outside orgloop
    await page.locator('#provider-drift', { hasText: 'in sync' }).waitFor();
    await shot('organization');
    writeFileSync(join(dir, 'sops/review.md'), 'Review the pull request, and be quick.\n');
    await page.click('#drift-again');
    await page.locator('#drift-items li', { hasText: 'prompt file sops/review.md changed since apply' }).waitFor();
    await page.locator('#drift-items li', { hasText: 'route.review-prs' }).waitFor();

    // Events: filter, then one event's trace across the loop's hops
    await page.click('a[data-view="events"]');
    await page.locator('#events tr[data-event]').nth(3).waitFor();
    await page.fill('#event-filters input[name="source"]', 'linear');
    await page.click('#event-filters button[type="submit"]');
    await expect.poll(() => page.locator('#events tr[data-event]').count()).toBe(1);
    await shot('events');
    await page.locator('#events tr[data-event]').first().click();
    const timeline = page.locator('#timeline');
    await timeline.locator('[data-phase="route.match"]').first().waitFor();
    await timeline.locator('[data-phase="deliver.success"]').first().waitFor();
    await timeline.locator('.entry.event', { hasText: 'actor.stopped' }).waitFor(); // the hop it caused
    await timeline.locator('[data-phase="deliver.dead"]').waitFor(); // after-triage to the down sink
    expect(await timeline.locator('.entry.event').count()).toBe(2);
    await shot('trace');

    // the ingress headers of the PR's webhook, credentials and signatures masked
    const prId = pr1.json.event_id as string;
    const api = (await (await fetch(`${ex.url}/api/trace/${prId}`)).json()) as { events: Array<{ id: string; headers: Record<string, string> | null }> };
    const stored = api.events.find((e) => e.id === prId)!.headers!;
    expect(stored).toMatchObject({ authorization: '[redacted]', 'x-hub-signature-256': '[redacted]', 'x-request-source': 'ci-bot', 'content-type': 'application/json' });
    await page.goto(`${ex.url}/console#/events/${prId}`);
    const headers = page.locator(`details[data-headers="${prId}"]`); // open for the event the trace is of
    await headers.locator('tr', { hasText: 'x-request-source' }).locator('td', { hasText: 'ci-bot' }).waitFor();
    await headers.locator('tr', { hasText: 'authorization' }).locator('td', { hasText: '[redacted]' }).waitFor();
    await shot('trace-headers');
    expect(await page.content()).not.toContain('sk-live-never-shown');

    // Events filtered by status, text
    await page.goto(`${ex.url}/console#/events?status=dead`);
    await expect.poll(() => page.locator('#events tr[data-event]').count()).toBe(3);
    await page.goto(`${ex.url}/console#/events?q=Fix%20login`);
    await expect.poll(() => page.locator('#events tr[data-event]').count()).toBe(1);

    // Dead letters: read-only until the token is given; then retry one into the (now healthy) sink
    await page.click('a[data-view="dead"]');
    await page.locator('#dead input[data-delivery]').nth(2).waitFor();
    expect(await page.locator('#retry-selected').isDisabled()).toBe(true);
    await page.fill('#session input', TOKEN);
    await page.click('#session button');
    await page.locator('#authorized').waitFor();
    await expect.poll(() => page.locator('#retry-selected').isDisabled()).toBe(false);
    await page.locator('#dead tr', { hasText: 'review-prs' }).locator('td.mono').click(); // inspect
    await page.locator('#dead-detail pre', { hasText: 'Fix login' }).waitFor();
    await shot('dead-letters');
    sinkFails = false;
    const before = sink.received.length;
    await page.locator('#dead tr', { hasText: 'review-prs' }).locator('input[type="checkbox"]').check();
    await page.selectOption('#retry-version', 'current');
    await page.click('#retry-selected');
    await page.locator('#dead-note', { hasText: '1 delivery(ies) queued again' }).waitFor();
    await until(() => sink.received.length > before && sink.received.some((r) => (r.body as { event?: { payload?: { title?: string } } }).event?.payload?.title === 'Fix login' && r.path === '/reviewer'), 10_000, 'the retried delivery at the sink');
    await expect.poll(() => page.locator('#dead input[data-delivery]').count(), { timeout: 10_000 }).toBe(2);
    // the rest: retry all matching
    await page.click('#retry-all');
    await page.locator('#dead-note', { hasText: '2 delivery(ies) matching the filter queued again' }).waitFor();
    await expect.poll(() => page.locator('#dead td', { hasText: 'No dead letters.' }).count(), { timeout: 10_000 }).toBe(1);

    // Versions: history, a diff, a rollback plan (never applied from here), a saved plan's picture
    await page.click('a[data-view="versions"]');
    await page.locator('#versions tr', { hasText: 'current' }).waitFor();
    await page.click('#diff');
    await page.locator('#diff-text', { hasText: 'route.bots-too' }).waitFor();
    await page.locator('#version-out svg.topology g.node.create', { hasText: 'bots-too' }).waitFor();
    await shot('versions');
    await page.click('button[data-rollback="1"]');
    await page.locator('#rollback-apply', { hasText: 'orgloop rollback --to 1' }).waitFor();
    await page.locator('#diff-text', { hasText: 'route.bots-too' }).waitFor();
    writeFileSync(join(dir, 'orgloop.yaml'), yaml(sink.url, '  - name: from-plan\n    when: { source: linear }\n    then: { actor: reviewer }\n'));
    const planned = await cli(['plan', '-out', join(dir, 'saved.plan')], { cwd: dir });
    expect(planned.code, planned.stderr).toBe(0);
    await page.setInputFiles('#plan-file', join(dir, 'saved.plan'));
    await page.locator('#version-out svg.topology g.node.create', { hasText: 'from-plan' }).waitFor();
    await shot('saved-plan');
  }, 60_000);

  it('refuses actions without the token and requests from another origin or host', async () => {
    const noToken = await fetch(`${ex.url}/api/deliveries/retry`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"filter":{}}' });
    expect(noToken.status).toBe(401);
    const crossOrigin = await fetch(`${ex.url}/api/deliveries/retry`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}`, origin: 'http://attacker.example' },
      body: '{"filter":{}}',
    });
    expect(crossOrigin.status).toBe(403);
    const form = await fetch(`${ex.url}/api/deliveries/retry`, { method: 'POST', headers: { 'content-type': 'text/plain', authorization: `Bearer ${TOKEN}` }, body: '{"filter":{}}' });
    expect(form.status).toBe(415);
    // a page on another site cannot read the API either: the browser sends its Origin
    await page.goto('about:blank');
    const status = await page.evaluate(async (url) => {
      try {
        return (await fetch(`${url}/api/overview`)).status;
      } catch {
        return 'blocked';
      }
    }, ex.url);
    expect(status).toBe('blocked');
  });
});
