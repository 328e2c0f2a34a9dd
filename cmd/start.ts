import type { Command } from 'commander';
import { action, globals, workspaceLine } from './util.js';
import { UserError } from '../engine/errors.js';
import type { ExecutorSettings } from '../engine/run/settings.js';
import { readSettings, settingsHelp } from './settings.js';
import { outputColor } from './color.js';

export interface StartFlags {
  port?: string;
  host?: string;
  publicUrl?: string;
  allowedHost?: string;
  quiet?: boolean;
  verbose?: boolean;
  logLevel?: string;
  concurrency?: string;
  prefetch?: string;
  daemon?: boolean;
}

export function addRunFlags(cmd: Command): Command {
  return cmd
    .option('-p, --port <port>', 'ingress port (0 = any free port)')
    .option('--host <host>', 'interface to listen on (beyond loopback prints a warning)')
    .option('--public-url <url>', 'the address agents call back on')
    .option('--allowed-host <names>', 'more names callers may put in Host on callbacks, comma-separated')
    .option('--concurrency <n>', 'deliveries in flight at once')
    .option('--prefetch <n>', 'deliveries leased at ingest that may wait here for a free slot')
    .option('--log-level <level>', 'console level without a console logger: debug, info, warn, error')
    .option('-q, --quiet', 'print only warnings and errors (--log-level warn)')
    .option('-v, --verbose', 'also print debug entries: transform steps, attempts (--log-level debug)')
    .addHelpText(
      'after',
      `
Prints "listening on http://HOST:PORT" once ready. Endpoints: POST /webhook/<source-id> (or a
source's config.path), POST /callback/<actor-id> (an agent reports it stopped: JSON with
delivery_id, outcome, exit_code, duration_ms, output_tail; Authorization: Bearer <the token sent
with that delivery>), GET /healthz. Callbacks need Host to be 127.0.0.1, localhost, this
machine's name, an IP address, the --public-url host or an --allowed-host, and refuse requests
from web pages. See docs/reliability.md (security).

${settingsHelp()}`,
    );
}

/** The executor's settings from the flags, the environment and the project file's defaults. */
export async function startSettings(g: { config: string }, flags: StartFlags): Promise<ExecutorSettings> {
  const { readProjectDefaults } = await import('../engine/config/defaults.js');
  return readSettings({
    flags: {
      port: flags.port,
      host: flags.host,
      publicUrl: flags.publicUrl,
      allowedHosts: flags.allowedHost,
      concurrency: flags.concurrency,
      prefetch: flags.prefetch,
      consoleLevel: flags.quiet ? 'warn' : flags.verbose ? 'debug' : flags.logLevel,
    },
    env: process.env,
    defaults: readProjectDefaults(g.config, process.env),
  });
}

