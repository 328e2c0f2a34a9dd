// Builds real ProviderContext / OrgEvent / DeliveryRequest values for provider tests.

import type { DeliveryRequest, LogEntry, OrgEvent, ProviderContext } from '../../types.js';

export function makeCtx(config: Record<string, unknown>, extra: Partial<ProviderContext> = {}): ProviderContext & { logged: Array<[string, string, unknown]> } {
  const logged: Array<[string, string, unknown]> = [];
  const log = (level: string) => (msg: string, data?: Record<string, unknown>) => void logged.push([level, msg, data]);
  return {
    name: 'test',
    config,
    projectDir: process.cwd(),
    log: { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') },
    env: (n: string) => process.env[n],
    logged,
    ...extra,
  };
}

export function makeEvent(over: Partial<OrgEvent> = {}): OrgEvent {
  return {
    id: 'evt_1',
    type: 'resource.changed',
    source: 'github',
    time: '2024-05-01T12:00:00.000Z',
    provenance: { platform: 'github', platform_event: 'pull_request.opened', author: 'alice', author_type: 'user' },
    payload: { pr_number: 42, title: 'Fix the thing', labels: ['bug', 'urgent'] },
    trace_id: 'trc_1',
    parent_id: null,
    hops: 0,
    ...over,
  };
}

/** A delivery request; `eventJson` follows `event` (as the runtime's does) unless given. */
export function makeDelivery(over: Partial<DeliveryRequest> = {}): DeliveryRequest {
  const event = over.event ?? makeEvent();
  return {
    delivery_id: 'dlv_1',
    attempt: 1,
    route: 'pr-review',
    event,
    eventJson: JSON.stringify(event),
    prompt: 'Review the PR.',
    routeConfig: { session_key: 'pr-42' },
    timeoutMs: 10_000,
    signal: new AbortController().signal,
    ...over,
  };
}

export function entry(over: Partial<LogEntry> = {}): LogEntry {
  return { time: '2024-05-01T12:00:01.123Z', phase: 'deliver.success', level: 'info', source: 'github', route: 'pr-review', ...over };
}
