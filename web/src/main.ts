// The console: four views behind hash routes (#/org, #/events, #/events/<id>, #/dead,
// #/versions), each reading the JSON API and refreshing itself while shown.

import { ApiError, get, post, setToken, token, type Delivery, type EventRow, type Topology } from './api.js';
import { badge, clear, clock, h, time } from './dom.js';
import { drawTopology } from './topology.js';

const view = document.getElementById('view')!;
let timer: number | undefined;
let session: { read_only: boolean; authorized: boolean } = { read_only: true, authorized: false };

/** Runs `fn` now and every `ms` while the view stays (a new view clears it). */
function every(ms: number, fn: () => Promise<void>): void {
  let busy = false;
  const tick = async () => {
    if (busy) return;
    busy = true;
    try {
      await fn();
    } finally {
      busy = false;
    }
  };
  void tick();
  timer = window.setInterval(() => void tick(), ms);
}

function failure(err: unknown): HTMLElement {
  return h('div', { class: 'notice bad', role: 'alert' }, err instanceof ApiError ? err.message : String((err as Error)?.message ?? err));
}

async function refreshSession(): Promise<void> {
  session = await get('session');
  const el = document.getElementById('session')!;
  const input = h('input', { type: 'password', placeholder: 'console token', 'aria-label': 'console token', value: token() });
  const save = h('button', { class: 'secondary', type: 'button' }, 'Use token');
  save.addEventListener('click', async () => {
    setToken(input.value.trim());
    await refreshSession();
    route(); // the view shows what the token allows
  });
  clear(
    el,
    session.read_only ? h('span', {}, 'read-only (no token configured)') : session.authorized ? h('span', { id: 'authorized' }, 'actions enabled') : h('span', {}, 'read-only'),
    session.read_only ? null : input,
    session.read_only ? null : save,
  );
}

// ---- Organization ----

interface Overview {
  project: string | null;
  serial: number;
  applied: { created_at: string; who: string; kind: string; message: string | null } | null;
  executor: string | null;
  executors: Array<{ id: string; host: string; pid: number; serial_loaded: number; heartbeat_at: string; alive: boolean }>;
  drift: string[];
  topology: Topology;
  window_s: number;
  backlog: Array<{ route: string; actor: string; status: string; count: number }>;
  recent: Array<{ route: string; actor: string; status: string; count: number }>;
  received: Array<{ source: string; count: number }>;
}

interface DriftAnswer {
  checked_at: string;
  error?: string;
  drifted?: boolean;
  items?: Array<{ kind: string; address: string; detail: string; message: string }>;
  errors?: Array<{ address: string; message: string }>;
  notes?: string[];
  checked?: { prompts: number; secrets: number; external: number; executors: number };
}

/** `orgloop drift` in the Organization view: checked when the view opens, again on request. */
function driftCard(): HTMLElement {
  const card = h('div', { class: 'card', id: 'provider-drift' });
  const show = async (fresh: boolean) => {
    clear(card, h('h3', {}, 'Drift'), h('p', { class: 'muted' }, 'checking prompt files, secrets and the objects providers manage...'));
    let d: DriftAnswer;
    try {
      d = await get<DriftAnswer>('drift', { fresh: fresh ? '1' : undefined });
    } catch (err) {
      return clear(card, h('h3', {}, 'Drift'), failure(err));
    }
    const again = h('button', { class: 'secondary', type: 'button', id: 'drift-again' }, 'Check again');
    again.addEventListener('click', () => void show(true));
    const c = d.checked;
    clear(
      card,
      h('h3', {}, 'Drift'),
      d.error
        ? h('div', { class: 'notice bad', role: 'alert' }, `the drift check failed: ${d.error}`)
        : d.drifted
          ? h('ul', { id: 'drift-items' }, (d.items ?? []).map((i) => h('li', {}, badge(i.kind, 'bad'), ' ', h('strong', {}, i.address), ` ${i.message}`)))
          : h('p', {}, badge('in sync', 'ok'), ' nothing changed outside orgloop since the apply'),
      (d.errors ?? []).length ? h('ul', { class: 'muted' }, d.errors!.map((e) => h('li', {}, `not verified: ${e.address}: ${e.message}`))) : null,
      (d.notes ?? []).length ? h('ul', { class: 'muted' }, d.notes!.map((n) => h('li', {}, n))) : null,
      h('p', { class: 'muted' }, c ? `${c.prompts} prompt files, ${c.secrets} secrets, ${c.external} provider objects, ${c.executors} executors checked ${time(d.checked_at)} ` : `checked ${time(d.checked_at)} `, again),
    );
  };
  void show(false);
  return card;
}

