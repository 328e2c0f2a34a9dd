import type { Command } from 'commander';
import { action, printJson } from './util.js';

export const VERSION = '0.1.0';

export function register(program: Command): void {
  program
    .command('version')
    .description('print the orgloop version')
    .option('--json', 'machine-readable output')
    .action(
      action((opts: { json?: boolean }) => {
        const info = { version: VERSION, node: process.version, state_format_version: 1 };
        if (opts.json) printJson(info);
        else process.stdout.write(`orgloop ${VERSION} (node ${process.version})\n`);
      }),
    );
}
