// Checks that find misconfiguration before a delivery does (issue 17 hole 18): a program that
// is not on PATH, a working directory that does not exist, an endpoint nothing answers on.
// `validate` uses the offline ones as warnings (the machine that runs the executor may differ
// from the one validating); `doctor` runs them all and says what it checked.

import { accessSync, constants, statSync } from 'node:fs';
import net from 'node:net';
import { delimiter, isAbsolute, join, resolve } from 'node:path';
import tls from 'node:tls';

/** Why `dir` cannot be a working directory, or null when it can. */
export function cwdProblem(dir: string): string | null {
  try {
    return statSync(dir).isDirectory() ? null : `cwd ${dir} is not a directory`;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return code === 'ENOENT' ? `cwd ${dir} does not exist` : `cwd ${dir} cannot be used (${code ?? (err as Error).message})`;
  }
}

const SHELL_SYNTAX = /[|&;<>()$`"'\\*?[\]{}=~!]|^\s*(?:if|for|while|case|until|exec|cd|export|set|source|\.)\s/;

/**
 * The program a command runs: argv[0], or the first word of a `sh -c` string that is a plain
 * command line (no shell syntax: with pipes, variables or builtins the shell decides).
 */
export function programOf(command: string | string[]): string | null {
  if (Array.isArray(command)) return typeof command[0] === 'string' && command[0] ? command[0] : null;
  if (SHELL_SYNTAX.test(command)) return null;
  const first = command.trim().split(/\s+/)[0];
  return first || null;
}

const executable = (p: string) => {
  try {
    if (!statSync(p).isFile()) return false;
    accessSync(p, constants.X_OK);
    return true;
  } catch {
    return false;
  }
};

/** Where `program` resolves (a path, relative to `cwd`, or a name looked up on `path`), or null. */
export function findProgram(program: string, cwd: string, path: string | undefined): string | null {
  if (program.includes('/')) {
    const p = isAbsolute(program) ? program : resolve(cwd, program);
    return executable(p) ? p : null;
  }
  for (const dir of (path ?? '').split(delimiter)) {
    if (!dir) continue;
    const p = join(dir, program);
    if (executable(p)) return p;
  }
  return null;
}

/**
 * Opens a TCP connection to the URL's host and port (and completes a TLS handshake for https)
 * without sending a request: an actor endpoint may act on any request it gets.
 */
export function reach(url: URL, timeoutMs: number, signal?: AbortSignal): Promise<{ ok: boolean; detail: string }> {
  const https = url.protocol === 'https:';
  const port = Number(url.port || (https ? 443 : 80));
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const where = `${url.hostname}:${port}`;
  return new Promise((done) => {
    let settled = false;
    const finish = (ok: boolean, detail: string) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      sock.destroy();
      done({ ok, detail });
    };
    const sock = https ? tls.connect({ host, port, servername: net.isIP(host) ? undefined : host }) : net.connect({ host, port });
    const timer = setTimeout(() => finish(false, `no connection to ${where} within ${Math.round(timeoutMs / 1000)}s`), timeoutMs);
    signal?.addEventListener('abort', () => finish(false, `check aborted`), { once: true });
    sock.once(https ? 'secureConnect' : 'connect', () => finish(true, `connected to ${where}${https ? ' (TLS handshake ok)' : ''}; no request sent`));
    sock.once('error', (err: NodeJS.ErrnoException) => finish(false, `cannot connect to ${where}: ${err.message}`));
  });
}