function orgView(): void {
  const head = h('div', { class: 'card' });
  const picture = h('div', {});
  const tables = h('div', {});
  clear(view, h('h2', {}, 'Organization'), head, driftCard(), picture, tables);
  every(2000, async () => {
    let o: Overview;
    try {
      o = await get<Overview>('overview');
    } catch (err) {
      return clear(head, failure(err));
    }
    const sum = (rows: Array<{ count: number }>) => rows.reduce((n, r) => n + r.count, 0);
    const per = (n: number) => `${((n * 60) / o.window_s).toFixed(n ? 1 : 0)}/min`;
    clear(
      head,
      h(
        'div',
        { class: 'kv' },
        h('div', {}, h('span', {}, 'project'), o.project ?? '(nothing applied)'),
        h('div', {}, h('span', {}, 'applied version'), h('strong', { id: 'serial' }, String(o.serial)), o.applied ? ` ${o.applied.kind} by ${o.applied.who}, ${time(o.applied.created_at)}` : ''),
        h('div', {}, h('span', {}, 'executors'), o.executors.filter((e) => e.alive).map((e) => `${e.id} (v${e.serial_loaded})`).join(', ') || 'none running'),
        h('div', {}, h('span', {}, 'executors on the applied version'), o.drift.length ? h('span', { class: 'badge bad' }, o.drift.join('; ')) : badge('all', 'ok')),
      ),
    );
    const backlog = (f: (r: Overview['backlog'][number]) => boolean) => sum(o.backlog.filter((r) => f(r) && r.status !== 'dead'));
    const dead = (f: (r: Overview['backlog'][number]) => boolean) => sum(o.backlog.filter((r) => f(r) && r.status === 'dead'));
    const failed = (f: (r: Overview['recent'][number]) => boolean) => sum(o.recent.filter((r) => f(r) && (r.status === 'dead' || r.status === 'retry')));
    clear(
      picture,
      drawTopology(o.topology, (n) => {
        if (n.kind === 'source') return { sub: `${per(sum(o.received.filter((r) => r.source === n.name)))} in` };
        const f = n.kind === 'route' ? (r: { route: string }) => r.route === n.name : (r: { actor: string }) => r.actor === n.name;
        const d = dead(f as never);
        const errs = failed(f as never);
        const sub = `${per(sum(o.recent.filter(f as never)))} · backlog ${backlog(f as never)}`;
        return d || errs ? { alert: `${sub} · ${d} dead · ${errs} failing` } : { sub };
      }),
    );
    const routes = o.topology.nodes.filter((n) => n.kind === 'route');
    clear(
      tables,
      h('h3', {}, `Routes (last ${o.window_s} s)`),
      h(
        'table',
        { id: 'routes' },
        h('tr', {}, h('th', {}, 'route'), h('th', {}, 'deliveries/min'), h('th', {}, 'backlog'), h('th', {}, 'failing'), h('th', {}, 'dead')),
        routes.map((n) => {
          const f = (r: { route: string }) => r.route === n.name;
          return h('tr', {}, h('td', {}, n.name), h('td', {}, per(sum(o.recent.filter(f)))), h('td', {}, backlog(f)), h('td', {}, failed(f)), h('td', {}, dead(f) ? badge(String(dead(f)), 'dead') : '0'));
        }),
      ),
      o.topology.loggers.length ? h('p', { class: 'muted' }, `Loggers: ${o.topology.loggers.join(', ')}`) : null,
    );
  });
}

// ---- Events ----

type EventWithDeliveries = EventRow & { deliveries: Delivery[] };
const FILTERS = ['source', 'type', 'route', 'actor', 'status', 'q'] as const;

