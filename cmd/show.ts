import type { Command } from 'commander';
import { action, globals } from './util.js';
import { pickFormat, renderPlan } from './plan-common.js';

export function register(program: Command): void {
  program
    .command('show')
    .description('render a saved plan file (from `orgloop plan -out FILE`)')
    .argument('<planfile>', 'the plan file')
    .option('--json', 'machine-readable plan (see docs/plan-json.md)')
    .option('--format <format>', 'text | json | markdown', 'text')
    .action(
      action(async (file: string, opts: { json?: boolean; format?: string }, cmd: Command) => {
        const format = pickFormat(opts);
        const { readPlanFile } = await import('../engine/plan/planfile.js');
        const plan = readPlanFile(file);
        process.stdout.write(await renderPlan(plan, format, globals(cmd).color));
      }),
    );
}
