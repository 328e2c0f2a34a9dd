import type { Command } from 'commander';
import { forTerminal } from '../providers/lib/terminal.js';
import { action, globals, printJson } from './util.js';
import { UserError } from '../engine/errors.js';
import type { DeliveryStatus, Store } from '../state/store.js';

const STATUSES = ['pending', 'leased', 'delivered', 'retry', 'dead', 'cancelled'];

async function withStore<T>(cmd: Command, fn: (store: Store) => Promise<T>): Promise<T> {
  const { withWorkspaceStore } = await import('../engine/workspace.js');
  return withWorkspaceStore(globals(cmd), fn);
}

export function register(program: Command): void {
  const deliveries = program.command('deliveries').description('inspect deliveries and retry dead ones');

  deliveries
    .command('list')
    .description('deliveries, newest first')
    .option('--status <status>', `only this status (${STATUSES.join(', ')})`)
    .option('--route <name>', 'only this route')
    .option('--event <id>', 'only deliveries of this event (id or prefix)')
    .option('-n, --limit <n>', 'how many', '50')
    .option('--json', 'machine-readable output')
    .action(
      action(async (flags: { status?: string; route?: string; event?: string; limit: string; json?: boolean }, cmd: Command) => {
        if (flags.status && !STATUSES.includes(flags.status)) throw new UserError(`invalid --status "${flags.status}": expected one of ${STATUSES.join(', ')}`);
        const limit = Number(flags.limit);
        if (!Number.isInteger(limit) || limit <= 0) throw new UserError(`invalid --limit "${flags.limit}": expected a positive integer`);
        return withStore(cmd, async (store) => {
          let event_id = flags.event;
          if (event_id) {
            const { requireId } = await import('../engine/run/short-id.js');
            event_id = await requireId(store, 'event', event_id, 'orgloop events list');
          }
          const rows = await store.deliveries({ status: flags.status as DeliveryStatus | undefined, route: flags.route, event_id, limit });
          if (flags.json) return printJson(rows.map(deliveryJson));
          if (rows.length === 0) return void process.stdout.write('No deliveries.\n');
          const { describeDelivery } = await import('../engine/run/inspect.js');
          const { table } = await import('./table.js');
          const lines = table(
            [['ID', 'ROUTE -> ACTOR', 'STATUS', 'EVENT'], ...rows.map((d) => [d.id, `${d.route} -> ${d.actor}`, describeDelivery(d), d.event_id])],
            { color: globals(cmd).color, paint: (row, col) => (col === 2 && row[2]!.startsWith('dead') ? 'red' : null) },
          ).split('\n');
          // each row's last error goes on the line under it, indented
          const out = [lines[0]!, ...rows.flatMap((d, i) => [lines[i + 1]!, ...(d.last_error ? [`    last error: ${forTerminal(d.last_error)}`] : [])])];
          process.stdout.write(out.join('\n') + '\n');
        });
      }),
    );

  deliveries
    .command('show <id>')
    .description('one delivery, with its event (the id may be a prefix)')
    .option('--json', 'machine-readable output')
    .action(
      action(async (id: string, flags: { json?: boolean }, cmd: Command) =>
        withStore(cmd, async (store) => {
          const { requireId } = await import('../engine/run/short-id.js');
          const d = (await store.delivery(await requireId(store, 'delivery', id, 'orgloop deliveries list')))!;
          const ev = await store.event(d.event_id);
          // A finished run's outcome and output are kept in its actor.stopped event (one per delivery)
          const stopped = ev
            ? (await store.events({ source: d.actor, type: 'actor.stopped', trace_id: ev.trace_id, limit: 1000 })).find((e) => e.dedupe_key === `stopped:${d.id}`)
            : undefined;
          const run = stopped ? (JSON.parse(stopped.event_json) as { payload: { outcome: string; exit_code: number | null; duration_ms: number; output_tail: string } }).payload : null;
          if (flags.json) {
            return printJson({ ...deliveryJson(d), run: run && { outcome: run.outcome, exit_code: run.exit_code, duration_ms: run.duration_ms, output_tail: run.output_tail }, event: ev ? JSON.parse(ev.event_json) : null });
          }
          const { describeDelivery } = await import('../engine/run/inspect.js');
          process.stdout.write(
            [
              `Delivery ${d.id}`,
              `  route:     ${d.route} (routed under version ${d.state_serial})`,
              `  actor:     ${d.actor}`,
              `  status:    ${describeDelivery(d)}`,
              `  created:   ${d.created_at}`,
              `  updated:   ${d.updated_at}`,
              ...(d.lease_owner && d.status === 'leased' ? [`  leased by: ${d.lease_owner} until ${new Date(d.lease_until ?? 0).toISOString()}`] : []),
              ...(d.last_error ? [`  last error: ${forTerminal(d.last_error)}`] : []),
              ...(run ? [`  run:       ${run.outcome}${run.exit_code !== null ? `, exit ${run.exit_code}` : ''}, ${run.duration_ms} ms`] : []),
              ...(run?.output_tail ? ['  output:', ...run.output_tail.replace(/\n$/, '').split('\n').map((l) => `    ${forTerminal(l)}`)] : []),
              `  event:     ${d.event_id}`,
            ].join('\n') + '\n',
          );
          if (ev) process.stdout.write(JSON.stringify(JSON.parse(ev.event_json), null, 2) + '\n');
        }),
      ),
    );

  deliveries
    .command('retry [id]')
    .description(
      'send a dead (or cancelled) delivery again with its attempts reset. By default it runs under the version that routed it ' +
        '(the same actor and route it failed with); after fixing the actor and applying, add --current to run it with the actor ' +
        'and route as applied now. The id may be a prefix. --all-dead retries every dead delivery.',
    )
    .option('--current', 'use the actor and route of the current applied version instead of the version that routed it')
    .option('--all-dead', 'retry every dead delivery')
    .option('--json', 'machine-readable output')
    .action(
      action(async (id: string | undefined, flags: { current?: boolean; allDead?: boolean; json?: boolean }, cmd: Command) => {
        if (!id && !flags.allDead) throw new UserError('give a delivery id, or --all-dead');
        if (id && flags.allDead) throw new UserError('give either a delivery id or --all-dead, not both');
        const version = flags.current ? 'current' : 'pinned';
        return withStore(cmd, async (store) => {
          const { retryDeliveries } = await import('../engine/run/redrive.js');
          const retried: string[] = [];
          const behind: string[] = [];
          let serial: number | undefined;
          if (id) {
            const { requireId } = await import('../engine/run/short-id.js');
            const full = await requireId(store, 'delivery', id, 'orgloop deliveries list --status dead');
            const d = (await store.delivery(full))!;
            if (d.status !== 'dead' && d.status !== 'cancelled') throw new UserError(`delivery ${full} is ${d.status}; only dead or cancelled deliveries can be retried`);
            const r = await retryDeliveries(store, [d], version, { strict: true });
            retried.push(...r.retried);
            behind.push(...r.behind);
            serial = r.serial;
          } else {
            // page through: retried rows leave the dead set; ones --current skips stay, so remember them
            const seen = new Set<string>();
            for (;;) {
              const fresh = (await store.deliveries({ status: 'dead', limit: 1000 })).filter((d) => !seen.has(d.id));
              if (fresh.length === 0) break;
              for (const d of fresh) seen.add(d.id);
              const r = await retryDeliveries(store, fresh, version, { strict: false });
              retried.push(...r.retried);
              behind.push(...r.behind);
              serial = r.serial;
            }
          }
          if (flags.json) return printJson({ retried, version, ...(serial !== undefined ? { serial } : {}) });
          const n = retried.length;
          const what = `${n} deliver${n === 1 ? 'y' : 'ies'}`;
          process.stdout.write(
            n === 0
              ? 'No dead deliveries to retry.\n'
              : `Queued ${what} for another attempt${serial !== undefined ? ` under the current version ${serial}` : ' under the version that routed ' + (n === 1 ? 'it' : 'them')}; a running executor picks ${n === 1 ? 'it' : 'them'} up.\n`,
          );
          if (behind.length) {
            process.stdout.write(
              `Note: ${behind.length === 1 ? `${behind[0]} was` : `${behind.length} of them were`} routed under an older version than the applied one; ` +
                `if you fixed the actor since, retry with --current to use the actor and route as applied now.\n`,
            );
          }
        });
      }),
    );
}

/** The store keeps run_at and lease_until as epoch ms; --json gives every time as ISO-8601 UTC, like created_at. */
function deliveryJson<T extends { run_at: number; lease_until: number | null }>(d: T): Omit<T, 'run_at' | 'lease_until'> & { run_at: string; lease_until: string | null } {
  return { ...d, run_at: new Date(d.run_at).toISOString(), lease_until: d.lease_until === null ? null : new Date(d.lease_until).toISOString() };
}