function eventsView(params: URLSearchParams): void {
  const form = h('form', { class: 'filters', id: 'event-filters' });
  for (const f of FILTERS) {
    if (f === 'status') {
      const sel = h('select', { name: f, 'aria-label': 'status' }, h('option', { value: '' }, 'any status'), ['pending', 'leased', 'delivered', 'retry', 'dead', 'cancelled'].map((v) => h('option', { value: v }, v)));
      sel.value = params.get(f) ?? '';
      form.append(sel);
    } else form.append(h('input', { name: f, placeholder: f === 'q' ? 'text' : f, 'aria-label': f === 'q' ? 'text' : f, value: params.get(f) ?? '' }));
  }
  form.append(h('button', { type: 'submit' }, 'Filter'));
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const q = new URLSearchParams();
    for (const [k, v] of new FormData(form)) if (v) q.set(k, String(v));
    location.hash = `#/events${q.toString() ? `?${q}` : ''}`;
  });
  const table = h('table', { id: 'events' });
  const more = h('button', { class: 'secondary', type: 'button' }, 'Older');
  const status = h('p', { class: 'muted' });
  clear(view, h('h2', {}, 'Events'), form, status, table, h('p', {}, more));
  const filter: Record<string, string | undefined> = {};
  for (const f of FILTERS) filter[f] = params.get(f) ?? undefined;
  let rows: EventWithDeliveries[] = [];
  let next: string | null = null;
  let paged = false;
  const render = () => {
    clear(
      table,
      h('tr', {}, h('th', {}, 'received'), h('th', {}, 'source'), h('th', {}, 'type'), h('th', {}, 'hops'), h('th', {}, 'deliveries'), h('th', {}, 'id')),
      rows.map((e) => {
        const tr = h(
          'tr',
          { class: 'click', 'data-event': e.id },
          h('td', {}, time(e.received_at)),
          h('td', {}, e.source),
          h('td', {}, e.type),
          h('td', {}, e.hops),
          h('td', {}, e.deliveries.length ? e.deliveries.map((d) => h('span', {}, `${d.route} → ${d.actor} `, badge(d.status), ' ')) : h('span', { class: 'muted' }, 'no route matched')),
          h('td', { class: 'mono' }, e.id),
        );
        tr.addEventListener('click', () => (location.hash = `#/events/${encodeURIComponent(e.id)}`));
        return tr;
      }),
    );
    more.disabled = next === null;
    status.textContent = rows.length ? `${rows.length} events${paged ? '' : ' (live)'}` : next ? 'No match among the latest events: look further with Older.' : 'No events.';
  };
  more.addEventListener('click', async () => {
    if (!next) return;
    paged = true;
    const page = await get<{ events: EventWithDeliveries[]; next: string | null }>('events', { ...filter, before: next });
    rows = rows.concat(page.events);
    next = page.next;
    render();
  });
  every(2000, async () => {
    if (paged) return; // reading older pages: do not move the list under the reader
    try {
      const page = await get<{ events: EventWithDeliveries[]; next: string | null }>('events', filter);
      rows = page.events;
      next = page.next;
      render();
    } catch (err) {
      clear(status, failure(err));
    }
  });
}

interface Trace {
  event_id: string;
  trace_id: string;
  events: Array<EventRow & { event: unknown; headers: Record<string, string> | null }>;
  deliveries: Delivery[];
  log: Array<{ id: number; time: string; phase: string; level: string; source: string | null; route: string | null; actor: string | null; event_id: string | null; delivery_id: string | null; message: string | null; data: unknown }>;
}

function levelClass(phase: string, level: string): string {
  if (phase === 'deliver.success' || phase === 'transform.pass') return 'ok';
  return level === 'error' ? 'error' : level === 'warn' ? 'warn' : '';
}

