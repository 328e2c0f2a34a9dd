import { describe, expect, it } from 'vitest';
import { makeCtx, makeEvent } from '../lib/test-helpers/context.js';
import { enrichTransform } from './enrich.js';

describe('enrich transform', () => {
  it('sets values with templates and copies fields, without mutating the input', async () => {
    const ev = makeEvent();
    const before = structuredClone(ev);
    const r = await enrichTransform.transform(
      makeCtx({
        set: { 'payload.team': 'platform', 'payload.session': 'pr-{{payload.pr_number}}', 'provenance.url': 'https://x/{{payload.pr_number}}', 'payload.n': '{{payload.pr_number}}' },
        copy: { 'provenance.author': 'payload.requested_by', 'payload.missing': 'payload.never' },
      }),
      ev,
      { seen: async () => false },
    );
    expect(r.action).toBe('pass');
    const out = r.action === 'pass' ? r.event : ev;
    expect(out.payload).toMatchObject({ team: 'platform', session: 'pr-42', requested_by: 'alice', n: 42 });
    expect(out.payload).not.toHaveProperty('never');
    expect(out.provenance.url).toBe('https://x/42');
    expect(ev).toEqual(before);
  });

  it('accepts copy as a list of {from,to}', async () => {
    const r = await enrichTransform.transform(makeCtx({ copy: [{ from: 'payload.title', to: 'payload.summary.title' }] }), makeEvent(), { seen: async () => false });
    expect(r.action === 'pass' && r.event.payload.summary).toEqual({ title: 'Fix the thing' });
  });

  it('validate: protects identity fields and needs set or copy', () => {
    expect(enrichTransform.validate!({})).toEqual([{ path: 'set', message: 'enrich needs set or copy' }]);
    expect(enrichTransform.validate!({ set: { hops: 0 }, copy: { 'payload.x': 'trace_id' } })).toEqual([
      { path: 'set.hops', message: 'hops: hops is managed by orgloop and cannot be changed' },
      { path: 'copy', message: 'trace_id: trace_id is managed by orgloop and cannot be changed' },
    ]);
    expect(enrichTransform.validate!({ set: { '__proto__.x': 1 } })).toEqual([{ path: 'set.__proto__.x', message: 'invalid path "__proto__.x"' }]);
  });
});
