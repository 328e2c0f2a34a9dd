// The runtime graph: an immutable, pre-compiled view of one applied version (or of the config on
// disk, for `orgloop test`). Built once per serial; the executor swaps whole graphs atomically.

import type {
  ActorProvider,
  Logger,
  LoggerProvider,
  OrgEvent,
  Provider,
  ProviderContext,
  ProviderKind,
  SourceProvider,
  TransformProvider,
} from '../../providers/types.js';
import type { ResourceKind, StateSnapshot } from '../graph/types.js';
import { parseDuration } from '../../providers/lib/duration.js';
import { Router } from './router.js';
import type { RetryPolicy } from './retry.js';
import { blankSecretIssues } from '../../providers/lib/blank-secret.js';
import { providerContext } from '../provider-context.js';
import { webhookMaxBody } from '../../providers/sources/webhook.js';
import { containsSecret, resolveSecrets, sensitiveConfigFields } from '../secrets/index.js';
import { DEFAULT_INBOX_MAX_BATCH, DEFAULT_INBOX_TTL_MS, type RouteInbox } from '../inbox/inbox.js';

export const DEFAULT_MAX_HOPS = 8;
export const DEFAULT_TIMEOUT_MS = 5 * 60_000;

export type ProviderLookup = (kind: ProviderKind, name: string) => Provider;

/** One resource with secrets resolved and the prompt text loaded. */
export interface GraphResource {
  kind: ResourceKind;
  name: string;
  provider: string;
  spec: Record<string, any>;
  prompt: string | null;
  /** the stored attributes, secrets still as templates (for re-resolving them later) */
  attributes?: Record<string, unknown>;
}

export interface GraphInput {
  serial: number;
  project: { name: string; dir: string };
  resources: GraphResource[];
}

export interface GraphDeps {
  getProvider: ProviderLookup;
  env: (name: string) => string | undefined;
  /** builds the logger a provider gets (prefixes messages with the resource) */
  providerLog: (kind: ResourceKind, name: string) => Logger;
  /** makes a `${VAR}` template filler over the environment as it is now (re-reads .env), for secret rotation */
  freshTemplateFiller?: () => (template: string) => string;
}

export interface RuntimeSource {
  id: string;
  provider: SourceProvider;
  ctx: ProviderContext;
  /** ingress path for webhook-capable sources */
  path: string;
  /** body size limit at ingress (config.max_body, default 25 MB) */
  maxBodyBytes: number;
  pollIntervalMs: number | null;
  /** context for one poll: secrets re-resolved so a rotated token is used without re-apply */
  pollContext(): ProviderContext;
}

export interface RuntimeActor {
  id: string;
  provider: ActorProvider;
  ctx: ProviderContext;
}

export interface RuntimeTransform {
  name: string;
  provider: TransformProvider;
  ctx: ProviderContext;
  /** `on_error` of the transform (or of the route's reference to it); unset: an error fails the delivery */
  onError?: 'pass' | 'drop' | 'halt';
}

export interface RuntimeLogger {
  name: string;
  type: string;
  provider: LoggerProvider;
  ctx: ProviderContext;
  level: string;
  /** identity for deciding whether a hot swap must reopen it */
  fingerprint: string;
}

export interface RuntimeRoute {
  name: string;
  source: string;
  events: string[];
  filter?: Record<string, unknown>;
  transforms: RuntimeTransform[];
  actor: string;
  thenConfig: Record<string, unknown>;
  /** `then.config.inbox: true` with a `session_key`: events wait in the key's inbox (engine/run/inbox.ts) */
  inbox: RouteInbox | null;
  prompt: string | null;
  /** `delivery.max_attempts` (null: as many as the retry policy has delays, plus one) */
  maxAttempts: number | null;
  timeoutMs: number;
  /** `delivery.retry` (a schedule) or `delivery.backoff` (an exponential base); null: the executor's */
  retry: RetryPolicy | null;
  maxHops: number;
}

