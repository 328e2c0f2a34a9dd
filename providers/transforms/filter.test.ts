import { describe, expect, it } from 'vitest';
import { makeCtx, makeEvent } from '../lib/test-helpers/context.js';
import { filterPasses, filterTransform } from './filter.js';

const run = (config: Record<string, unknown>, ev = makeEvent()) => filterTransform.transform(makeCtx(config), ev, { seen: async () => false });

describe('filter transform', () => {
  it('match: every field must match (scalars, lists, regex)', () => {
    const ev = makeEvent();
    expect(run({ match: { 'provenance.platform_event': 'pull_request.opened', 'payload.pr_number': 42 } })).toEqual({ action: 'pass', event: ev });
    expect(run({ match: { 'provenance.platform_event': ['pull_request.closed', 'pull_request.opened'] } })).toMatchObject({ action: 'pass' });
    expect(run({ match: { 'payload.title': '/^fix/i', type: 'resource.changed' } })).toMatchObject({ action: 'pass' });
    expect(run({ match: { 'payload.title': '/^fix/i', 'provenance.author': 'bob' } })).toEqual({ action: 'drop', reason: 'match: provenance.author did not match' });
    expect(run({ match: { 'payload.missing': 'x' } })).toEqual({ action: 'drop', reason: 'match: payload.missing did not match' });
  });

  it('match_any: at least one field must match', () => {
    expect(run({ match_any: { 'provenance.author': 'bob', 'payload.labels': 'urgent' } })).toMatchObject({ action: 'pass' });
    expect(run({ match_any: { 'provenance.author': 'bob', 'payload.labels': 'wontfix' } })).toEqual({
      action: 'drop',
      reason: 'match_any: none of provenance.author, payload.labels matched',
    });
  });

  it('exclude: no field may match', () => {
    expect(run({ exclude: { 'provenance.author_type': 'bot' } })).toMatchObject({ action: 'pass' });
    const bot = makeEvent({ provenance: { author: 'dependabot[bot]', author_type: 'bot' } });
    expect(run({ exclude: { 'provenance.author_type': 'bot' } }, bot)).toEqual({ action: 'drop', reason: 'exclude: provenance.author_type matched' });
    expect(run({ exclude: { 'provenance.author': '/\\[bot\\]$/' } }, bot)).toMatchObject({ action: 'drop' });
  });

  it('all three combine; filterPasses agrees with transform', () => {
    const config = { match: { type: 'resource.changed' }, match_any: { 'payload.labels': ['bug'] }, exclude: { 'provenance.author_type': 'bot' } };
    expect(run(config)).toMatchObject({ action: 'pass' });
    expect(filterPasses(config, makeEvent())).toBe(true);
    expect(filterPasses(config, makeEvent({ payload: { labels: ['docs'] } }))).toBe(false);
  });

  it('validate: needs a clause; reports bad regexes by path', () => {
    expect(filterTransform.validate!({})).toEqual([{ path: 'match', message: 'filter needs at least one of match, match_any or exclude' }]);
    expect(filterTransform.validate!({ exclude: { 'payload.title': '/[a-/' } })).toEqual([
      { path: 'exclude.payload.title', message: expect.stringContaining('invalid regular expression /[a-/') },
    ]);
  });
});
