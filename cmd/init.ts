import type { Command } from 'commander';
import { isAbsolute, relative, resolve } from 'node:path';
import { action, printJson } from './util.js';

interface InitOpts {
  force?: boolean;
  connectors?: string;
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
    .addHelpText(
      'after',
      `
Writes orgloop.yaml, sops/hello.md, .env.example and .gitignore (ignoring .orgloop/ and .env).
The project needs no internet or credentials: a webhook source "webhook" (POST
http://localhost:4800/webhook/webhook) routes every event to a command actor that appends it
to .orgloop/inbox.jsonl. Refuses to overwrite existing files unless --force.`,
    )
    .action(
      action(async (dir: string, opts: InitOpts) => {
        const { scaffoldProject } = await import('../engine/config/scaffold.js');
        const names = (opts.connectors ?? '').split(',').map((s) => s.trim()).filter(Boolean);
        const connectors = names.length ? await (await import('../engine/providers/catalog.js')).resolveConnectors(resolve(dir), names) : undefined;
        const result = scaffoldProject(dir, { force: opts.force, connectors });
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
