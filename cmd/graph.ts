import type { Command } from 'commander';
import { UserError } from '../engine/errors.js';
import { action, globals } from './util.js';

interface GraphOpts {
  format: string;
  plan?: string;
  applied?: boolean;
  changed?: boolean;
  direction: string;
}

export function register(program: Command): void {
  program
    .command('graph')
    .description('draw the routing topology: sources -> routes -> actors, with transforms and actor.stopped loops')
    .option('--format <format>', 'mermaid | dot', 'mermaid')
    .option('--plan <file>', 'draw a saved plan: additions green, changes yellow/orange, removals red and dashed')
    .option('--applied', 'draw the currently applied version from the state store instead of the YAML')
    .option('--changed', 'with --plan: only what the plan changes and its neighbours')
    .option('--direction <dir>', 'Mermaid layout direction: LR | TD', 'LR')
    .addHelpText(
      'after',
      `
Sources are stadiums, routes hexagons, actors boxes. Edges into a route carry its event
types; edges into an actor carry the route's transforms in order. A dashed edge from an
actor into a route is an actor.stopped loop. Loggers observe every step and are listed in a
comment. Paste Mermaid output into a \`\`\`mermaid block (GitHub renders it); render dot with
\`dot -Tsvg\`.`,
    )
    .action(
      action(async (opts: GraphOpts, cmd: Command) => {
        const format = opts.format.toLowerCase();
        if (format !== 'mermaid' && format !== 'dot') throw new UserError(`--format must be mermaid or dot (got "${opts.format}")`);
        const direction = opts.direction.toUpperCase();
        if (direction !== 'LR' && direction !== 'TD') throw new UserError(`--direction must be LR or TD (got "${opts.direction}")`);
        if (opts.plan && opts.applied) throw new UserError('--plan and --applied cannot be combined');
        if (opts.changed && !opts.plan) throw new UserError('--changed needs --plan FILE');
        const g = globals(cmd);
        const model = await import('../engine/graph/render-model.js');
        let topology;
        if (opts.plan) {
          const { readPlanFile } = await import('../engine/plan/planfile.js');
          const plan = readPlanFile(opts.plan);
          const { before, after, actions } = model.fromPlan(plan);
          topology = model.buildPlanTopology(before, after, actions);
          if (opts.changed) topology = model.focusChanged(topology);
        } else if (opts.applied) {
          const { openWorkspaceStoreToRead, statePath } = await import('../engine/workspace.js');
          const { store } = await openWorkspaceStoreToRead(g);
          try {
            const current = await store.current();
            if (!current) throw new UserError(`nothing has been applied yet in ${statePath(g)}`);
            topology = model.buildTopology(model.fromSnapshot(current.snapshot));
          } finally {
            await store.close();
          }
        } else {
          const { loadProject } = await import('../engine/config/load.js');
          const project = await loadProject(g.config);
          topology = model.buildTopology(model.fromProject(project));
        }
        if (format === 'dot') {
          const { renderDot } = await import('../engine/graph/render-dot.js');
          process.stdout.write(renderDot(topology));
        } else {
          const { renderMermaid } = await import('../engine/graph/render-mermaid.js');
          process.stdout.write(renderMermaid(topology, { direction: direction as 'LR' | 'TD' }));
        }
      }),
    );
}
