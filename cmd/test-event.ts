import type { Command } from 'commander';
import { readFileSync } from 'node:fs';
import { action, globals, printJson } from './util.js';
import { UserError } from '../engine/errors.js';

export function register(program: Command): void {
  program
    .command('test <event-file>')
    .summary('dry-run an event through the routes and transforms, without delivering')
    .description(
      'dry-run an event: which routes match it and what each transform does, without delivering anything.\n' +
        'EVENT.json: { "source": "github", "type": "resource.changed", "provenance": {...}, "payload": {...} } ("-" reads stdin).\n' +
        'Uses the config on disk; --applied uses the applied version instead.',
    )
    .option('--applied', 'test against the applied version in the state store')
    .option('--json', 'machine-readable output')
    .action(
      action(async (file: string, flags: { applied?: boolean; json?: boolean }, cmd: Command) => {
        const g = globals(cmd);
        let text: string;
        try {
          text = readFileSync(file === '-' ? 0 : file, 'utf8');
        } catch (err) {
          throw new UserError(`cannot read ${file}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message}`);
        }
        let raw: unknown;
        try {
          raw = JSON.parse(text);
        } catch (err) {
          throw new UserError(`${file}: invalid JSON: ${(err as Error).message}`);
        }
        const { eventFromJson, dryRun, buildDryGraph, inputFromProject } = await import('../engine/run/dry-run.js');
        let event;
        try {
          event = eventFromJson(raw);
        } catch (err) {
          throw new UserError(`${file}: ${(err as Error).message}`);
        }
        let input;
        if (flags.applied) {
          const { openWorkspaceStore } = await import('../engine/workspace.js');
          const { inputFromSnapshot } = await import('../engine/run/graph.js');
          const { graphDeps } = await import('../engine/run/executor.js');
          const store = await openWorkspaceStore(g);
          try {
            const cur = await store.current();
            if (!cur) throw new UserError(`No applied version in ${store.location}. Run \`orgloop apply\` first, or drop --applied to use the config on disk.`);
            const deps = graphDeps(cur.snapshot.project.dir, () => ({ debug() {}, info() {}, warn() {}, error() {} }));
            input = await inputFromSnapshot(cur.serial, cur.snapshot, (sha) => store.blob(sha), deps.resolve);
          } finally {
            await store.close();
          }
        } else {
          const { loadProject } = await import('../engine/config/load.js');
          input = inputFromProject(await loadProject(g.config));
        }
        let graph;
        try {
          graph = buildDryGraph(input);
        } catch (err) {
          throw new UserError((err as Error).message);
        }
        const report = await dryRun(graph, event);
        if (flags.json) return printJson(report);
        const out: string[] = [`Event ${event.type}${event.provenance.platform_event ? ` (${event.provenance.platform_event})` : ''} from ${event.source}, hops ${event.hops}`];
        if (!graph.sources.has(event.source) && !graph.actors.has(event.source)) out.push(`  warning: no source or actor named "${event.source}" is declared`);
        if (report.matched.length === 0) out.push('', 'No route matches.');
        for (const m of report.matched) {
          out.push('', `route ${m.route} -> actor ${m.actor}`);
          for (const s of m.steps) out.push(`  transform ${s.transform} (${s.type}): ${s.action}${s.detail ? ` — ${s.detail}` : ''}`);
          if (m.result === 'deliver') {
            out.push(`  => would deliver to ${m.actor}${m.prompt_chars !== null ? ` with a ${m.prompt_chars}-character prompt` : ''}`);
            if (Object.keys(m.config).length) out.push(`     config: ${JSON.stringify(m.config)}`);
          } else if (m.result === 'drop') out.push(`  => dropped, not delivered`);
          else if (m.result === 'loop-cut') out.push(`  => not delivered: loop cut (${m.detail})`);
          else out.push(`  => transform error: the delivery would be retried (${m.detail})`);
        }
        if (report.unmatched.length) {
          out.push('', `Not matched (same source):`);
          for (const u of report.unmatched) out.push(`  ${u.route}: ${u.reason}`);
        }
        process.stdout.write(out.join('\n') + '\n');
        return 0;
      }),
    );
}
