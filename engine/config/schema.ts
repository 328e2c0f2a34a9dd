// JSON Schemas for the config. The loader validates each declared item with the item schemas
// below and each `config` block with its provider's configSchema; `buildEditorSchema` folds
// them into one file (schema/orgloop.schema.json) for YAML editors.

import type { JSONSchema, Provider, ProviderKind } from '../../providers/types.js';
import { LOG_LEVELS } from '../../providers/lib/level.js';

export const ID_PATTERN = '^[A-Za-z0-9][A-Za-z0-9_-]*$';
/** Route names are only labels (never ids other names refer to): OrgLoop projects write them
 * with spaces, so any printable text starting with a letter or digit, no trailing space. */
export const ROUTE_NAME_PATTERN = '^[A-Za-z0-9](?:[^\\u0000-\\u001f\\u007f]{0,198}[^\\s\\u0000-\\u001f\\u007f])?$';
export const ON_ERROR = ['pass', 'drop', 'halt'] as const;
export const API_VERSION = 'orgloop/v1alpha1';
export const FILE_KINDS = ['Project', 'ConnectorGroup', 'TransformGroup', 'LoggerGroup', 'RouteGroup'] as const;

const id = { type: 'string', pattern: ID_PATTERN, description: 'letters, digits, "-" and "_"' };
const text = { type: 'string' };
const duration = { type: 'string', description: 'a duration such as 30s, 2m, 1h30m' };
const variableName = { type: 'string', pattern: '^[A-Za-z_][A-Za-z0-9_]*$', description: 'an environment variable name' };
const configObject = { type: ['object', 'null'], description: 'provider settings' };

export const sourceItemSchema: JSONSchema = {
  type: 'object',
  required: ['id', 'connector'],
  additionalProperties: false,
  properties: {
    id: { ...id, description: 'unique source id; events arrive at POST /webhook/<id> for webhook sources' },
    connector: { type: 'string', minLength: 1, description: 'provider name, e.g. webhook, cron, github or @orgloop/connector-github' },
    description: text,
    config: configObject,
    poll: {
      type: 'object',
      required: ['interval'],
      additionalProperties: false,
      properties: { interval: duration },
    },
    emits: { type: 'array', items: { type: 'string' }, description: 'informational: event types this source emits' },
  },
};

export const actorItemSchema: JSONSchema = {
  type: 'object',
  required: ['id', 'connector'],
  additionalProperties: false,
  properties: {
    id: { ...id, description: 'unique actor id; also the source id of its actor.stopped events' },
    connector: { type: 'string', minLength: 1, description: 'provider name, e.g. command, webhook, openclaw' },
    description: text,
    config: configObject,
  },
};

export const transformItemSchema: JSONSchema = {
  type: 'object',
  required: ['name', 'type'],
  additionalProperties: false,
  properties: {
    name: id,
    type: { type: 'string', minLength: 1, description: 'filter, dedup, enrich, script, or "package" with `package`' },
    package: { type: 'string', description: 'with type: package, e.g. @orgloop/transform-filter' },
    script: { type: 'string', minLength: 1, description: 'with type: script, the program to run (relative to the file declaring it)' },
    timeout_ms: { type: 'integer', minimum: 1, description: 'with type: script, the time limit in milliseconds (default 30000)' },
    on_error: { enum: [...ON_ERROR], description: 'when the transform fails: pass the event on (default), drop it, or halt (fail the delivery)' },
    description: text,
    config: configObject,
  },
};

export const loggerItemSchema: JSONSchema = {
  type: 'object',
  required: ['name', 'type'],
  additionalProperties: false,
  properties: {
    name: id,
    type: { type: 'string', minLength: 1, description: 'console, file, store (or @orgloop/logger-<name>)' },
    description: text,
    config: configObject,
  },
};

