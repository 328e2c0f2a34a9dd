import { createHash } from 'node:crypto';
import { execFile } from 'node:child_process';
import { chmodSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { toSnapshot, type SensitiveLookup } from '../plan/snapshot.js';
import { diffSnapshots } from '../plan/diff.js';
import { renderText } from '../plan/render-text.js';
import { renderJson } from '../plan/render-json.js';
import { projectOf, type MiniProject } from '../plan/test-helpers/project.js';
import { webhookActor } from '../../providers/actors/webhook.js';
import { webhookSource } from '../../providers/sources/webhook.js';
import {
  checkSecretHash,
  forgetSecrets,
  hashKeyId,
  isSensitiveVariable,
  keyFilePath,
  loadStateKey,
  redact,
  REDACTED,
  resolveSecrets,
  secretHash,
  sensitivityPolicy,
  stateKeyFromText,
  StateKeyError,
  type StoredSecret,
} from './index.js';

const execFileAsync = promisify(execFile);
const KEY = stateKeyFromText('key one for tests', 'test');
const OTHER = stateKeyFromText('another key entirely', 'test');
const SALT = 'salt-1';
const providers: SensitiveLookup = (kind, name) => (kind === 'actor' && name === 'webhook' ? webhookActor : kind === 'source' && name === 'webhook' ? webhookSource : undefined);
const snap = (p: MiniProject, key = KEY) => toSnapshot(projectOf(p), { salt: SALT, key: () => key, sensitive: providers });
const config = (d: ReturnType<typeof snap>, addr: string) => d.snapshot.resources[addr]!.attributes.config as Record<string, unknown>;

describe('which values are sensitive', () => {
  it('by the variable name, unless defaults.public lifts it; defaults.sensitive adds any', () => {
    const none = sensitivityPolicy({});
    for (const name of ['GITHUB_TOKEN', 'GH_SECRET', 'DB_PASSWORD', 'LINEAR_API_KEY', 'AWS_CREDENTIALS', 'OPENCLAW_AUTH', 'PRIVATE_PEM', 'SESSION_COOKIE', 'my_token']) {
      expect(isSensitiveVariable(name, none), name).toBe(true);
    }
    for (const name of ['GITHUB_REPO', 'AGENT_ID', 'HOME', 'OPENCLAW_URL', 'INBOX']) expect(isSensitiveVariable(name, none), name).toBe(false);
    const policy = sensitivityPolicy({ sensitive: ['AGENT_ID'], public: ['GITHUB_APP_KEY_ID'] });
    expect(isSensitiveVariable('AGENT_ID', policy)).toBe(true);
    expect(isSensitiveVariable('GITHUB_APP_KEY_ID', policy)).toBe(false);
  });

  it('shows other ${VAR} values in the snapshot and the plan, and masks the secrets', () => {
    const p: MiniProject = {
      sources: [
        {
          id: 'gh',
          config: { path: '/gh', secret: 'sig-secret-value', repo: 'acme/api' },
          templates: { 'config.secret': '${GH_HOOK_SECRET}', 'config.repo': '${GITHUB_REPO}' },
        },
      ],
      actors: [
        {
          id: 'agent',
          connector: 'webhook',
          config: { url: 'http://127.0.0.1:1/hook', headers: { 'x-agent': 'agent-7', AUTHORIZATION: 'Bearer inline-bearer-value' }, auth: { bearer: 'bearer-from-env' } },
          templates: { 'config.headers.x-agent': '${AGENT_ID}', 'config.auth.bearer': '${AGENT_BEARER}' },
        },
      ],
      routes: [{ name: 'r', source: 'gh', actor: 'agent' }],
    };
    const d = snap(p);
    const text = JSON.stringify(d);
    expect(config(d, 'source.gh').repo).toBe('acme/api');
    expect((config(d, 'actor.agent').headers as Record<string, unknown>)['x-agent']).toBe('agent-7');
    for (const secret of ['sig-secret-value', 'inline-bearer-value', 'bearer-from-env']) expect(text).not.toContain(secret);
    // a header named AUTHORIZATION is masked whatever its case, with a warning that it is inline
    expect((config(d, 'actor.agent').headers as Record<string, StoredSecret>).AUTHORIZATION.$secret.template).toBe('(inline)');
    expect(d.warnings.join('\n')).toContain('actor.agent config.headers.AUTHORIZATION is sensitive but written inline');
    const plan = diffSnapshots(null, d.snapshot, () => null);
    const out = renderText(plan, { color: false });
    expect(out).toContain('+ config.repo = "acme/api"');
    expect(out).toContain('+ config.secret = (sensitive value from ${GH_HOOK_SECRET})');
    expect(out).toContain('+ config.auth.bearer = (sensitive value from ${AGENT_BEARER})');
  });

  it('masks every element of a sensitive list, each by its own template', () => {
    const d = snap({ sources: [{ id: 'w', config: { secret: ['old-secret-1', 'new-secret-2'] }, templates: { 'config.secret.0': '${OLD}', 'config.secret.1': '${NEW}' } }] });
    const list = config(d, 'source.w').secret as StoredSecret[];
    expect(list.map((s) => s.$secret.template)).toEqual(['${OLD}', '${NEW}']);
    expect(d.warnings).toEqual([]);
  });
});

describe('hashes of sensitive values', () => {
  it('are keyed: the store alone (salt + hash) no longer confirms a guess, as sha256(salt||value) did', () => {
    const d = snap({ sources: [{ id: 'gh', config: { secret: 'hunter2' }, templates: { 'config.secret': '${GH_SECRET}' } }] });
    const hash = (config(d, 'source.gh').secret as StoredSecret).$secret.hash;
    expect(hash).toMatch(/^hmac-sha256:[0-9a-f]{12}:[0-9a-f]{64}$/);
    expect(hash).not.toContain(createHash('sha256').update(SALT + 'hunter2').digest('hex'));
    // an attacker with the store but another key cannot check a guess...
    expect(checkSecretHash(hash, OTHER, SALT, 'hunter2')).toBe('other-key');
    // ...the holder of the key can
    expect(checkSecretHash(hash, KEY, SALT, 'hunter2')).toBe('same');
    expect(checkSecretHash(hash, KEY, SALT, 'hunter3')).toBe('changed');
    expect(hashKeyId(hash)).toBe(KEY.id);
    expect(secretHash(OTHER, SALT, 'hunter2')).not.toBe(hash);
  });

  it('of earlier versions (unkeyed) are still read, and a plan across keys says it cannot compare', () => {
    const legacy = 'sha256:' + createHash('sha256').update(SALT + 'hunter2').digest('hex');
    expect(checkSecretHash(legacy, null, SALT, 'hunter2')).toBe('same');
    expect(checkSecretHash(legacy, null, SALT, 'other')).toBe('changed');
    const p: MiniProject = { sources: [{ id: 'gh', config: { secret: 'hunter2' }, templates: { 'config.secret': '${GH_SECRET}' } }] };
    const plan = diffSnapshots(snap(p, OTHER).snapshot, snap(p, KEY).snapshot, () => null);
    expect(plan.changes[0]!.fields).toEqual([expect.objectContaining({ path: 'config.secret', sensitive_value_changed: true, sensitive_other_key: true })]);
    expect(renderText(plan, { color: false })).toContain('~ config.secret = (sensitive value; hashed with another state key, cannot tell whether it changed)');
    expect(renderJson(plan)).not.toContain('hunter2');
  });
});

describe('the state key', () => {
  const dirs: string[] = [];
  const home = () => {
    const d = mkdtempSync(join(tmpdir(), 'orgloop-key-'));
    dirs.push(d);
    return d;
  };
  afterEach(() => dirs.splice(0));

  it('is created once per user, 0600 in a 0700 directory, and read back the same', () => {
    const env = { XDG_CONFIG_HOME: home() };
    const a = loadStateKey(env);
    const file = keyFilePath(env);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(statSync(join(env.XDG_CONFIG_HOME, 'orgloop')).mode & 0o777).toBe(0o700);
    expect(readFileSync(file, 'utf8').trim()).toMatch(/^[0-9a-f]{64}$/);
    expect(loadStateKey(env).id).toBe(a.id);
    expect(a.source).toBe(file);
  });

  it('comes from ORGLOOP_STATE_KEY when set; an empty one or a key file others can read is refused', () => {
    const dir = home();
    expect(loadStateKey({ XDG_CONFIG_HOME: dir, ORGLOOP_STATE_KEY: 'team key' }).id).toBe(stateKeyFromText('team key', 'x').id);
    expect(() => loadStateKey({ XDG_CONFIG_HOME: dir, ORGLOOP_STATE_KEY: '  ' })).toThrow(StateKeyError);
    const file = keyFilePath({ XDG_CONFIG_HOME: dir });
    mkdirSync(join(dir, 'orgloop'), { recursive: true });
    writeFileSync(file, 'abc\n');
    chmodSync(file, 0o644);
    expect(() => loadStateKey({ XDG_CONFIG_HOME: dir })).toThrow(/can be read by other users \(mode 644\)/);
  });

  it('is the same key for processes that create it at once, none of them reading it half written', async () => {
    const dir = home();
    // every child loaded and waiting, then all of them at the same instant
    const at = Date.now() + 6000;
    const script = `import { loadStateKey } from ${JSON.stringify(join(import.meta.dirname, 'key.ts'))};\nwhile (Date.now() < ${at});\nprocess.stdout.write(loadStateKey({ XDG_CONFIG_HOME: ${JSON.stringify(dir)} }).id);`;
    // a child that fails rejects with its exit code and stderr
    const run = async () => (await execFileAsync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: join(import.meta.dirname, '../..') })).stdout;
    const ids = await Promise.all(Array.from({ length: 8 }, run));
    expect(new Set(ids).size).toBe(1);
    expect(loadStateKey({ XDG_CONFIG_HOME: dir }).id).toBe(ids[0]);
    expect(readdirSync(join(dir, 'orgloop'))).toEqual(['state.key']);
  }, 60_000);
});

