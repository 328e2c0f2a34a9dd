// `orgloop providers`: the sources, actors, transforms and loggers this project can use — the
// built-ins and the provider packages installed in its node_modules — with their config fields.

import type { Command } from 'commander';
import { dirname, resolve } from 'node:path';
import { action, globals, printJson } from './util.js';

interface ProvidersOpts {
  json?: boolean;
  kind?: string;
}

export function register(program: Command): void {
  program
    .command('providers')
    .description('list the providers available to this project (built-in and installed packages) with their config fields')
    .argument('[name]', 'show only providers with this name (e.g. zendesk or @orgloop/connector-zendesk)')
    .option('--kind <kind>', 'only this kind: source, actor, transform or logger')
    .option('--json', 'machine-readable: { providers: [{ kind, name, origin, import_id, fields: [{ name, type, required, sensitive }] }], broken }')
    .addHelpText(
      'after',
      `
Packages are looked up in the node_modules of the project directory (the directory of -c) and
its parents: @orgloop/connector-*, @orgloop/transform-*, @orgloop/logger-*, and any package with
the keyword "orgloop-provider". Required fields are marked *, secrets (sensitive) with (secret).`,
    )
    .action(
      action(async (name: string | undefined, opts: ProvidersOpts, cmd: Command) => {
        const g = globals(cmd);
        const { buildCatalog } = await import('../engine/providers/catalog.js');
        const { normalizeProviderName } = await import('../providers/registry.js');
        const kinds = ['source', 'actor', 'transform', 'logger'];
        if (opts.kind && !kinds.includes(opts.kind)) throw new Error(`invalid --kind "${opts.kind}": one of ${kinds.join(', ')}`);
        const catalog = await buildCatalog(dirname(resolve(g.config)));
        const wanted = catalog.providers.filter(
          (p) => (!opts.kind || p.kind === opts.kind) && (!name || p.name === normalizeProviderName(p.kind, name) || p.origin.startsWith(`${name}@`)),
        );
        if (opts.json) {
          printJson({ providers: wanted, broken: catalog.broken });
          return 0;
        }
        if (name && wanted.length === 0) throw new Error(`no provider named "${name}" (built in or installed); \`orgloop providers\` lists them`);
        let kind = '';
        for (const p of wanted) {
          if (p.kind !== kind) {
            kind = p.kind;
            process.stdout.write(`\n${kind}s:\n`);
          }
          const how = [p.polling ? 'polling' : '', p.webhook ? 'webhook' : ''].filter(Boolean).join(', ');
          process.stdout.write(`  ${p.name}${p.origin === 'built-in' ? '' : `  (${p.origin})`}${how ? `  [${how}]` : ''}\n`);
          if (p.description) process.stdout.write(`      ${p.description}\n`);
          const fields = p.fields.map((f) => `${f.name}${f.required ? '*' : ''}${f.sensitive ? ' (secret)' : ''}: ${f.type}`);
          if (fields.length) process.stdout.write(`      config: ${fields.join(', ')}\n`);
          if (p.import_id) process.stdout.write(`      import: orgloop import ${p.kind}.NAME ID (ID: ${p.import_id})\n`);
        }
        for (const b of catalog.broken) process.stderr.write(`Warning: package ${b.package} cannot be used: ${b.error}\n`);
        return 0;
      }),
    );
}
