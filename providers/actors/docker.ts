// Actor `docker`: starts, stops or restarts a container, or runs a new one, through the Docker
// Engine API. `action`, `container`, `image`, `cmd`, `env` and `name` may use {{path}} templates
// against the event; the route's `then.config` overrides them. A `cmd` string runs under `sh -c`
// with each event value quoted as one word; an argv array never meets a shell.
//   start | stop | restart   POST /containers/<container>/<action> (204 done, 304 already so)
//   run                      POST /containers/create (Image, Cmd, Env, Labels: orgloop.delivery
//                            = the delivery id) then /start; a retried delivery finds its
//                            container by that label instead of creating a second one
// 404 (no such container or image) and 400/409 fail at once; 5xx and an unreachable engine retry.
// OrgLoop's names work too: container.start / .stop / .restart with `container_name`, and its kind
// cluster actions where kind is installed (providers/lib/kind.ts):
//   cluster.start      kind create cluster --name <cluster_name> [--config <config_path>]
//   cluster.shutdown   kind delete cluster --name <cluster_name>

import type { ActorProvider, DeliveryRequest, DeliveryResult, ProviderContext } from '../types.js';
import { renderDeep } from '../lib/template.js';
import { renderShell } from '../lib/template-position.js';
import { deliveryFailure } from '../lib/vendor-http.js';
import { DEFAULT_DOCKER_SOCKET, dockerError, dockerRequest, dockerTarget } from '../lib/docker-api.js';
import { CLUSTER_ACTIONS, KIND_CLUSTER_NAME, clusterAction, kindOptions, kindVersion } from '../lib/kind.js';

const CONTAINER_ACTIONS = ['start', 'stop', 'restart', 'run'];
const ACTIONS = [...CONTAINER_ACTIONS, 'container.start', 'container.stop', 'container.restart', ...CLUSTER_ACTIONS];

async function deliver(ctx: ProviderContext, req: DeliveryRequest): Promise<DeliveryResult> {
  const raw: Record<string, unknown> = { ...ctx.config, ...(req.routeTemplate ?? req.routeConfig) };
  const data = { ...req.event, event: req.event, prompt: req.prompt ?? '' };
  const s = renderDeep({ ...raw, cmd: undefined }, data) as Record<string, any>;
  // A cmd string runs under `sh -c`: each event value stays one shell word (template-position.ts).
  const cmd = typeof raw.cmd === 'string' ? ['sh', '-c', renderShell(raw.cmd, data)] : Array.isArray(raw.cmd) ? (renderDeep(raw.cmd, data) as unknown[]).map(String) : undefined;
  const written = String(s.action ?? 'run');
  if (!ACTIONS.includes(written)) return { ok: false, retryable: false, error: `docker: action "${written}" is not one of ${ACTIONS.join(', ')}` };
  if (written.startsWith('cluster.')) {
    const timeout = typeof ctx.config.timeout === 'number' ? ctx.config.timeout : req.timeoutMs;
    const r = await clusterAction(written, String(s.cluster_name ?? 'kind'), s.config_path ? String(s.config_path) : undefined, kindOptions(ctx.config, ctx.projectDir, timeout, req.signal));
    if (r.ok) ctx.log.info(r.detail);
    return r.ok ? { ok: true } : r;
  }
  const action = written.replace(/^container\./, '');
  if (s.container === undefined && s.container_name !== undefined) s.container = s.container_name;
  const target = dockerTarget(ctx.config);
  const opts = { signal: req.signal, timeoutMs: req.timeoutMs };
  try {
    if (action !== 'run') {
      const container = String(s.container ?? '');
      if (!container) return { ok: false, retryable: false, error: `docker: ${action} needs container` };
      const query = action === 'stop' && s.stop_timeout !== undefined ? `?t=${Number(s.stop_timeout)}` : '';
      const r = await dockerRequest(target, 'POST', `/containers/${encodeURIComponent(container)}/${action}${query}`, undefined, opts);
      if (r.status === 204 || r.status === 304) return { ok: true };
      throw dockerError(`${action} ${container}`, r);
    }
    if (!s.image) return { ok: false, retryable: false, error: 'docker: run needs image' };
    // At-least-once: a retry after a crash between create and start reuses the container it made.
    const label = `orgloop.delivery=${req.delivery_id}`;
    const found = await dockerRequest(target, 'GET', `/containers/json?all=true&filters=${encodeURIComponent(JSON.stringify({ label: [label] }))}`, undefined, opts);
    if (found.status !== 200) throw dockerError('list containers', found);
    let id = (JSON.parse(found.text) as Array<{ Id: string }>)[0]?.Id;
    if (!id) {
      const env = Object.entries((s.env ?? {}) as Record<string, unknown>).map(([k, v]) => `${k}=${v}`);
      const body = { Image: s.image, Cmd: cmd, Env: env, Labels: { 'orgloop.delivery': req.delivery_id, 'orgloop.event': req.event.id } };
      const name = s.name ? `?name=${encodeURIComponent(String(s.name))}` : '';
      const created = await dockerRequest(target, 'POST', `/containers/create${name}`, body, opts);
      if (created.status !== 201) throw dockerError(`create from ${s.image}`, created);
      id = (JSON.parse(created.text) as { Id: string }).Id;
    }
    const started = await dockerRequest(target, 'POST', `/containers/${id}/start`, undefined, opts);
    if (started.status === 204 || started.status === 304) return { ok: true };
    throw dockerError(`start ${id}`, started);
  } catch (err) {
    return deliveryFailure(err);
  }
}