describe('resolving and redacting', () => {
  afterEach(() => forgetSecrets());
  const stored = (template: string): StoredSecret => ({ $secret: { template, hash: 'h' } });

  it('resolves stored secrets, naming the path of one that fails with [i] for list items', () => {
    const attrs = { config: { tokens: ['plain', stored('${TOKEN_B}')], n: 1 } };
    expect(resolveSecrets(attrs, () => 'value-b')).toEqual({ config: { tokens: ['plain', 'value-b'], n: 1 } });
    expect(() =>
      resolveSecrets(attrs, () => {
        throw new Error('environment variable TOKEN_B is not set');
      }),
    ).toThrow('config.tokens[1]: cannot resolve ${TOKEN_B}: environment variable TOKEN_B is not set');
    expect(() => resolveSecrets({ k: stored('(inline)') }, () => 'x', 'config')).toThrow(/config\.k is sensitive and was written inline/);
  });

  it('scrubs every resolved secret value from text, also URL-encoded or JSON-escaped', () => {
    expect(redact('nothing resolved yet: s3cr3t/tok"en')).toBe('nothing resolved yet: s3cr3t/tok"en');
    resolveSecrets({ a: stored('${A_TOKEN}'), b: stored('${B_TOKEN}'), c: stored('${SHORT_KEY}') }, (t) => ({ '${A_TOKEN}': 's3cr3t/tok"en', '${B_TOKEN}': 'ghp_abcdef123456', '${SHORT_KEY}': 'abc' })[t]!);
    const body = `401 Unauthorized: Bearer ghp_abcdef123456 rejected; raw s3cr3t/tok"en; url ?t=${encodeURIComponent('s3cr3t/tok"en')}; json ${JSON.stringify({ t: 's3cr3t/tok"en' })}`;
    const out = redact(body);
    expect(out).not.toContain('ghp_abcdef123456');
    expect(out).not.toContain('s3cr3t');
    expect(out).toBe(`401 Unauthorized: Bearer ${REDACTED} rejected; raw ${REDACTED}; url ?t=${REDACTED}; json {"t":"${REDACTED}"}`);
    // values shorter than four characters are not scrubbed (they would shred every message)
    expect(redact('abc def')).toBe('abc def');
  });
});
