import type { Command } from 'commander';
import { isAbsolute, relative, resolve } from 'node:path';
import { action, printJson } from './util.js';

interface InitOpts {
  force?: boolean;
  connectors?: string;
  name?: string;
  interactive: boolean;
  json?: boolean;
}

export function register(program: Command): void {
  program
    .command('init')
    .description('create a working offline project: webhook source, command actor, one route, a SOP')
    .argument('[dir]', 'directory to create the project in', '.')
    .option('--force', 'overwrite files that already exist')
    .option('--json', 'machine-readable result: { dir, name, files }')
    .option('--connectors <names>', 'comma-separated connectors to add (built-in or installed packages), e.g. zendesk,slack')
    .option('--name <name>', 'the project name (default: the directory name)')
    .option('--claude-hook', "add Claude Code's Stop hook to .claude/settings.json (and the claude-code source)")
    .option('--no-interactive', 'never ask (the default when stdin is not a terminal, or with --connectors or --json)')
    .addHelpText(
      'after',
      `
On a terminal, asks for the project name, the sources and actors to add, and whether to
install the Claude Code Stop hook; --name, --connectors, --claude-hook and --no-interactive
do the same for scripts.

Writes:
  orgloop.yaml            the project: a webhook source "webhook" (POST
                          http://localhost:4800/webhook/webhook) routed to a command actor that
                          appends each event to .orgloop/inbox.jsonl, plus the connectors chosen
  sops/hello.md           the route's prompt (SOP)
  .env.example            the variables the project reads (copy to .env)
  .gitignore              ignores .orgloop/ (state, logs), .env and .env.<workspace>
  package.json            scripts plan/apply/start (only if the directory has none)
  .claude/settings.json   with --claude-hook: the Stop hook (merged into an existing file)
The project needs no internet or credentials. Refuses to overwrite existing files unless --force.`,
    )
    .action(
      action(async (dir: string, opts: InitOpts & { claudeHook?: boolean }) => {
        const { scaffoldProject, projectName } = await import('../engine/config/scaffold.js');
        let names = (opts.connectors ?? '').split(',').map((s) => s.trim()).filter(Boolean);
        let name = opts.name;
        let claudeHook = !!opts.claudeHook;
        if (claudeHook && !names.includes('claude-code')) names.push('claude-code');
        const ask = opts.interactive && !opts.json && opts.connectors === undefined && !!process.stdin.isTTY && !!process.stdout.isTTY;
        if (ask) {
          const { allProviders } = await import('../providers/registry.js');
          const of = (kind: string, skip: string[]) => [...new Set(allProviders().filter((p) => p.kind === kind && !skip.includes(p.name)).map((p) => p.name))].sort();
          const { askInit } = await import('./init-prompt.js');
          const a = await askInit({ name: name ?? projectName(dir), sources: of('source', ['webhook']), actors: of('actor', ['command']) });
          name = a.name;
          names = [...new Set([...names, ...a.connectors])];
          claudeHook ||= a.claudeHook;
        }
        const connectors = names.length ? await (await import('../engine/providers/catalog.js')).resolveConnectors(resolve(dir), names) : undefined;
        const result = scaffoldProject(dir, { force: opts.force, connectors, name, claudeHook });
        if (opts.json) {
          printJson(result);
          return;
        }
        const rel = relative(process.cwd(), result.dir);
        const where = rel === '' ? '.' : rel.startsWith('..') || isAbsolute(rel) ? result.dir : rel;
        process.stdout.write(`Created project "${result.name}" in ${where}:\n`);
        for (const f of result.files) process.stdout.write(`  ${f}\n`);
        const cd = where === '.' ? '' : `cd ${/^[\w./-]+$/.test(where) ? where : JSON.stringify(where)} && `;
        process.stdout.write(`\nNext: ${cd}orgloop up   (validate, plan, apply after you confirm, and start)\n`);
      }),
    );
}
