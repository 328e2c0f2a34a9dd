import type { Command } from 'commander';
import { UserError } from '../engine/errors.js';
import { action, askYes, globals, workspaceLine, type GlobalOpts } from './util.js';
import { addRunFlags, runExecutor, startSettings, type StartFlags } from './start.js';
import { addRefreshFlags, applyComplete, parseLockTimeout, refreshWanted, renderPlan, stateKey } from './plan-common.js';
import { whoAmI } from './who.js';
import { projectGit } from './git.js';

interface UpFlags extends StartFlags {
  autoApprove?: boolean;
  cancelPending?: boolean;
  lockTimeout?: string;
  refresh?: boolean | string;
}

export function register(program: Command): void {
  addRunFlags(
    addRefreshFlags(program.command('up'))
      .description('validate, plan, apply (asks first unless --auto-approve) and start the executor: one command from YAML to a running org')
      .option('--auto-approve', 'apply without asking (needed without a terminal)')
      .option('--cancel-pending', 'with --auto-approve: allow cancelling pending deliveries to removed actors (refused otherwise)')
      .option('--lock-timeout <duration>', 'how long to wait for the state lock (e.g. 0s, 30s, 2m)', '30s'),
  ).action(action(async (flags: UpFlags, cmd: Command) => up(globals(cmd), flags)));
}

/** validate -> plan -> apply (confirmed unless --auto-approve) -> run the executor. */
export async function up(g: GlobalOpts, flags: UpFlags): Promise<number> {
  const lockTimeoutMs = parseLockTimeout(flags.lockTimeout ?? '30s');
  const refresh = refreshWanted(flags.refresh);
  const settings = await startSettings(g, flags);
  if (!flags.autoApprove && !process.stdin.isTTY) {
    throw new UserError('up needs confirmation before applying, but there is no terminal to ask on: run it on a terminal or pass --auto-approve');
  }
  const [{ loadProject }, { planFromProject }, { formatWarning }, { openWorkspaceStore }, { runApplySession }] = await Promise.all([
    import('../engine/config/load.js'),
    import('../engine/plan/plan.js'),
    import('../engine/errors.js'),
    import('../engine/workspace.js'),
    import('../engine/apply/session.js'),
  ]);
  const project = await loadProject(g.config);
  const store = await openWorkspaceStore(g);
  process.stdout.write(workspaceLine(g) ? workspaceLine(g) + '\n' : '');
  try {
    const session = await runApplySession(store, {
      operation: 'up',
      who: whoAmI(),
            git: projectGit(g.config),
      lockTimeoutMs,
      unattended: !!flags.autoApprove,
      cancelPending: !!flags.cancelPending,
      makePlan: () => planFromProject(store, project, { warnings: project.warnings.map(formatWarning), refresh, stateKey }),
      confirm: async (plan) => {
        process.stdout.write(await renderPlan(plan, 'text', g.color));
        return flags.autoApprove ? true : askYes("\nDo you want to apply these changes and start?\n  Only 'yes' will be accepted to approve.\n\n  Enter a value: ");
      },
      progress: (line) => process.stdout.write(line + '\n'),
      warn: (line) => process.stderr.write(`Warning: ${line}\n`),
    });
    if (session.cancelled) throw new UserError('Cancelled: nothing applied, executor not started.');
    if (session.result) process.stdout.write(applyComplete(session.plan, session.result));
    else {
      // the plan, which carries the config warnings, is only shown when there is something to apply
      for (const w of session.plan.warnings) process.stderr.write(`Warning: ${w}\n`);
      process.stdout.write('No changes: running the applied version.\n');
    }
  } finally {
    await store.close();
  }
  return runExecutor(g, settings);
}