function traceView(id: string): void {
  const body = h('div', {});
  clear(view, h('h2', {}, 'Event trace'), h('p', {}, h('a', { href: '#/events' }, '← all events')), body);
  every(3000, async () => {
    let t: Trace;
    try {
      t = await get<Trace>(`trace/${encodeURIComponent(id)}`);
    } catch (err) {
      return clear(body, failure(err));
    }
    // one timeline across the loop's hops: events as they were received, and every step logged about them
    type Item = { at: string; node: HTMLElement };
    const items: Item[] = [];
    for (const e of t.events) {
      const ds = t.deliveries.filter((d) => d.event_id === e.id);
      items.push({
        at: e.received_at,
        node: h(
          'div',
          { class: 'entry event', 'data-timeline-event': e.id },
          h('span', { class: 't' }, clock(e.received_at)),
          h('strong', {}, `${e.type}`),
          ` from ${e.source}`,
          e.hops ? ` · hop ${e.hops}` : '',
          ' · ',
          h('span', { class: 'mono' }, e.id),
          e.id === t.event_id ? ' (this event)' : '',
          h('details', {}, h('summary', {}, 'event JSON'), h('pre', {}, JSON.stringify(e.event, null, 2))),
          // the webhook request that carried it; credential and signature headers arrive masked
          e.headers
            ? h(
                'details',
                { class: 'headers', 'data-headers': e.id, open: e.id === t.event_id },
                h('summary', {}, `ingress headers (${Object.keys(e.headers).length})`),
                h('table', { class: 'headers' }, Object.entries(e.headers).map(([k, v]) => h('tr', {}, h('td', { class: 'mono' }, k), h('td', { class: 'mono' }, v)))),
              )
            : null,
          ds.length
            ? h(
                'table',
                { class: 'deliveries' },
                h('tr', {}, h('th', {}, 'delivery'), h('th', {}, 'route → actor'), h('th', {}, 'status'), h('th', {}, 'attempts'), h('th', {}, 'version'), h('th', {}, 'last error')),
                ds.map((d) => h('tr', {}, h('td', { class: 'mono' }, d.id), h('td', {}, `${d.route} → ${d.actor}`), h('td', {}, badge(d.status)), h('td', {}, d.attempts), h('td', {}, d.state_serial), h('td', {}, d.last_error ?? ''))),
              )
            : null,
        ),
      });
    }
    for (const l of t.log) {
      if (l.phase === 'source.emit') continue; // the event itself stands for it
      const data = l.data && typeof l.data === 'object' ? (l.data as Record<string, unknown>) : null;
      items.push({
        at: l.time,
        node: h(
          'div',
          { class: `entry ${levelClass(l.phase, l.level)}`, 'data-phase': l.phase },
          h('span', { class: 't' }, clock(l.time)),
          h('strong', {}, l.phase),
          ' ',
          [l.route && `route=${l.route}`, l.actor && `actor=${l.actor}`].filter(Boolean).join(' '),
          l.message ? ` · ${l.message}` : '',
          data && typeof data.duration_ms === 'number' ? h('span', { class: 'badge' }, `${data.duration_ms} ms`) : null,
        ),
      });
    }
    items.sort((a, b) => a.at.localeCompare(b.at));
    clear(
      body,
      h('div', { class: 'kv card' }, h('div', {}, h('span', {}, 'trace'), h('span', { class: 'mono' }, t.trace_id)), h('div', {}, h('span', {}, 'events in trace'), t.events.length), h('div', {}, h('span', {}, 'deliveries'), t.deliveries.length)),
      h('div', { class: 'timeline', id: 'timeline' }, items.map((i) => i.node)),
    );
  });
}

// ---- Dead letters & retries ----

