// Inbox batching, as OrgLoop does it (`then.config: { inbox: true, session_key, inbox_ttl,
// inbox_max_batch }`): an inbox route's events, once its transforms passed them, wait in the
// store per session key instead of waking the agent one by one. The first one queues a single
// notification (a `message.received` event, `payload.kind: inbox.notification`, delivered to the
// route's actor with the route's prompt and with retries like any delivery); later ones wait
// silently until the agent runs `orgloop inbox drain --key <key>`, after which what is left (or
// arrives next) notifies again. Entries older than `inbox_ttl` (default 1h) are dropped unread.

import type { OrgEvent } from '../../providers/types.js';
import type { IngestItem } from '../../state/store.js';
import { matchColumns } from '../../state/event-columns.js';
import { newId } from '../run/ids.js';

export const INBOX_SOURCE = 'orgloop';
export const NOTIFICATION = 'inbox.notification';
export const DEFAULT_INBOX_TTL_MS = 60 * 60_000;
export const DEFAULT_INBOX_MAX_BATCH = 100;
const INSTRUCTIONS = 'Drain your inbox and process the batch. Act on the final state — skip intermediate events that have been superseded.';

export interface RouteInbox {
  ttlMs: number;
  maxBatch: number;
}

/** Whether an event is an inbox notification (it skips the route's transforms and inbox). */
export function isNotification(e: OrgEvent): boolean {
  return e.source === INBOX_SOURCE && e.provenance?.platform_event === NOTIFICATION;
}

const shellWord = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/**
 * The command an agent runs to drain. The store is named when it is a file; a Postgres URL holds
 * its password, so for Postgres the agent's ORGLOOP_STATE names it (command actors inherit it).
 */
export function drainCommand(key: string, stateFile: string | null): string {
  return `orgloop${stateFile ? ` --state ${shellWord(stateFile)}` : ''} inbox drain --key ${shellWord(key)} --format json`;
}

/** The notification for a key, continuing the trace of the event that caused it. */
export function notificationItem(o: { key: string; route: string; actor: string; serial: number; drainCommand: string; cause?: OrgEvent }): IngestItem {
  const id = newId('evt');
  const time = new Date().toISOString();
  const event: OrgEvent = {
    id,
    type: 'message.received',
    source: INBOX_SOURCE,
    time,
    timestamp: time,
    provenance: { platform: 'orgloop', platform_event: NOTIFICATION, author: 'orgloop', author_type: 'system' },
    payload: { kind: NOTIFICATION, session_key: o.key, drain_command: o.drainCommand, instructions: INSTRUCTIONS },
    trace_id: o.cause?.trace_id ?? `trc_${id.slice(4)}`,
    parent_id: o.cause?.id ?? null,
    hops: o.cause?.hops ?? 0,
  };
  return {
    event: {
      id,
      source: INBOX_SOURCE,
      type: event.type,
      dedupe_key: null,
      event_json: JSON.stringify(event),
      trace_id: event.trace_id,
      parent_id: event.parent_id ?? null,
      hops: event.hops,
      received_at: time,
      ...matchColumns(event),
    },
    deliveries: [{ id: newId('dlv'), route: o.route, actor: o.actor, state_serial: o.serial }],
  };
}
