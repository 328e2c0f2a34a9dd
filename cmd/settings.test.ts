import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readProjectDefaults } from '../engine/config/defaults.js';
import { DEFAULT_SETTINGS } from '../engine/run/settings.js';
import { readSettings, SETTINGS, settingsHelp } from './settings.js';

function projectFile(yaml: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'orgloop-settings-'));
  const file = join(dir, 'orgloop.yaml');
  writeFileSync(file, yaml);
  return file;
}

const read = (flags: Record<string, string | undefined>, env: NodeJS.ProcessEnv, yaml?: string) =>
  readSettings({ flags, env, defaults: yaml === undefined ? null : readProjectDefaults(projectFile(yaml), env) });

describe('executor settings', () => {
  it('built-in defaults without flags, variables or project defaults', () => {
    expect(read({}, {})).toEqual(DEFAULT_SETTINGS);
    expect(readSettings({ flags: {}, env: {}, defaults: readProjectDefaults('/nonexistent/orgloop.yaml', {}) })).toEqual(DEFAULT_SETTINGS);
  });

  it('a flag wins over its variable, which wins over the project default', () => {
    const yaml = 'defaults:\n  concurrency: 3\n  prefetch: 7\n  log_level: warn\n';
    expect(read({}, {}, yaml)).toMatchObject({ concurrency: 3, prefetch: 7, consoleLevel: 'warn' });
    expect(read({}, { ORGLOOP_CONCURRENCY: '5', ORGLOOP_LOG_LEVEL: 'debug' }, yaml)).toMatchObject({ concurrency: 5, prefetch: 7, consoleLevel: 'debug' });
    expect(read({ concurrency: '9' }, { ORGLOOP_CONCURRENCY: '5' }, yaml)).toMatchObject({ concurrency: 9 });
    // an empty variable is unset, as in a shell's `VAR= orgloop start`
    expect(read({}, { ORGLOOP_CONCURRENCY: '' }, yaml)).toMatchObject({ concurrency: 3 });
  });

  it('every variable of the table is read, including 0 where it means something', () => {
    const s = read({}, { ORGLOOP_PREFETCH: '0', ORGLOOP_SHUTDOWN_GRACE_MS: '0', ORGLOOP_HEAP_GROWTH_PERCENT: '0', ORGLOOP_SWAP_POLL_MS: '20', ORGLOOP_POLL_LEASE_MS: '1000' });
    expect(s).toMatchObject({ prefetch: 0, shutdownGraceMs: 0, heapGrowthPercent: 0, swapPollMs: 20, pollLeaseMs: 1000 });
  });

  it('the retry schedule from a variable or the project, and the exponential policy only when asked', () => {
    expect(read({}, {}).retrySchedule).toEqual([5_000, 300_000, 1_800_000, 7_200_000, 18_000_000, 36_000_000, 36_000_000, 36_000_000]);
    expect(read({}, {}).backoffBaseMs).toBeNull();
    expect(read({}, { ORGLOOP_RETRY_SCHEDULE: '1s, 2m' }, 'defaults:\n  retry: [9s]\n').retrySchedule).toEqual([1000, 120_000]);
    expect(read({}, {}, 'defaults:\n  retry: [9s, 1h]\n').retrySchedule).toEqual([9000, 3_600_000]);
    expect(read({}, { ORGLOOP_BACKOFF_BASE_MS: '20' }).backoffBaseMs).toBe(20);
    expect(() => read({}, { ORGLOOP_RETRY_SCHEDULE: '5s,,1m' })).toThrow('invalid ORGLOOP_RETRY_SCHEDULE="5s,,1m": expected durations such as 5s,5m,30m');
    expect(() => read({}, {}, 'defaults:\n  retry: [5s, soon]\n')).toThrow(/orgloop\.yaml:2:\d+: defaults\.retry .*invalid duration "soon"/);
  });

  it('an invalid value is an error naming where it came from, never silently the default', () => {
    expect(() => read({ port: '70000' }, {})).toThrow('invalid --port "70000": expected 0-65535');
    expect(() => read({}, { ORGLOOP_CONCURRENCY: '0' })).toThrow('invalid ORGLOOP_CONCURRENCY="0": expected a whole number >= 1');
    expect(() => read({}, { ORGLOOP_LEASE_MS: '1.5s' })).toThrow('invalid ORGLOOP_LEASE_MS="1.5s": expected a whole number of ms >= 1');
    expect(() => read({}, { ORGLOOP_POLL_LEASE_MS: '10' })).toThrow(/>= 1000/);
    expect(() => read({ consoleLevel: 'loud' }, {})).toThrow('invalid --log-level "loud": expected one of debug, info, warn, error');
  });

  it('a bad project default is reported at file:line:col', () => {
    expect(() => read({}, {}, 'name: x\ndefaults:\n  concurrency: 0\n')).toThrow(/orgloop\.yaml:3:16: .*minimum|orgloop\.yaml:3:\d+: .*>= 1/);
    // the rest of the file need not be valid: start runs the applied version, not this YAML
    expect(read({}, {}, 'defaults:\n  concurrency: 2\nsources: 7\n')).toMatchObject({ concurrency: 2 });
  });

  it('start --help documents every setting with its variable and default', () => {
    const help = settingsHelp();
    const flat = help.replace(/\s+/g, ' ');
    for (const [key, spec] of Object.entries(SETTINGS)) {
      expect(help).toContain(spec.env);
      const shown = 'show' in spec && spec.show ? spec.show() : String(DEFAULT_SETTINGS[key as keyof typeof DEFAULT_SETTINGS]);
      expect(flat).toContain(`(default ${shown})`);
      if (spec.yaml) expect(help).toContain(`defaults.${spec.yaml}`);
    }
    const r = spawnSync(process.execPath, [join(import.meta.dirname, '..', 'dist/cmd/main.js'), 'start', '--help'], { encoding: 'utf8', env: { PATH: process.env.PATH ?? '', NO_COLOR: '1' } });
    expect(r.stdout).toContain(help.split('\n').slice(1, 3).join('\n'));
  });
});
