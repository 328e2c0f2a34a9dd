import type { Command } from 'commander';
import { forTerminal } from '../providers/lib/terminal.js';
import { action, durationFlag, globals, printJson } from './util.js';
import { UserError } from '../engine/errors.js';

function parseLimit(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0) throw new UserError(`invalid --limit "${v}": expected a positive integer`);
  return n;
}

async function withStore<T>(cmd: Command, fn: (store: import('../state/store.js').Store) => Promise<T>): Promise<T> {
  const { withWorkspaceStore } = await import('../engine/workspace.js');
  return withWorkspaceStore(globals(cmd), fn);
}

export function register(program: Command): void {
  const events = program.command('events').description('inspect and replay stored events');

  events
    .command('list')
    .description('recent events, newest first')
    .option('--source <id>', 'only events of this source (or actor, for actor.stopped)')
    .option('--type <type>', 'only events of this type')
    .option('--trace <id>', 'only events of this trace (id or prefix)')
    .option('-n, --limit <n>', 'how many', '50')
    .option('--json', 'machine-readable output')
    .action(
      action(async (flags: { source?: string; type?: string; trace?: string; limit: string; json?: boolean }, cmd: Command) =>
        withStore(cmd, async (store) => {
          const limit = parseLimit(flags.limit);
          let trace_id = flags.trace;
          if (trace_id) {
            const { requireId } = await import('../engine/run/short-id.js');
            trace_id = await requireId(store, 'trace', trace_id, 'orgloop events list');
          }
          const rows = await store.events({ source: flags.source, type: flags.type, trace_id, limit });
          // the JSON listing keeps its `payload` key for the whole event (scripts read it)
          if (flags.json) return printJson(rows.map(({ event_json, ...r }) => ({ ...r, payload: JSON.parse(event_json) })));
          if (rows.length === 0) return void process.stdout.write('No events.\n');
          const { table } = await import('./table.js');
          const cells = rows.map((r) => {
            const e = JSON.parse(r.event_json);
            const pe = e.provenance?.platform_event ? ` (${e.provenance.platform_event})` : '';
            return [r.id, r.received_at, r.source, `${r.type}${pe}`, String(r.hops)].map(forTerminal);
          });
          process.stdout.write(table([['ID', 'RECEIVED', 'SOURCE', 'TYPE', 'HOPS'], ...cells]));
        }),
      ),
    );

  events
    .command('show <id>')
    .description('one event with its deliveries (the id may be a prefix)')
    .option('--json', 'machine-readable output')
    .action(
      action(async (id: string, flags: { json?: boolean }, cmd: Command) =>
        withStore(cmd, async (store) => {
          const { requireId } = await import('../engine/run/short-id.js');
          const full = await requireId(store, 'event', id, 'orgloop events list');
          const r = (await store.event(full))!;
          const deliveries = await store.deliveries({ event_id: full });
          const event = JSON.parse(r.event_json);
          if (flags.json) return printJson({ event, dedupe_key: r.dedupe_key, received_at: r.received_at, deliveries });
          process.stdout.write(JSON.stringify(event, null, 2) + '\n\n');
          if (deliveries.length === 0) process.stdout.write('No deliveries (no route matched).\n');
          else {
            const { describeDelivery } = await import('../engine/run/inspect.js');
            process.stdout.write('Deliveries:\n');
            for (const d of deliveries) {
              process.stdout.write(`  ${d.id}  route ${d.route} -> ${d.actor}: ${describeDelivery(d)}${d.last_error ? `; last error: ${forTerminal(d.last_error)}` : ''}\n`);
            }
          }
        }),
      ),
    );

  events
    .command('replay [id]')
    .description(
      'send a stored event through the current applied routes again, as a new event (a running executor delivers it; ' +
        'the id may be a prefix); or, with --since and --route, backfill a route: the stored events of the window that ' +
        'the route matches become its deliveries under the current version (events that already have one on that route ' +
        'are skipped, so running it twice adds nothing)',
    )
    .option('--since <duration>', 'backfill: events received in this window, back from now (e.g. 24h, 7d)')
    .option('--route <name>', 'backfill: the route (of the applied version) to give the events to')
    .option('--json', 'machine-readable output')
    .action(
      action(async (id: string | undefined, flags: { json?: boolean; since?: string; route?: string }, cmd: Command) =>
        withStore(cmd, async (store) => {
          if (flags.since !== undefined || flags.route !== undefined) {
            if (id !== undefined) throw new UserError('give either an event id or --since with --route, not both');
            if (flags.since === undefined || flags.route === undefined) throw new UserError('a backfill needs both --since and --route');
            const windowMs = durationFlag('--since', flags.since);
            const { backfillRoute, BackfillError } = await import('../engine/run/backfill.js');
            let r;
            try {
              r = await backfillRoute(store, flags.route, new Date(Date.now() - windowMs).toISOString());
            } catch (err) {
              if (err instanceof BackfillError) throw new UserError(err.message);
              throw err;
            }
            if (flags.json) return printJson(r);
            process.stdout.write(
              forTerminal(
                `Backfilled route ${r.route} (-> ${r.actor}) with the events of the last ${flags.since}: ${r.events} event${r.events === 1 ? '' : 's'} of its source, ` +
                  `${r.matched} matched; ${r.added} deliver${r.added === 1 ? 'y' : 'ies'} added under version ${r.serial}` +
                  (r.existing ? `, ${r.existing} already had one` : '') +
                  (r.loop_cut ? `, ${r.loop_cut} cut at max_hops` : '') +
                  '.',
              ) + (r.added ? '\nA running executor delivers them (its transforms run then).\n' : '\n'),
            );
            return;
          }
          if (id === undefined) throw new UserError('give an event id to replay (see `orgloop events list`), or --since and --route to backfill a route');
          const { replayEvent } = await import('../engine/run/inspect.js');
          const { requireId } = await import('../engine/run/short-id.js');
          const full = await requireId(store, 'event', id, 'orgloop events list');
          const r = await replayEvent(store, full);
          if (!r) throw new UserError(`no event "${id}" (see \`orgloop events list\`)`);
          if (flags.json) return printJson(r);
          process.stdout.write(
            `Replayed ${full} as ${r.event_id} against version ${r.serial}: ${r.deliveries.length} deliver${r.deliveries.length === 1 ? 'y' : 'ies'}` +
              (r.deliveries.length ? ` (${r.deliveries.map((d) => `${d.route} -> ${d.actor}`).join(', ')})` : '') +
              '.\n',
          );
        }),
      ),
    );
}
