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
    .option('--event <id>', 'only deliveries of this event')
    .option('-n, --limit <n>', 'how many', '50')
    .option('--json', 'machine-readable output')
    .action(
      action(async (flags: { status?: string; route?: string; event?: string; limit: string; json?: boolean }, cmd: Command) => {
        if (flags.status && !STATUSES.includes(flags.status)) throw new UserError(`invalid --status "${flags.status}": expected one of ${STATUSES.join(', ')}`);
        const limit = Number(flags.limit);
        if (!Number.isInteger(limit) || limit <= 0) throw new UserError(`invalid --limit "${flags.limit}": expected a positive integer`);
        return withStore(cmd, async (store) => {
          const rows = await store.deliveries({ status: flags.status as DeliveryStatus | undefined, route: flags.route, event_id: flags.event, limit });
          if (flags.json) return printJson(rows);
          if (rows.length === 0) return void process.stdout.write('No deliveries.\n');
          const { describeDelivery } = await import('../engine/run/inspect.js');
          for (const d of rows) {
            process.stdout.write(`${d.id}  ${d.route} -> ${d.actor}  ${describeDelivery(d)}  event ${d.event_id}${d.last_error ? `\n    last error: ${forTerminal(d.last_error)}` : ''}\n`);
          }
        });
      }),
    );

  deliveries
    .command('show <id>')
    .description('one delivery, with its event')
    .option('--json', 'machine-readable output')
    .action(
      action(async (id: string, flags: { json?: boolean }, cmd: Command) =>
        withStore(cmd, async (store) => {
          const d = await store.delivery(id);
          if (!d) throw new UserError(`no delivery "${id}" (see \`orgloop deliveries list\`)`);
          const ev = await store.event(d.event_id);
          if (flags.json) return printJson({ ...d, event: ev ? JSON.parse(ev.event_json) : null });
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
              `  event:     ${d.event_id}`,
            ].join('\n') + '\n',
          );
          if (ev) process.stdout.write(JSON.stringify(JSON.parse(ev.event_json), null, 2) + '\n');
        }),
      ),
    );

  deliveries
    .command('retry [id]')
    .description('send a dead (or cancelled) delivery again, attempts reset; --all-dead retries every dead delivery')
    .option('--all-dead', 'retry every dead delivery')
    .option('--json', 'machine-readable output')
    .action(
      action(async (id: string | undefined, flags: { allDead?: boolean; json?: boolean }, cmd: Command) => {
        if (!id && !flags.allDead) throw new UserError('give a delivery id, or --all-dead');
        if (id && flags.allDead) throw new UserError('give either a delivery id or --all-dead, not both');
        return withStore(cmd, async (store) => {
          let ids: string[];
          if (id) {
            const d = await store.delivery(id);
            if (!d) throw new UserError(`no delivery "${id}" (see \`orgloop deliveries list --status dead\`)`);
            if (d.status !== 'dead' && d.status !== 'cancelled') throw new UserError(`delivery ${id} is ${d.status}; only dead or cancelled deliveries can be retried`);
            ids = [id];
          } else {
            ids = [];
            // page through: redriven rows leave the dead set, so each query returns the next ones
            for (;;) {
              const page = await store.deliveries({ status: 'dead', limit: 1000 });
              const fresh = page.filter((d) => !ids.includes(d.id));
              if (fresh.length === 0) break;
              for (const d of fresh) if (await store.redrive(d.id)) ids.push(d.id);
            }
          }
          const done: string[] = [];
          for (const x of ids) if (id ? await store.redrive(x) : true) done.push(x);
          if (flags.json) return printJson({ retried: done });
          process.stdout.write(
            done.length === 0
              ? 'No dead deliveries to retry.\n'
              : `Queued ${done.length} deliver${done.length === 1 ? 'y' : 'ies'} for another attempt${id ? '' : ''}; a running executor picks ${done.length === 1 ? 'it' : 'them'} up.\n`,
          );
        });
      }),
    );
}
