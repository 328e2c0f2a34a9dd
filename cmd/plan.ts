import type { Command } from 'commander';
import { EXIT, UserError } from '../engine/errors.js';
import type { Format } from './plan-common.js';
import { action, durationFlag, globals, workspaceLine } from './util.js';
import { addRefreshFlags, pickFormat, repeatable, refreshWanted, renderPlan, stateKey } from './plan-common.js';

interface PlanOpts {
  out?: string;
  json?: boolean;
  format?: string;
  detailedExitcode?: boolean;
  target?: string[];
  exclude?: string[];
  refreshOnly?: boolean;
  destroy?: boolean;
  refresh?: boolean | string;
  traffic: boolean;
  trafficWindow: string;
}

export function register(program: Command): void {
  addRefreshFlags(program.command('plan'))
    .description('show what apply would change: the configuration on disk compared with the applied state')
    .option('-o, --out <file>', 'save the plan (with its config snapshot and prompt texts) for `orgloop apply FILE`')
    .option('--json', 'machine-readable plan (same as --format json; see docs/plan-json.md)')
    .option('--format <format>', 'text | json | markdown (a pull-request comment)', 'text')
    .option('--detailed-exitcode', 'exit 2 when there are changes (0 none, 1 error)')
    .option('--target <addr>', 'plan only this resource (and what it depends on); repeatable; KIND.NAME, KIND or a * glob', repeatable, [])
    .option('--refresh-only', 'compare the applied state with reality instead (same as `orgloop drift`; exit 2 on drift)')
    .option('--destroy', 'plan removing everything applied (what `orgloop destroy` would do); Terraform\'s -destroy')
    .option('--exclude <addr>', 'leave this resource out of the plan; repeatable', repeatable, [])
    .option('--traffic-window <duration>', 'run the changed routes over the events the store received in this window (e.g. 24h, 7d)', '7d')
    .option('--no-traffic', 'do not annotate the plan with stored traffic')
    .addHelpText(
      'after',
      `
Loads the project (-c), compares it with the current applied version in the state store
(--state, ORGLOOP_STATE, default .orgloop/state.db beside the project) and prints every
create (+), update (~), destroy (-) and replace (-/+), with field diffs, prompt text diffs,
and what the change does to the routing topology. Secret values are never shown: a changed
secret reads "(sensitive value changed)".

Exit codes: 0 success (with --detailed-exitcode: no changes), 1 error, 2 changes present
(only with --detailed-exitcode).

Refresh: first, every external object a provider manages (e.g. the repository webhook of a
github-webhook source) is read back. One deleted outside orgloop is planned as a create
("deleted outside orgloop"), one edited there as an update naming each difference, so apply
puts it back as configured. --refresh=false (or --no-refresh) skips this and plans against
the state as recorded; use it when the provider's API is unreachable.

Examples:
  orgloop plan
  orgloop plan -out plan.json && orgloop apply plan.json
  orgloop plan --format markdown > comment.md
  orgloop plan --target route.pr-review --detailed-exitcode
  orgloop plan --refresh=false
  orgloop plan -destroy -out destroy.plan && orgloop apply destroy.plan`,
    )
    .action(
      action(async (opts: PlanOpts, cmd: Command) => {
        const g = globals(cmd);
        const format = pickFormat(opts);
        const refresh = refreshWanted(opts.refresh);
        if (opts.destroy && opts.refreshOnly) throw new UserError('--destroy and --refresh-only cannot be combined');
        if (opts.refreshOnly) return (await import('./drift.js')).runDrift(cmd, { json: format === 'json' });
        if (opts.destroy) return planDestroyCommand(cmd, opts, format);
        const [{ loadProject }, { openWorkspaceStore, openWorkspaceStoreToRead }, { planFromProject }, { formatWarning }] = await Promise.all([
          import('../engine/config/load.js'),
          import('../engine/workspace.js'),
          import('../engine/plan/plan.js'),
          import('../engine/errors.js'),
        ]);
        const project = await loadProject(g.config);
        // A saved plan must name the state it applies to, so -out creates it; a plain plan creates nothing.
        const { store, missing } = opts.out ? { store: await openWorkspaceStore(g), missing: null } : await openWorkspaceStoreToRead(g);
        if (format === 'text' && workspaceLine(g)) process.stdout.write(workspaceLine(g) + '\n');
        if (missing) {
          // Text goes to people: say it first, on stdout; JSON and markdown stay documents.
          const note = `No applied state at ${missing}: planning from nothing (plan creates nothing; \`orgloop apply\` creates it).\n`;
          (format === 'text' ? process.stdout : process.stderr).write(note + (format === 'text' ? '\n' : ''));
        }
        try {
          const plan = await planFromProject(store, project, {
            targeting: { target: opts.target ?? [], exclude: opts.exclude ?? [] },
            warnings: project.warnings.map(formatWarning),
            refresh,
            stateKey,
            traffic: opts.traffic ? { windowMs: durationFlag('--traffic-window', opts.trafficWindow), label: opts.trafficWindow } : undefined,
          });
          if (opts.out) {
            const { writePlanFile } = await import('../engine/plan/planfile.js');
            writePlanFile(opts.out, plan);
          }
          process.stdout.write(await renderPlan(plan, format, g.color));
          if (opts.out && format === 'text') {
            process.stdout.write(`\nSaved the plan to ${opts.out}. To apply exactly these changes, run: orgloop apply ${opts.out}\n`);
          }
          return opts.detailedExitcode && plan.changes.length ? EXIT.CHANGES : EXIT.OK;
        } finally {
          await store.close();
        }
      }),
    );
}

/** `plan -destroy`: the applied state against nothing. The project files are not read. */
async function planDestroyCommand(cmd: Command, opts: PlanOpts, format: Format): Promise<number> {
  if (opts.target?.length || opts.exclude?.length) {
    throw new UserError('--destroy plans removing everything applied; --target/--exclude are not supported with it (remove resources from the project file and apply instead)');
  }
  const g = globals(cmd);
  const [{ openWorkspaceStore, openWorkspaceStoreToRead }, { planDestroy }] = await Promise.all([
    import('../engine/workspace.js'),
    import('../engine/plan/destroy.js'),
  ]);
  const { store, missing } = opts.out ? { store: await openWorkspaceStore(g), missing: null } : await openWorkspaceStoreToRead(g);
  if (format === 'text' && workspaceLine(g)) process.stdout.write(workspaceLine(g) + '\n');
  try {
    const plan = await planDestroy(store);
    if (missing && format === 'text') process.stdout.write(`No applied state at ${missing}: there is nothing to destroy.\n\n`);
    if (opts.out) {
      const { writePlanFile } = await import('../engine/plan/planfile.js');
      writePlanFile(opts.out, plan);
    }
    process.stdout.write(await renderPlan(plan, format, g.color));
    if (opts.out && format === 'text') {
      process.stdout.write(`\nSaved the destroy plan to ${opts.out}. To apply exactly these changes, run: orgloop apply ${opts.out}\n`);
    }
    return opts.detailedExitcode && plan.changes.length ? EXIT.CHANGES : EXIT.OK;
  } finally {
    await store.close();
  }
}