export const dockerActor: ActorProvider = {
  kind: 'actor',
  name: 'docker',
  description: 'Starts, stops or restarts containers, or runs new ones (Docker Engine API)',
  configSchema: {
    type: 'object',
    properties: {
      socket: { type: 'string', description: `unix socket (default ${DEFAULT_DOCKER_SOCKET})` },
      host: { type: 'string', description: 'tcp://host:2375 or unix:///path' },
      action: { type: 'string', description: 'start | stop | restart | run, container.start|stop|restart, cluster.start | cluster.shutdown (kind) (templated; default run)' },
      container: { type: 'string', description: 'name or id for start/stop/restart (templated)' },
      image: { type: 'string', description: 'image for run (templated)' },
      cmd: { oneOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' } }] },
      env: { type: 'object', additionalProperties: { type: 'string' } },
      name: { type: 'string' },
      stop_timeout: { type: 'integer', minimum: 0 },
      container_name: { type: 'string', description: 'OrgLoop\'s name for container' },
      cluster_name: { type: 'string', description: 'kind cluster for cluster.start / cluster.shutdown (templated; default kind)' },
      config_path: { type: 'string', description: 'kind cluster config for cluster.start (relative to the project)' },
      kind_path: { type: 'string', description: 'the kind binary (default kind on PATH)' },
      timeout: { type: 'integer', minimum: 1000, description: 'ms a kind command may take (default: the route\'s delivery timeout)' },
    },
    additionalProperties: false,
  },
  validate(config) {
    const a = config.action;
    if (typeof a === 'string' && !a.includes('{{') && !ACTIONS.includes(a)) return [{ path: 'action', message: `one of ${ACTIONS.join(', ')}` }];
    const c = config.cluster_name;
    if (typeof c === 'string' && !c.includes('{{') && !KIND_CLUSTER_NAME.test(c)) return [{ path: 'cluster_name', message: `"${c}" is not a kind cluster name (lower-case letters, digits, . and -)` }];
    return [];
  },
  async check(ctx) {
    const v = await dockerRequest(dockerTarget(ctx.config), 'GET', '/version', undefined, { signal: ctx.signal, timeoutMs: 10_000 }).catch((err: Error) => err);
    if (v instanceof Error) return { ok: false, detail: v.message };
    if (v.status !== 200) return { ok: false, detail: dockerError('version', v).message };
    const engine = JSON.parse(v.text) as { Version?: string };
    const usesKind = (typeof ctx.config.action === 'string' && ctx.config.action.startsWith('cluster.')) || ctx.config.cluster_name !== undefined;
    if (!usesKind) return { ok: true, detail: `Docker Engine ${engine.Version ?? '?'} reachable` };
    const k = await kindVersion(kindOptions(ctx.config, ctx.projectDir, 10_000, ctx.signal));
    return k.ok ? { ok: true, detail: `Docker Engine ${engine.Version ?? '?'} reachable; ${k.detail}` } : k;
  },
  deliver,
};

export default dockerActor;
