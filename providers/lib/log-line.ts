// How a log entry reads as one line of text: the one home of the layouts, the level colours and
// the terminal-safe escaping, for the executor's own console, `orgloop logs` and the console logger.
//
// Two layouts, for two readers: the keyed line (`route=… actor=…`) is what the executor prints
// and `orgloop logs` lists, meant to be grepped by key; the flow line (`source -> route -> actor`,
// with the level and the entry's data) is the console logger's, meant to be read as it scrolls.

import type { LogEntry } from '../types.js';
import { forTerminal } from './terminal.js';
import { shortId } from './short-id.js';

const RESET = '\x1b[0m';
const DIM = '\x1b[2m';
/** the keyed line colours all of a line by level; info stays plain, the bulk of the output */
const LINE_COLORS: Record<string, string> = { debug: DIM, info: '', warn: '\x1b[33m', error: '\x1b[31m' };
/** the flow line colours only the level word, so every level shows a colour */
const LEVEL_COLORS: Record<string, string> = { debug: '\x1b[90m', info: '\x1b[36m', warn: '\x1b[33m', error: '\x1b[31m' };

/** `12:00:01.123` (or `2026-01-02 12:00:01.123` with the date) of an ISO time. */
function clock(iso: string, withDate: boolean): string {
  if (withDate) return iso.slice(0, 23).replace('T', ' ');
  return iso.length >= 23 ? iso.slice(11, 23) : iso;
}

function short(id: string | undefined): string | undefined {
  return id ? shortId(id) : id;
}

/** `12:00:01.123 deliver.success  source=github route=pr-review actor=agent dlv_…  message` */
export function keyedLine(e: LogEntry, color: boolean, withDate = false): string {
  const where = [e.source && `source=${e.source}`, e.route && `route=${e.route}`, e.actor && `actor=${e.actor}`, e.delivery_id ?? e.event_id]
    .filter(Boolean)
    .join(' ');
  const line = forTerminal(`${clock(e.time, withDate)} ${e.phase.padEnd(15)} ${where}${e.message ? `  ${e.message}` : ''}`);
  const c = color ? LINE_COLORS[e.level] ?? '' : '';
  return c ? `${c}${line}${RESET}` : line;
}

/** `12:00:01.123 INFO  deliver.success  github -> pr-review -> engineering-agent  evt=… dlv=…  message  {data}` */
export function flowLine(e: LogEntry, color = false): string {
  const time = clock(e.time, false);
  const level = e.level.toUpperCase().padEnd(5);
  const flow = [e.source, e.route, e.actor].filter(Boolean).join(' -> ');
  const ids = [e.event_id && `evt=${short(e.event_id)}`, e.delivery_id && `dlv=${short(e.delivery_id)}`].filter(Boolean).join(' ');
  let extra = '';
  if (e.data && Object.keys(e.data).length > 0) {
    extra = JSON.stringify(e.data);
    if (extra.length > 300) extra = `${extra.slice(0, 300)}…`;
  }
  const parts = [e.phase.padEnd(16), flow, ids, e.message ?? '', extra].filter((p) => p !== '').map(forTerminal);
  if (!color) return `${time} ${level} ${parts.join('  ')}`;
  return `${DIM}${time}${RESET} ${LEVEL_COLORS[e.level] ?? ''}${level}${RESET} ${parts.join('  ')}`;
}

/** A log entry's correlation fields as exporters name them (the actor is the `target`), in a fixed order. */
export function correlationFields(e: LogEntry): Array<[string, string | undefined]> {
  return [
    ['event_id', e.event_id],
    ['trace_id', e.trace_id],
    ['source', e.source],
    ['route', e.route],
    ['target', e.actor],
    ['delivery_id', e.delivery_id],
  ];
}
