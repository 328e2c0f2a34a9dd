// The console's JSON API from the browser. The token (for actions) lives in sessionStorage and
// travels as a bearer header, never as a cookie, so other sites cannot ride on it.

const TOKEN_KEY = 'orgloop.console.token';

export function token(): string {
  return sessionStorage.getItem(TOKEN_KEY) ?? '';
}

export function setToken(t: string): void {
  if (t) sessionStorage.setItem(TOKEN_KEY, t);
  else sessionStorage.removeItem(TOKEN_KEY);
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

async function answer<T>(res: Response): Promise<T> {
  const body = (await res.json().catch(() => ({}))) as { error?: string };
  if (!res.ok) throw new ApiError(res.status, body.error ?? `HTTP ${res.status}`);
  return body as T;
}

export async function get<T>(path: string, params: Record<string, string | undefined> = {}): Promise<T> {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v) q.set(k, v);
  const qs = q.toString();
  return answer<T>(await fetch(`/api/${path}${qs ? `?${qs}` : ''}`, { headers: authHeaders() }));
}

export async function post<T>(path: string, body: unknown): Promise<T> {
  return answer<T>(await fetch(`/api/${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...authHeaders() }, body: JSON.stringify(body) }));
}

function authHeaders(): Record<string, string> {
  const t = token();
  return t ? { authorization: `Bearer ${t}` } : {};
}

// the API's rows are the store's query rows (types only: nothing of state/ is bundled)
export type { DeliveryRow as Delivery, EventRow } from '../../state/queries/rows.js';

export interface TopoNode {
  id: string;
  address: string;
  kind: 'source' | 'route' | 'actor' | 'missing';
  name: string;
  provider: string;
  mark?: string;
}

export interface Topology {
  nodes: TopoNode[];
  edges: Array<{ from: string; to: string; kind: 'event' | 'deliver' | 'loop'; label: string; mark?: string }>;
  loggers: string[];
}
