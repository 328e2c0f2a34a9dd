// ExecutorMetrics fed log entries directly: poll lag from answered polls, unknown names folded
// into "", reasons from statuses, end-to-end latency from the time in the event id.

import { describe, expect, it } from 'vitest';
import { ExecutorMetrics, idTime, rejectReason } from './metrics.js';
import { newId } from './ids.js';

describe('ExecutorMetrics', () => {
  it('reports poll lag per polling source, folds names outside the graph, and times deliveries from the event id', async () => {
    let now = 1_000_000;
    const m = new ExecutorMetrics({
      known: (kind, name) => (kind === 'source' ? ['gh', 'hooks'].includes(name) : kind === 'actor' ? name === 'a' : kind === 'route' && name === 'r'),
      pollingSources: () => ['gh'],
      serial: () => 7,
      inFlight: () => 2,
      queries: null,
      now: () => now,
    });
    m.observe({ time: '', phase: 'source.poll', level: 'debug', source: 'gh' });
    m.observe({ time: '', phase: 'ingress.reject', level: 'warn', source: 'evil"\nname', data: { status: 413 } });
    m.observe({ time: '', phase: 'deliver.success', level: 'info', route: 'r', actor: 'a', event_id: `evt_${(now - 2500).toString(36).padStart(9, '0')}abcdef0123456789`, data: { duration_ms: 40 } });
    m.observe({ time: '', phase: 'deliver.dead', level: 'error', route: 'gone', actor: 'a' });
    now += 5000;
    const text = (await m.render()).body;
    expect(text).toContain('orgloop_source_poll_lag_seconds{source="gh"} 5\n');
    expect(text).toContain('orgloop_events_rejected_total{source="",reason="too_large"} 1\n');
    expect(text).not.toContain('evil');
    expect(text).toContain('orgloop_deliveries_total{route="",actor="a",outcome="dead"} 1\n');
    expect(text).toContain('orgloop_end_to_end_latency_seconds_sum{actor="a"} 2.5\n');
    expect(text).toContain('orgloop_end_to_end_latency_seconds_bucket{actor="a",le="2.5"} 1\n');
    expect(text).toContain('orgloop_end_to_end_latency_seconds_bucket{actor="a",le="1"} 0\n');
    expect(text).toContain('orgloop_delivery_duration_seconds_bucket{actor="a",le="0.05"} 1\n');
    expect(text).toContain('orgloop_applied_serial 7\n');
    expect(text).toContain('orgloop_deliveries_in_flight 2\n');
  });

  it('maps statuses to a closed set of reasons and reads times from ids', () => {
    expect([400, 401, 403, 404, 405, 408, 413, 415, 429, 503, 418, 502].map(rejectReason)).toEqual([
      'invalid', 'unauthorized', 'unauthorized', 'not_found', 'method_not_allowed', 'timeout', 'too_large', 'unsupported_media_type', 'rate_limited', 'unavailable', 'client_error', 'server_error',
    ]);
    const before = Date.now();
    const at = idTime(newId('evt'))!;
    expect(at).toBeGreaterThanOrEqual(before);
    expect(at).toBeLessThanOrEqual(Date.now());
    expect(idTime('nonsense')).toBeNull();
  });
});
