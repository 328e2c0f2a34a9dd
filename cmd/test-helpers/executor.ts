// Helpers for end-to-end tests of the executor: temp projects, applying them, running the real
// CLI as a child process, and a local HTTP sink that records what actors receive.

import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const CLI = resolve(dirname(fileURLToPath(import.meta.url)), '../../dist/cmd/main.js');

export function tempProject(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'orgloop-run-'));
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, name)), { recursive: true });
    writeFileSync(join(dir, name), text);
  }
  return dir;
}

/**
 * orgloop.yaml of the smallest project that runs: webhook sources, one command actor, one route
 * from the first source to it. Tests that need more write their YAML out.
 */
export function webhookProject(o: { name?: string; sources?: string[]; actor?: string; command?: string; route?: string } = {}): string {
  const sources = o.sources ?? ['hook'];
  const actor = o.actor ?? 'sink';
  return [
    ...(o.name ? [`name: ${o.name}`] : []),
    'sources:',
    ...sources.flatMap((id) => [`  - id: ${id}`, '    connector: webhook']),
    'actors:',
    `  - id: ${actor}`,
    '    connector: command',
    `    config: { command: "${o.command ?? 'cat > /dev/null'}" }`,
    'routes:',
    `  - name: ${o.route ?? `${sources[0]}-to-${actor}`}`,
    `    when: { source: ${sources[0]} }`,
    `    then: { actor: ${actor} }`,
    '',
  ].join('\n');
}

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the CLI to completion. */
export function cli(args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv; input?: string } = {}): Promise<CliResult> {
  return new Promise((res, rej) => {
    const p = spawn(process.execPath, [CLI, ...args], {
      cwd: opts.cwd,
      env: { ...process.env, NO_COLOR: '1', ...opts.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (c) => (stdout += c));
    p.stderr.on('data', (c) => (stderr += c));
    p.on('error', rej);
    p.on('close', (code) => res({ code, stdout, stderr }));
    p.stdin.end(opts.input ?? '');
  });
}

export interface RunningExecutor {
  url: string;
  proc: ChildProcess;
  output(): string;
  /** resolves when `text` (or a match) appears in stdout */
  waitFor(pattern: string | RegExp, timeoutMs?: number): Promise<string>;
  /** SIGTERM and wait for exit */
  stop(): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Starts `orgloop <args>` (start or up) and waits until it prints its listening address. */
export async function runExecutor(args: string[], opts: { cwd: string; env?: NodeJS.ProcessEnv }): Promise<RunningExecutor> {
  const proc = spawn(process.execPath, [CLI, ...args], {
    cwd: opts.cwd,
    env: { ...process.env, NO_COLOR: '1', ORGLOOP_BACKOFF_BASE_MS: '20', ORGLOOP_CLAIM_POLL_MS: '50', ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const waiters: Array<() => void> = [];
  const onData = (c: Buffer) => {
    out += c.toString();
    for (const w of waiters.splice(0)) w();
  };
  proc.stdout!.on('data', onData);
  proc.stderr!.on('data', onData);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) => proc.on('exit', (code, signal) => r({ code, signal })));
  proc.on('exit', () => {
    for (const w of waiters.splice(0)) w();
  });

  const waitFor = (pattern: string | RegExp, timeoutMs = 15_000): Promise<string> =>
    new Promise((res, rej) => {
      const timer = setTimeout(() => rej(new Error(`timed out waiting for ${pattern} in executor output:\n${out}`)), timeoutMs);
      const check = () => {
        const m = typeof pattern === 'string' ? (out.includes(pattern) ? pattern : null) : out.match(pattern)?.[0];
        if (m) {
          clearTimeout(timer);
          res(m);
        } else if (proc.exitCode !== null) {
          clearTimeout(timer);
          rej(new Error(`executor exited (${proc.exitCode}) before ${pattern}:\n${out}`));
        } else waiters.push(check);
      };
      check();
    });

  const line = await waitFor(/listening on http:\/\/[^\s]+/).catch((err: Error) => {
    // the caller never gets a handle to stop it: do not leave an orphan executor behind
    if (proc.exitCode === null) proc.kill('SIGKILL');
    throw err;
  });
  const url = line.replace('listening on ', '');
  return {
    url,
    proc,
    output: () => out,
    waitFor,
    stop: async () => {
      if (proc.exitCode === null) proc.kill('SIGTERM');
      return exited;
    },
  };
}

export interface SinkRequest {
  path: string;
  headers: http.IncomingHttpHeaders;
  body: any;
}

/** A local HTTP server that records every request; `respond` picks the status per request. */
export async function startSink(respond: (req: SinkRequest, n: number) => number = () => 200) {
  const received: SinkRequest[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString();
      let body: unknown = text;
      try {
        body = JSON.parse(text);
      } catch {}
      const r: SinkRequest = { path: req.url ?? '/', headers: req.headers, body };
      received.push(r);
      const status = respond(r, received.length);
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end('{}');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  return {
    url: `http://127.0.0.1:${port}`,
    received,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

export async function until<T>(fn: () => Promise<T | undefined | null | false> | T | undefined | null | false, timeoutMs = 15_000, what = 'condition'): Promise<T> {
  const start = Date.now();
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export async function postJson(url: string, body: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: typeof body === 'string' ? body : JSON.stringify(body) });
  const text = await res.text();
  let json: any = null;
  try {
    json = JSON.parse(text);
  } catch {}
  return { status: res.status, json, text };
}

/**
 * Applies the project in `dir` straight through the engine (load -> snapshot -> new state
 * version), the way `orgloop apply --auto-approve` records it, without provider hooks.
 */
export async function applyDirect(dir: string, file = 'orgloop.yaml'): Promise<number> {
  const { loadProject } = await import('../../engine/config/load.js');
  const { toSnapshot } = await import('../../engine/plan/snapshot.js');
  const { loadStateKey } = await import('../../engine/secrets/index.js');
  const { registryHints } = await import('../../engine/plan/plan.js');
  const { openStore } = await import('../../state/open.js');
  const project = await loadProject(join(dir, file));
  mkdirSync(join(dir, '.orgloop'), { recursive: true });
  const store = await openStore(join(dir, '.orgloop', 'state.db'));
  try {
    const meta = await store.meta();
    const hints = await registryHints();
    const desired = toSnapshot(project, { salt: meta.secret_salt, key: () => loadStateKey(process.env), sensitive: hints.sensitive });
    const v = await store.writeVersion({
      expectedSerial: meta.serial,
      kind: 'apply',
      who: 'test',
      message: null,
      config_digest: desired.digest,
      summary: { add: 0, change: 0, destroy: 0 },
      snapshot: desired.snapshot,
      blobs: desired.blobs,
    });
    return v.serial;
  } finally {
    await store.close();
  }
}