export interface Graph {
  serial: number;
  project: { name: string; dir: string };
  sources: Map<string, RuntimeSource>;
  sourcesByPath: Map<string, RuntimeSource>;
  actors: Map<string, RuntimeActor>;
  transforms: Map<string, RuntimeTransform>;
  routes: Map<string, RuntimeRoute>;
  loggers: RuntimeLogger[];
  router: Router<RuntimeRoute>;
  /** event types that make sense to route per source (for `orgloop routes`) */
}

/** Raised when a graph cannot be built (unknown provider, unresolvable secret...). */
export class GraphError extends Error {}

function asProvider<K extends ProviderKind>(lookup: ProviderLookup, kind: K, name: string, address: string): Provider & { kind: K } {
  let p: Provider;
  try {
    p = lookup(kind, name);
  } catch (err) {
    throw new GraphError(`${address}: ${(err as Error).message}`);
  }
  if (!p || p.kind !== kind) throw new GraphError(`${address}: no ${kind} provider named "${name}"`);
  return p as Provider & { kind: K };
}

/** A sensitive field that resolved blank at run time (`GH_SECRET=` since the apply) stops the start. */
function withSecretsSet<P extends Provider>(p: P, config: Record<string, unknown>, address: string): P {
  const blank = blankSecretIssues(config, sensitiveConfigFields(p, config));
  if (blank.length > 0) throw new GraphError(`${address}: ${blank.map((b) => b.message).join('; ')}`);
  return p;
}

function durationAt(value: unknown, fallback: number, what: string): number {
  if (value === undefined || value === null) return fallback;
  if (typeof value === 'number') return value;
  try {
    return parseDuration(String(value));
  } catch (err) {
    throw new GraphError(`${what}: ${(err as Error).message}`);
  }
}

/** A route's own retry policy: `delivery.retry` (delays before each retry) or, older, `delivery.backoff`. */
/** OrgLoop's inbox settings of a route (without a session key it delivers one by one, as OrgLoop's). */
function routeInbox(c: Record<string, unknown>, address: string): RouteInbox | null {
  if (c.inbox !== true || typeof c.session_key !== 'string' || !c.session_key) return null;
  const max = Number(c.inbox_max_batch);
  return {
    ttlMs: durationAt(c.inbox_ttl, DEFAULT_INBOX_TTL_MS, `${address}.then.config.inbox_ttl`),
    maxBatch: Number.isInteger(max) && max >= 1 ? max : DEFAULT_INBOX_MAX_BATCH,
  };
}

function routeRetry(delivery: { retry?: unknown; backoff?: unknown } | undefined, address: string): RetryPolicy | null {
  if (Array.isArray(delivery?.retry) && delivery.retry.length > 0) {
    return { kind: 'schedule', delaysMs: delivery.retry.map((d, i) => durationAt(d, 0, `${address}.delivery.retry[${i}]`)) };
  }
  if (delivery?.backoff === undefined) return null;
  return { kind: 'exponential', baseMs: durationAt(delivery.backoff, 0, `${address}.delivery.backoff`) };
}

function sizeAt(config: Record<string, unknown>, address: string, fallback: number | undefined): number {
  try {
    return webhookMaxBody(config, fallback);
  } catch (err) {
    throw new GraphError(`${address}: max_body: ${(err as Error).message}`);
  }
}

export function normalizePath(p: string): string {
  const withSlash = p.startsWith('/') ? p : '/' + p;
  return withSlash.length > 1 && withSlash.endsWith('/') ? withSlash.slice(0, -1) : withSlash;
}

