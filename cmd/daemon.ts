// `orgloop stop` and `orgloop service install|uninstall|status|logs`; `start --daemon` is in
// start.ts. The work (pid files, spawning, unit files) is in engine/daemon/.

import { spawnSync } from 'node:child_process';
import { realpathSync } from 'node:fs';
import type { Command } from 'commander';
import { UserError } from '../engine/errors.js';
import { action, durationFlag, globals, type GlobalOpts } from './util.js';

export function register(program: Command): void {
  program
    .command('stop')
    .description('stop the executor `orgloop start --daemon` started for this project (SIGTERM, then SIGKILL after --timeout)')
    .option('--timeout <duration>', 'how long to wait for in-flight deliveries to finish before forcing', '30s')
    .action(
      action(async (opts: { timeout: string }, cmd: Command) => {
        const g = globals(cmd);
        const timeoutMs = durationFlag('--timeout', opts.timeout);
        const { daemonPaths, stopDaemon } = await import('../engine/daemon/daemon.js');
        const r = await stopDaemon(daemonPaths(g.config, g.workspace), timeoutMs);
        const where = g.workspace === 'default' ? 'this project' : `workspace ${g.workspace}`;
        if (r.stopped === 'not-running') {
          process.stdout.write(
            r.stale
              ? `No executor running for ${where} (pid ${r.stale.pid} from ${r.stale.started_at} is gone; removed its pid file).\n`
              : `No executor running in the background for ${where} (\`orgloop start --daemon\` starts one).\n`,
          );
          return 0;
        }
        process.stdout.write(
          r.stopped === 'gracefully'
            ? `Stopped the executor${g.workspace === 'default' ? '' : ` of workspace ${g.workspace}`} (pid ${r.pid}).\n`
            : `The executor (pid ${r.pid}) did not stop within ${opts.timeout}: killed it. Leases it held expire and those deliveries are retried.\n`,
        );
        return 0;
      }),
    );

  const service = program
    .command('service')
    .description('run the executor as a service of your user: systemd user unit (Linux) or launchd agent (macOS), restarted if it dies and started at login/boot');
  service
    .command('install')
    .description('write the unit (plist) for this project and start it; extra options are passed to `orgloop start`')
    .option('-p, --port <port>', 'ingress port of this project (each project on a machine needs its own)')
    .option('--host <host>', 'interface to listen on')
    .option('--no-start', 'only write the file; do not load it into the service manager')
    .option('--print', 'print the file instead of writing it')
    .option('--platform <name>', 'systemd or launchd (default: this machine\'s)')
    .addHelpText(
      'after',
      `
The service runs \`orgloop -c <project> start\` from the project's directory. Its output goes to
.orgloop/orgloop.log beside the project (\`orgloop service logs\`). Variables come from the
project's .env (the service manager does not read your shell profile).

On Linux the unit is ~/.config/systemd/user/orgloop-<project>-<id>.service. To keep it running
while you are logged out and start it at boot: loginctl enable-linger "$USER".
On macOS the agent is ~/Library/LaunchAgents/dev.orgloop.<project>-<id>.plist.`,
    )
    .action(action(async (opts: InstallOpts, cmd: Command) => install(globals(cmd), opts)));
  service
    .command('uninstall')
    .description('stop the service and remove its file')
    .option('--platform <name>', 'systemd or launchd (default: this machine\'s)')
    .action(action(async (opts: { platform?: string }, cmd: Command) => uninstall(globals(cmd), opts)));
  service
    .command('status')
    .description('is the service installed, and what does the service manager say about it')
    .option('--platform <name>', 'systemd or launchd (default: this machine\'s)')
    .action(action(async (opts: { platform?: string }, cmd: Command) => status(globals(cmd), opts)));
  service
    .command('logs')
    .description('print the executor log (.orgloop/orgloop.log), written by the service and by start --daemon')
    .option('-n, --lines <n>', 'how many of the last lines', '100')
    .option('-f, --follow', 'keep printing new lines')
    .action(action(async (opts: { lines: string; follow?: boolean }, cmd: Command) => logs(globals(cmd), opts)));
}

interface InstallOpts {
  port?: string;
  host?: string;
  start: boolean;
  print?: boolean;
  platform?: string;
}

async function specFor(g: GlobalOpts, platformFlag: string | undefined, args: string[]) {
  const [{ serviceSpec, platformOf }, { daemonPaths }, { loadProject }] = await Promise.all([
    import('../engine/daemon/service.js'),
    import('../engine/daemon/daemon.js'),
    import('../engine/config/load.js'),
  ]);
  let platform = platformOf(process.platform);
  if (platformFlag !== undefined) {
    if (platformFlag !== 'systemd' && platformFlag !== 'launchd') throw new UserError(`--platform must be systemd or launchd (got "${platformFlag}")`);
    platform = platformFlag;
  }
  if (!platform) throw new UserError(`orgloop service supports Linux (systemd) and macOS (launchd), not ${process.platform}; run \`orgloop start --daemon\` instead`);
  const project = await loadProject(g.config);
  return serviceSpec({
    platform,
    project: project.name,
    configFile: g.config,
    args,
    state: g.state,
    workspace: g.workspace,
    node: process.execPath,
    cli: realpathSync(process.argv[1]!),
    env: process.env,
    logFile: daemonPaths(g.config, g.workspace).logFile,
  });
}

