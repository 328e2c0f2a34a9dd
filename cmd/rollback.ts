import type { Command } from 'commander';
import { EXIT, UserError } from '../engine/errors.js';
import { action, askYes, globals } from './util.js';
import { addRefreshFlags, parseLockTimeout, refreshWanted } from './plan-common.js';
import { whoAmI } from './who.js';
import { projectGit } from './git.js';

interface RollbackOpts {
  to: string;
  out?: string;
  autoApprove?: boolean;
  cancelPending?: boolean;
  lockTimeout: string;
  refresh?: boolean | string;
}

export function register(program: Command): void {
  addRefreshFlags(program.command('rollback'))
    .description('return to an earlier applied version: a reviewable plan to its exact snapshot, applied as a rollback')
    .requiredOption('--to <serial>', 'the version to restore (see `orgloop history`)')
    .option('-o, --out <file>', 'save the rollback plan instead of applying it (apply it later with `orgloop apply FILE`)')
    .option('--auto-approve', 'apply without asking for confirmation')
    .option('--cancel-pending', 'with --auto-approve: allow cancelling pending deliveries to actors the rollback removes (refused otherwise)')
    .option('--lock-timeout <duration>', 'how long to wait for the state lock (e.g. 0s, 30s, 2m)', '30s')
    .addHelpText(
      'after',
      `
The plan goes from the current version to version N's snapshot, including the exact prompt
texts of version N (from the state store, whatever the files on disk say now). Applying it
calls provider hooks like any apply and writes a new version of kind "rollback" with the
message "Rollback to N". Cursors and deliveries are not rewound.

Your YAML is not changed: a later \`orgloop plan\` compares against the files again, and warns
when it would re-apply the changes that were rolled back.

Exit codes: 0 rolled back (or nothing to do), 1 error or cancelled, 3 state lock not acquired.`,
    )
    .action(
      action(async (opts: RollbackOpts, cmd: Command) => {
        const to = Number(opts.to.replace(/^v/i, ''));
        if (!Number.isInteger(to) || to < 1) throw new UserError(`--to must be a version number from \`orgloop history\` (got "${opts.to}")`);
        if (opts.out && opts.autoApprove) throw new UserError('--out saves the plan without applying it; it cannot be combined with --auto-approve');
        const lockTimeoutMs = parseLockTimeout(opts.lockTimeout);
        const refresh = refreshWanted(opts.refresh);
        if (!opts.out && !opts.autoApprove && !process.stdin.isTTY) {
          throw new UserError(
            'rollback needs confirmation, but there is no terminal to ask on: run it on a terminal, pass --auto-approve, or save the plan with --out FILE and apply that',
          );
        }
        const g = globals(cmd);
        const color = g.color;
        const [{ openWorkspaceStore }, { planRollback, rollbackMessage }, { renderText }] = await Promise.all([
          import('../engine/workspace.js'),
          import('../engine/history/rollback.js'),
          import('../engine/plan/render-text.js'),
        ]);
        const store = await openWorkspaceStore(g);
        try {
          if (opts.out) {
            const plan = await planRollback(store, to, { refresh });
            const { writePlanFile } = await import('../engine/plan/planfile.js');
            writePlanFile(opts.out, plan);
            process.stdout.write(renderText(plan, { color }));
            process.stdout.write(`\nSaved the rollback plan to ${opts.out}. To apply it: orgloop apply ${opts.out}\n`);
            return EXIT.OK;
          }
          const { runApplySession } = await import('../engine/apply/session.js');
          const session = await runApplySession(store, {
            operation: `rollback --to ${to}`,
            who: whoAmI(),
            git: projectGit(g.config),
            lockTimeoutMs,
            makePlan: () => planRollback(store, to, { refresh }),
            kind: 'rollback',
            rollback_of: to,
            unattended: !!opts.autoApprove,
            cancelPending: !!opts.cancelPending,
            message: rollbackMessage(to),
            confirm: async (plan) => {
              process.stdout.write(renderText(plan, { color }));
              return opts.autoApprove ? true : askYes(`\nRoll back to version ${to}?\n  Only 'yes' will be accepted to approve.\n\n  Enter a value: `);
            },
            progress: (line) => process.stdout.write(line + '\n'),
            warn: (line) => process.stderr.write(`Warning: ${line}\n`),
          });
          if (session.cancelled) throw new UserError('Rollback cancelled.');
          if (!session.result) {
            process.stdout.write(renderText(session.plan, { color }));
            process.stdout.write(`\nThe current version already declares what version ${to} declared; nothing to roll back.\n`);
            return EXIT.OK;
          }
          const s = session.result.summary;
          process.stdout.write(`\nRollback complete! Resources: ${s.add} added, ${s.change} changed, ${s.destroy} destroyed.\n`);
          if (session.result.version) process.stdout.write(`State serial: ${session.result.version.serial} (${rollbackMessage(to)})\n`);
          return EXIT.OK;
        } finally {
          await store.close();
        }
      }),
    );
}
