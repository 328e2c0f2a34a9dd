// `orgloop doctor`: is this project ready to run? Loads and validates it, then asks every
// provider that talks to an outside service to check its credentials and reachability.

import type { Command } from 'commander';
import { action, durationFlag, globals, printJson, type GlobalOpts } from './util.js';

interface DoctorOpts {
  json?: boolean;
  timeout: string;
}

export function register(program: Command): void {
  program
    .command('doctor')
    .description('check the state, the executor and its port, and the credentials and reachability of every configured provider (GitHub, Linear, OpenClaw, webhook endpoints, local commands, ...)')
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
Also checked: the state store (an applied version, and whether the YAML differs from it), the
executor (running, on the applied version) and its port (free for \`orgloop start\`, or
answering as this project's executor). On a terminal, progress goes to stderr. Rows marked
warn (nothing applied yet, no executor running) are not failures.

Exit codes: 0 no check failed, 1 a check failed or the project does not load.`,
    )
    .action(
      action(async (opts: DoctorOpts, cmd: Command) => {
        const g = globals(cmd);
        const timeoutMs = durationFlag('--timeout', opts.timeout);
        const [{ loadProject }, { projectEnv }, { runDoctor }, { getProvider }, { runtimeChecks, explainTimeout }] = await Promise.all([
          import('../engine/config/load.js'),
          import('../engine/config/env.js'),
          import('../engine/doctor/doctor.js'),
          import('../providers/registry.js'),
          import('../engine/doctor/runtime.js'),
        ]);
        const project = await loadProject(g.config);
        const total = project.resources.filter((r) => r.kind !== 'route').length + 3;
        const progress = doctorProgress(total, timeoutMs, !opts.json);
        const providerRows = (await runDoctor(project, { env: projectEnv(project.dir), getProvider, timeoutMs, onDone: progress.done })).map((r) => explainTimeout(r, timeoutMs));
        const runtimeRows = await runtime(g, timeoutMs, runtimeChecks);
        for (const r of runtimeRows) progress.done(r);
        progress.end();
        const rows = [...runtimeRows, ...providerRows];
        const ok = rows.every((r) => r.status !== 'fail');
        if (opts.json) {
          printJson({ ok, project: project.name, checks: rows });
          return ok ? 0 : 1;
        }
        const { Chalk } = await import('chalk');
        const c = new Chalk({ level: g.color ? 1 : 0 });
        const mark = { ok: c.green('ok  '), fail: c.red('FAIL'), skip: c.dim('skip'), warn: c.yellow('warn') };
        const w1 = Math.max(8, ...rows.map((r) => r.address.length));
        const w2 = Math.max(8, ...rows.map((r) => r.provider.length));
        process.stdout.write(c.bold(`${'RESOURCE'.padEnd(w1)}  ${'PROVIDER'.padEnd(w2)}  STATUS  DETAIL`) + '\n');
        for (const r of rows) process.stdout.write(`${r.address.padEnd(w1)}  ${r.provider.padEnd(w2)}  ${mark[r.status]}    ${r.detail}\n`);
        const count = (s: string) => rows.filter((r) => r.status === s).length;
        process.stdout.write(`\n${project.name}: ${count('ok')} passed, ${count('fail')} failed, ${count('warn')} to look at, ${count('skip')} skipped.\n`);
        return ok ? 0 : 1;
      }),
    );
}

/** The state, the executor and its port, as `start` would find them. */
async function runtime(g: GlobalOpts, timeoutMs: number, checks: typeof import('../engine/doctor/runtime.js').runtimeChecks) {
  const { openWorkspaceStoreToRead } = await import('../engine/workspace.js');
  const { unappliedChanges } = await import('../engine/plan/unapplied.js');
  const { daemonPaths, readDaemon } = await import('../engine/daemon/daemon.js');
  const { startSettings } = await import('./start.js');
  const { stateKey } = await import('./plan-common.js');
  const settings = await startSettings(g, {});
  const d = readDaemon(daemonPaths(g.config, g.workspace));
  const { store, missing } = await openWorkspaceStoreToRead(g);
  try {
    return await checks({
      store,
      missing,
      configFile: g.config,
      unapplied: () => unappliedChanges(store, g.config, stateKey),
      host: settings.host,
      port: settings.port,
      daemon: d.running ? { pid: d.record.pid, url: d.record.url } : null,
      timeoutMs,
    });
  } finally {
    await store.close();
  }
}

/**
 * Progress on a terminal's stderr, so a slow check is never a silent wait: what is being
 * checked, then one line rewritten as checks finish, cleared before the table. Scripts (no
 * terminal) get the table alone.
 */
function doctorProgress(total: number, timeoutMs: number, wanted: boolean) {
  const on = wanted && !!process.stderr.isTTY;
  let n = 0;
  if (on) process.stderr.write(`Checking ${total} things (each within ${Math.round(timeoutMs / 1000)}s)...\n`);
  return {
    done(r: { address: string; status: string }) {
      n++;
      if (on) process.stderr.write(`\r\x1b[K  ${n}/${total} done (last: ${r.address} ${r.status})`);
    },
    end() {
      if (on) process.stderr.write('\r\x1b[K');
    },
  };
}