export function buildGraph(input: GraphInput, deps: GraphDeps): Graph {
  const ctxFor = (kind: ResourceKind, name: string, config: Record<string, any>): ProviderContext =>
    providerContext({ name, config, projectDir: input.project.dir, log: deps.providerLog(kind, name), env: deps.env });

  const sources = new Map<string, RuntimeSource>();
  const sourcesByPath = new Map<string, RuntimeSource>();
  const actors = new Map<string, RuntimeActor>();
  const transforms = new Map<string, RuntimeTransform>();
  const loggers: RuntimeLogger[] = [];
  const routeRes: GraphResource[] = [];

  for (const r of input.resources) {
    const address = `${r.kind}.${r.name}`;
    const config = (r.spec.config ?? {}) as Record<string, any>;
    switch (r.kind) {
      case 'source': {
        const provider = withSecretsSet(asProvider(deps.getProvider, 'source', r.provider, address), config, address);
        const interval = r.spec.poll?.interval;
        const ctx = ctxFor('source', r.name, config);
        const rawConfig = r.attributes?.config;
        const src: RuntimeSource = {
          id: r.name,
          provider,
          ctx,
          pollContext:
            deps.freshTemplateFiller && containsSecret(rawConfig)
              ? freshContext(ctx, rawConfig, deps.freshTemplateFiller)
              : () => ctx,
          path: normalizePath(typeof config.path === 'string' && config.path ? config.path : `/webhook/${r.name}`),
          maxBodyBytes: sizeAt(config, address, provider.defaultMaxBody),
          pollIntervalMs: provider.polling ? durationAt(interval, 60_000, `${address}.poll.interval`) : (provider.pollIntervalMs?.(config) ?? null),
        };
        sources.set(r.name, src);
        if (provider.handleWebhook) {
          sourcesByPath.set(src.path, src);
          sourcesByPath.set(`/webhook/${r.name}`, src);
        }
        break;
      }
      case 'actor':
        actors.set(r.name, { id: r.name, provider: withSecretsSet(asProvider(deps.getProvider, 'actor', r.provider, address), config, address), ctx: ctxFor('actor', r.name, config) });
        break;
      case 'transform': {
        const onError = (r.spec as { on_error?: RuntimeTransform['onError'] }).on_error;
        transforms.set(r.name, {
          name: r.name,
          provider: withSecretsSet(asProvider(deps.getProvider, 'transform', r.provider, address), config, address),
          ctx: ctxFor('transform', r.name, config),
          ...(onError ? { onError } : {}),
        });
        break;
      }
      case 'logger':
        loggers.push({
          name: r.name,
          type: r.provider,
          provider: withSecretsSet(asProvider(deps.getProvider, 'logger', r.provider, address), config, address),
          ctx: ctxFor('logger', r.name, config),
          level: typeof config.level === 'string' ? config.level : 'info',
          fingerprint: JSON.stringify([r.provider, config]),
        });
        break;
      case 'route':
        routeRes.push(r);
        break;
    }
  }

  const routes = new Map<string, RuntimeRoute>();
  for (const r of routeRes) {
    const s = r.spec;
    const address = `route.${r.name}`;
    const chain: RuntimeTransform[] = [];
    for (const ref of (s.transforms ?? []) as Array<string | TransformRef>) {
      const name = typeof ref === 'string' ? ref : ref.ref;
      const t = transforms.get(name);
      if (!t) throw new GraphError(`${address}: transform "${name}" is not declared`);
      chain.push(typeof ref === 'string' ? t : onRoute(t, ref));
    }
    const actor = s.then?.actor as string;
    if (!actors.has(actor)) throw new GraphError(`${address}: actor "${actor}" is not declared`);
    const maxAttempts = Number(s.delivery?.max_attempts);
    const actorTimeout = actors.get(actor)!.ctx.config.timeout;
    routes.set(r.name, {
      name: r.name,
      source: s.when?.source,
      events: Array.isArray(s.when?.events) ? s.when.events : [],
      filter: s.when?.filter ?? undefined,
      transforms: chain,
      actor,
      thenConfig: (s.then?.config ?? {}) as Record<string, unknown>,
      inbox: routeInbox((s.then?.config ?? {}) as Record<string, unknown>, address),
      prompt: r.prompt,
      maxAttempts: Number.isFinite(maxAttempts) && maxAttempts >= 1 ? Math.floor(maxAttempts) : null,
      timeoutMs: durationAt(s.delivery?.timeout ?? actorTimeout, DEFAULT_TIMEOUT_MS, `${address}.delivery.timeout`),
      retry: routeRetry(s.delivery, address),
      maxHops: typeof s.max_hops === 'number' ? s.max_hops : DEFAULT_MAX_HOPS,
    });
  }

  return {
    serial: input.serial,
    project: input.project,
    sources,
    sourcesByPath,
    actors,
    transforms,
    routes,
    loggers,
    router: new Router(routes.values()),
  };
}

