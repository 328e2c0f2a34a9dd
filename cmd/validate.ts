import type { Command } from 'commander';
import { ConfigError, EXIT, UserError } from '../engine/errors.js';
import type { Diagnostic, LoadedProject } from '../engine/graph/types.js';
import { action, globals, printJson } from './util.js';

interface ValidateOpts {
  json?: boolean;
}

type Counts = Record<'sources' | 'actors' | 'routes' | 'transforms' | 'loggers', number>;

function count(project: LoadedProject): Counts {
  const c: Counts = { sources: 0, actors: 0, routes: 0, transforms: 0, loggers: 0 };
  for (const r of project.resources) c[`${r.kind}s` as keyof Counts]++;
  return c;
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
const place = (d: Diagnostic) => ({ file: d.file, line: d.line, col: d.col, message: d.message });

export function register(program: Command): void {
  program
    .command('validate')
    .description('check the project (schema, references, prompt files, variables) without touching state')
    .option('--json', 'machine-readable result: { valid, errors: [{file,line,col,message}], warnings, counts }')
    .addHelpText(
      'after',
      `
Loads the project given by -c (a single orgloop.yaml, or a kind: Project file with its
ConnectorGroup/TransformGroup/LoggerGroup files and routes/*.yaml), substitutes \${VAR}
from the shell and .env, and checks every item. All problems are reported at once as
file:line:col: message. An unset variable is a warning here (validate needs no secrets, as in
terraform validate) and an error in plan, apply and start.

Exit codes: 0 valid (warnings allowed), 1 invalid.`,
    )
    .action(
      action(async (opts: ValidateOpts, cmd: Command) => {
        const g = globals(cmd);
        const { loadProject } = await import('../engine/config/load.js');
        let project: LoadedProject;
        try {
          project = await loadProject(g.config, { unsetVars: 'warn' });
        } catch (err) {
          if (!opts.json) throw err;
          if (err instanceof ConfigError) {
            const errors = err.diagnostics.filter((d) => d.severity === 'error').map(place);
            const warnings = err.diagnostics.filter((d) => d.severity === 'warning').map(place);
            printJson({ valid: false, errors, warnings, counts: null });
            return EXIT.ERROR;
          }
          if (err instanceof UserError) {
            printJson({ valid: false, errors: [{ file: g.config, line: 0, col: 0, message: err.message }], warnings: [], counts: null });
            return EXIT.ERROR;
          }
          throw err;
        }
        const counts = count(project);
        if (opts.json) {
          printJson({ valid: true, errors: [], warnings: project.warnings.map(place), counts });
          return EXIT.OK;
        }
        const { formatDiagnostic } = await import('../engine/errors.js');
        for (const w of project.warnings) process.stderr.write(formatDiagnostic(w) + '\n');
        const chalk = g.color ? (await import('chalk')).default : undefined;
        const tick = chalk ? chalk.green('✓') : '✓';
        const summary = [
          plural(counts.sources, 'source'),
          plural(counts.actors, 'actor'),
          plural(counts.routes, 'route'),
          plural(counts.transforms, 'transform'),
          plural(counts.loggers, 'logger'),
        ].join(', ');
        const warn = project.warnings.length ? ` (${plural(project.warnings.length, 'warning')})` : '';
        process.stdout.write(`${tick} ${project.name}: ${summary}${warn}\n`);
        return EXIT.OK;
      }),
    );
}
