import type { Command } from 'commander';
import { action, globals } from './util.js';
import { UserError } from '../engine/errors.js';

interface LogsFlags {
  follow?: boolean;
  route?: string;
  trace?: string;
  since?: string;
  limit?: string;
  json?: boolean;
}

/** `--since 1h` (a duration back from now) or an ISO timestamp. */
export async function sinceToIso(since: string | undefined, now = Date.now()): Promise<string | undefined> {
  if (since === undefined) return undefined;
  if (/^\d{4}-\d{2}-\d{2}/.test(since) && !Number.isNaN(Date.parse(since))) return new Date(since).toISOString();
  const { parseDuration } = await import('../providers/lib/duration.js');
  try {
    return new Date(now - parseDuration(since)).toISOString();
  } catch {
    throw new UserError(`invalid --since "${since}": expected a duration like 30m, 1h, 2d or an ISO time like 2026-01-31T12:00:00Z`);
  }
}

export function register(program: Command): void {
  program
    .command('logs')
    .description('show what the executor did: source.emit -> route.match -> transform.* -> deliver.* (from the state store)')
    .option('-f, --follow', 'keep printing new entries as they are written')
    .option('--route <name>', 'only entries of this route')
    .option('--trace <id>', 'only entries of this trace (an event and everything it caused; id or prefix)')
    .option('--since <when>', 'only entries newer than a duration ago (1h, 30m) or an ISO time')
    .option('-n, --limit <n>', 'how many of the newest entries to show', '200')
    .option('--json', 'one JSON object per line')
    .action(
      action(async (flags: LogsFlags, cmd: Command) => {
        const limit = Number(flags.limit);
        if (!Number.isInteger(limit) || limit <= 0) throw new UserError(`invalid --limit "${flags.limit}": expected a positive integer`);
        const since = await sinceToIso(flags.since);
        const { openWorkspaceStoreToRead } = await import('../engine/workspace.js');
        const { formatStoredEntry } = await import('../engine/run/console.js');
        const g = globals(cmd);
        const { store } = await openWorkspaceStoreToRead(g);
        const q = { since, route: flags.route, trace_id: flags.trace };
        const show = (rows: Awaited<ReturnType<typeof store.logs>>) => {
          if (flags.json) for (const r of rows) process.stdout.write(JSON.stringify({ ...r, data: r.data ? JSON.parse(r.data) : null }) + '\n');
          else for (const r of rows) process.stdout.write(formatStoredEntry(r, g.color) + '\n');
        };
        try {
          if (q.trace_id) {
            const { resolveId } = await import('../engine/run/short-id.js');
            // the log can outlive the events (retention), so an unknown trace id is kept as given
            q.trace_id = (await resolveId(store, 'trace', q.trace_id)) ?? q.trace_id;
          }
          const rows = await store.logs({ ...q, limit });
          if (!flags.follow && !flags.json && rows.length === 0) process.stderr.write('no log entries match\n');
          show(rows);
          if (!flags.follow) return 0;
          let after = rows.length ? rows[rows.length - 1]!.id : ((await store.logs({ limit: 1 }))[0]?.id ?? 0);
          await new Promise<void>((resolve) => {
            const stop = () => resolve();
            process.once('SIGINT', stop);
            process.once('SIGTERM', stop);
            const tick = async () => {
              const more = await store.logs({ ...q, afterId: after, limit: 1000 }).catch(() => []);
              if (more.length) {
                show(more);
                after = more[more.length - 1]!.id;
              }
            };
            const t = setInterval(() => void tick(), 500);
            process.once('SIGINT', () => clearInterval(t));
            process.once('SIGTERM', () => clearInterval(t));
          });
          return 0;
        } finally {
          await store.close();
        }
      }),
    );
}
