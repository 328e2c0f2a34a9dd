import { describe, expect, it } from 'vitest';
import type { OrgEvent } from '../../providers/types.js';
import { Router, type RoutableRoute } from './router.js';

function ev(over: Partial<OrgEvent>): OrgEvent {
  return { id: 'e1', type: 'resource.changed', source: 'github', time: '2026-01-01T00:00:00Z', provenance: {}, payload: {}, trace_id: 'e1', hops: 0, ...over };
}

const names = (rs: RoutableRoute[]) => rs.map((r) => r.name);

describe('Router', () => {
  const routes: RoutableRoute[] = [
    { name: 'any-github', source: 'github', events: [] },
    { name: 'reviews', source: 'github', events: ['resource.changed'], filter: { 'provenance.platform_event': 'pull_request_review' } },
    { name: 'by-platform-event', source: 'github', events: ['pull_request_review'] },
    { name: 'labels', source: 'github', events: ['resource.changed'], filter: { 'payload.label': ['bug', 'incident'] } },
    { name: 'other-source', source: 'linear', events: ['resource.changed'] },
    { name: 'both-keys', source: 'github', events: ['resource.changed', 'pull_request_review'] },
  ];
  const router = new Router(routes);

  it('matches by source and type, by provenance.platform_event, and routes without events match every type', () => {
    const e = ev({ provenance: { platform_event: 'pull_request_review' } });
    expect(names(router.match(e))).toEqual(['any-github', 'reviews', 'by-platform-event', 'both-keys']);
  });

  it('applies filters: dotted-path equality and lists as any-of', () => {
    expect(names(router.match(ev({ payload: { label: 'incident' } })))).toEqual(['any-github', 'labels', 'both-keys']);
    expect(names(router.match(ev({ payload: { label: 'docs' } })))).toEqual(['any-github', 'both-keys']);
  });

  it('never matches routes of another source and returns nothing for unknown sources', () => {
    expect(names(router.match(ev({ source: 'linear' })))).toEqual(['other-source']);
    expect(router.match(ev({ source: 'nope' }))).toEqual([]);
    expect(router.match(ev({ type: 'actor.stopped', source: 'linear' }))).toEqual([]);
  });

  it('lists a route once even when both type and platform_event select it', () => {
    const both = router.match(ev({ provenance: { platform_event: 'pull_request_review' } })).filter((r) => r.name === 'both-keys');
    expect(both).toHaveLength(1);
  });

  it('only examines the candidate routes of the event source and type', () => {
    let examined = 0;
    const many: RoutableRoute[] = [];
    for (let i = 0; i < 10_000; i++) many.push({ name: `r${i}`, source: `s${i}`, events: ['resource.changed'], filter: { 'payload.n': i } });
    const r = new Router(many);
    const e = ev({ source: 's42', payload: { n: 42 } });
    // count filter evaluations through a getter on the payload
    Object.defineProperty(e.payload, 'n', { get: () => (examined++, 42), enumerable: true });
    expect(names(r.match(e))).toEqual(['r42']);
    expect(examined).toBe(1);
  });
});
