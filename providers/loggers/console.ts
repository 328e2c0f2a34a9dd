// Logger `console`: one readable line per entry at or above `level` (default info), to stdout
// (or `stream: stderr`). Colour as the CLI decided it for that stream (ctx.color) unless `color:`
// says otherwise.

import type { LogEntry, LoggerProvider, LoggerSink } from '../types.js';
import { atLeast, levelSchema } from '../lib/level.js';
import { forTerminal } from '../lib/terminal.js';
import { shortId } from '../lib/short-id.js';

const COLORS: Record<string, string> = { debug: '\x1b[90m', info: '\x1b[36m', warn: '\x1b[33m', error: '\x1b[31m' };
const RESET = '\x1b[0m';
const DIM = '\x1b[2m';

function short(id: string | undefined): string | undefined {
  return id ? shortId(id) : id;
}

/** `12:00:01.123 INFO  deliver.success  github -> pr-review -> engineering-agent  evt=… dlv=…  message` */
export function formatConsoleLine(entry: LogEntry, color = false): string {
  const time = entry.time.length >= 23 ? entry.time.slice(11, 23) : entry.time;
  const level = entry.level.toUpperCase().padEnd(5);
  const flow = [entry.source, entry.route, entry.actor].filter(Boolean).join(' -> ');
  const ids = [entry.event_id && `evt=${short(entry.event_id)}`, entry.delivery_id && `dlv=${short(entry.delivery_id)}`]
    .filter(Boolean)
    .join(' ');
  let extra = '';
  if (entry.data && Object.keys(entry.data).length > 0) {
    extra = JSON.stringify(entry.data);
    if (extra.length > 300) extra = `${extra.slice(0, 300)}…`;
  }
  const parts = [entry.phase.padEnd(16), flow, ids, entry.message ?? '', extra].filter((p) => p !== '').map(forTerminal);
  if (!color) return `${time} ${level} ${parts.join('  ')}`;
  return `${DIM}${time}${RESET} ${COLORS[entry.level] ?? ''}${level}${RESET} ${parts.join('  ')}`;
}

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
