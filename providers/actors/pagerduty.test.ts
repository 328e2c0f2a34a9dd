import { afterEach, describe, expect, it } from 'vitest';
import { startFakePagerduty, type FakePagerduty } from '../../test/fakes/pagerduty.js';
import { makeCtx, makeDelivery, makeEvent } from '../lib/test-helpers/context.js';
import { pagerdutyActor } from './pagerduty.js';

let pd: FakePagerduty;
afterEach(async () => pd?.close());

describe('pagerduty actor (Events API v2)', () => {
  it('triggers, acknowledges and resolves one alert addressed by a templated dedup key', async () => {
    pd = await startFakePagerduty();
    const ctx = makeCtx({ routing_key: pd.routingKey, events_url: pd.url, dedup_key: 'pr-{{payload.pr_number}}', severity: 'warning' });
    expect(await pagerdutyActor.deliver(ctx, makeDelivery())).toEqual({ ok: true });
    expect(await pagerdutyActor.deliver(ctx, makeDelivery({ routeConfig: { action: 'acknowledge' } }))).toEqual({ ok: true });
    expect(await pagerdutyActor.deliver(ctx, makeDelivery({ routeConfig: { action: 'resolve' } }))).toEqual({ ok: true });
    expect(pd.alerts.get('pr-42')).toEqual({ status: 'resolved', summary: '[github] pull_request.opened by alice "Fix the thing"', severity: 'warning', history: ['trigger', 'acknowledge', 'resolve'] });
  });

  it('the dedup key defaults to the trace id; 429 retries after Retry-After; 400 fails at once', async () => {
    pd = await startFakePagerduty();
    const ctx = makeCtx({ routing_key: pd.routingKey, events_url: pd.url });
    pd.rateLimitNext(1, 4);
    const limited = await pagerdutyActor.deliver(ctx, makeDelivery());
    expect(limited).toMatchObject({ ok: false, retryable: true });
    expect((limited as { retryAfterMs: number }).retryAfterMs).toBeGreaterThan(3000);
    expect(await pagerdutyActor.deliver(ctx, makeDelivery({ event: makeEvent({ trace_id: 'trc_9' }) }))).toEqual({ ok: true });
    expect(pd.alerts.get('trc_9')?.status).toBe('triggered');
    const bad = await pagerdutyActor.deliver(makeCtx({ routing_key: 'nope', events_url: pd.url }), makeDelivery());
    expect(bad).toEqual({ ok: false, retryable: false, error: "PagerDuty Events API trigger failed (400): Event object is invalid: 'routing_key' is invalid" });
    expect(await pagerdutyActor.deliver(ctx, makeDelivery({ routeConfig: { action: 'page' } }))).toEqual({ ok: false, retryable: false, error: 'pagerduty: action "page" is not one of trigger, acknowledge, resolve' });
  });

  it('validates literal action and severity', () => {
    expect(pagerdutyActor.validate!({ action: 'snooze' })).toEqual([{ path: 'action', message: 'one of trigger, acknowledge, resolve (or a {{template}})' }]);
    expect(pagerdutyActor.validate!({ action: '{{payload.action}}', severity: 'info' })).toEqual([]);
  });
});
