// Logger `console`: one readable line per entry at or above `level` (default info), to stdout
// (or `stream: stderr`). Colour as the CLI decided it for that stream (ctx.color) unless `color:`
// says otherwise.

import type { LoggerProvider, LoggerSink } from '../types.js';
import { atLeast, levelSchema } from '../lib/level.js';
import { flowLine } from '../lib/log-line.js';

/** The console logger's line (the flow layout of lib/log-line.ts). */
export const formatConsoleLine = flowLine;

/** `decided`: the CLI's colour decision for `out`, which `color:` in config overrides. */
export function createConsoleSink(config: Record<string, unknown>, out: NodeJS.WritableStream, decided = false): LoggerSink {
  const threshold = (config.level as string | undefined) ?? 'info';
  const color = config.color === undefined ? decided : Boolean(config.color);
  return {
    log(entry) {
      if (atLeast(entry, threshold)) out.write(`${formatConsoleLine(entry, color)}\n`);
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
    },
  },
  open(ctx) {
    const stream = ctx.config.stream === 'stderr' ? 'stderr' : 'stdout';
    return createConsoleSink(ctx.config, process[stream], ctx.color?.[stream] ?? false);
  },
};
