import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../errors.js';
import type { DesiredResource } from '../graph/types.js';
import { loadProject } from './load.js';
import { parseDotEnv, projectEnv, readDotEnvFresh, substitute } from './env.js';

const root = join(import.meta.dirname, '../..');
const td = (p: string) => join(root, 'testdata', p);
const noEnv = { env: { PATH: process.env.PATH } };

function project(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'orgloop-load-'));
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(join(dir, name, '..'), { recursive: true });
    writeFileSync(join(dir, name), text);
  }
  return join(dir, 'orgloop.yaml');
}

async function errorsOf(file: string, env: NodeJS.ProcessEnv = {}): Promise<string[]> {
  try {
    await loadProject(file, { env });
  } catch (err) {
    if (err instanceof ConfigError) return err.diagnostics.filter((d) => d.severity === 'error').map((d) => `${d.line}:${d.col}: ${d.message}`);
    throw err;
  }
  throw new Error('expected a ConfigError');
}

const strip = (r: DesiredResource) => ({ ...r, pos: undefined });
const byAddress = (a: { address: string }, b: { address: string }) => a.address.localeCompare(b.address);

describe('loadProject: both shapes', () => {
  it('a multi-file orgloop/v1alpha1 project normalizes to the same graph as its single-file twin', async () => {
    const multi = await loadProject(td('valid/multi-file/orgloop.yaml'), noEnv);
    const single = await loadProject(td('valid/single-file/orgloop.yaml'), noEnv);
    expect(multi.resources.length).toBe(11);
    expect(multi.resources.map(strip).sort(byAddress)).toEqual(single.resources.map(strip).sort(byAddress));
    expect(multi.prompts).toEqual(single.prompts);
    expect(multi.name).toBe('ops-org');
    expect(single.name).toBe('ops-org');
    expect(multi.defaults).toEqual(single.defaults);
    expect(multi.files.map((f) => f.slice(td('valid/multi-file').length + 1))).toEqual([
      'orgloop.yaml',
      'connectors/intake.yaml',
      'connectors/agents.yaml',
      'transforms/transforms.yaml',
      'loggers/default.yaml',
      'routes/intake.yaml',
      'routes/nightly.yaml',
    ]);
    expect(multi.warnings).toEqual([]);
  });

  it('normalizes names, transforms refs, events and dependencies', async () => {
    const p = await loadProject(td('valid/multi-file/orgloop.yaml'), noEnv);
    const get = (a: string) => p.resources.find((r) => r.address === a)!;
    expect(get('source.intake').provider).toBe('webhook');
    expect(get('transform.drop-bot-noise').spec).toEqual({ name: 'drop-bot-noise', type: 'filter', config: { exclude: { 'provenance.author_type': 'bot' } } });
    expect(get('logger.file-log').provider).toBe('file');
    const triage = get('route.triage-intake');
    expect(triage.spec).toMatchObject({ transforms: ['drop-bot-noise', 'dedup'], with: { prompt_file: 'sops/triage.md' } });
    expect(triage.dependsOn).toEqual(['source.intake', 'actor.triager', 'transform.drop-bot-noise', 'transform.dedup']);
    expect(get('route.review-triage').dependsOn).toEqual(['actor.triager', 'actor.reviewer']);
    expect(get('route.nightly-sweep').spec).toMatchObject({ when: { source: 'nightly', events: [] }, delivery: { max_attempts: 3, timeout: '10m' } });
    expect(triage.prompt?.file).toBe('sops/triage.md');
    expect(p.prompts[triage.prompt!.sha256]).toMatch(/^# Triage/);
    expect(triage.pos).toEqual({ file: 'testdata/valid/multi-file/routes/intake.yaml', line: 7, col: 5 });
  });

  it('loads the same YAML to the same specs twice', async () => {
    const a = await loadProject(td('valid/legal/orgloop.yaml'), noEnv);
    const b = await loadProject(td('valid/legal/orgloop.yaml'), noEnv);
    expect(JSON.stringify(a.resources)).toBe(JSON.stringify(b.resources));
  });
});

describe('loadProject: variables and secrets', () => {
  it('records every ${...} value as a secret template and resolves it (.env, shell wins, defaults)', async () => {
    const file = project({
      'orgloop.yaml': [
        'sources:',
        '  - id: hooks',
        '    connector: webhook',
        '    config:',
        '      secret: "${HOOK_SECRET}"',
        '      path: "/webhook/${HOOK_NAME:-hooks}"',
        'actors:',
        '  - id: a',
        '    connector: command',
        '    config:',
        '      command: "echo $${HOME} ${GREETING}"',
        '      env: { TOKEN: "${TOKEN}" }',
        'routes:',
        '  - name: r',
        '    when: { source: hooks }',
        '    then: { actor: a }',
      ].join('\n'),
      '.env': 'HOOK_SECRET=from-dotenv\nTOKEN="quoted token" # comment\nGREETING=from-dotenv\n',
    });
    const p = await loadProject(file, { env: { GREETING: 'from-shell' } });
    const hooks = p.resources.find((r) => r.address === 'source.hooks')!;
    expect(hooks.spec).toMatchObject({ config: { secret: 'from-dotenv', path: '/webhook/hooks' } });
    expect(hooks.templates).toEqual({ 'config.secret': '${HOOK_SECRET}', 'config.path': '/webhook/${HOOK_NAME:-hooks}' });
    const a = p.resources.find((r) => r.address === 'actor.a')!;
    expect(a.spec).toMatchObject({ config: { command: 'echo ${HOME} from-shell', env: { TOKEN: 'quoted token' } } });
    expect(a.templates).toEqual({ 'config.command': 'echo $${HOME} ${GREETING}', 'config.env.TOKEN': '${TOKEN}' });
    expect(p.resources.find((r) => r.kind === 'route')!.templates).toEqual({});
  });

  it('substitute / projectEnv / parseDotEnv', () => {
    expect(substitute('a-${X}-${Y:-dflt}-$${Z}', (n) => ({ X: '1' })[n])).toBe('a-1-dflt-${Z}');
    expect(substitute('${E:-fallback}', () => '')).toBe('fallback');
    expect(() => substitute('${MISSING}', () => undefined)).toThrow('environment variable MISSING is not set');
    expect(() => substitute('${1BAD}', () => undefined)).toThrow('invalid variable reference ${1BAD}');
    expect(parseDotEnv('export A=1\nB = "x\\ny"\nC=\'lit $x\'\n# c\nD=v # trailing\n')).toEqual({ A: '1', B: 'x\ny', C: 'lit $x', D: 'v' });
    const dir = mkdtempSync(join(tmpdir(), 'orgloop-env-'));
    writeFileSync(join(dir, '.env'), 'A=dotenv\nB=dotenv\n');
    const look = projectEnv(dir, { A: 'shell' });
    expect([look('A'), look('B'), look('C')]).toEqual(['shell', 'dotenv', undefined]);
  });

  it('.env is read again when it changes, and only then', () => {
    const dir = mkdtempSync(join(tmpdir(), 'orgloop-env-'));
    expect(readDotEnvFresh(dir)).toEqual({});
    writeFileSync(join(dir, '.env'), 'TOKEN=one\n');
    // written just now: a rewrite within the same timestamp tick would look unchanged, so no caching yet
    expect(readDotEnvFresh(dir)).not.toBe(readDotEnvFresh(dir));
    const past = new Date(Date.now() - 60_000);
    utimesSync(join(dir, '.env'), past, past);
    const first = readDotEnvFresh(dir);
    expect(first).toEqual({ TOKEN: 'one' });
    expect(readDotEnvFresh(dir)).toBe(first); // unchanged file: the same parsed object
    writeFileSync(join(dir, '.env'), 'TOKEN=two\n'); // same size: the change is seen by mtime / ctime
    expect(projectEnv(dir, {})('TOKEN')).toBe('two');
    rmSync(join(dir, '.env'));
    expect(projectEnv(dir, {})('TOKEN')).toBeUndefined();
  });

  it('a missing variable names the file, line and variable', async () => {
    const file = project({ 'orgloop.yaml': 'sources:\n  - id: s\n    connector: webhook\n    config:\n      secret: "${NOPE_NOT_SET}"\n' });
    expect(await errorsOf(file)).toEqual([
      '5:15: source "s": config.secret: environment variable NOPE_NOT_SET is not set (and has no default: use ${NOPE_NOT_SET:-default})',
    ]);
  });
});

describe('loadProject: checks', () => {
  it('reports every problem at once, each at its position', async () => {
    const file = project({
      'orgloop.yaml': [
        'sources:',
        '  - id: s',
        '    connector: webhok',
        'actors:',
        '  - id: a',
        '    connector: command',
        'routes:',
        '  - name: r',
        '    when: { source: sx }',
        '    then: { actor: b }',
      ].join('\n'),
    });
    expect(await errorsOf(file)).toEqual([
      '3:16: source "s": unknown source connector "webhok"; did you mean "webhook"?',
      '5:5: actor "a": config.command is required',
      '9:21: route "r": unknown source "sx" in when.source (not a declared source or actor id); did you mean "s"?',
      '10:20: route "r": unknown actor "b" in then.actor; did you mean "a"?',
    ]);
  });

  it('prompt_file resolves beside the declaring file, falling back to the project dir', async () => {
    const file = project({
      'orgloop.yaml': 'apiVersion: orgloop/v1alpha1\nkind: Project\nmetadata: { name: p }\nconnectors: [connectors/c.yaml]\n',
      'connectors/c.yaml': 'kind: ConnectorGroup\nsources: [{ id: s, connector: webhook }]\nactors: [{ id: a, connector: command, config: { command: cat } }]\n',
      'routes/r.yaml': 'kind: RouteGroup\nroutes:\n  - { name: near, when: { source: s }, then: { actor: a }, with: { prompt_file: ./near.md } }\n  - { name: far, when: { source: s }, then: { actor: a }, with: { prompt_file: ./sops/far.md } }\n',
      'routes/near.md': 'near',
      'sops/far.md': 'far',
    });
    const p = await loadProject(file, { env: {} });
    const routes = p.resources.filter((r) => r.kind === 'route');
    expect(routes.map((r) => r.prompt?.file)).toEqual(['routes/near.md', 'sops/far.md']);
    expect(routes.map((r) => p.prompts[r.prompt!.sha256])).toEqual(['near', 'far']);
  });

  it('poll on a non-polling source is a warning, not an error', async () => {
    const file = project({ 'orgloop.yaml': 'sources:\n  - id: s\n    connector: webhook\n    poll: { interval: 2m }\n' });
    const p = await loadProject(file, { env: {} });
    expect(p.warnings.map((w) => `${w.line}:${w.col}: ${w.message}`)).toEqual(['4:5: source "s": poll is ignored: connector "webhook" is not polled (it takes events as they arrive)']);
    expect(p.resources[0]!.spec).toEqual({ id: 's', connector: 'webhook', config: {} });
  });

  it('a value with a line break is quoted escaped, so every diagnostic stays one file:line:col line', async () => {
    const file = project({ 'orgloop.yaml': 'loggers:\n  - name: l\n    type: "@orgloop/\n\n      logger-console"\n' });
    expect(await errorsOf(file)).toEqual(['3:11: logger "l": unknown logger type "@orgloop/\\nlogger-console"']);
  });

  it('executor settings under defaults (event_retention, log_level) load without a warning; a bad duration is an error', async () => {
    const file = project({ 'orgloop.yaml': 'defaults:\n  event_retention: 30d\n  log_level: debug\nsources:\n  - id: s\n    connector: webhook\n' });
    const p = await loadProject(file, { env: {} });
    // event_retention is enforced by the executor now (engine/run/retention.ts)
    expect(p.warnings).toEqual([]);
    const bad = project({ 'orgloop.yaml': 'defaults:\n  event_retention: 30 days\nsources:\n  - id: s\n    connector: webhook\n' });
    expect((await errorsOf(bad)).join('\n')).toContain('2:20: defaults.event_retention: invalid duration');
    // log_level is an executor setting now (its console level without a console logger): no warning
  });

  it("OrgLoop's defaults.checkpoint loads; store: file is silent, memory and dir name what differs", async () => {
    const fileStore = project({ 'orgloop.yaml': 'defaults:\n  checkpoint:\n    store: file\nsources:\n  - id: s\n    connector: webhook\n' });
    expect((await loadProject(fileStore, { env: {} })).warnings).toEqual([]);
    const other = project({ 'orgloop.yaml': 'defaults:\n  checkpoint:\n    store: memory\n    dir: .orgloop/checkpoints\nsources:\n  - id: s\n    connector: webhook\n' });
    const w = (await loadProject(other, { env: {} })).warnings.map((d) => `${d.line}:${d.col}: ${d.message}`);
    expect(w).toEqual([
      '3:12: defaults.checkpoint.store: memory is not honoured: source checkpoints are kept in the state store and survive restarts',
      '4:10: defaults.checkpoint.dir is not used: source checkpoints are kept in the state store (.orgloop/state.db, or --state)',
    ]);
  });

  it("routes written with OrgLoop's or an earlier connector's event names load as written, without a warning", async () => {
    const file = project({
      'orgloop.yaml': [
        'sources:',
        '  - id: gh',
        '    connector: "@orgloop/connector-github"',
        '    config: { repo: acme/api, token: t }',
        'actors:',
        '  - id: a',
        '    connector: command',
        '    config: { command: "true" }',
        'routes:',
        '  - name: reviews',
        '    when:',
        '      source: gh',
        '      events: [resource.changed]',
        '      filter: { provenance.platform_event: pull_request.review_submitted }',
        '    then: { actor: a }',
        '  - name: comments',
        '    when: { source: gh, events: [pull_request.review_comment] }',
        '    then: { actor: a }',
        '',
      ].join('\n'),
    });
    const p = await loadProject(file, { env: {} });
    const when = (name: string) => (p.resources.find((r) => r.address === `route.${name}`)!.spec as { when: unknown }).when;
    // written as upstream and earlier connectors wrote them: kept as written, no warning (the
    // router and filters match a name or any alias of it)
    expect(when('reviews')).toEqual({ source: 'gh', events: ['resource.changed'], filter: { 'provenance.platform_event': 'pull_request.review_submitted' } });
    expect(when('comments')).toEqual({ source: 'gh', events: ['pull_request.review_comment'] });
    expect(p.warnings).toEqual([]);
  });
});
