// Syslog messages for log entries: RFC 5424 (default) or the older BSD form (RFC 3164).
//
// RFC 5424:  <PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID [SD-ID param="v" ...] MSG
//   PRI = facility * 8 + severity; severity from the entry's level (error 3, warn 4, info 6,
//   debug 7; an entry whose data says fatal: true is critical, 2). MSGID is the entry's phase.
//   Structured data uses OrgLoop's SD-ID `orgloop@49999` and its parameter names (event_id,
//   trace_id, source, route, target = the actor, ...), so receivers parsing OrgLoop's keep working.
//   Header fields are printable US-ASCII within the RFC's lengths ('-' when empty); PARAM-VALUEs
//   escape `"`, `\` and `]`; MSG starts with a UTF-8 BOM when it is not plain ASCII (§6.4).
// RFC 3164:  <PRI>Mmm dd hh:mm:ss HOSTNAME TAG[PID]: MSG (local time, no year, no structured data)

import type { LogEntry } from '../types.js';
import { correlationFields } from './log-line.js';

export const FACILITIES: Record<string, number> = {
  kern: 0, user: 1, mail: 2, daemon: 3, auth: 4, syslog: 5, lpr: 6, news: 7, uucp: 8, cron: 9,
  authpriv: 10, ftp: 11, local0: 16, local1: 17, local2: 18, local3: 19, local4: 20, local5: 21, local6: 22, local7: 23,
};

const SEVERITY: Record<string, number> = { error: 3, warn: 4, info: 6, debug: 7 };
export const SD_ID = 'orgloop@49999';
const BOM = '\uFEFF';

export function severityOf(e: LogEntry): number {
  if (e.data && e.data.fatal === true) return 2;
  return SEVERITY[e.level] ?? 6;
}

/** A header field: printable US-ASCII without spaces, at most `max` characters, `-` when empty. */
function field(s: string | undefined, max: number): string {
  const clean = (s ?? '').replace(/[^\x21-\x7e]/g, '_').slice(0, max);
  return clean || '-';
}

/** An SD-NAME: printable US-ASCII except = ] " and space, at most 32 characters. */
const sdName = (s: string) => s.replace(/[^\x21-\x7e]|[=\]"]/g, '_').slice(0, 32);
const sdValue = (s: string) => s.replace(/["\\\]]/g, (c) => `\\${c}`);

export interface SyslogOptions {
  facility: number;
  appName: string;
  hostname: string;
  procId: string;
  structuredData: boolean;
  format: 'rfc5424' | 'rfc3164';
  /** the whole message is cut to this many bytes (MSG is shortened; a UTF-8 sequence is never split) */
  maxBytes: number;
}

function structuredData(e: LogEntry): string {
  const params: Array<[string, string]> = [];
  const add = (k: string, v: unknown) => {
    if (v === undefined || v === null || v === '') return;
    if (typeof v === 'object') return;
    params.push([k, String(v)]);
  };
  for (const [k, v] of correlationFields(e)) add(k, v);
  add('level', e.level);
  for (const [k, v] of Object.entries(e.data ?? {}).slice(0, 16)) if (!['fatal'].includes(k)) add(sdName(k), v);
  if (params.length === 0) return '-';
  return `[${SD_ID} ${params.map(([k, v]) => `${k}="${sdValue(v.length > 512 ? `${v.slice(0, 512)}...` : v)}"`).join(' ')}]`;
}

/** Cuts `s` to at most `bytes` UTF-8 bytes without splitting a character. */
export function cutUtf8(s: string, bytes: number): string {
  if (s.length * 3 <= bytes || Buffer.byteLength(s, 'utf8') <= bytes) return s;
  const b = Buffer.from(s, 'utf8');
  let end = Math.max(0, bytes);
  while (end > 0 && (b[end]! & 0xc0) === 0x80) end--; // back off continuation bytes
  return b.subarray(0, end).toString('utf8');
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

export function formatSyslog(e: LogEntry, o: SyslogOptions, text: string): string {
  const pri = `<${o.facility * 8 + severityOf(e)}>`;
  let head: string;
  let msg = text;
  if (o.format === 'rfc3164') {
    const d = new Date(e.time);
    const t = Number.isNaN(d.getTime()) ? new Date() : d;
    const stamp = `${MONTHS[t.getMonth()]} ${String(t.getDate()).padStart(2, ' ')} ${[t.getHours(), t.getMinutes(), t.getSeconds()].map((n) => String(n).padStart(2, '0')).join(':')}`;
    head = `${pri}${stamp} ${field(o.hostname, 255)} ${field(o.appName, 32)}[${field(o.procId, 10)}]: `;
  } else {
    const time = Number.isNaN(Date.parse(e.time)) ? new Date().toISOString() : e.time;
    const sd = o.structuredData ? structuredData(e) : '-';
    head = `${pri}1 ${field(time, 64)} ${field(o.hostname, 255)} ${field(o.appName, 48)} ${field(o.procId, 128)} ${field(e.phase, 32)} ${sd}`;
    if (msg) {
      // eslint-disable-next-line no-control-regex
      head += /[^\x00-\x7f]/.test(msg) ? ` ${BOM}` : ' ';
    }
  }
  const room = o.maxBytes - Buffer.byteLength(head);
  if (room <= 0) return cutUtf8(head, o.maxBytes);
  msg = cutUtf8(msg, room);
  return head + msg;
}
