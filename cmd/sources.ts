import type { Command } from 'commander';
import { action, globals, printJson } from './util.js';

export function register(program: Command): void {
  const sources = program.command('sources').description('act on the sources of the applied version');

  sources
    .command('fire <source>')
    .description(
      'fire a cron source now, outside its schedule: the event a tick would emit (marked payload.manual: true), routed ' +
        'against the applied version; a running executor delivers it. The schedule itself is unchanged (`orgloop status` shows the next tick).',
    )
    .option('--schedule <name>', 'for a source with several named schedules: fire only this one (default: each)')
    .option('--json', 'machine-readable output')
    .action(
      action(async (source: string, flags: { schedule?: string; json?: boolean }, cmd: Command) => {
        const { withWorkspaceStore } = await import('../engine/workspace.js');
        const { fireCronNow } = await import('../engine/run/inspect.js');
        return withWorkspaceStore(globals(cmd), async (store) => {
          const r = await fireCronNow(store, source, flags.schedule);
          if (flags.json) return printJson(r);
          for (const e of r.events) {
            const n = e.deliveries.length;
            process.stdout.write(
              `Fired ${source} as ${e.event_id} against version ${r.serial}: ${n} deliver${n === 1 ? 'y' : 'ies'}` +
                (n ? ` (${e.deliveries.map((d) => `${d.route} -> ${d.actor}`).join(', ')}); a running executor delivers ${n === 1 ? 'it' : 'them'}` : ' (no route matches it)') +
                '.\n',
            );
          }
        });
      }),
    );
}