/** Runs the executor in the foreground until SIGINT/SIGTERM. Used by `start` and `up`. */
export async function runExecutor(g: { config: string; state?: string; workspace: string; noColor: boolean }, settings: ExecutorSettings): Promise<number> {
  const { openWorkspaceStore, statePath } = await import('../engine/workspace.js');
  const { Executor } = await import('../engine/run/executor.js');
  const { setupTraceExport } = await import('./otel.js');
  const { VERSION } = await import('./version.js');
  const traces = await setupTraceExport(process.env, VERSION);
  const store = await openWorkspaceStore(g);
  // callback tokens are keyed with the state key: it is kept outside the store, and executors
  // sharing ORGLOOP_STATE_KEY accept each other's tokens (and keep accepting them across restarts)
  const ex = new Executor({ store, settings, write: (t) => process.stdout.write(t), color: outputColor(g.noColor), stateLocation: statePath(g), tracing: traces.tracing, consoleToken: process.env.ORGLOOP_CONSOLE_TOKEN || null, callbackKey: (await import('./plan-common.js')).stateKey().secret, drift: (await import('./plan-common.js')).driftCheck(store) });
  // Started by `start --daemon`: the pid file is ours to remove when we exit.
  // Run with its output appended to a log (start --daemon, a service): keep that log bounded.
  const logFile = process.env.ORGLOOP_LOG_FILE;
  if (logFile) {
    const { rotateOptions, watchLog } = await import('../engine/daemon/log-rotate.js');
    let o;
    try {
      o = rotateOptions(process.env);
    } catch (err) {
      throw new UserError((err as Error).message);
    }
    watchLog(logFile, o, Number(process.env.ORGLOOP_LOG_CHECK_MS) || 5000);
  }
  const pidFile = process.env.ORGLOOP_PID_FILE;
  if (pidFile) {
    const { releasePidFile } = await import('../engine/daemon/daemon.js');
    process.on('exit', () => releasePidFile(pidFile, process.pid));
  }
  process.stdout.write(workspaceLine(g));
  let address;
  try {
    address = await ex.start();
  } catch (err) {
    await ex.stop().catch(() => {});
    await store.close().catch(() => {});
    await traces.shutdown();
    throw err;
  }
  if (traces.describe) process.stdout.write(`${traces.describe}\n`);
  void sendHookSpool(g.config, g.workspace, address);
  await new Promise<void>((resolve) => {
    let signals = 0;
    const onSignal = (sig: string) => {
      signals++;
      if (signals > 1) {
        process.stderr.write(`received ${sig} again: exiting now (leases expire and deliveries are retried)\n`);
        process.exit(130);
      }
      resolve();
    };
    process.on('SIGINT', () => onSignal('SIGINT'));
    process.on('SIGTERM', () => onSignal('SIGTERM'));
  });
  await ex.stop();
  await store.close();
  await traces.shutdown();
  // Keep-alive sockets of actors may hold the loop open a little longer; do not hang on them.
  setTimeout(() => process.exit(process.exitCode ?? 0), 1500).unref();
  return 0;
}

/**
 * Hook requests and agents' reports spooled while no executor was listening (engine/hook/spool.ts)
 * are sent to this one through its own ingress, so they are signed, checked and deduped like any other.
 */
async function sendHookSpool(config: string, workspace: string, address: { address: string; port: number }): Promise<void> {
  const { existsSync } = await import('node:fs');
  const { dirname, resolve } = await import('node:path');
  const { spoolPath, drainToIngress } = await import('../engine/hook/spool.js');
  const file = spoolPath(dirname(resolve(config)), workspace);
  if (!existsSync(file)) return;
  const any = address.address === '0.0.0.0' || address.address === '::';
  const host = any ? '127.0.0.1' : address.address.includes(':') ? `[${address.address}]` : address.address;
  const r = await drainToIngress(file, `http://${host}:${address.port}`, 10_000, true);
  if (r.sent) process.stdout.write(`sent ${r.sent} hook request(s) spooled in ${file}\n`);
  for (const x of r.refused) process.stderr.write(`a spooled ${x.url ? 'report to an agent callback' : `${x.source} hook request`} was refused and dropped: ${x.error}\n`);
  if (r.error) process.stderr.write(`${r.kept} spooled hook request(s) kept in ${file}: ${r.error}\n`);
}

export function register(program: Command): void {
  addRunFlags(
    program
      .command('start')
      .summary('run the applied org in the foreground: webhooks, polls, routing, delivery')
      .description(
        'run the applied version of the org in the foreground: receive webhooks, poll sources, route and deliver events.\n' +
          'Runs what was applied (the state store), not the YAML on disk (it says so when they differ); a new `orgloop apply` is picked up within 2 s.\n' +
          'Stops cleanly on Ctrl-C / SIGTERM. With --daemon it runs in the background (log in .orgloop/orgloop.log beside\n' +
          'the project; `orgloop stop` stops it, `orgloop service install` makes it a service). Settings are listed below.',
      )
      .option('-d, --daemon', 'run in the background; prints the pid, the URL and the log file once it is listening'),
  ).action(
    action(async (flags: StartFlags, cmd: Command) => {
      const g = globals(cmd);
      const settings = await startSettings(g, flags);
      await warnUnapplied(g);
      if (flags.daemon) return startDaemon(g);
      if (process.stdin.isTTY && (await neverApplied(g))) {
        // The seed's getting-started is `orgloop init` then `orgloop start`: on a terminal, the
        // first start offers the first apply (plan shown, 'yes' required) instead of failing.
        process.stdout.write('Nothing has been applied to this state yet: planning the configuration first.\n');
        const { up } = await import('./up.js');
        return up(g, flags);
      }
      return runExecutor(g, settings);
    }),
  );
}

