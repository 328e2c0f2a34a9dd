import type { Command } from 'commander';
import { UserError } from '../engine/errors.js';
import { action, askYes, globals } from './util.js';

export function register(program: Command): void {
  program
    .command('force-unlock')
    .description('remove a state lock left behind by an operation that is gone')
    .argument('<id>', 'the lock ID (printed by the command that could not get the lock)')
    .option('--force', 'do not ask for confirmation (needed without a terminal)')
    .addHelpText(
      'after',
      `
Only use this when the process holding the lock is really gone; removing the lock of a
running apply lets two writers change the state at once. orgloop already takes over locks
whose process is gone on this host, or whose heartbeat stopped, by itself.`,
    )
    .action(
      action(async (id: string, opts: { force?: boolean }, cmd: Command) => {
        const g = globals(cmd);
        const [{ openWorkspaceStore }, { forceUnlock, describeLock }] = await Promise.all([
          import('../engine/workspace.js'),
          import('../engine/apply/lock.js'),
        ]);
        const store = await openWorkspaceStore(g);
        try {
          if (!opts.force) {
            if (!process.stdin.isTTY) throw new UserError('force-unlock needs confirmation: run it on a terminal or pass --force');
            const holder = await store.lockHolder();
            if (holder?.id === id) process.stdout.write(`The lock:\n${describeLock(holder)}\n`);
            if (!(await askYes(`Do you really want to force-unlock ${id}? Only 'yes' will be accepted: `))) throw new UserError('force-unlock cancelled.');
          }
          const was = await forceUnlock(store, id);
          process.stdout.write(`Released the state lock ${was.id} (held by ${was.who} on ${was.host}, pid ${was.pid}).\n`);
        } finally {
          await store.close();
        }
      }),
    );
}
