// `orgloop workspace list|show|new|select|delete`: Terraform's workspaces. One project file,
// several environments (staging, prod), each with its own state, executor and service. The work
// is in engine/workspaces/; which workspace a command acts on is settled in cmd/util.ts globals().

import type { Command } from 'commander';
import { action, durationFlag, globals, printJson, type GlobalOpts } from './util.js';
// already loaded by util.ts (globals() reads the selection)
import { writeSelection } from '../engine/workspaces/select.js';

export function register(program: Command): void {
  const ws = program
    .command('workspace')
    .description('named workspaces: one project, several environments (staging, prod) with their own state and executor')
    .addHelpText(
      'after',
      `
Commands act on the selected workspace: --workspace NAME, else ORGLOOP_WORKSPACE, else the one
\`orgloop workspace select\` recorded in .orgloop/workspace, else "default". "default" always
exists and keeps .orgloop/state.db; another workspace keeps its state in
.orgloop/workspaces/NAME/state.db (on Postgres: the schema orgloop_ws_NAME, or BASE_ws_NAME with
?schema=BASE) and its pid file and log in .orgloop/workspaces/NAME/.

The project file can differ per workspace: \${ORGLOOP_WORKSPACE} is the workspace's name, and
variables in .env.NAME beside the project file come before those in .env: with
defaults.port: \${PORT} in the project, PORT=4800 in .env and PORT=4810 in .env.staging, the
two executors listen on their own ports.`,
    );
  ws.command('list')
    .description('list the workspaces; * marks the selected one')
    .option('--json', 'machine-readable: { current, workspaces: [name] }')
    .action(
      action(async (opts: { json?: boolean }, cmd: Command) => {
        const g = globals(cmd);
        const { listWorkspaces } = await import('../engine/workspaces/manage.js');
        const names = await listWorkspaces(g);
        if (opts.json) return printJson({ current: g.workspace, workspaces: names });
        process.stdout.write(names.map((n) => `${n === g.workspace ? '*' : ' '} ${n}\n`).join(''));
        if (!names.includes(g.workspace)) process.stdout.write(`(selected: ${g.workspace}, which does not exist)\n`);
        return 0;
      }),
    );
  ws.command('show')
    .description('print the selected workspace\'s name (with --json: where it was chosen, its state, applied version and executors)')
    .option('--json', 'machine-readable: { name, from, state, serial, resources, executors, daemon, dir }')
    .action(
      action(async (opts: { json?: boolean }, cmd: Command) => {
        const g = globals(cmd);
        if (!opts.json) {
          process.stdout.write(`${g.workspace}\n`);
          return 0;
        }
        const { describeWorkspace } = await import('../engine/workspaces/manage.js');
        return printJson({ ...(await describeWorkspace(g, g.workspace)), from: g.workspaceFrom });
      }),
    );
  ws.command('new')
    .description('create a workspace (its empty state) and select it')
    .argument('<name>', 'a lower-case letter, then up to 29 lower-case letters, digits or _')
    .option('--no-select', 'only create it; keep the selected workspace')
    .action(
      action(async (name: string, opts: { select: boolean }, cmd: Command) => {
        const g = globals(cmd);
        const { createWorkspace } = await import('../engine/workspaces/manage.js');
        const location = await createWorkspace(g, name);
        if (!opts.select) {
          process.stdout.write(`Created workspace "${name}" (state: ${location}).\n`);
          return 0;
        }
        select(g, name);
        process.stdout.write(`Created and switched to workspace "${name}" (state: ${location}).\n`);
        overridden(g, name);
        return 0;
      }),
    );
  ws.command('select')
    .description('select the workspace later commands act on (recorded in .orgloop/workspace)')
    .argument('<name>', 'an existing workspace (`orgloop workspace list`)')
    .option('--or-create', 'create it first if it does not exist')
    .action(
      action(async (name: string, opts: { orCreate?: boolean }, cmd: Command) => {
        const g = globals(cmd);
        const [{ checkWorkspaceName }, { workspaceExists }, { createWorkspace }] = await Promise.all([
          import('../engine/workspaces/select.js'),
          import('../engine/workspace.js'),
          import('../engine/workspaces/manage.js'),
        ]);
        checkWorkspaceName(name);
        const { UserError } = await import('../engine/errors.js');
        if (!(await workspaceExists({ ...g, workspace: name }))) {
          if (!opts.orCreate) throw new UserError(`workspace "${name}" does not exist: \`orgloop workspace new ${name}\` creates it (or select it with --or-create)`);
          await createWorkspace(g, name);
          process.stdout.write(`Created workspace "${name}".\n`);
        }
        select(g, name);
        process.stdout.write(`Switched to workspace "${name}".\n`);
        overridden(g, name);
        return 0;
      }),
    );
  ws.command('delete')
    .description('delete a workspace: its state (versions, events, deliveries), pid file and log')
    .argument('<name>', 'the workspace; not "default" and not the selected one')
    .option('--force', 'delete it even with applied resources or a running executor (a background executor is stopped first)')
    .option('--timeout <duration>', 'with --force, how long a background executor gets to stop', '30s')
    .action(
      action(async (name: string, opts: { force?: boolean; timeout: string }, cmd: Command) => {
        const g = globals(cmd);
        const stopTimeoutMs = durationFlag('--timeout', opts.timeout);
        const { deleteWorkspace } = await import('../engine/workspaces/manage.js');
        const r = await deleteWorkspace(g, name, { current: g.workspace, force: !!opts.force, stopTimeoutMs });
        if (r.stopped) process.stdout.write(`Stopped the executor of workspace "${name}" (pid ${r.stopped}).\n`);
        if (r.info.executors && !r.info.daemon) process.stderr.write(`Warning: ${r.info.executors} executor(s) of workspace "${name}" had a live heartbeat; stop them (they run on the deleted state).\n`);
        process.stdout.write(`Deleted workspace "${name}" (state: ${r.info.state}${r.info.resources ? `, ${r.info.resources} resource(s) at version ${r.info.serial}` : ''}).\n`);
        for (const f of r.services) process.stderr.write(`Warning: the service ${f} still runs workspace "${name}": remove it with \`orgloop --workspace ${name} service uninstall\`.\n`);
        return 0;
      }),
    );
}

function select(g: GlobalOpts, name: string): void {
  writeSelection(g.config, name);
}

/** --workspace and ORGLOOP_WORKSPACE come before the selection: say so rather than surprise. */
function overridden(g: GlobalOpts, name: string): void {
  if ((g.workspaceFrom === 'flag' || g.workspaceFrom === 'env') && g.workspace !== name) {
    const by = g.workspaceFrom === 'flag' ? '--workspace' : 'ORGLOOP_WORKSPACE';
    process.stderr.write(`Note: ${by} selects "${g.workspace}" for commands that pass it; without it they act on "${name}".\n`);
  }
}
