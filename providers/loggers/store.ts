// Logger `store`: writes entries at or above `level` (default debug) to the state store's log
// table, which `orgloop logs` reads.

import type { LoggerProvider } from '../types.js';
import { atLeast, levelSchema } from '../lib/level.js';

export const storeLogger: LoggerProvider = {
  kind: 'logger',
  name: 'store',
  description: 'Records log entries in the state store (read by `orgloop logs`).',
  configSchema: {
    type: 'object',
    additionalProperties: true,
    properties: { level: { ...levelSchema, default: 'debug' } },
  },
  open(ctx) {
    const append = ctx.appendStoreLog;
    if (!append) throw new Error(`logger ${ctx.name}: the runtime offers no state store log to write to`);
    const threshold = (ctx.config.level as string | undefined) ?? 'debug';
    return {
      log(entry) {
        if (atLeast(entry, threshold)) append(entry);
      },
      async close() {},
    };
  },
};
