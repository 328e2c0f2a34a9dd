import type { Command } from 'commander';
import { EXIT, UserError } from '../engine/errors.js';
import { action, askYes, globals, workspaceLine } from './util.js';
import { parseLockTimeout } from './plan-common.js';
import { whoAmI } from './who.js';
import { projectGit } from './git.js';

interface DestroyOpts {
  autoApprove?: boolean;
  cancelPending?: boolean;
  lockTimeout: string;
  message?: string;
}

export function register(program: Command): void {
  program
    .command('destroy')
    .description('remove everything applied: plan -destroy, confirm, apply (provider delete hooks run)')
    .option('--auto-approve', 'do not ask for confirmation (needed without a terminal)')
    .option('--cancel-pending', 'with --auto-approve: allow cancelling pending deliveries to the removed actors (refused otherwise)')
    .option('--lock-timeout <duration>', 'how long to wait for the state lock (e.g. 0s, 30s, 2m)', '30s')
    .option('-m, --message <text>', 'message recorded with the new (empty) state version', 'Destroy')
    .addHelpText(
      'after',
      `
Plans from the applied state to nothing (the project files are not read: the state says what
exists), shows the plan and asks "Do you really want to destroy all resources?" (only "yes"
approves). Applying it calls each provider's delete hook (e.g. removes a GitHub repository
webhook), dependents first, and writes a new, empty version of kind "destroy". Runtime data
(events, delivery history) stays in the store; \`orgloop rollback --to N\` brings a version back.

Pending deliveries to the removed actors are cancelled; with --auto-approve that is refused
unless --cancel-pending is given. To review first: orgloop plan -destroy -out d.plan; then
orgloop apply d.plan.

Exit codes: 0 destroyed (or nothing to destroy), 1 error or cancelled, 3 state lock not acquired.`,
    )
    .action(
      action(async (opts: DestroyOpts, cmd: Command) => {
        const lockTimeoutMs = parseLockTimeout(opts.lockTimeout);
        if (!opts.autoApprove && !process.stdin.isTTY) {
          throw new UserError(
            'destroy needs confirmation, but there is no terminal to ask on: run it on a terminal, pass --auto-approve, or save the plan (orgloop plan -destroy -out FILE) and apply that',
          );
        }
        const g = globals(cmd);
        const [{ openWorkspaceStoreToRead }, { planDestroy }, { runApplySession }, { renderText }] = await Promise.all([
          import('../engine/workspace.js'),
          import('../engine/plan/destroy.js'),
          import('../engine/apply/session.js'),
          import('../engine/plan/render-text.js'),
        ]);
        // nothing applied: say so without creating a state file
        const { store, missing } = await openWorkspaceStoreToRead(g);
        if (workspaceLine(g)) process.stdout.write(workspaceLine(g) + '\n');
        try {
          if (missing || (await store.meta()).serial === 0) {
            process.stdout.write(`No changes. Nothing has been applied to ${store.location}; there is nothing to destroy.\n`);
            return EXIT.OK;
          }
          const session = await runApplySession(store, {
            operation: 'destroy',
            who: whoAmI(),
            git: projectGit(g.config),
            lockTimeoutMs,
            makePlan: () => planDestroy(store),
            kind: 'destroy',
            unattended: !!opts.autoApprove,
            cancelPending: !!opts.cancelPending,
            message: opts.message ?? 'Destroy',
            confirm: async (plan) => {
              process.stdout.write(renderText(plan, { color: g.color }));
              return opts.autoApprove ? true : askYes('\nDo you really want to destroy all resources?\n  orgloop will remove everything applied, as shown above. There is no undo except `orgloop rollback`.\n  Only \'yes\' will be accepted to approve.\n\n  Enter a value: ');
            },
            progress: (line) => process.stdout.write(line + '\n'),
            warn: (line) => process.stderr.write(`Warning: ${line}\n`),
          });
          if (session.cancelled) throw new UserError('Destroy cancelled.');
          if (!session.result) {
            process.stdout.write('No changes. The current version has no resources; there is nothing to destroy.\n');
            return EXIT.OK;
          }
          const s = session.result.summary;
          process.stdout.write(`\nDestroy complete! Resources: ${s.destroy} destroyed.\n`);
          if (session.result.version) process.stdout.write(`State serial: ${session.result.version.serial}\n`);
          return EXIT.OK;
        } finally {
          await store.close();
        }
      }),
    );
}

