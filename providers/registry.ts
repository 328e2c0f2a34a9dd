// The built-in providers. To add one: import it and append it to PROVIDERS (one line each).
// Config may name a provider as `github` or `@orgloop/connector-github` (same provider);
// normalizeProviderName maps the long form to the short one.

import type { Provider, ProviderKind } from './types.js';
import { admitProvider } from './contract.js';
import { loadFromPackages, packageCandidates, packageToInstall } from './packages.js';
import { registerEventAliases } from './lib/event-aliases.js';
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
import { claudeCodeSource, codingAgentSource, codexSource, opencodeSource, piSource, piRustSource } from './sources/claude-code.js';
import { openclawActor } from './actors/openclaw.js';
import { slackActor } from './actors/slack.js';
import { pagerdutySource } from './sources/pagerduty.js';
import { pagerdutyActor } from './actors/pagerduty.js';
import { zendeskSource } from './sources/zendesk.js';
import { salesforceSource } from './sources/salesforce.js';
import { httpPollSource } from './sources/http-poll.js';
import { dockerSource } from './sources/docker.js';
import { dockerActor } from './actors/docker.js';
import { agentCtlSource } from './sources/agent-ctl.js';
import { agentGateTransform } from './transforms/agent-gate.js';
import { gmailSource } from './sources/gmail.js';
import { googleCalendarSource } from './sources/google-calendar.js';
import { syslogLogger } from './loggers/syslog.js';
import { otelLogger } from './loggers/otel.js';

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
  codingAgentSource,
  codexSource,
  opencodeSource,
  piSource,
  piRustSource,
  openclawActor,
  slackActor,
  pagerdutySource,
  pagerdutyActor,
  zendeskSource,
  salesforceSource,
  httpPollSource,
  dockerSource,
  dockerActor,
  agentCtlSource,
  agentGateTransform,
  gmailSource,
  googleCalendarSource,
  syslogLogger,
  otelLogger,
];

const PREFIXES: Record<ProviderKind, string[]> = {
  source: ['@orgloop/connector-', '@orgloop/source-'],
  actor: ['@orgloop/connector-', '@orgloop/actor-'],
  transform: ['@orgloop/transform-'],
  logger: ['@orgloop/logger-'],
};

const byKey = new Map<string, Provider>();
for (const p of PROVIDERS) {
  // Built-ins pass the same gate as packages (DESIGN §7): no provider reaches the engine unchecked.
  const admitted = admitProvider(p, { builtIn: true });
  if ('error' in admitted) throw new Error(`built-in ${p.kind} provider "${p.name}": ${admitted.error}`);
  const key = `${p.kind}:${p.name}`;
  if (byKey.has(key)) throw new Error(`provider registered twice: ${key}`);
  byKey.set(key, p);
  if (p.kind === 'source' && p.eventAliases) for (const [name, aliases] of Object.entries(p.eventAliases)) registerEventAliases(name, aliases);
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
  const key = `${kind}:${normalizeProviderName(kind, name)}`;
  return byKey.get(key) ?? fromPackages.get(key)?.provider;
}

/** Names of the registered providers of a kind, sorted. */
export function providerNames(kind: ProviderKind): string[] {
  return [...PROVIDERS.filter((p) => p.kind === kind).map((p) => p.name), ...[...fromPackages.entries()].filter(([k]) => k.startsWith(`${kind}:`)).map(([k]) => k.slice(kind.length + 1))].sort();
}

export function allProviders(): readonly Provider[] {
  return PROVIDERS;
}

// ---- providers from packages (DESIGN §7, "Provider packages") ----

/** `kind:name` (as configs name it, normalized) -> the provider a package gave, and which package */
const fromPackages = new Map<string, { provider: Provider; package: string; version: string; pinned?: boolean }>();

/** Why a name could not be loaded from a package: not installed (with the package to install), or the package is broken. */
export type PackageProblem = { kind: 'missing'; install: string } | { kind: 'broken'; package: string; error: string };

/**
 * Loads, from the project's node_modules, every provider `wants` names that is not a built-in,
 * so that getProvider() finds them afterwards. Callers await this before validating, planning or
 * building a graph. Returns the names it could not load, keyed `kind:written`.
 */
export async function ensureProviders(projectDir: string, wants: Iterable<{ kind: ProviderKind; written: string }>): Promise<Map<string, PackageProblem>> {
  const problems = new Map<string, PackageProblem>();
  const pending: Array<Promise<void>> = [];
  const seen = new Set<string>();
  for (const { kind, written } of wants) {
    const name = normalizeProviderName(kind, written);
    const key = `${kind}:${name}`;
    if (byKey.has(key) || fromPackages.get(key)?.pinned || seen.has(`${kind}:${written}`)) continue;
    seen.add(`${kind}:${written}`);
    const candidates = packageCandidates(kind, written.trim(), name);
    if (candidates.length === 0) continue; // not a package name either: reported as unknown
    pending.push(
      loadFromPackages(projectDir, kind, candidates).then((r) => {
        if ('found' in r) {
          const provider = r.found.providers.find((p) => p.kind === kind)!;
          fromPackages.set(key, { provider, package: r.found.package, version: r.found.version });
          if (provider.kind === 'source' && provider.eventAliases) for (const [n, aliases] of Object.entries(provider.eventAliases)) registerEventAliases(n, aliases);
        } else if ('missing' in r) {
          fromPackages.delete(key);
          problems.set(`${kind}:${written}`, { kind: 'missing', install: r.missing[0]! });
        } else {
          fromPackages.delete(key);
          problems.set(`${kind}:${written}`, { kind: 'broken', package: r.package, error: r.error });
        }
      }),
    );
  }
  await Promise.all(pending);
  return problems;
}

/** The package a loaded provider came from (undefined for built-ins). */
export function providerPackage(kind: ProviderKind, name: string): { package: string; version: string } | undefined {
  const hit = fromPackages.get(`${kind}:${normalizeProviderName(kind, name)}`);
  return hit && { package: hit.package, version: hit.version };
}

/** Whether `kind:name` is a built-in provider. */
export function isBuiltIn(kind: ProviderKind, name: string): boolean {
  return byKey.has(`${kind}:${normalizeProviderName(kind, name)}`);
}

/** The package to install for a provider name that is neither built in nor loaded. */
export function packageToInstallFor(kind: ProviderKind, written: string): string {
  return packageToInstall(kind, written, normalizeProviderName(kind, written)) ?? written;
}

/**
 * Makes an already-admitted provider available under its own name (the SDK's test harness runs a
 * provider that is not installed as a package). A built-in's name stays the built-in's.
 */
export function registerProvider(provider: Provider, pkg = '(registered in-process)'): void {
  const key = `${provider.kind}:${provider.name}`;
  const builtIn = byKey.get(key);
  if (builtIn && builtIn !== provider) throw new Error(`a built-in ${provider.kind} provider is already named "${provider.name}": give yours another name`);
  if (!builtIn) fromPackages.set(key, { provider, package: pkg, version: '0.0.0', pinned: true });
}
