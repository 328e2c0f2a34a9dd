import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { configDefaults, defineConfig } from 'vitest/config';

// Files that kill processes, wait out leases and retry delays, cut Postgres or the network, or
// fill a disk: each runs on its own after the rest, so its timings are not shared with other
// files' load. The other reliability files (fuzzing, attacks, models) run with the rest.
const ALONE = [
  'actor-down',
  'apply-crash',
  'connector-crash',
  'crash',
  'disk-full',
  'memory',
  'pg-faults',
  'pg-hosts',
  'poll',
  'prefetch',
  'retention',
  'retry-schedule',
].map((name) => `test/reliability/${name}.test.ts`);

export default defineConfig({
  test: {
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    globalSetup: ['test/global-setup.ts'],
    // The per-user state key file (engine/secrets/key.ts) lives here during tests, not in the
    // real ~/.config; CLI children inherit it, so they hash with the same key as the test.
    env: { XDG_CONFIG_HOME: join(tmpdir(), 'orgloop-test-config') },
    projects: [
      {
        extends: true,
        test: {
          name: 'parallel',
          include: ['cmd/**/*.test.ts', 'engine/**/*.test.ts', 'providers/**/*.test.ts', 'state/**/*.test.ts', 'test/**/*.test.ts'],
          // vitest's own exclusions (node_modules, .git) stay: `exclude` replaces them, not adds
          exclude: [...configDefaults.exclude, ...ALONE],
          // most files wait on child processes and sockets, so two share even a 2-core machine
          maxWorkers: Math.max(2, availableParallelism() - 1),
          sequence: { groupOrder: 0 },
        },
      },
      {
        extends: true,
        test: { name: 'alone', include: ALONE, maxWorkers: 1, sequence: { groupOrder: 1 } },
      },
    ],
  },
});
