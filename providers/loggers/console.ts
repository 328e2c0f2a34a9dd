// Logger `console`: one readable line per entry at or above `level` (default info), to stdout
// (or `stream: stderr`). Colour as the CLI decided it for that stream (ctx.color) unless `color:`
// says otherwise. OrgLoop's `compact: false` with `show_payload: true` adds the entry's data as
// indented JSON under its line.

import type { LoggerProvider, LoggerSink } from '../types.js';
import { atLeast, levelSchema } from '../lib/level.js';
import { flowLine } from '../lib/log-line.js';

/** The console logger's line (the flow layout of lib/log-line.ts). */
export const formatConsoleLine = flowLine;

/** `decided`: the CLI's colour decision for `out`, which `color:` in config overrides. */
export function createConsoleSink(config: Record<string, unknown>, out: NodeJS.WritableStream, decided = false): LoggerSink {
  const threshold = (config.level as string | undefined) ?? 'info';
  const color = config.color === undefined ? decided : Boolean(config.color);
  const verbose = config.compact === false && config.show_payload === true;
  return {
    log(entry) {
      if (!atLeast(entry, threshold)) return;
      const line = formatConsoleLine(entry, color);
      if (!verbose || !entry.data || Object.keys(entry.data).length === 0) out.write(`${line}\n`);
      else {
        const data = `  data: ${JSON.stringify(entry.data, null, 2).replace(/\n/g, '\n  ')}`;
        out.write(`${line}\n${color ? `\x1b[2m${data}\x1b[0m` : data}\n`);
      }
    },
    async close() {},
  };
}

export const consoleLogger: LoggerProvider = {
  kind: 'logger',
  name: 'console',
  description: 'Prints one readable line per log entry.',
  configSchema: {
    type: 'object',
    additionalProperties: true,
    properties: {
      level: { ...levelSchema, default: 'info' },
      stream: { type: 'string', enum: ['stdout', 'stderr'], default: 'stdout' },
      color: { type: 'boolean', description: 'default: on for a TTY (or with FORCE_COLOR) unless NO_COLOR is set' },
      compact: { type: 'boolean', default: true, description: 'OrgLoop: false (with show_payload) prints each entry\'s data under its line' },
      show_payload: { type: 'boolean', default: false, description: 'with compact: false, the entry\'s data as indented JSON under its line' },
    },
  },
  open(ctx) {
    const stream = ctx.config.stream === 'stderr' ? 'stderr' : 'stdout';
    return createConsoleSink(ctx.config, process[stream], ctx.color?.[stream] ?? false);
  },
};
