// Actor `docker`: starts, stops or restarts a container, or runs a new one, through the Docker
// Engine API. `action`, `container`, `image`, `cmd`, `env` and `name` may use {{path}} templates
// against the event; the route's `then.config` overrides them. A `cmd` string runs under `sh -c`
// with each event value quoted as one word; an argv array never meets a shell.
//   start | stop | restart   POST /containers/<container>/<action> (204 done, 304 already so)
//   run                      POST /containers/create (Image, Cmd, Env, Labels: orgloop.delivery
//                            = the delivery id) then /start; a retried delivery finds its
//                            container by that label instead of creating a second one
// 404 (no such container or image) and 400/409 fail at once; 5xx and an unreachable engine retry.

import type { ActorProvider, DeliveryRequest, DeliveryResult, ProviderContext } from '../types.js';
import { renderDeep } from '../lib/template.js';
import { renderShell } from '../lib/template-position.js';
import { deliveryFailure } from '../lib/vendor-http.js';
import { DEFAULT_DOCKER_SOCKET, dockerError, dockerRequest, dockerTarget } from '../lib/docker-api.js';

const ACTIONS = ['start', 'stop', 'restart', 'run'];

async function deliver(ctx: ProviderContext, req: DeliveryRequest): Promise<DeliveryResult> {
  const raw: Record<string, unknown> = { ...ctx.config, ...(req.routeTemplate ?? req.routeConfig) };
  const data = { ...req.event, event: req.event, prompt: req.prompt ?? '' };
  const s = renderDeep({ ...raw, cmd: undefined }, data) as Record<string, any>;
  // A cmd string runs under `sh -c`: each event value stays one shell word (template-position.ts).
  const cmd = typeof raw.cmd === 'string' ? ['sh', '-c', renderShell(raw.cmd, data)] : Array.isArray(raw.cmd) ? (renderDeep(raw.cmd, data) as unknown[]).map(String) : undefined;
  const action = String(s.action ?? 'run');
  if (!ACTIONS.includes(action)) return { ok: false, retryable: false, error: `docker: action "${action}" is not one of ${ACTIONS.join(', ')}` };
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
      action: { type: 'string', description: 'start | stop | restart | run (templated; default run)' },
      container: { type: 'string', description: 'name or id for start/stop/restart (templated)' },
      image: { type: 'string', description: 'image for run (templated)' },
      cmd: { oneOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' } }] },
      env: { type: 'object', additionalProperties: { type: 'string' } },
      name: { type: 'string' },
      stop_timeout: { type: 'integer', minimum: 0 },
    },
    additionalProperties: false,
  },
  validate(config) {
    const a = config.action;
    if (typeof a === 'string' && !a.includes('{{') && !ACTIONS.includes(a)) return [{ path: 'action', message: `one of ${ACTIONS.join(', ')}` }];
    return [];
  },
  deliver,
};

export default dockerActor;
