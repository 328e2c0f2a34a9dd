import type { Command } from 'commander';
import { EXIT, UserError } from '../engine/errors.js';
import { action, globals } from './util.js';

interface RollbackOpts {
  to: string;
  out?: string;
  autoApprove?: boolean;
  lockTimeout: string;
}

export function register(program: Command): void {
  program
    .command('rollback')
    .description('return to an earlier applied version: a reviewable plan to its exact snapshot, applied as a rollback')
    .requiredOption('--to <serial>', 'the version to restore (see `orgloop history`)')
    .option('--out <file>', 'save the rollback plan instead of applying it (apply it later with `orgloop apply FILE`)')
    .option('--auto-approve', 'apply without asking for confirmation')
    .option('--lock-timeout <duration>', 'how long to wait for the state lock', '30s')
    .addHelpText(
      'after',
      `
The plan goes from the current version to version N's snapshot, including the exact prompt
texts of version N (from the state store, whatever the files on disk say now). Applying it
calls provider hooks like any apply and writes a new version of kind "rollback" with the
message "Rollback to N". Cursors and deliveries are not rewound.

Your YAML is not changed: a later \`orgloop plan\` compares against the files again, and warns
when it would re-apply the changes that were rolled back.`,
    )
    .action(
      action(async (opts: RollbackOpts, cmd: Command) => {
        const to = Number(opts.to.replace(/^v/i, ''));
        if (!Number.isInteger(to) || to < 1) throw new UserError(`--to must be a version number from \`orgloop history\` (got "${opts.to}")`);
        if (opts.out && opts.autoApprove) throw new UserError('--out saves the plan without applying it; --auto-approve cannot be combined with it');
        const g = globals(cmd);
        const { openWorkspaceStore } = await import('../engine/workspace.js');
        const { planRollback, rollbackApplyOptions } = await import('../engine/history/rollback.js');
        const { renderText } = await import('../engine/plan/render-text.js');
        const store = await openWorkspaceStore(g);
        try {
          if (opts.out) {
            const plan = await planRollback(store, to);
            const { writePlanFile } = await import('../engine/plan/planfile.js');
            process.stdout.write(renderText(plan, { color: g.color }));
            writePlanFile(opts.out, plan);
            process.stdout.write(`\nSaved the rollback plan to ${opts.out}. To apply it: orgloop apply ${opts.out}\n`);
            return EXIT.OK;
          }
          const { acquireLock, whoAmI } = await import('../engine/apply/lock.js');
          const { parseDuration } = await import('../providers/lib/duration.js');
          const { applyPlan } = await import('../engine/apply/apply.js');
          let timeoutMs: number;
          try {
            timeoutMs = parseDuration(opts.lockTimeout);
          } catch (err) {
            throw new UserError(`--lock-timeout: ${(err as Error).message}`);
          }
          const warn = (l: string) => process.stderr.write(`Warning: ${l}\n`);
          const lock = await acquireLock(store, { operation: `rollback --to ${to}`, who: whoAmI(), timeoutMs, warn });
          try {
            const plan = await planRollback(store, to);
            process.stdout.write(renderText(plan, { color: g.color }));
            if (!plan.changes.length) {
              process.stdout.write(`\nThe current version already declares what version ${to} declared; nothing to roll back.\n`);
              return EXIT.OK;
            }
            if (!opts.autoApprove) {
              if (!process.stdin.isTTY) {
                throw new UserError('refusing to roll back without confirmation: not a terminal. Pass --auto-approve, or save the plan with --out FILE and apply that.');
              }
              const ok = await confirm(`\nRoll back to version ${to}? Only 'yes' will be accepted: `);
              if (!ok) {
                process.stdout.write('Rollback cancelled.\n');
                return EXIT.ERROR;
              }
            }
            const applyOpts = await rollbackApplyOptions(plan, whoAmI(), { progress: (l) => process.stdout.write(l + '\n'), warn });
            const result = await applyPlan(store, plan, applyOpts);
            const s = result.summary;
            process.stdout.write(
              `\nRollback complete! Resources: ${s.add} added, ${s.change} changed, ${s.destroy} destroyed.` +
                (result.version ? ` State version ${result.version.serial} (rollback to ${to}).\n` : '\n'),
            );
          } finally {
            await lock.release();
          }
        } finally {
          await store.close();
        }
      }),
    );
}

async function confirm(question: string): Promise<boolean> {
  const { createInterface } = await import('node:readline/promises');
  const rl = createInterface({ input: process.stdin, output: process.stdout });
  try {
    return (await rl.question(question)).trim() === 'yes';
  } finally {
    rl.close();
  }
}
