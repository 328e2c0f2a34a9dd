// A stand-in for the agent-ctl program: an executable script in a temp dir that answers
// `list --json` from a registry file beside it, the way agent-ctl answers from its session
// registry: a session launched with a `pid` is `running` while that process lives (`idle` when
// the registry says so) and `stopped` once it has exited (agent-ctl's orphan detection); a
// registry entry may also pin a `status` (error, stopped). `fail` in the registry makes the
// program exit 2 with that message on stderr; `garbage` makes it print non-JSON.
// Tests start real child processes (`sleep`) as the sessions' processes and kill them.

import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface RegistryEntry {
  id: string;
  adapter: string;
  pid?: number;
  status?: string;
  idle?: boolean;
  startedAt?: string;
  cwd?: string;
  spec?: string;
  model?: string;
  tokens?: { in: number; out: number };
  cost?: number;
  meta?: Record<string, unknown>;
}

export interface FakeAgentCtl {
  /** path of the executable */
  binary: string;
  dir: string;
  /** replaces the registry */
  write(entries: RegistryEntry[], opts?: { fail?: string; garbage?: boolean }): void;
  /** starts a real process standing for an agent session and returns it */
  launch(): ChildProcess;
  close(): void;
}

const SCRIPT = `
const { readFileSync } = require('node:fs');
const { join } = require('node:path');
if (process.argv[2] !== 'list' || process.argv[3] !== '--json') { process.stderr.write('usage: agent-ctl list --json\\n'); process.exit(64); }
const reg = JSON.parse(readFileSync(join(__dirname, 'registry.json'), 'utf8'));
if (reg.fail) { process.stderr.write(reg.fail + '\\n'); process.exit(2); }
if (reg.garbage) { process.stdout.write('Sessions:\\n  none\\n'); process.exit(0); }
const alive = (pid) => { try { process.kill(pid, 0); return true; } catch (e) { return e.code === 'EPERM'; } };
const out = reg.sessions.map((s) => {
  const { idle, ...rest } = s;
  let status = s.status;
  let stoppedAt;
  if (!status) {
    if (s.pid && alive(s.pid)) status = idle ? 'idle' : 'running';
    else { status = 'stopped'; stoppedAt = '2026-06-01T10:30:00.000Z'; }
  }
  return { meta: {}, ...rest, status, ...(stoppedAt ? { stoppedAt } : {}) };
});
process.stdout.write(JSON.stringify(out));
`;

export function fakeAgentCtl(): FakeAgentCtl {
  const dir = mkdtempSync(join(tmpdir(), 'orgloop-agent-ctl-'));
  const binary = join(dir, 'agent-ctl');
  // CommonJS beside a package.json that says so, whatever the surrounding project uses
  writeFileSync(join(dir, 'package.json'), '{"type":"commonjs"}\n');
  writeFileSync(binary, `#!${process.execPath}\n${SCRIPT}`);
  chmodSync(binary, 0o755);
  const children: ChildProcess[] = [];
  const fake: FakeAgentCtl = {
    binary,
    dir,
    write(entries, opts = {}) {
      writeFileSync(join(dir, 'registry.json.tmp'), JSON.stringify({ sessions: entries, ...opts }));
      // renamed into place so a listing never reads half a file
      renameSync(join(dir, 'registry.json.tmp'), join(dir, 'registry.json'));
    },
    launch() {
      const c = spawn('sleep', ['120'], { stdio: 'ignore' });
      children.push(c);
      return c;
    },
    close() {
      for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    },
  };
  fake.write([]);
  return fake;
}
