import type { Command } from 'commander';
import { action, globals, printJson } from './util.js';
import { table } from './table.js';

function age(s: number | null): string {
  if (s === null) return '-';
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${s % 60 ? `${s % 60}s` : ''}`;
  if (s < 86400) return `${Math.floor(s / 3600)}h${Math.floor((s % 3600) / 60)}m`;
  return `${Math.floor(s / 86400)}d${Math.floor((s % 86400) / 3600)}h`;
}

/** When a waiting delivery is next tried: `now` once due (a worker takes it), else `in 4m`. */
function until(at: string | null, now = Date.now()): string {
  if (at === null) return '-';
  const s = Math.round((Date.parse(at) - now) / 1000);
  return s <= 0 ? 'now' : `in ${age(s)}`;
}

/** A cron source's next tick: `in 4m (12:00:00Z)`; a missed one fires as soon as an executor runs. */
function nextFire(at: string | null | undefined, now: number): string {
  if (at === undefined) return '';
  if (at === null) return 'never';
  const s = Math.round((Date.parse(at) - now) / 1000);
  return s <= 0 ? `due (missed at ${at.slice(0, 19)}Z)` : `in ${age(s)} (${at.slice(0, 19)}Z)`;
}


export function register(program: Command): void {
  program
    .command('status')
    .description('what is running: executors (heartbeat, loaded version), sources (last event), routes (delivery counts, age of the oldest waiting delivery since its event arrived, next attempt), dead deliveries')
    .option('--json', 'machine-readable output')
    .action(
      action(async (flags: { json?: boolean }, cmd: Command) => {
        const { openWorkspaceStoreToRead } = await import('../engine/workspace.js');
        const { statusReport } = await import('../engine/run/inspect.js');
        const g = globals(cmd);
        const { daemonPaths, readDaemon } = await import('../engine/daemon/daemon.js');
        const d = readDaemon(daemonPaths(g.config, g.workspace));
        const daemon = d.running
          ? { running: true, pid: d.record.pid, url: d.record.url ?? null, started_at: d.record.started_at, log: d.record.log }
          : { running: false, ...(d.stale ? { stale_pid: d.stale.pid } : {}) };
        const { store, missing } = await openWorkspaceStoreToRead(g);
        try {
          const r = await statusReport(store);
          if (missing) r.state = missing;
          if (flags.json) return printJson({ ...r, workspace: g.workspace, daemon });
          const out: string[] = [];
          if (g.workspace !== 'default') out.push(`Workspace: ${g.workspace}`);
          out.push(`State: ${r.state}${missing ? ' (none yet: nothing has been applied)' : ''}`);
          if (d.running) out.push(`Daemon: running (pid ${d.record.pid}${d.record.url ? `, ${d.record.url}` : ''}, since ${d.record.started_at}); log ${d.record.log}`);
          else if (d.stale) out.push(`Daemon: not running (pid ${d.stale.pid} started ${d.stale.started_at} is gone; see ${d.stale.log})`);
          out.push(r.serial === 0 ? 'Applied version: none (run `orgloop apply`)' : `Applied version: ${r.serial} (${r.project})`);
          out.push('');
          if (r.executors.length === 0) out.push('Executors: none running (start one with `orgloop start`)');
          else {
            out.push('Executors:');
            out.push(
              table([
                ['ID', 'HOST', 'PID', 'VERSION', 'HEARTBEAT', 'STATE'],
                ...r.executors.map((e) => [
                  e.id,
                  e.host,
                  String(e.pid),
                  e.serial_loaded === r.serial ? String(e.serial_loaded) : `${e.serial_loaded} (behind ${r.serial})`,
                  `${age(e.heartbeat_age_s)} ago`,
                  e.alive ? 'alive' : 'stale (not heard from)',
                ]),
              ], { color: g.color, paint: (row, col) => (col === 5 && row[5] !== 'alive' ? 'yellow' : null) }).trimEnd(),
            );
          }
          out.push('');
          if (r.sources.length) {
            out.push('Sources:');
            const now = Date.now();
            const cron = r.sources.some((s) => s.next_fire_at !== undefined);
            out.push(
              table([
                ['SOURCE', 'CONNECTOR', 'LAST EVENT', 'TYPE', 'CURSOR UPDATED', ...(cron ? ['NEXT FIRE'] : [])],
                ...r.sources.map((s) => [
                  s.id,
                  s.connector,
                  s.last_event_at ? `${age(Math.round((now - Date.parse(s.last_event_at)) / 1000))} ago` : 'never',
                  s.last_event_type ?? '-',
                  s.cursor_updated_at ? `${age(Math.round((now - Date.parse(s.cursor_updated_at)) / 1000))} ago` : '-',
                  ...(cron ? [nextFire(s.next_fire_at, now)] : []),
                ]),
              ]).trimEnd(),
            );
            if (cron) out.push('(fire a cron source now with `orgloop sources fire SOURCE`)');
            out.push('');
          }
          if (r.routes.length) {
            out.push('Routes:');
            out.push(
              table([
                ['ROUTE', 'ACTOR', 'PENDING', 'LEASED', 'RETRY', 'DELIVERED', 'DEAD', 'CANCELLED', 'OLDEST PENDING', 'NEXT ATTEMPT'],
                ...r.routes.map((x) => [
                  x.name + (x.removed ? ' (removed)' : ''),
                  x.actor ?? '-',
                  String(x.counts.pending),
                  String(x.counts.leased),
                  String(x.counts.retry),
                  String(x.counts.delivered),
                  String(x.counts.dead),
                  String(x.counts.cancelled),
                  age(x.oldest_pending_age_s),
                  until(x.next_attempt_at),
                ]),
              ], { color: g.color, paint: (row, col) => (col === 6 && row[6] !== '0' ? 'red' : null) }).trimEnd(),
            );
            out.push('');
          }
          out.push(
            `Pending: ${r.totals.pending}${r.totals.oldest_pending_age_s !== null ? ` (oldest arrived ${age(r.totals.oldest_pending_age_s)} ago, next attempt ${until(r.totals.next_attempt_at)})` : ''}; dead: ${r.totals.dead}` +
              (r.totals.dead ? ' (see `orgloop deliveries list --status dead`)' : ''),
          );
          process.stdout.write(out.join('\n') + '\n');
        } finally {
          await store.close();
        }
      }),
    );
}