function run(argv: string[]): { ok: boolean; out: string } {
  const r = spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8' });
  if (r.error) return { ok: false, out: (r.error as NodeJS.ErrnoException).code === 'ENOENT' ? `${argv[0]} not found` : r.error.message };
  return { ok: r.status === 0, out: `${r.stdout}${r.stderr}`.trim() };
}

async function install(g: GlobalOpts, opts: InstallOpts): Promise<number> {
  const args = ['start', ...(opts.port ? ['--port', opts.port] : []), ...(opts.host ? ['--host', opts.host] : [])];
  const spec = await specFor(g, opts.platform, args);
  const { renderService, managerCommands } = await import('../engine/daemon/service.js');
  const text = renderService(spec);
  if (opts.print) {
    process.stdout.write(text);
    return 0;
  }
  const { workspaceExists } = await import('../engine/workspace.js');
  // a service for a workspace that does not exist would fail at every restart
  if (!(await workspaceExists(g))) throw new UserError(`workspace "${g.workspace}" does not exist: \`orgloop workspace new ${g.workspace}\` creates it`);
  const { mkdirSync, writeFileSync } = await import('node:fs');
  const { dirname } = await import('node:path');
  mkdirSync(dirname(spec.file), { recursive: true });
  mkdirSync(dirname(spec.logFile), { recursive: true });
  writeFileSync(spec.file, text);
  process.stdout.write(`Wrote ${spec.file}\n`);
  const cmds = managerCommands(spec, process.getuid?.() ?? 0);
  if (!opts.start) {
    process.stdout.write(`Start it with:\n${cmds.load.map((c) => `  ${c.join(' ')}`).join('\n')}\n`);
    return 0;
  }
  for (const c of cmds.load) {
    const r = run(c);
    if (!r.ok) {
      process.stderr.write(`Error: \`${c.join(' ')}\` failed: ${r.out || 'no output'}\nThe file is written; once the service manager is available, run:\n${cmds.load.map((x) => `  ${x.join(' ')}`).join('\n')}\n`);
      return 1;
    }
  }
  process.stdout.write(`Service ${spec.name} is running. Log: ${spec.logFile} (orgloop service logs -f)\n`);
  return 0;
}

async function uninstall(g: GlobalOpts, opts: { platform?: string }): Promise<number> {
  const spec = await specFor(g, opts.platform, []);
  const { existsSync, rmSync } = await import('node:fs');
  if (!existsSync(spec.file)) {
    process.stdout.write(`No service installed for this project (${spec.file} does not exist).\n`);
    return 0;
  }
  const { managerCommands } = await import('../engine/daemon/service.js');
  const cmds = managerCommands(spec, process.getuid?.() ?? 0);
  const failed = cmds.unload.map(run).filter((r) => !r.ok);
  rmSync(spec.file, { force: true });
  process.stdout.write(`Removed ${spec.file}\n`);
  if (failed.length) process.stderr.write(`Warning: the service manager said: ${failed.map((r) => r.out).join('; ')}\n`);
  return 0;
}

async function status(g: GlobalOpts, opts: { platform?: string }): Promise<number> {
  const spec = await specFor(g, opts.platform, []);
  const { existsSync } = await import('node:fs');
  if (!existsSync(spec.file)) {
    process.stdout.write(`Service: not installed (orgloop service install)\n`);
    return 0;
  }
  const { managerCommands } = await import('../engine/daemon/service.js');
  const r = run(managerCommands(spec, process.getuid?.() ?? 0).status);
  process.stdout.write(`Service: ${spec.name}\nFile: ${spec.file}\nManager: ${r.out.split('\n')[0] || (r.ok ? 'loaded' : 'unknown')}\nLog: ${spec.logFile}\n`);
  return 0;
}

async function logs(g: GlobalOpts, opts: { lines: string; follow?: boolean }): Promise<number> {
  const n = Number(opts.lines);
  if (!Number.isInteger(n) || n < 0) throw new UserError(`--lines must be a whole number (got "${opts.lines}")`);
  const { daemonPaths } = await import('../engine/daemon/daemon.js');
  const { logFile } = daemonPaths(g.config, g.workspace);
  const { existsSync, readFileSync, statSync, openSync, readSync, closeSync } = await import('node:fs');
  if (!existsSync(logFile)) throw new UserError(`no log yet at ${logFile} (it is written by \`orgloop start --daemon\` and \`orgloop service install\`)`);
  const lines = readFileSync(logFile, 'utf8').replace(/\n$/, '').split('\n');
  if (n > 0) process.stdout.write(lines.slice(-n).join('\n') + '\n');
  if (!opts.follow) return 0;
  let offset = statSync(logFile).size;
  for (;;) {
    await new Promise((r) => setTimeout(r, 500));
    const size = statSync(logFile).size;
    if (size < offset) offset = 0; // truncated or replaced
    if (size === offset) continue;
    const fd = openSync(logFile, 'r');
    const buf = Buffer.alloc(size - offset);
    readSync(fd, buf, 0, buf.length, offset);
    closeSync(fd);
    process.stdout.write(buf);
    offset = size;
  }
}