export const routeItemSchema: JSONSchema = {
  type: 'object',
  required: ['name', 'when', 'then'],
  additionalProperties: false,
  properties: {
    name: { type: 'string', pattern: ROUTE_NAME_PATTERN, description: 'route name (letters, digits, spaces and punctuation)' },
    description: text,
    when: {
      type: 'object',
      required: ['source'],
      additionalProperties: false,
      properties: {
        source: { type: 'string', minLength: 1, description: 'a source id, or an actor id for actor.stopped events' },
        events: {
          type: 'array',
          minItems: 1,
          items: { type: 'string', minLength: 1 },
          description: 'event types (or provenance.platform_event values); omit for all events',
        },
        filter: { type: 'object', description: 'dotted path -> value (a list means any of)' },
      },
    },
    transforms: {
      type: 'array',
      items: {
        description: 'a transform name or { ref: name }',
        anyOf: [
          { type: 'string', minLength: 1 },
          {
            type: 'object',
            required: ['ref'],
            additionalProperties: false,
            properties: {
              ref: { type: 'string', minLength: 1 },
              on_error: { enum: [...ON_ERROR], description: "overrides the transform's on_error on this route" },
              config: { type: 'object', description: "merged over the transform's config on this route" },
            },
          },
        ],
      },
    },
    then: {
      type: 'object',
      required: ['actor'],
      additionalProperties: false,
      properties: {
        actor: { type: 'string', minLength: 1 },
        config: {
          type: 'object',
          description: 'per-route actor settings; {{path}} renders from the event',
          properties: {
            inbox: { type: 'boolean', description: 'batch this route\'s events per session_key and notify the actor once per batch (orgloop inbox drain)' },
            inbox_ttl: { ...duration, description: 'how long an event waits in the inbox before it is dropped unread (default 1h)' },
            inbox_max_batch: { type: 'integer', minimum: 1, description: 'events a drain hands out when it names no --limit (default 100)' },
          },
        },
      },
    },
    with: {
      type: 'object',
      additionalProperties: false,
      properties: { prompt_file: { type: 'string', minLength: 1, description: 'SOP file, relative to the file declaring the route' } },
    },
    delivery: {
      type: 'object',
      additionalProperties: false,
      properties: {
        max_attempts: { type: 'integer', minimum: 1, description: 'attempts before the delivery is dead (default: one more than the retry delays)' },
        timeout: duration,
        backoff: { ...duration, description: 'exponential retry delays from this base (full jitter, capped by the executor, 5m by default); `retry` is the newer way' },
        retry: {
          type: 'array',
          minItems: 1,
          maxItems: 100,
          items: duration,
          description: 'delays before each retry, e.g. [5s, 5m, 30m, 2h, 5h, 10h, 10h, 10h] (the default); each moves +-20% at random',
        },
      },
    },
    max_hops: { type: 'integer', minimum: 1 },
  },
};

/** `defaults:`, also the shape of a workspace's `workspaces.<name>.defaults` (workspace-defaults.ts). */
const defaultsSchema: JSONSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    poll_interval: duration,
    event_retention: { ...duration, description: 'how long finished deliveries, their events and log rows are kept (default 30d)' },
    // executor settings (cmd/settings.ts): read by `start` from the project file, flags and ORGLOOP_* win
    log_level: { enum: [...LOG_LEVELS], description: 'executor console level when no console logger is declared' },
    concurrency: { type: 'integer', minimum: 1, description: 'deliveries in flight at once per executor' },
    port: { type: 'integer', minimum: 0, maximum: 65535, description: 'ingress port of this project\'s executor (each project on a machine needs its own)' },
    prefetch: { type: 'integer', minimum: 0, description: 'deliveries leased at ingest that may wait in an executor for a free slot' },
    retry: { type: 'array', minItems: 1, maxItems: 100, items: duration, description: 'delays before each retry of a failed delivery, for routes without their own delivery.retry' },
    event_memory_mb: { type: 'integer', minimum: 1, description: 'event bodies held in memory by deliveries waiting or running in an executor, MB' },
    sensitive: { type: 'array', items: variableName, description: 'variables whose ${VAR} values are always masked in plans and stored only as a keyed hash' },
    prompt_roots: {
      type: 'array',
      items: { type: 'string', minLength: 1 },
      description: 'directories outside the project that prompt_file may read from (relative to the project file)',
    },
    public: { type: 'array', items: variableName, description: 'variables whose names look secret (TOKEN, KEY...) but whose values plans may show' },
    checkpoint: {
      type: 'object',
      additionalProperties: false,
      description: 'OrgLoop 0.7: where source checkpoints are kept; orgloop keeps them in the state store (store: file is what it always does)',
      properties: { store: { enum: ['file', 'memory'] }, dir: { type: 'string' } },
    },
  },
};

