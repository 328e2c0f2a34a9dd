import type { Command } from 'commander';
import { action, globals, printJson } from './util.js';

export function register(program: Command): void {
  program
    .command('routes')
    .description('the routing topology: source [events] {filter} -> transforms -> actor (prompt). Shows the applied version; --local shows the config on disk')
    .option('--local', 'read the config on disk instead of the applied version')
    .option('--json', 'machine-readable output')
    .action(
      action(async (flags: { local?: boolean; json?: boolean }, cmd: Command) => {
        const g = globals(cmd);
        const { routeViews, snapshotResources } = await import('../engine/run/inspect.js');
        let views;
        let origin: string;
        if (flags.local) {
          const { loadProject } = await import('../engine/config/load.js');
          const project = await loadProject(g.config);
          views = routeViews(project.resources.map((r) => ({ kind: r.kind, name: r.name, spec: r.spec as any })));
          origin = `config ${g.config}`;
        } else {
          const { openWorkspaceStoreToRead } = await import('../engine/workspace.js');
          const { store } = await openWorkspaceStoreToRead(g);
          try {
            const cur = await store.current();
            if (!cur) {
              process.stderr.write(`No applied version in ${store.location}. Run \`orgloop apply\` first, or use --local to read the config on disk.\n`);
              return 1;
            }
            views = routeViews(snapshotResources(cur.snapshot));
            origin = `applied version ${cur.serial}`;
          } finally {
            await store.close();
          }
        }
        if (flags.json) return printJson({ origin, routes: views });
        if (views.length === 0) {
          process.stdout.write(`No routes (${origin}).\n`);
          return 0;
        }
        const lines = [`Routes (${origin}):`, ''];
        let lastSource = '';
        for (const r of views) {
          if (r.source !== lastSource) {
            lines.push(`${r.source}`);
            lastSource = r.source;
          }
          const events = r.events.length ? r.events.join(', ') : 'all events';
          const filter = r.filter ? ' ' + Object.entries(r.filter).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(' ') : '';
          const transforms = r.transforms.length ? ` -> [${r.transforms.join(' -> ')}]` : '';
          const prompt = r.prompt_file ? ` (${r.prompt_file})` : '';
          lines.push(`  ${r.name}: [${events}]${filter}${transforms} -> ${r.actor}${prompt}`);
        }
        process.stdout.write(lines.join('\n') + '\n');
        return 0;
      }),
    );
}