interface TransformRef {
  ref: string;
  on_error?: RuntimeTransform['onError'];
  config?: Record<string, unknown>;
}

/** A transform as one route refers to it: its `on_error` and `config` there win over the declaration's. */
function onRoute(t: RuntimeTransform, ref: TransformRef): RuntimeTransform {
  if (!ref.on_error && !ref.config) return t;
  const config = { ...t.ctx.config, ...(ref.config ?? {}), ...(ref.on_error && t.provider.name === 'script' ? { on_error: ref.on_error } : {}) };
  return { ...t, ctx: { ...t.ctx, config }, ...(ref.on_error ? { onError: ref.on_error } : {}) };
}

/** Routes that should receive `event`, split into deliverable ones and ones cut by max_hops. */
export function routeEvent(graph: Graph, event: OrgEvent): { deliver: RuntimeRoute[]; cut: RuntimeRoute[] } {
  const matched = graph.router.match(event);
  if (matched.length === 0) return { deliver: matched, cut: matched };
  const deliver: RuntimeRoute[] = [];
  const cut: RuntimeRoute[] = [];
  for (const r of matched) (event.hops > r.maxHops ? cut : deliver).push(r);
  return { deliver, cut };
}

// ---- inputs ----

/**
 * A polling source's context with its secrets resolved again on each call (a rotated token is
 * used from the next poll), but the same object for as long as the values are unchanged: that
 * is ProviderContext.config's contract (providers/types.ts), on which providers key what they
 * derive from a config.
 */
export function freshContext(ctx: ProviderContext, rawConfig: unknown, fresh: () => (template: string) => string): () => ProviderContext {
  let last: { key: string; ctx: ProviderContext } | null = null;
  return () => {
    const config = resolveSecrets(rawConfig, fresh(), 'config') as Record<string, any>;
    const key = JSON.stringify(config);
    if (last?.key !== key) last = { key, ctx: { ...ctx, config } };
    return last.ctx;
  };
}

// Secret resolution lives in engine/secrets; re-exported here, where the executor has always found it.
export { resolveSecrets };

/** Graph input for an applied snapshot: secrets resolved from the environment, prompts from blobs. */
export async function inputFromSnapshot(
  serial: number,
  snapshot: StateSnapshot,
  blob: (sha256: string) => Promise<string | null>,
  fillTemplate: (template: string) => string,
): Promise<GraphInput> {
  const resources: GraphResource[] = [];
  for (const [address, rs] of Object.entries(snapshot.resources)) {
    let spec: Record<string, any>;
    try {
      spec = resolveSecrets(rs.attributes, fillTemplate) as Record<string, any>;
    } catch (err) {
      throw new GraphError(`${address}: ${(err as Error).message}`);
    }
    let prompt: string | null = null;
    if (rs.prompt_sha256) {
      prompt = await blob(rs.prompt_sha256);
      if (prompt === null) throw new GraphError(`${address}: prompt blob ${rs.prompt_sha256.slice(0, 12)} is missing from the state store`);
    }
    resources.push({ kind: rs.kind, name: rs.name, provider: rs.provider, spec, prompt, attributes: rs.attributes });
  }
  return { serial, project: snapshot.project, resources };
}
