// `orgloop service`: the executor as a service of the user's own service manager, restarted when
// it dies and started at boot: a systemd user unit on Linux, a launchd agent on macOS. The unit
// runs `orgloop start` in the foreground (the manager is the daemon), from the project's
// directory, with its output appended to the same log `start --daemon` writes.
//
// Names carry the project name and a digest of the project file's path, so two projects (or two
// copies of one) get two services; a named workspace's name is in its service's name too, and the
// unit passes --workspace, so selecting another workspace later does not change what it runs.

import { createHash } from 'node:crypto';
import { homedir } from 'node:os';
import { readdirSync, readFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';

export type Platform = 'systemd' | 'launchd';

export interface ServiceSpec {
  platform: Platform;
  /** systemd unit name (without .service) or launchd label */
  name: string;
  /** the file the manager reads */
  file: string;
  description: string;
  workingDir: string;
  /** the command: node, the CLI, its arguments */
  command: string[];
  logFile: string;
  /** PATH for the service (managers start with a bare one; command actors need the user's) */
  path: string;
}

export function platformOf(p: NodeJS.Platform): Platform | null {
  return p === 'linux' ? 'systemd' : p === 'darwin' ? 'launchd' : null;
}

function slug(s: string): string {
  return s.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '').slice(0, 40) || 'project';
}

export interface ServiceInput {
  platform: Platform;
  project: string;
  configFile: string;
  /** the `orgloop` arguments after the global ones, e.g. ['start', '--port', '4801'] */
  args: string[];
  /** --state as given, if any */
  state?: string;
  /** the named workspace; absent or `default`: the project's service as before workspaces */
  workspace?: string;
  node: string;
  cli: string;
  env: NodeJS.ProcessEnv;
  logFile: string;
}

