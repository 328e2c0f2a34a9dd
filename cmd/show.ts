import type { Command } from 'commander';
import { UserError } from '../engine/errors.js';
import { action, globals, printJson, workspaceLine } from './util.js';
import { pickFormat, renderPlan } from './plan-common.js';

export function register(program: Command): void {
  program
    .command('show')
    .description('show the applied state (resources, their attributes with secrets masked, the version), or render a saved plan file')
    .argument('[planfile]', 'a plan file from `orgloop plan -out FILE` (without it: the current applied state)')
    .option('--json', 'machine-readable: the plan (docs/plan-json.md), or the state: { state, lineage, serial, version, project, resources: [{ address, kind, provider, attributes, depends_on, provider_state, prompt_sha256 }] }')
    .option('--format <format>', 'text | json | markdown (markdown: plan files only)', 'text')
    .addHelpText(
      'after',
      `
Without a plan file, show prints the current version of the state given by --state (or
ORGLOOP_STATE, default .orgloop/state.db beside the project): its serial, kind, time, who
and git commit, then every resource with its attributes, the resources it depends on and
what its provider recorded about the object it manages (a GitHub webhook's id). Sensitive
values show only the variable they come from. It reads no project files: it shows what is
applied, not what the YAML says (\`orgloop plan\` compares the two). One resource with its
prompt text: \`orgloop state show ADDR\`.`,
    )
    .action(
      action(async (file: string | undefined, opts: { json?: boolean; format?: string }, cmd: Command) => {
        const format = pickFormat(opts);
        const g = globals(cmd);
        if (file !== undefined) {
          const { readPlanFile } = await import('../engine/plan/planfile.js');
          process.stdout.write(await renderPlan(readPlanFile(file), format, g.color));
          return;
        }
        if (format === 'markdown') throw new UserError('--format markdown renders plan files only; for the applied state use text or --json');
        const [{ openWorkspaceStoreToRead }, { currentState, stateJson }, { renderState }] = await Promise.all([
          import('../engine/workspace.js'),
          import('../engine/state-edit/show.js'),
          import('./show-state.js'),
        ]);
        const { store } = await openWorkspaceStoreToRead(g);
        try {
          const shown = await currentState(store);
          if (format === 'json') printJson(stateJson(shown));
          else process.stdout.write(workspaceLine(g) + renderState(shown, g.color));
        } finally {
          await store.close();
        }
      }),
    );
}
