// `init --connectors a,b`: adds a source (and/or actor) for each named connector to a freshly
// scaffolded orgloop.yaml, with its required config fields filled by `${VAR}` references listed
// in .env.example, and routes that connect them to the quickstart's inbox actor.

import { parseDocument } from 'yaml';
import type { Provider } from '../../providers/types.js';
import { normalizeProviderName } from '../../providers/registry.js';

export interface ConnectorChoice {
  /** as the user named it (`zendesk`, `@orgloop/connector-zendesk`, `@acme/orgloop-thing`) */
  written: string;
  providers: Provider[];
}

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);
const ident = (s: string) => s.replace(/^@[^/]+\//, '').replace(/^(connector|orgloop)-/, '').replace(/[^a-zA-Z0-9_-]+/g, '-').replace(/^-+|-+$/g, '').toLowerCase() || 'connector';

/** A value for a required field: the schema's default or first enum value, else a `${VAR}` the user fills in .env. */
function placeholder(field: string, schema: Record<string, unknown>, prefix: string, vars: string[]): unknown {
  if ('default' in schema) return schema.default;
  if (Array.isArray(schema.enum) && schema.enum.length) return schema.enum[0];
  // Numbers, flags and lists cannot come from a ${VAR} (substitution yields text): a typed starting value.
  const type = Array.isArray(schema.type) ? schema.type[0] : schema.type;
  if (type === 'integer' || type === 'number') return typeof schema.minimum === 'number' ? schema.minimum : 1;
  if (type === 'boolean') return false;
  if (type === 'array') return [];
  if (type === 'object') return {};
  const v = `${prefix}_${field}`.toUpperCase().replace(/[^A-Z0-9_]/g, '_');
  vars.push(v);
  return `\${${v}}`;
}

function configFor(p: Provider, prefix: string, vars: string[]): Record<string, unknown> {
  const props = (p.configSchema.properties ?? {}) as Record<string, Record<string, unknown>>;
  const required = Array.isArray(p.configSchema.required) ? (p.configSchema.required as string[]) : [];
  const config: Record<string, unknown> = {};
  for (const f of required) config[f] = placeholder(f, isObject(props[f]) ? props[f]! : {}, prefix, vars);
  // Secrets a provider needs but whose schema cannot require (one of several credentials): offer the first.
  if (required.length === 0) {
    const secret = Object.keys(props).find((k) => props[k]?.sensitive === true || p.sensitive?.includes(k));
    if (secret) config[secret] = placeholder(secret, {}, prefix, vars);
  }
  // Fields the provider's own checks ask for (one way to authenticate, complete): add them too,
  // so the scaffold validates once its variables are set.
  for (let round = 0; round < 8 && p.validate; round++) {
    const missing = p.validate(config).map((i) => i.path).find((f) => f in props && !(f in config));
    if (!missing) break;
    config[missing] = placeholder(missing, isObject(props[missing]) ? props[missing]! : {}, prefix, vars);
  }
  return config;
}

/** orgloop.yaml text with the connectors added; returns the new text and the variables to list in .env.example. */
export function addConnectors(yamlText: string, choices: ConnectorChoice[]): { text: string; vars: string[] } {
  const doc = parseDocument(yamlText);
  const vars: string[] = [];
  const taken = new Set<string>(['webhook', 'inbox']);
  const unique = (base: string) => {
    let id = base;
    for (let i = 2; taken.has(id); i++) id = `${base}-${i}`;
    taken.add(id);
    return id;
  };
  for (const c of choices) {
    for (const p of c.providers) {
      const id = unique(ident(normalizeProviderName(p.kind, c.written)));
      const config = configFor(p, id, vars);
      if (p.kind === 'source') {
        const src: Record<string, unknown> = { id, connector: c.written, config };
        if (p.polling || (typeof p.poll === 'function' && !p.pollIntervalMs)) src.poll = { interval: '5m' };
        doc.addIn(['sources'], doc.createNode(src));
        doc.addIn(['routes'], doc.createNode({ name: `${id}-to-inbox`, when: { source: id }, then: { actor: 'inbox' }, with: { prompt_file: './sops/hello.md' } }));
      } else if (p.kind === 'actor') {
        doc.addIn(['actors'], doc.createNode({ id, connector: c.written, config }));
        doc.addIn(['routes'], doc.createNode({ name: `webhook-to-${id}`, when: { source: 'webhook' }, then: { actor: id }, with: { prompt_file: './sops/hello.md' } }));
      }
    }
  }
  return { text: doc.toString(), vars: [...new Set(vars)] };
}
