// engine/secrets: the one module that decides what is secret and handles it. Detection
// (sensitivity.ts: provider schema markers, variable names, `defaults.sensitive`/`public`),
// the stored form and its walks (secrets.ts: protect before storing, find, resolve again, show),
// keyed hashing with a key kept outside the store (key.ts), and scrubbing known values from
// text (redact.ts). Everything else in orgloop asks here. May import engine/graph (types, paths,
// canonical JSON), engine/errors and providers/types; nothing else in engine.

export {
  INLINE_TEMPLATE,
  SecretResolutionError,
  containsSecret,
  isStoredSecret,
  protectAttributes,
  resolveSecrets,
  secretLabel,
  secretPaths,
  secretsIn,
  showValue,
  type ProtectInput,
  type StoredSecret,
} from './secrets.js';
export {
  DEFAULT_POLICY,
  SENSITIVE_NAME_WORDS,
  isSensitiveTemplate,
  isSensitiveVariable,
  sensitiveConfigFields,
  sensitiveConfigPaths,
  sensitivityPolicy,
  templateVariables,
  type SensitiveFields,
  type SensitivityPolicy,
} from './sensitivity.js';
export {
  STATE_KEY_VAR,
  StateKeyError,
  checkSecretHash,
  hashKeyId,
  keyFilePath,
  loadStateKey,
  secretHash,
  stateKeyFromText,
  type HashCheck,
  type KeySource,
  type StateKey,
} from './key.js';
export { MIN_REDACTED_LENGTH, REDACTED, forgetSecrets, redact, rememberSecret } from './redact.js';
export { isSecretHeader, maskHeaders } from './headers.js';
