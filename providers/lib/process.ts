// Runs a child process for the command actor and the script transform: input on stdin,
// timeout that kills the whole process group, bounded output capture.

import { spawn } from 'node:child_process';

export interface RunOptions {
  /** a string run by `sh -c`, or an argv array run directly */
  command: string | string[];
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  stdin?: string | Buffer;
  timeoutMs: number;
  signal?: AbortSignal;
  /** keep the full stdout (up to maxStdout bytes); otherwise only the tail is kept */
  captureStdout?: boolean;
  maxStdout?: number;
  /** bytes of combined stdout+stderr to keep as the tail (default 4096) */
  tailBytes?: number;
}

export interface RunResult {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  timedOut: boolean;
  aborted: boolean;
  /** spawn failure (command not found, bad cwd...) */
  spawnError?: string;
  stdout: string;
  stdoutTruncated: boolean;
  stderrTail: string;
  /** last tailBytes of stdout and stderr, interleaved as produced */
  outputTail: string;
  durationMs: number;
}

const KILL_GRACE_MS = 2000;
/** After the process exits, how long to wait for inherited pipes (background children) to close. */
const PIPE_GRACE_MS = 500;

class Tail {
  private chunks: Buffer[] = [];
  private size = 0;
  constructor(private readonly limit: number) {}
  push(b: Buffer): void {
    this.chunks.push(b);
    this.size += b.length;
    while (this.size - this.chunks[0]!.length >= this.limit) this.size -= this.chunks.shift()!.length;
  }
  text(): string {
    const all = Buffer.concat(this.chunks);
    return all.subarray(Math.max(0, all.length - this.limit)).toString('utf8');
  }
}

/** `command` as the command actor and the script transform take it. */
export const COMMAND_PROPERTY = {
  oneOf: [
    { type: 'string', minLength: 1, description: 'run with sh -c' },
    { type: 'array', items: { type: 'string' }, minItems: 1, description: 'argv, run directly' },
  ],
};

export function describeCommand(command: string | string[]): string {
  return Array.isArray(command) ? command.join(' ') : command;
}

export function runProcess(opts: RunOptions): Promise<RunResult> {
  const started = Date.now();
  const tailBytes = opts.tailBytes ?? 4096;
  const maxStdout = opts.maxStdout ?? 16 * 1024 * 1024;
  const [file, args] = Array.isArray(opts.command) ? [opts.command[0]!, opts.command.slice(1)] : ['/bin/sh', ['-c', opts.command]];

  return new Promise<RunResult>((resolve) => {
    const tail = new Tail(tailBytes);
    const errTail = new Tail(tailBytes);
    const out: Buffer[] = [];
    let outSize = 0;
    let stdoutTruncated = false;
    let timedOut = false;
    let aborted = false;
    let spawnError: string | undefined;
    let exitCode: number | null = null;
    let exitSignal: NodeJS.Signals | null = null;
    let done = false;
    let killTimer: NodeJS.Timeout | undefined;
    let pipeTimer: NodeJS.Timeout | undefined;

    const child = spawn(file, args, {
      cwd: opts.cwd,
      env: opts.env,
      // own process group, so a timeout kills the shell and everything it started
      detached: true,
      stdio: ['pipe', 'pipe', 'pipe'],
    });

    const killGroup = (sig: NodeJS.Signals) => {
      if (child.pid === undefined) return;
      try {
        process.kill(-child.pid, sig);
      } catch {
        try {
          child.kill(sig);
        } catch {
          /* already gone */
        }
      }
    };
    const stop = () => {
      killGroup('SIGTERM');
      killTimer = setTimeout(() => killGroup('SIGKILL'), KILL_GRACE_MS);
      killTimer.unref();
    };

    const timer = setTimeout(() => {
      timedOut = true;
      stop();
    }, opts.timeoutMs);
    const onAbort = () => {
      aborted = true;
      stop();
    };
    if (opts.signal) {
      if (opts.signal.aborted) onAbort();
      else opts.signal.addEventListener('abort', onAbort, { once: true });
    }

    const finish = () => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      if (pipeTimer) clearTimeout(pipeTimer);
      if (killTimer) clearTimeout(killTimer);
      opts.signal?.removeEventListener('abort', onAbort);
      // a stopped group may still hold children that ignored SIGTERM; make sure they go
      if (timedOut || aborted) killGroup('SIGKILL');
      resolve({
        exitCode,
        signal: exitSignal,
        timedOut,
        aborted,
        spawnError,
        stdout: Buffer.concat(out).toString('utf8'),
        stdoutTruncated,
        stderrTail: errTail.text(),
        outputTail: tail.text(),
        durationMs: Date.now() - started,
      });
    };

    child.stdout!.on('data', (b: Buffer) => {
      tail.push(b);
      if (opts.captureStdout) {
        if (outSize + b.length > maxStdout) stdoutTruncated = true;
        else {
          out.push(b);
          outSize += b.length;
        }
      }
    });
    child.stderr!.on('data', (b: Buffer) => {
      tail.push(b);
      errTail.push(b);
    });
    child.on('error', (err) => {
      spawnError = err.message;
      finish();
    });
    child.on('exit', (code, sig) => {
      exitCode = code;
      exitSignal = sig;
      pipeTimer = setTimeout(() => {
        child.stdout!.destroy();
        child.stderr!.destroy();
        finish();
      }, PIPE_GRACE_MS);
      pipeTimer.unref();
    });
    child.on('close', () => finish());

    // The child may exit without reading its input; that is not our error.
    child.stdin!.on('error', () => {});
    if (opts.stdin !== undefined) child.stdin!.end(opts.stdin);
    else child.stdin!.end();
  });
}