function deadView(params: URLSearchParams): void {
  const status = params.get('status') === 'retry' ? 'retry' : 'dead';
  const form = h(
    'form',
    { class: 'filters', id: 'dead-filters' },
    h('select', { name: 'status', 'aria-label': 'which deliveries' }, h('option', { value: 'dead' }, 'dead letters'), h('option', { value: 'retry' }, 'waiting to retry')),
    h('input', { name: 'route', placeholder: 'route', 'aria-label': 'route', value: params.get('route') ?? '' }),
    h('input', { name: 'actor', placeholder: 'actor', 'aria-label': 'actor', value: params.get('actor') ?? '' }),
    h('button', { type: 'submit' }, 'Filter'),
  );
  (form.querySelector('select') as HTMLSelectElement).value = status;
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const q = new URLSearchParams();
    for (const [k, v] of new FormData(form)) if (v) q.set(k, String(v));
    location.hash = `#/dead?${q}`;
  });
  const version = h('select', { id: 'retry-version', 'aria-label': 'retry under' }, h('option', { value: 'pinned' }, 'the version that routed it'), h('option', { value: 'current' }, 'the current version'));
  const retrySel = h('button', { type: 'button', id: 'retry-selected' }, 'Retry selected');
  const retryAll = h('button', { type: 'button', class: 'secondary', id: 'retry-all' }, 'Retry all matching');
  const cancelSel = h('button', { type: 'button', class: 'secondary', id: 'cancel-selected' }, 'Cancel selected');
  const note = h('div', { id: 'dead-note' });
  const table = h('table', { id: 'dead' });
  const detail = h('div', { id: 'dead-detail' });
  const actions = h('div', { class: 'row card' }, status === 'dead' ? [retrySel, retryAll, h('span', {}, 'run under'), version] : cancelSel);
  clear(view, h('h2', {}, 'Dead letters & retries'), form, actions, note, table, detail);
  const filter = { route: params.get('route') ?? undefined, actor: params.get('actor') ?? undefined };
  const selected = new Set<string>();
  const act = async (fn: () => Promise<string>) => {
    try {
      clear(note, h('div', { class: 'notice', role: 'status' }, await fn()));
      selected.clear();
      await load();
    } catch (err) {
      clear(note, failure(err));
    }
  };
  retrySel.addEventListener('click', () =>
    act(async () => {
      const r = await post<{ retried: number; skipped: number }>('deliveries/retry', { ids: [...selected], version: version.value });
      return `${r.retried} delivery(ies) queued again${r.skipped ? `, ${r.skipped} no longer dead` : ''}`;
    }),
  );
  retryAll.addEventListener('click', () =>
    act(async () => {
      const r = await post<{ retried: number }>('deliveries/retry', { filter, version: version.value });
      return `${r.retried} delivery(ies) matching the filter queued again`;
    }),
  );
  cancelSel.addEventListener('click', () =>
    act(async () => {
      const r = await post<{ cancelled: number }>('deliveries/cancel', { ids: [...selected] });
      return `${r.cancelled} delivery(ies) cancelled`;
    }),
  );
  const inspect = async (d: Delivery) => {
    const e = await get<{ event: unknown }>(`events/${encodeURIComponent(d.event_id)}`);
    clear(
      detail,
      h('h3', {}, `Delivery ${d.id}`),
      h('div', { class: 'card' }, h('p', {}, `${d.route} → ${d.actor}, ${d.attempts} attempt(s), routed under version ${d.state_serial}`), h('pre', {}, d.last_error ?? ''), h('a', { href: `#/events/${encodeURIComponent(d.event_id)}` }, 'whole trace →'), h('pre', {}, JSON.stringify(e.event, null, 2))),
    );
  };
  const load = async () => {
    const page = await get<{ deliveries: Delivery[] }>('dead', { ...filter, status });
    const canAct = session.authorized;
    for (const b of [retrySel, retryAll, cancelSel]) b.disabled = !canAct;
    clear(
      table,
      h('tr', {}, h('th', {}, ''), h('th', {}, 'delivery'), h('th', {}, 'route → actor'), h('th', {}, 'attempts'), h('th', {}, status === 'dead' ? 'died' : 'next attempt'), h('th', {}, 'last error')),
      page.deliveries.map((d) => {
        const box = h('input', { type: 'checkbox', 'aria-label': `select ${d.id}`, 'data-delivery': d.id });
        box.checked = selected.has(d.id);
        box.addEventListener('change', () => (box.checked ? selected.add(d.id) : selected.delete(d.id)));
        const tr = h('tr', { class: 'click' }, h('td', {}, box), h('td', { class: 'mono' }, d.id), h('td', {}, `${d.route} → ${d.actor}`), h('td', {}, d.attempts), h('td', {}, status === 'dead' ? time(d.updated_at) : time(new Date(d.run_at).toISOString())), h('td', {}, d.last_error ?? ''));
        tr.addEventListener('click', (ev) => {
          if (ev.target !== box) void inspect(d);
        });
        return tr;
      }),
    );
    if (!page.deliveries.length) table.append(h('tr', {}, h('td', { colspan: 6, class: 'muted' }, status === 'dead' ? 'No dead letters.' : 'Nothing waiting to retry.')));
    if (!canAct && !note.textContent) clear(note, h('div', { class: 'notice' }, session.read_only ? 'Read-only: actions need a console token (orgloop console --token).' : 'Enter the console token above to retry or cancel.'));
  };
  every(3000, load);
}

// ---- Versions ----

interface Version {
  serial: number;
  kind: string;
  created_at: string;
  who: string;
  message: string | null;
  summary: { add: number; change: number; destroy: number };
}

function diffText(text: string): HTMLElement {
  return h(
    'pre',
    { class: 'diff', id: 'diff-text' },
    text.split('\n').map((line) => {
      const t = line.trimStart();
      const cls = t.startsWith('+') ? 'add' : t.startsWith('-') ? 'del' : t.startsWith('~') ? 'chg' : '';
      return h('span', { class: cls }, `${line}\n`);
    }),
  );
}

