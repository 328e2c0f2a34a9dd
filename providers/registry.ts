// The built-in providers. To add one: import it and append it to PROVIDERS (one line each).
// Config may name a provider as `github` or `@orgloop/connector-github` (same provider);
// normalizeProviderName maps the long form to the short one.

import type { Provider, ProviderKind } from './types.js';
import { webhookSource } from './sources/webhook.js';
import { cronSource } from './sources/cron.js';
import { webhookActor } from './actors/webhook.js';
import { commandActor } from './actors/command.js';
import { filterTransform } from './transforms/filter.js';
import { dedupTransform } from './transforms/dedup.js';
import { enrichTransform } from './transforms/enrich.js';
import { scriptTransform } from './transforms/script.js';
import { consoleLogger } from './loggers/console.js';
import { fileLogger } from './loggers/file.js';
import { storeLogger } from './loggers/store.js';
import { githubSource } from './sources/github.js';
import { githubWebhookSource } from './sources/github-webhook.js';
import { linearSource } from './sources/linear.js';
import { linearWebhookSource } from './sources/linear-webhook.js';
import { claudeCodeSource } from './sources/claude-code.js';
import { openclawActor } from './actors/openclaw.js';

const PROVIDERS: Provider[] = [
  webhookSource,
  cronSource,
  webhookActor,
  commandActor,
  filterTransform,
  dedupTransform,
  enrichTransform,
  scriptTransform,
  consoleLogger,
  fileLogger,
  storeLogger,
  githubSource,
  githubWebhookSource,
  linearSource,
  linearWebhookSource,
  claudeCodeSource,
  openclawActor,
];

const PREFIXES: Record<ProviderKind, string[]> = {
  source: ['@orgloop/connector-', '@orgloop/source-'],
  actor: ['@orgloop/connector-', '@orgloop/actor-'],
  transform: ['@orgloop/transform-'],
  logger: ['@orgloop/logger-'],
};

const byKey = new Map<string, Provider>();
for (const p of PROVIDERS) {
  const key = `${p.kind}:${p.name}`;
  if (byKey.has(key)) throw new Error(`provider registered twice: ${key}`);
  byKey.set(key, p);
}

/** `@orgloop/connector-github` -> `github`; short names pass through unchanged. */
export function normalizeProviderName(kind: ProviderKind, raw: string): string {
  const name = raw.trim();
  for (const prefix of PREFIXES[kind]) if (name.startsWith(prefix)) return name.slice(prefix.length);
  return name;
}

export function getProvider(kind: 'source', name: string): Extract<Provider, { kind: 'source' }> | undefined;
export function getProvider(kind: 'actor', name: string): Extract<Provider, { kind: 'actor' }> | undefined;
export function getProvider(kind: 'transform', name: string): Extract<Provider, { kind: 'transform' }> | undefined;
export function getProvider(kind: 'logger', name: string): Extract<Provider, { kind: 'logger' }> | undefined;
export function getProvider(kind: ProviderKind, name: string): Provider | undefined;
/** The provider for a (normalized or long-form) name, or undefined. */
export function getProvider(kind: ProviderKind, name: string): Provider | undefined {
  return byKey.get(`${kind}:${normalizeProviderName(kind, name)}`);
}

/** Names of the registered providers of a kind, sorted. */
export function providerNames(kind: ProviderKind): string[] {
  return PROVIDERS.filter((p) => p.kind === kind)
    .map((p) => p.name)
    .sort();
}

export function allProviders(): readonly Provider[] {
  return PROVIDERS;
}
