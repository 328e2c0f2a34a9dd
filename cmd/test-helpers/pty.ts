// Runs the CLI on a real pseudo-terminal (Python's pty module drives it: no native Node
// module needed), answering prompts as they appear. For the parts that behave differently on a
// terminal: interactive init, doctor's progress line.

import { spawn } from 'node:child_process';
import { CLI } from './executor.js';

const DRIVER = String.raw`
import json, os, pty, re, select, sys, time
cfg = json.loads(sys.argv[1])
pid, fd = pty.fork()
if pid == 0:
    os.chdir(cfg["cwd"])
    os.execve(cfg["argv"][0], cfg["argv"], cfg["env"])
out = b""
seen = 0
answers = cfg["answers"]
deadline = time.time() + cfg["timeout"]
while time.time() < deadline:
    r, _, _ = select.select([fd], [], [], 0.1)
    if r:
        try:
            chunk = os.read(fd, 65536)
        except OSError:
            break
        if not chunk:
            break
        out += chunk
    if answers:
        m = re.search(answers[0][0], out[seen:].decode("utf-8", "replace"))
        if m:
            seen = len(out)
            os.write(fd, answers.pop(0)[1].encode())
if time.time() >= deadline:
    os.kill(pid, 9)
_, status = os.waitpid(pid, 0)
sys.stdout.write(json.dumps({"code": os.waitstatus_to_exitcode(status), "output": out.decode("utf-8", "replace"), "unanswered": [a[0] for a in answers]}))
`;

export interface PtyResult {
  code: number;
  /** stdout and stderr as the terminal showed them (\r\n line ends) */
  output: string;
  /** prompts (patterns) that never appeared */
  unanswered: string[];
}

/** `answers`: [pattern (a Python regex), text to type] in order; each waits for its pattern. */
export function ptyRun(args: string[], o: { cwd: string; env?: NodeJS.ProcessEnv; answers?: Array<[string, string]>; timeoutMs?: number }): Promise<PtyResult> {
  const cfg = {
    cwd: o.cwd,
    argv: [process.execPath, CLI, ...args],
    env: { ...process.env, NO_COLOR: '1', TERM: 'xterm', ...o.env },
    answers: o.answers ?? [],
    timeout: (o.timeoutMs ?? 30_000) / 1000,
  };
  return new Promise((resolve, reject) => {
    const p = spawn('python3', ['-c', DRIVER, JSON.stringify(cfg)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    p.stdout.on('data', (c) => (out += c));
    p.stderr.on('data', (c) => (err += c));
    p.on('error', reject);
    p.on('close', () => {
      try {
        resolve(JSON.parse(out));
      } catch {
        reject(new Error(`pty driver failed: ${err || out}`));
      }
    });
  });
}