export function serviceSpec(i: ServiceInput): ServiceSpec {
  const config = resolve(i.configFile);
  const digest = createHash('sha256').update(config).digest('hex').slice(0, 8);
  const ws = i.workspace && i.workspace !== 'default' ? i.workspace : null;
  // workspace names are [a-z][a-z0-9_]*: `_` is kept out of unit names as `-`, like the slug
  const base = `${slug(i.project)}${ws ? `-${ws.replace(/_/g, '-')}` : ''}-${digest}`;
  const home = i.env.HOME ?? homedir();
  const command = [
    i.node,
    i.cli,
    '-c',
    config,
    ...(i.state ? ['--state', /^[a-z][a-z0-9+.-]*:\/\//i.test(i.state) ? i.state : resolve(i.state)] : []),
    ...(ws ? ['--workspace', ws] : []),
    ...i.args,
  ];
  const common = {
    description: `orgloop executor for ${i.project}${ws ? ` (workspace ${ws})` : ''} (${config})`,
    workingDir: dirname(config),
    command,
    logFile: i.logFile,
    path: i.env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
  };
  if (i.platform === 'systemd') {
    const name = `orgloop-${base}`;
    const dir = join(i.env.XDG_CONFIG_HOME || join(home, '.config'), 'systemd', 'user');
    return { platform: 'systemd', name, file: join(dir, `${name}.service`), ...common };
  }
  const name = `dev.orgloop.${base}`;
  return { platform: 'launchd', name, file: join(home, 'Library', 'LaunchAgents', `${name}.plist`), ...common };
}

/**
 * Service files installed for a named workspace of a project file: those whose name ends with the
 * project file's digest and whose command passes `--workspace <name>` (the project name their
 * name starts with may have changed since they were written).
 */
export function installedServiceFiles(configFile: string, workspace: string, env: NodeJS.ProcessEnv): string[] {
  const digest = createHash('sha256').update(resolve(configFile)).digest('hex').slice(0, 8);
  const home = env.HOME ?? homedir();
  const dirs: Array<[string, string, RegExp]> = [
    [join(env.XDG_CONFIG_HOME || join(home, '.config'), 'systemd', 'user'), '.service', new RegExp(`^ExecStart=.* --workspace ${workspace}( |$)`, 'm')],
    [join(home, 'Library', 'LaunchAgents'), '.plist', new RegExp(`<string>--workspace</string>\\s*<string>${workspace}</string>`)],
  ];
  const found: string[] = [];
  for (const [dir, ext, runs] of dirs) {
    let names: string[] = [];
    try {
      names = readdirSync(dir);
    } catch {
      continue;
    }
    for (const n of names) {
      if (!n.endsWith(`-${digest}${ext}`)) continue;
      try {
        if (runs.test(readFileSync(join(dir, n), 'utf8'))) found.push(join(dir, n));
      } catch {
        // removed meanwhile
      }
    }
  }
  return found;
}

/** A systemd word: quoted when it has spaces or quotes, `%` and `$` escaped (systemd expands them). */
function systemdWord(s: string): string {
  const e = s.replace(/%/g, '%%').replace(/\$/g, '$$$$');
  return /[\s"'\\]/.test(e) ? `"${e.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"` : e;
}

export function renderSystemdUnit(s: ServiceSpec): string {
  return `# Written by \`orgloop service install\`; remove with \`orgloop service uninstall\`.
[Unit]
Description=${s.description.replace(/%/g, '%%')}
After=network-online.target
Wants=network-online.target

[Service]
Type=simple
WorkingDirectory=${systemdWord(s.workingDir)}
ExecStart=${s.command.map(systemdWord).join(' ')}
Environment=${systemdWord(`PATH=${s.path}`)}
Environment=NO_COLOR=1
# the executor keeps this log to a bounded size (ORGLOOP_LOG_MAX_BYTES, ORGLOOP_LOG_KEEP)
Environment=${systemdWord(`ORGLOOP_LOG_FILE=${s.logFile}`)}
Restart=on-failure
RestartSec=5
# SIGTERM lets the executor finish in-flight deliveries and release its leases
KillSignal=SIGTERM
TimeoutStopSec=30
StandardOutput=append:${s.logFile}
StandardError=append:${s.logFile}

[Install]
WantedBy=default.target
`;
}

function xml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

export function renderLaunchdPlist(s: ServiceSpec): string {
  const args = s.command.map((a) => `    <string>${xml(a)}</string>`).join('\n');
  return `<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<!-- Written by \`orgloop service install\`; remove with \`orgloop service uninstall\`. -->
<plist version="1.0">
<dict>
  <key>Label</key>
  <string>${xml(s.name)}</string>
  <key>ProgramArguments</key>
  <array>
${args}
  </array>
  <key>WorkingDirectory</key>
  <string>${xml(s.workingDir)}</string>
  <key>EnvironmentVariables</key>
  <dict>
    <key>PATH</key>
    <string>${xml(s.path)}</string>
    <key>NO_COLOR</key>
    <string>1</string>
    <key>ORGLOOP_LOG_FILE</key>
    <string>${xml(s.logFile)}</string>
  </dict>
  <key>RunAtLoad</key>
  <true/>
  <key>KeepAlive</key>
  <dict>
    <key>SuccessfulExit</key>
    <false/>
  </dict>
  <key>ThrottleInterval</key>
  <integer>5</integer>
  <key>ExitTimeOut</key>
  <integer>30</integer>
  <key>StandardOutPath</key>
  <string>${xml(s.logFile)}</string>
  <key>StandardErrorPath</key>
  <string>${xml(s.logFile)}</string>
</dict>
</plist>
`;
}

export function renderService(s: ServiceSpec): string {
  return s.platform === 'systemd' ? renderSystemdUnit(s) : renderLaunchdPlist(s);
}

/** The manager commands that load, unload and query the service (run by cmd/, shown on failure). */
export function managerCommands(s: ServiceSpec, uid: number): { load: string[][]; unload: string[][]; status: string[] } {
  if (s.platform === 'systemd') {
    const unit = basename(s.file);
    return {
      load: [
        ['systemctl', '--user', 'daemon-reload'],
        ['systemctl', '--user', 'enable', '--now', unit],
      ],
      unload: [
        ['systemctl', '--user', 'disable', '--now', unit],
        ['systemctl', '--user', 'daemon-reload'],
      ],
      status: ['systemctl', '--user', 'is-active', unit],
    };
  }
  return {
    load: [['launchctl', 'bootstrap', `gui/${uid}`, s.file]],
    unload: [['launchctl', 'bootout', `gui/${uid}/${s.name}`]],
    status: ['launchctl', 'print', `gui/${uid}/${s.name}`],
  };
}
