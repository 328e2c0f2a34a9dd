// The Store: one database, two planes (DESIGN §4), split by use. The config plane
// (state/config-plane.ts) is written only by apply/rollback/import/state edits and bumps the
// serial; the runtime plane (state/runtime-plane.ts) is written by the executor and never
// touches the serial. `Store` composes every part, for code that opens a store and hands its
// parts on; a caller that only reads versions or only claims deliveries takes the narrow type.
// Methods are async so the SQLite and Postgres backends share one interface.

import type { StateLocker, StateReader, StateWriter } from './config-plane.js';
import type {
  Coordination,
  DeliveryControl,
  DeliveryQueue,
  EventIntake,
  Inspection,
  LogSink,
  PollCursors,
  Retention,
  TransformState,
  Wakeups,
} from './runtime-plane.js';
import type { Inbox } from './inbox.js';

export * from './config-plane.js';
export type { Inbox, InboxEnqueue, InboxEntry, InboxSessionInfo } from './inbox.js';
export * from './runtime-plane.js';
export type * from './snapshot.js';

/**
 * The store cannot be read or written at all (read-only file, disk full, I/O error, lock held
 * too long, unreachable server). Callers answer 5xx / exit 1 and must not acknowledge anything.
 * `code` is the backend's own code, e.g. SQLITE_FULL, SQLITE_READONLY, ECONNREFUSED.
 */
export class StoreUnavailableError extends Error {
  constructor(
    message: string,
    readonly code: string,
    readonly location: string,
  ) {
    super(message);
    this.name = 'StoreUnavailableError';
  }
}

export interface Store
  extends StateReader,
    StateWriter,
    StateLocker,
    EventIntake,
    PollCursors,
    DeliveryQueue,
    DeliveryControl,
    Inspection,
    Coordination,
    TransformState,
    LogSink,
    Retention,
    Inbox,
    Wakeups {
  readonly kind: 'sqlite' | 'postgres';
  readonly location: string;
  close(): Promise<void>;
}
