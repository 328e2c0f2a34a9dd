// `orgloop inbox drain|status`: what an agent runs after an inbox notification, read straight
// from the store (no executor needed). A drain hands out the key's oldest entries in two steps:
// it marks them as taken (for HOLD_MS), writes them out, and only then deletes them, so a drain
// killed in between loses nothing: the entries are handed out again once the hold has passed.
// Entries left after a drain (or arriving after it) notify the agent again.

import { randomUUID } from 'node:crypto';
import type { InboxSessionInfo, Store } from '../../state/store.js';
import { drainCommand, notificationItem } from './inbox.js';

const HOLD_MS = 60_000;

export interface DrainOutput {
  /** the events, oldest first, as the route's transforms left them */
  events: Array<Record<string, unknown>>;
  /** entries still waiting for this key */
  remaining: number;
  /** the id of the last entry handed out when more remain (OrgLoop's drain shape) */
  continuation: string | null;
}

const stateFile = (store: Store): string | null => (store.kind === 'sqlite' ? store.location : null);

/** Drains up to `limit` (default: the route's `inbox_max_batch`) entries; `write` must have written them out when it resolves. */
export async function drainInbox(store: Store, key: string, limit: number | null, write: (out: DrainOutput) => Promise<void>): Promise<DrainOutput> {
  const session = await store.inboxSession(key);
  if (!session) {
    const empty: DrainOutput = { events: [], remaining: 0, continuation: null };
    await write(empty);
    return empty;
  }
  const token = randomUUID();
  const { entries, remaining } = await store.inboxTake(key, limit ?? session.max_batch, HOLD_MS, token);
  const out: DrainOutput = {
    events: entries.map((e) => JSON.parse(e.event_json) as Record<string, unknown>),
    remaining,
    continuation: remaining > 0 && entries.length > 0 ? String(entries[entries.length - 1]!.id) : null,
  };
  await write(out);
  const { serial } = await store.meta();
  const notify = notificationItem({ key, route: session.route, actor: session.actor, serial, drainCommand: drainCommand(key, stateFile(store)) });
  await store.inboxAck(key, token, notify);
  return out;
}

/** Sessions with entries waiting (OrgLoop lists only those), or one key's. */
export async function inboxStatus(store: Store, key?: string): Promise<InboxSessionInfo[]> {
  if (key !== undefined) {
    const s = await store.inboxSession(key);
    return s ? [s] : [];
  }
  return (await store.inboxSessions()).filter((s) => s.pending > 0);
}
