// The state key: hashes of sensitive values are HMAC-SHA256 under a key that is never written to
// the store or to plan files, so a copy of either cannot be brute-forced offline. The key comes
// from ORGLOOP_STATE_KEY (share it between CI, laptops and executors that plan against one
// state), else from a per-user key file created 0600 on first use. Each hash names the key it
// was made with (a short id derived from the key), so a hash made elsewhere is recognised as
// "cannot compare" rather than mistaken for a changed value. DESIGN §3 explains the choice.

import { createHash, createHmac, randomBytes, scryptSync, timingSafeEqual } from 'node:crypto';
import { chmodSync, linkSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { canonicalJson } from '../graph/canonical.js';
import { UserError } from '../errors.js';

export const STATE_KEY_VAR = 'ORGLOOP_STATE_KEY';

export interface StateKey {
  /** short public id of the key, stored in every hash it made */
  id: string;
  /** where it came from, for messages: the variable's name or the key file's path */
  source: string;
  /** derived HMAC key; never stored or printed */
  readonly secret: Buffer;
}

/** A lazily loaded key: the key file is read (or created) only when a hash is needed. */
export type KeySource = () => StateKey;

const KEYED = 'hmac-sha256:';
const LEGACY = 'sha256:';

/** Raised when no key can be had (unwritable home, empty variable, a key file others can read). */
export class StateKeyError extends UserError {}

const derived = new Map<string, StateKey>();

/**
 * A key from its text. A passphrase (ORGLOOP_STATE_KEY) goes through scrypt, so a short one still
 * costs an attacker a slow derivation per guess of the key id; a key file holds 32 random bytes,
 * which need no stretching (and every plan would pay for it).
 */
export function stateKeyFromText(text: string, source: string, stretch = true): StateKey {
  const cacheKey = `${source}\0${stretch}\0${text}`;
  const hit = derived.get(cacheKey);
  if (hit) return hit;
  const secret = stretch
    ? scryptSync(text, 'orgloop state key v1', 32, { N: 1 << 14, r: 8, p: 1 })
    : createHmac('sha256', 'orgloop state key v1').update(text).digest();
  const id = createHmac('sha256', secret).update('orgloop state key id').digest('hex').slice(0, 12);
  const key: StateKey = { id, source, secret };
  derived.set(cacheKey, key);
  return key;
}

/** `$XDG_CONFIG_HOME/orgloop/state.key`, else `~/.config/orgloop/state.key`. */
export function keyFilePath(env: Record<string, string | undefined>): string {
  const base = env.XDG_CONFIG_HOME || join(env.HOME || homedir(), '.config');
  return join(base, 'orgloop', 'state.key');
}

/**
 * ORGLOOP_STATE_KEY if set, else the per-user key file (created with 32 random bytes, mode 0600,
 * in a 0700 directory). `env` is passed in by the caller (cmd/), which owns the environment.
 */
export function loadStateKey(env: Record<string, string | undefined>): StateKey {
  const fromEnv = env[STATE_KEY_VAR];
  if (fromEnv !== undefined) {
    if (!fromEnv.trim()) throw new StateKeyError(`${STATE_KEY_VAR} is set but empty; unset it to use the key file ${keyFilePath(env)}, or set it to a long random value`);
    return stateKeyFromText(fromEnv.trim(), STATE_KEY_VAR);
  }
  const file = keyFilePath(env);
  let text: string;
  try {
    const mode = statSync(file).mode & 0o777;
    if (mode & 0o077) throw new StateKeyError(`the state key file ${file} can be read by other users (mode ${mode.toString(8)}); run: chmod 600 ${file}`);
    text = readFileSync(file, 'utf8').trim();
  } catch (err) {
    if (err instanceof StateKeyError) throw err;
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw new StateKeyError(`cannot read the state key file ${file}: ${(err as Error).message}`);
    text = createKeyFile(file);
  }
  if (!text) throw new StateKeyError(`the state key file ${file} is empty; delete it to have a new key made (stored hashes will then read as made with another key)`);
  return stateKeyFromText(text, file, false);
}

function createKeyFile(file: string): string {
  const text = randomBytes(32).toString('hex');
  // Written whole under a name of its own, then linked into place: two processes creating the key
  // at once never see the other's file half written, and the loser of the link reads the winner's key.
  const draft = `${file}.${process.pid}.${randomBytes(4).toString('hex')}`;
  const writeNew = (path: string) => {
    writeFileSync(path, text + '\n', { mode: 0o600, flag: 'wx' });
    chmodSync(path, 0o600);
  };
  try {
    mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
    writeNew(draft);
    try {
      linkSync(draft, file);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'ENOSYS') throw err;
      // a file system without hard links: create it in place ('wx': the loser reads the winner's key)
      writeNew(file);
    }
    return text;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return readFileSync(file, 'utf8').trim();
    throw new StateKeyError(
      `cannot create the state key file ${file} (${(err as Error).message}); set ${STATE_KEY_VAR} to a long random value instead`,
    );
  } finally {
    rmSync(draft, { force: true });
  }
}

function valueText(value: unknown): string {
  return typeof value === 'string' ? value : canonicalJson(value);
}

/** `hmac-sha256:<key id>:<hex>` of the state's salt and the value. */
export function secretHash(key: StateKey, salt: string, value: unknown): string {
  const mac = createHmac('sha256', key.secret).update(salt).update('\0').update(valueText(value)).digest('hex');
  return `${KEYED}${key.id}:${mac}`;
}

/** The id of the key a stored hash was made with; `legacy` for the unkeyed sha256(salt||value) of earlier versions. */
export function hashKeyId(hash: string): string | null {
  if (hash.startsWith(KEYED)) {
    const rest = hash.slice(KEYED.length);
    const colon = rest.indexOf(':');
    return colon > 0 ? rest.slice(0, colon) : null;
  }
  if (hash.startsWith(LEGACY)) return 'legacy';
  return null;
}

export type HashCheck = 'same' | 'changed' | 'other-key';

/**
 * Does `value` match a stored hash? Hashes made with another key cannot be compared. Unkeyed
 * hashes written by earlier versions are still checked (reading them adds no exposure; they
 * are never written again).
 */
export function checkSecretHash(stored: string, key: StateKey | null, salt: string, value: unknown): HashCheck {
  const id = hashKeyId(stored);
  let expected: string;
  if (id === 'legacy') expected = LEGACY + createHash('sha256').update(salt + valueText(value)).digest('hex');
  else if (key && id === key.id) expected = secretHash(key, salt, value);
  else return 'other-key';
  const a = Buffer.from(stored);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b) ? 'same' : 'changed';
}