/** `start --daemon`: the same command line without --daemon, detached, once it listens. */
async function startDaemon(g: { config: string; state?: string; workspace: string; workspaceFrom: string }): Promise<number> {
  const { daemonPaths, readDaemon, spawnDaemon } = await import('../engine/daemon/daemon.js');
  const paths = daemonPaths(g.config, g.workspace);
  const running = readDaemon(paths);
  if (running.running) {
    const r = running.record;
    const where = g.workspace === 'default' ? 'this project' : `workspace ${g.workspace}`;
    throw new UserError(`an executor for ${where} is already running in the background (pid ${r.pid}${r.url ? `, ${r.url}` : ''}); stop it with \`orgloop stop\``);
  }
  if (await neverApplied(g)) throw new UserError('Nothing has been applied to this state yet: run `orgloop apply` (or `orgloop up` on a terminal) first.');
  const argv = [process.execPath, process.argv[1]!, ...process.argv.slice(2).filter((a) => a !== '--daemon' && a !== '-d')];
  const r = await spawnDaemon({ paths, argv, env: process.env, readyTimeoutMs: 30_000 });
  if (!r.ok) {
    process.stderr.write(`${r.logTail}\n`);
    throw new UserError(`${r.error} (log: ${paths.logFile})`);
  }
  process.stdout.write(
    workspaceLine(g) +
    `Executor running in the background (pid ${r.record.pid}), listening on ${r.record.url}.\n` +
      `Log: ${paths.logFile} (orgloop service logs -f)\nStop it with: orgloop ${g.workspaceFrom === 'flag' || g.workspaceFrom === 'env' ? `--workspace ${g.workspace} ` : ''}stop\n`,
  );
  return 0;
}

/**
 * `start` runs the applied version, not the YAML: when they differ, say so and how to apply.
 * A check that cannot be made (a missing ${VAR}, no state key) says nothing rather than block a start.
 */
async function warnUnapplied(g: { config: string; state?: string }): Promise<void> {
  const { openWorkspaceStoreToRead } = await import('../engine/workspace.js');
  const { unappliedChanges } = await import('../engine/plan/unapplied.js');
  const { stateKey } = await import('./plan-common.js');
  const { store, missing } = await openWorkspaceStoreToRead(g);
  try {
    if (missing) return;
    const u = await unappliedChanges(store, g.config, stateKey).catch(() => null);
    if (!u) return;
    const s = u.kind === 'changes' ? u.summary : null;
    process.stderr.write(
      (s
        ? `${g.config} differs from the applied version ${u.serial} (${s.add} to add, ${s.change} to change, ${s.destroy} to destroy): ` +
          `this executor runs version ${u.serial}. \`orgloop plan\` shows the changes; \`orgloop apply\` makes them live (a running executor picks them up within 2 s).`
        : `${g.config} does not load (${(u as { errors: number }).errors} error(s); \`orgloop validate\` lists them): this executor runs the applied version ${u.serial}.`) + '\n',
    );
  } finally {
    await store.close();
  }
}

async function neverApplied(g: { config: string; state?: string }): Promise<boolean> {
  const { openWorkspaceStoreToRead } = await import('../engine/workspace.js');
  const { store } = await openWorkspaceStoreToRead(g);
  try {
    return (await store.meta()).serial === 0;
  } finally {
    await store.close();
  }
}

