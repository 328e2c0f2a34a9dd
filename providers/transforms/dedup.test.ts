import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore } from '../../state/open.js';
import type { Store } from '../../state/store.js';
import type { TransformStore } from '../types.js';
import { makeCtx, makeEvent } from '../lib/test-helpers/context.js';
import { dedupTransform } from './dedup.js';

// The runtime's TransformStore backed by a real SQLite state store with a controllable clock.
let now = Date.parse('2024-05-01T12:00:00Z');
let store: Store;
let ts: TransformStore;
beforeAll(async () => {
  store = await openStore(join(mkdtempSync(join(tmpdir(), 'orgloop-dedup-')), 'state.db'), { clock: () => now });
  ts = { seen: (key, windowMs) => store.seen('route.alerts', key, windowMs) };
});
afterAll(() => store.close());

describe('dedup transform', () => {
  it('drops a repeat of the key within the window and passes it after', async () => {
    const ctx = makeCtx({ key: ['payload.alert_id'], window: '10m' }, { name: 'dedup-alerts' });
    const a = makeEvent({ id: 'e1', payload: { alert_id: 'A', severity: 'high' } });
    const a2 = makeEvent({ id: 'e2', payload: { alert_id: 'A', severity: 'low' } });
    const b = makeEvent({ id: 'e3', payload: { alert_id: 'B' } });
    expect(await dedupTransform.transform(ctx, a, ts)).toEqual({ action: 'pass', event: a });
    expect(await dedupTransform.transform(ctx, a2, ts)).toEqual({ action: 'drop', reason: 'duplicate within 10m' });
    expect(await dedupTransform.transform(ctx, b, ts)).toMatchObject({ action: 'pass' });
    now += 11 * 60_000;
    expect(await dedupTransform.transform(ctx, a2, ts)).toMatchObject({ action: 'pass' });
  });

  it('default key is the whole event content (type, source, payload); a single string key works', async () => {
    const ctx = makeCtx({}, { name: 'dd-default' });
    const ev = makeEvent({ id: 'x1', payload: { n: 1 } });
    expect(await dedupTransform.transform(ctx, ev, ts)).toMatchObject({ action: 'pass' });
    expect(await dedupTransform.transform(ctx, { ...ev, id: 'x2' }, ts)).toEqual({ action: 'drop', reason: 'duplicate within 5m' });
    expect(await dedupTransform.transform(ctx, makeEvent({ id: 'x3', payload: { n: 2 } }), ts)).toMatchObject({ action: 'pass' });
    const single = makeCtx({ key: 'provenance.author', window: '1h' }, { name: 'dd-single' });
    expect(await dedupTransform.transform(single, makeEvent(), ts)).toMatchObject({ action: 'pass' });
    expect(await dedupTransform.transform(single, makeEvent({ payload: { other: true } }), ts)).toMatchObject({ action: 'drop' });
  });

  it('two dedup transforms do not share keys', async () => {
    const ev = makeEvent({ payload: { alert_id: 'shared' } });
    const config = { key: ['payload.alert_id'], window: '10m' };
    expect(await dedupTransform.transform(makeCtx(config, { name: 't1' }), ev, ts)).toMatchObject({ action: 'pass' });
    expect(await dedupTransform.transform(makeCtx(config, { name: 't2' }), ev, ts)).toMatchObject({ action: 'pass' });
  });

  it('validate: window must be a duration', () => {
    expect(dedupTransform.validate!({ key: ['id'], window: '2m' })).toEqual([]);
    expect(dedupTransform.validate!({ window: 'a while' })).toEqual([{ path: 'window', message: expect.stringContaining('invalid duration "a while"') }]);
  });
});
