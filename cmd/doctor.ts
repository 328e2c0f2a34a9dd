// `orgloop doctor`: is this project ready to run? Loads and validates it, then asks every
// provider that talks to an outside service to check its credentials and reachability.

import type { Command } from 'commander';
import { action, durationFlag, globals, printJson } from './util.js';

interface DoctorOpts {
  json?: boolean;
  timeout: string;
}

export function register(program: Command): void {
  program
    .command('doctor')
    .description('check credentials and reachability of every configured provider (GitHub, Linear, OpenClaw, webhook endpoints, local commands, ...)')
    .option('--json', 'machine-readable: { ok, project, checks: [{ address, provider, status, detail }] }')
    .option('--timeout <duration>', 'time limit per check (e.g. 5s, 1m)', '20s')
    .addHelpText(
      'after',
      `
Loads the project (-c) the way validate does, then runs each provider's check concurrently:
  github / github-webhook   GET /user with the token, then the repository (and its hooks)
  linear                    the GraphQL viewer query, then the team
  openclaw                  GET /health, then the hooks token
  webhook (actor)           connects to the url's host and port (TLS handshake for https);
                            no request is sent, since the endpoint may act on any request
  command (actor)           the cwd exists and the program is on PATH (this shell's PATH:
                            the executor's may differ)
Each row's detail says what was checked. Providers without anything to check are listed as
skipped. \`validate\` reports the offline ones (program, cwd, a cron firing more often
than once a minute) as warnings, since the executor may run on another machine.

Exit codes: 0 every check passed, 1 a check failed or the project does not load.`,
    )
    .action(
      action(async (opts: DoctorOpts, cmd: Command) => {
        const g = globals(cmd);
        const timeoutMs = durationFlag('--timeout', opts.timeout);
        const [{ loadProject }, { projectEnv }, { runDoctor }, { getProvider }] = await Promise.all([
          import('../engine/config/load.js'),
          import('../engine/config/env.js'),
          import('../engine/doctor/doctor.js'),
          import('../providers/registry.js'),
        ]);
        const project = await loadProject(g.config);
        const rows = await runDoctor(project, { env: projectEnv(project.dir), getProvider, timeoutMs });
        const ok = rows.every((r) => r.status !== 'fail');
        if (opts.json) {
          printJson({ ok, project: project.name, checks: rows });
          return ok ? 0 : 1;
        }
        const { Chalk } = await import('chalk');
        const c = new Chalk({ level: g.color ? 1 : 0 });
        const mark = { ok: c.green('ok  '), fail: c.red('FAIL'), skip: c.dim('skip') };
        const w1 = Math.max(8, ...rows.map((r) => r.address.length));
        const w2 = Math.max(8, ...rows.map((r) => r.provider.length));
        process.stdout.write(`${'RESOURCE'.padEnd(w1)}  ${'PROVIDER'.padEnd(w2)}  STATUS  DETAIL\n`);
        for (const r of rows) process.stdout.write(`${r.address.padEnd(w1)}  ${r.provider.padEnd(w2)}  ${mark[r.status]}    ${r.detail}\n`);
        const failed = rows.filter((r) => r.status === 'fail').length;
        const passed = rows.filter((r) => r.status === 'ok').length;
        process.stdout.write(`\n${project.name}: ${passed} passed, ${failed} failed, ${rows.length - passed - failed} skipped.\n`);
        return ok ? 0 : 1;
      }),
    );
}
