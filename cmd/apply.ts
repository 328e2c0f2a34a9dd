import type { Command } from 'commander';
import { EXIT, UserError } from '../engine/errors.js';
import type { Plan } from '../engine/plan/types.js';
import type { ApplyResult } from '../engine/apply/apply.js';
import { action, askYes, globals, workspaceLine, printJson } from './util.js';
import { addRefreshFlags, applyComplete, parseLockTimeout, refreshWanted, renderPlan, stateKey } from './plan-common.js';
import { whoAmI } from './who.js';
import { projectGit } from './git.js';

interface ApplyOpts {
  autoApprove?: boolean;
  lockTimeout: string;
  message?: string;
  json?: boolean;
  refresh?: boolean | string;
  cancelPending?: boolean;
}

export function register(program: Command): void {
  addRefreshFlags(program.command('apply'))
    .description('apply the configuration (or a saved plan) to the state, calling provider hooks')
    .argument('[planfile]', 'a plan saved with `orgloop plan -out FILE`: applies exactly that snapshot')
    .option('--auto-approve', 'do not ask for confirmation (needed without a terminal unless a plan file is given)')
    .option('--cancel-pending', 'with --auto-approve or a plan file: allow cancelling pending deliveries to removed actors (refused otherwise)')
    .option('--lock-timeout <duration>', 'how long to wait for the state lock (e.g. 0s, 30s, 2m)', '30s')
    .option('-m, --message <text>', 'message recorded with the new state version (shown by `orgloop history`)')
    .option('--json', 'machine-readable result (requires --auto-approve or a plan file)')
    .addHelpText(
      'after',
      `
Without a plan file: takes the state lock, plans the configuration on disk against the
current state, shows the plan and asks "Do you want to perform these actions?" (only "yes"
approves). Without a terminal it refuses unless --auto-approve is given.

With a plan file: applies the snapshot saved in it, as reviewed. It is refused (exit 4) if
the state changed since the plan was made (stale) or the plan was made for another state
(foreign).

Pending deliveries: removing an actor cancels the deliveries still waiting for it. An apply
nobody confirms (--auto-approve, a plan file) refuses to do that unless --cancel-pending is
given. A renamed actor, route or source keeps its pending deliveries (or cursor) when the
rename is declared in the project file, as Terraform's moved blocks:
  moved:
    - { from: actor.reviewer, to: actor.pr-reviewer }
(or run \`orgloop state mv actor.reviewer actor.pr-reviewer\` before applying).

Provider hooks (create/update/delete) run dependencies first; deletes run last in reverse
order. The new version (serial + 1) is written in one transaction. If a hook fails, the
changes that succeeded are recorded, so the state matches reality, and apply exits 1.

Exit codes: 0 applied or nothing to do, 1 error or cancelled, 3 state lock not acquired
(the holder is named), 4 stale or foreign plan file.`,
    )
    .action(
      action(async (planFile: string | undefined, opts: ApplyOpts, cmd: Command) => {
        const g = globals(cmd);
        const color = g.color;
        const lockTimeoutMs = parseLockTimeout(opts.lockTimeout);
        const refresh = refreshWanted(opts.refresh);
        const interactive = !planFile && !opts.autoApprove;
        if (interactive && (opts.json || !process.stdin.isTTY)) {
          throw new UserError(
            opts.json
              ? 'apply --json cannot ask for confirmation: add --auto-approve, or apply a saved plan file'
              : 'apply needs confirmation, but there is no terminal to ask on: run it on a terminal, pass --auto-approve, or apply a saved plan (orgloop plan -out FILE; orgloop apply FILE)',
          );
        }
        const [{ openWorkspaceStore }, { runApplySession }] = await Promise.all([
          import('../engine/workspace.js'),
          import('../engine/apply/session.js'),
        ]);

        let makePlan: () => Promise<Plan>;
        // a plan saved by `rollback -out` restores a stored version: record it as a rollback
        let restores: number | null = null;
        // a plan saved by `plan -destroy -out` is recorded as a destroy
        let destroys = false;
        if (planFile) {
          const { readPlanFile } = await import('../engine/plan/planfile.js');
          const saved = readPlanFile(planFile);
          restores = (await import('../engine/history/rollback.js')).rollbackTarget(saved);
          destroys = (await import('../engine/plan/destroy.js')).isDestroyPlan(saved);
          makePlan = async () => saved;
        } else {
          const [{ loadProject }, { planFromProject }, { formatWarning }] = await Promise.all([
            import('../engine/config/load.js'),
            import('../engine/plan/plan.js'),
            import('../engine/errors.js'),
          ]);
          const project = await loadProject(g.config);
          makePlan = () => planFromProject(store, project, { warnings: project.warnings.map(formatWarning), refresh, stateKey });
        }

        const out = (s: string) => {
          if (!opts.json) process.stdout.write(s);
        };
        const store = await openWorkspaceStore(g);
        out(workspaceLine(g) ? workspaceLine(g) + '\n' : '');
        try {
          const session = await runApplySession(store, {
            who: whoAmI(),
            git: projectGit(g.config),
            lockTimeoutMs,
            makePlan,
            savedPlan: !!planFile,
            unattended: !interactive,
            cancelPending: !!opts.cancelPending,
            message: opts.message ?? (restores !== null ? `Rollback to ${restores}` : destroys ? 'Destroy' : null),
            ...(restores !== null ? { kind: 'rollback' as const, rollback_of: restores } : destroys ? { kind: 'destroy' as const } : {}),
            confirm: async (plan) => {
              if (!planFile) out(await renderPlan(plan, 'text', color));
              if (!interactive) return true;
              return askYes('\nDo you want to perform these actions?\n  orgloop will perform the actions described above.\n  Only \'yes\' will be accepted to approve.\n\n  Enter a value: ');
            },
            progress: (line) => out(line + '\n'),
            warn: (line) => process.stderr.write(`Warning: ${line}\n`),
          });
          if (opts.json) {
            printJson(resultJson(session.plan, session.result));
            return EXIT.OK;
          }
          if (session.cancelled) throw new UserError('Apply cancelled.');
          if (!session.result) {
            const { renderText } = await import('../engine/plan/render-text.js');
            out(renderText(session.plan, { color }));
            return EXIT.OK;
          }
          out(applyComplete(session.plan, session.result));
          return EXIT.OK;
        } finally {
          await store.close();
        }
      }),
    );
}

function resultJson(plan: Plan, result: ApplyResult | null): Record<string, unknown> {
  return {
    format_version: plan.format_version,
    applied: !!result?.version,
    serial: result?.version?.serial ?? plan.serial,
    lineage: plan.lineage,
    summary: result?.summary ?? { add: 0, change: 0, destroy: 0, replace: 0, unchanged: plan.summary.unchanged },
    changes: plan.changes.map((c) => ({ address: c.address, actions: c.actions, reason: c.reason })),
  };
}
