// `{{path}}` templates rendered against an event (or any object): "pr-{{payload.pr_number}}".
// A string that is exactly one `{{path}}` keeps the value's type (number, object...);
// otherwise values are interpolated as text (objects as JSON, missing as empty).

import { getPath, splitPath } from './path.js';

const TAG = /\{\{\s*([^{}]+?)\s*\}\}/g;
const WHOLE_TAG = /^\{\{\s*([^{}]+?)\s*\}\}$/;

export type Piece = string | string[]; // literal text, or path parts
const compiled = new Map<string, Piece[] | { whole: string[] }>();

function compile(template: string): Piece[] | { whole: string[] } {
  let c = compiled.get(template);
  if (c) return c;
  const whole = WHOLE_TAG.exec(template);
  if (whole) {
    c = { whole: splitPath(whole[1]!) };
  } else {
    const pieces: Piece[] = [];
    let last = 0;
    for (const m of template.matchAll(TAG)) {
      if (m.index! > last) pieces.push(template.slice(last, m.index));
      pieces.push(splitPath(m[1]!));
      last = m.index! + m[0].length;
    }
    if (last < template.length) pieces.push(template.slice(last));
    c = pieces;
  }
  if (compiled.size > 10_000) compiled.clear();
  compiled.set(template, c);
  return c;
}

/** A template as literal text and tag paths, in order (a whole-tag template is one path). */
export function templatePieces(template: string): Piece[] {
  const c = compile(template);
  return Array.isArray(c) ? c : [c.whole];
}

export function asText(v: unknown): string {
  if (v === undefined || v === null) return '';
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

export function hasTemplate(s: string): boolean {
  return s.includes('{{');
}

/** Renders one template string. */
export function renderTemplate(template: string, data: unknown): unknown {
  if (!hasTemplate(template)) return template;
  const c = compile(template);
  if (!Array.isArray(c)) {
    const v = getPath(data, c.whole);
    return v === undefined ? '' : v;
  }
  let out = '';
  for (const p of c) out += typeof p === 'string' ? p : asText(getPath(data, p));
  return out;
}

/** Renders a template string and always returns text. */
export function renderTemplateText(template: string, data: unknown): string {
  return asText(renderTemplate(template, data));
}

/** Renders every string inside a JSON-like value (objects and arrays are copied). */
export function renderDeep<T>(value: T, data: unknown): T {
  if (typeof value === 'string') return renderTemplate(value, data) as T;
  if (Array.isArray(value)) return value.map((v) => renderDeep(v, data)) as T;
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = renderDeep(v, data);
    return out as T;
  }
  return value;
}
