// Wall time and peak RSS of `orgloop apply` (all creates) and `orgloop plan` (no changes) on a
// 10,000-route / 2,000-source / 500-actor project. Run: npm run build && npx tsx bench/plan-apply.ts
// Prints one JSON line per measurement.

import { spawnSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const CLI = resolve(import.meta.dirname, '../dist/cmd/main.js');
const ROUTES = Number(process.env.ROUTES ?? 10_000);
const SOURCES = Number(process.env.SOURCES ?? 2_000);
const ACTORS = Number(process.env.ACTORS ?? 500);

function writeProject(dir: string): void {
  const lines: string[] = ['sources:'];
  for (let i = 0; i < SOURCES; i++) {
    lines.push(`  - id: src-${i}`, '    connector: webhook', `    config: { secret: "\${HOOK_SECRET}", event_type: resource.changed }`);
  }
  lines.push('actors:');
  for (let i = 0; i < ACTORS; i++) {
    lines.push(`  - id: agent-${i}`, '    connector: webhook', `    config: { url: "http://127.0.0.1:9/agents/${i}", timeout: 30s }`);
  }
  lines.push('routes:');
  for (let i = 0; i < ROUTES; i++) {
    lines.push(
      `  - name: route-${i}`,
      `    when: { source: src-${i % SOURCES}, events: [resource.changed], filter: { provenance.platform_event: event-${i % 7} } }`,
      `    then: { actor: agent-${i % ACTORS} }`,
      `    with: { prompt_file: ./sops/sop-${i % 20}.md }`,
    );
  }
  mkdirSync(join(dir, 'sops'), { recursive: true });
  for (let i = 0; i < 20; i++) writeFileSync(join(dir, 'sops', `sop-${i}.md`), `# SOP ${i}\n\nDo the thing number ${i}.\n`);
  writeFileSync(join(dir, 'orgloop.yaml'), lines.join('\n') + '\n');
}

function measure(name: string, dir: string, args: string[]): void {
  const t0 = process.hrtime.bigint();
  // /usr/bin/time -f reports the child's max RSS in KB
  const r = spawnSync('/usr/bin/time', ['-f', '%M', process.execPath, CLI, ...args], {
    cwd: dir,
    env: { ...process.env, HOOK_SECRET: 'bench-secret', NO_COLOR: '1' },
    encoding: 'utf8',
    maxBuffer: 1 << 30,
  });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  const rssKb = Number(r.stderr.trim().split('\n').pop());
  if (r.status !== 0 && r.status !== 2) throw new Error(`${name} failed (${r.status}): ${r.stderr.slice(0, 2000)}`);
  console.log(JSON.stringify({ bench: name, routes: ROUTES, sources: SOURCES, actors: ACTORS, wall_ms: Math.round(ms), peak_rss_mb: Math.round(rssKb / 1024), exit: r.status }));
}

const dir = mkdtempSync(join(tmpdir(), 'orgloop-bench-'));
try {
  writeProject(dir);
  measure('plan (empty state, all creates)', dir, ['plan', '--detailed-exitcode']);
  measure('apply (all creates)', dir, ['apply', '--auto-approve']);
  measure('plan (no changes)', dir, ['plan', '--detailed-exitcode']);
  measure('plan --format markdown (no changes)', dir, ['plan', '--format', 'markdown']);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
