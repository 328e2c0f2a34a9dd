// Shared fixtures for store tests: temp dirs, events, versions.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import type { IngestItem, NewVersion } from '../../store.js';

export function tempStorePath(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'orgloop-store-'));
  return path.join(dir, 'nested', 'state.db');
}

export function ingestItem(
  opts: { source?: string; dedupe?: string | null; routes?: string[]; id?: string; serial?: number } = {},
): IngestItem {
  const id = opts.id ?? randomUUID();
  const source = opts.source ?? 'github';
  return {
    event: {
      id,
      source,
      type: 'resource.changed',
      dedupe_key: opts.dedupe === undefined ? randomUUID() : opts.dedupe,
      event_json: JSON.stringify({ id, source, type: 'resource.changed', payload: {} }),
      trace_id: randomUUID(),
      parent_id: null,
      hops: 0,
      received_at: new Date().toISOString(),
    },
    deliveries: (opts.routes ?? ['r1']).map((route) => ({
      id: randomUUID(),
      route,
      actor: `actor-of-${route}`,
      state_serial: opts.serial ?? 1,
    })),
  };
}

export function newVersion(expectedSerial: number, marker = 'x'): NewVersion {
  return {
    expectedSerial,
    kind: 'apply',
    who: 'tester',
    message: `apply ${marker}`,
    config_digest: `digest-${marker}`,
    summary: { add: 1, change: 0, destroy: 0 },
    snapshot: {
      format_version: 1,
      project: { name: 'p', dir: '/tmp/p' },
      resources: {},
    },
    blobs: { [`sha-${marker}`]: `prompt ${marker}` },
  };
}