function versionsView(): void {
  const list = h('table', { id: 'versions' });
  const out = h('div', { id: 'version-out' });
  const from = h('select', { 'aria-label': 'from version', id: 'diff-from' });
  const to = h('select', { 'aria-label': 'to version', id: 'diff-to' });
  const diff = h('button', { type: 'button', id: 'diff' }, 'Diff');
  const file = h('input', { type: 'file', id: 'plan-file', accept: '.json,.plan,application/json', 'aria-label': 'saved plan file' });
  clear(
    view,
    h('h2', {}, 'Versions'),
    h('div', { class: 'row card' }, 'Compare version', from, 'with', to, diff, h('span', { class: 'muted' }, '·  Show a saved plan (orgloop plan -out FILE):'), file),
    list,
    out,
  );
  const show = async (title: string, fn: () => Promise<{ text: string; topology: Topology; apply?: string }>) => {
    try {
      const r = await fn();
      clear(out, h('h3', {}, title), drawTopology(r.topology), r.apply ? h('div', { class: 'notice', id: 'rollback-apply' }, 'This is a plan: nothing was changed. To apply it, run ', h('code', {}, r.apply), ' (it shows this plan again and asks to confirm).') : null, diffText(r.text));
    } catch (err) {
      clear(out, failure(err));
    }
  };
  diff.addEventListener('click', () => void show(`Changes from version ${from.value} to ${to.value}`, () => get('versions/diff', { from: from.value, to: to.value })));
  file.addEventListener('change', async () => {
    const f = file.files?.[0];
    if (!f) return;
    const text = await f.text();
    await show(`Saved plan ${f.name}`, async () => {
      const res = await fetch('/api/plan/topology', { method: 'POST', headers: { 'content-type': 'application/json' }, body: text });
      const body = await res.json();
      if (!res.ok) throw new ApiError(res.status, body.error);
      return body;
    });
  });
  void (async () => {
    let vs: Version[];
    try {
      vs = (await get<{ versions: Version[] }>('versions')).versions;
    } catch (err) {
      return clear(list, h('tr', {}, h('td', {}, failure(err))));
    }
    for (const sel of [from, to]) clear(sel, vs.map((v) => h('option', { value: String(v.serial) }, `${v.serial}`)));
    if (vs.length > 1) from.value = String(vs[1]!.serial);
    const current = vs[0]?.serial;
    clear(
      list,
      h('tr', {}, h('th', {}, 'version'), h('th', {}, 'kind'), h('th', {}, 'when'), h('th', {}, 'who'), h('th', {}, 'change'), h('th', {}, 'message'), h('th', {}, '')),
      vs.map((v) => {
        const rb = h('button', { type: 'button', class: 'secondary', 'data-rollback': String(v.serial) }, 'Plan rollback');
        rb.addEventListener('click', () => void show(`Rollback to version ${v.serial}: the plan`, () => get('rollback', { to: String(v.serial) })));
        return h(
          'tr',
          {},
          h('td', {}, h('strong', {}, v.serial), v.serial === current ? ' ' : '', v.serial === current ? badge('current', 'ok') : null),
          h('td', {}, v.kind),
          h('td', {}, time(v.created_at)),
          h('td', {}, v.who),
          h('td', {}, `+${v.summary.add} ~${v.summary.change} -${v.summary.destroy}`),
          h('td', {}, v.message ?? ''),
          h('td', {}, v.serial === current ? '' : rb),
        );
      }),
    );
  })();
}

// ---- routing ----

function route(): void {
  if (timer !== undefined) window.clearInterval(timer);
  timer = undefined;
  const hash = location.hash.replace(/^#/, '') || '/org';
  const [path, query] = hash.split('?') as [string, string | undefined];
  const params = new URLSearchParams(query ?? '');
  const parts = path.split('/').filter(Boolean);
  for (const a of document.querySelectorAll('header nav a')) a.classList.toggle('active', a.getAttribute('data-view') === (parts[0] ?? 'org'));
  if (parts[0] === 'events' && parts[1]) return traceView(decodeURIComponent(parts[1]));
  if (parts[0] === 'events') return eventsView(params);
  if (parts[0] === 'dead') return deadView(params);
  if (parts[0] === 'versions') return versionsView();
  return orgView();
}

window.addEventListener('hashchange', route);
void refreshSession()
  .catch(() => undefined)
  .finally(route);
