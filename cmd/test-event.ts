import type { Command } from 'commander';
import { readFileSync } from 'node:fs';
import { action, durationFlag, globals, printJson, type GlobalOpts } from './util.js';
import { UserError } from '../engine/errors.js';
import { forTerminal } from '../providers/lib/terminal.js';

export function register(program: Command): void {
  program
    .command('test [event-file]')
    .summary('dry-run an event (or the stored events) through the routes and transforms, without delivering')
    .description(
      'dry-run an event: which routes match it and what each transform does, without delivering anything.\n' +
        'EVENT.json: { "source": "github", "type": "resource.changed", "provenance": {...}, "payload": {...} } ("-" reads stdin).\n' +
        '--from-store replays the events the state store received (--since, default 24h) instead: per route, what\n' +
        'would match and what each transform would decide (filter and dedup run; script and enrich are named).\n' +
        'Uses the config on disk; --applied uses the applied version instead.',
    )
    .option('--applied', 'test against the applied version in the state store')
    .option('--from-store', 'replay the stored events of a window instead of one event file')
    .option('--since <duration>', 'with --from-store: the window, back from now (e.g. 24h, 7d)', '24h')
    .option('--source <id>', 'with --from-store: only events of this source (or actor, for actor.stopped)')
    .option('--route <name>', 'with --from-store: only this route')
    .option('--json', 'machine-readable output')
    .action(
      action(async (file: string | undefined, flags: { applied?: boolean; json?: boolean; fromStore?: boolean; since: string; source?: string; route?: string }, cmd: Command) => {
        const g = globals(cmd);
        if (flags.fromStore) {
          if (file !== undefined) throw new UserError('--from-store replays stored events: give it no event file');
          return fromStore(g, flags);
        }
        if (file === undefined) throw new UserError('orgloop test needs an event file (or --from-store to replay stored events)');
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
            input = await inputFromSnapshot(cur.serial, cur.snapshot, (sha) => store.blob(sha), deps.fillTemplate);
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

async function fromStore(g: GlobalOpts, flags: { applied?: boolean; json?: boolean; since: string; source?: string; route?: string }): Promise<number> {
  const windowMs = durationFlag('--since', flags.since);
  const { openWorkspaceStoreToRead } = await import('../engine/workspace.js');
  const { trafficRoutes } = await import('../engine/plan/traffic-transforms.js');
  const { testFromStore } = await import('../engine/plan/traffic-test.js');
  const { DEFAULT_MAX_HOPS } = await import('../engine/run/graph.js');
  const { store, missing } = await openWorkspaceStoreToRead(g);
  try {
    if (missing) throw new UserError(`no state store at ${missing}: nothing to replay (run \`orgloop start\` to record events)`);
    let resources;
    let what: string;
    if (flags.applied) {
      const cur = await store.current();
      if (!cur) throw new UserError(`No applied version in ${store.location}. Run \`orgloop apply\` first, or drop --applied to use the config on disk.`);
      resources = Object.values(cur.snapshot.resources).map((r) => ({ kind: r.kind, name: r.name, provider: r.provider, spec: r.attributes as Record<string, any> }));
      what = `the applied version ${cur.serial}`;
    } else {
      const { loadProject } = await import('../engine/config/load.js');
      const project = await loadProject(g.config);
      resources = project.resources.map((r) => ({ kind: r.kind, name: r.name, provider: r.provider, spec: r.spec as unknown as Record<string, any> }));
      what = 'the config on disk';
    }
    const routes = trafficRoutes(resources, DEFAULT_MAX_HOPS);
    if (flags.route && !routes.has(flags.route)) throw new UserError(`no route named "${flags.route}" in ${what} (see \`orgloop routes\`)`);
    if (flags.source && !resources.some((r) => (r.kind === 'source' || r.kind === 'actor') && r.name === flags.source)) {
      throw new UserError(`no source or actor named "${flags.source}" in ${what}`);
    }
    const now = Date.now();
    const report = await testFromStore(store, routes, { since: new Date(now - windowMs).toISOString(), until: new Date(now + 1).toISOString(), source: flags.source, route: flags.route });
    if (flags.json) {
      printJson({ window: flags.since, config: flags.applied ? 'applied' : 'project', ...report });
      return 0;
    }
    const out: string[] = [
      `Replayed ${report.events} stored event${report.events === 1 ? '' : 's'} received in the last ${flags.since}${flags.source ? ` from ${flags.source}` : flags.route ? ` from ${routes.get(flags.route)!.source}` : ''} through ${what}; nothing was delivered.`,
    ];
    if (report.routes.length === 0) out.push('', 'No route listens to these events.');
    for (const r of report.routes) {
      out.push('', `route ${r.route} (${r.source} -> ${r.actor}): ${r.matched} matched, ${r.would_deliver} would be delivered` +
        (r.dropped ? `, ${r.dropped} dropped` : '') + (r.errors ? `, ${r.errors} transform errors (would be retried)` : '') + (r.loop_cut ? `, ${r.loop_cut} cut at max_hops` : ''));
      for (const t of r.transforms) {
        const d = t.decisions;
        out.push(t.evaluated
          ? `  transform ${t.transform} (${t.type}): ${d.pass} pass, ${d.drop} drop${d.error ? `, ${d.error} error` : ''}`
          : `  transform ${t.transform} (${t.type}): not evaluated (${t.reason}), passed ${d.not_evaluated}`);
      }
    }
    if (report.unmatched.length) {
      const total = report.unmatched.reduce((n, u) => n + u.count, 0);
      out.push('', `No route matched ${total} event${total === 1 ? '' : 's'}:`);
      for (const u of report.unmatched.slice(0, 20)) out.push(`  ${u.count} "${u.event}" from ${u.source}`);
      if (report.unmatched.length > 20) out.push(`  ... and ${report.unmatched.length - 20} more types (--json lists them all)`);
    }
    process.stdout.write(out.map(forTerminal).join('\n') + '\n');
    return 0;
  } finally {
    await store.close();
  }
}