/** Top level of any config file (sections are checked item by item). */
export const fileSchema: JSONSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    apiVersion: { const: API_VERSION },
    kind: { enum: [...FILE_KINDS] },
    metadata: {
      type: 'object',
      additionalProperties: false,
      properties: { name: id, description: text },
    },
    name: id,
    description: text,
    defaults: defaultsSchema,
    workspaces: {
      type: 'object',
      description: 'per named workspace (orgloop workspace), values replacing those of defaults, e.g. { staging: { defaults: { port: 4810 } } }',
      additionalProperties: {
        type: 'object',
        additionalProperties: false,
        properties: { defaults: defaultsSchema },
      },
    },
    moved: {
      type: 'array',
      description: 'renames to carry over (like Terraform moved blocks): a renamed source keeps its cursor and events, a renamed route or actor its pending deliveries',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['from', 'to'],
        properties: {
          from: { type: 'string', pattern: '^(source|actor|route)\\.[^.]+$', description: 'the old address, e.g. actor.reviewer' },
          to: { type: 'string', pattern: '^(source|actor|route)\\.[^.]+$', description: 'the new address, e.g. actor.pr-reviewer' },
        },
      },
    },
    connectors: { type: 'array', items: { type: 'string', minLength: 1 }, description: 'ConnectorGroup files' },
    sources: { type: 'array' },
    actors: { type: 'array' },
    transforms: { type: 'array', description: 'transforms, or TransformGroup files (in a Project)' },
    loggers: { type: 'array', description: 'loggers, or LoggerGroup files (in a Project)' },
    routes: { type: 'array', description: 'routes, or RouteGroup files (in a Project); routes/*.yaml are always loaded' },
  },
};

export const ITEM_SCHEMAS = {
  sources: sourceItemSchema,
  actors: actorItemSchema,
  transforms: transformItemSchema,
  loggers: loggerItemSchema,
  routes: routeItemSchema,
} as const;

const PREFIX: Record<ProviderKind, string> = {
  source: '@orgloop/connector-',
  actor: '@orgloop/connector-',
  transform: '@orgloop/transform-',
  logger: '@orgloop/logger-',
};

/** One schema for every file shape, with each provider's config schema attached by name. */
export function buildEditorSchema(providers: readonly Provider[]): JSONSchema {
  const byKind = (k: ProviderKind) => providers.filter((p) => p.kind === k).sort((a, b) => a.name.localeCompare(b.name));
  const names = (k: ProviderKind) => byKind(k).flatMap((p) => [p.name, PREFIX[k] + p.name]);
  const providerConfig = (k: ProviderKind, field: string) =>
    byKind(k).map((p) => ({
      if: { required: [field], properties: { [field]: { enum: [p.name, PREFIX[k] + p.name] } } },
      then: { properties: { config: p.configSchema } },
    }));
  const withProviders = (item: JSONSchema, k: ProviderKind, field: string, extra: JSONSchema[] = []) => ({
    ...item,
    properties: {
      ...(item.properties as object),
      [field]: { ...((item.properties as Record<string, JSONSchema>)[field] as object), examples: names(k) },
    },
    allOf: [...providerConfig(k, field), ...extra],
  });
  const transformPackage = byKind('transform').map((p) => ({
    if: { required: ['type', 'package'], properties: { type: { const: 'package' }, package: { const: PREFIX.transform + p.name } } },
    then: { properties: { config: p.configSchema } },
  }));
  const fileProps = fileSchema.properties as Record<string, JSONSchema>;
  const orFile = (ref: string) => ({ anyOf: [{ type: 'string', description: 'a file to include' }, { $ref: ref }] });
  return {
    $schema: 'http://json-schema.org/draft-07/schema#',
    $id: 'https://orgloop.dev/schema/orgloop.schema.json',
    title: 'orgloop project',
    description: 'orgloop.yaml (single file) or an orgloop/v1alpha1 Project / ConnectorGroup / TransformGroup / LoggerGroup / RouteGroup file',
    type: 'object',
    additionalProperties: false,
    properties: {
      ...fileProps,
      sources: { type: 'array', items: { $ref: '#/definitions/source' } },
      actors: { type: 'array', items: { $ref: '#/definitions/actor' } },
      transforms: { type: 'array', items: orFile('#/definitions/transform') },
      loggers: { type: 'array', items: orFile('#/definitions/logger') },
      routes: { type: 'array', items: orFile('#/definitions/route') },
    },
    definitions: {
      source: withProviders(sourceItemSchema, 'source', 'connector'),
      actor: withProviders(actorItemSchema, 'actor', 'connector'),
      transform: withProviders(transformItemSchema, 'transform', 'type', transformPackage),
      logger: withProviders(loggerItemSchema, 'logger', 'type'),
      route: routeItemSchema,
    },
  };
}
