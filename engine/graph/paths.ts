// Dotted paths into spec objects ("config.token", "then.config.headers.Authorization").
// Keys may themselves contain dots (filter keys like `provenance.author_type`), so a path is
// resolved against the actual object: at each step the longest run of segments naming an
// existing key wins.

export type Path = Array<string | number>;

export function resolvePath(root: unknown, dotted: string): Path | null {
  // array indices may be written `a[1]` or `a.1`
  const segs = dotted.replace(/\[(\d+)\]/g, '.$1').split('.');
  const walk = (node: unknown, i: number): Array<string | number> | null => {
    if (i === segs.length) return [];
    if (Array.isArray(node)) {
      const idx = Number(segs[i]);
      if (!Number.isInteger(idx) || idx < 0 || idx >= node.length) return null;
      const rest = walk(node[idx], i + 1);
      return rest ? [idx, ...rest] : null;
    }
    if (!node || typeof node !== 'object') return null;
    const obj = node as Record<string, unknown>;
    for (let j = segs.length; j > i; j--) {
      const key = segs.slice(i, j).join('.');
      if (Object.prototype.hasOwnProperty.call(obj, key)) {
        const rest = walk(obj[key], j);
        if (rest) return [key, ...rest];
      }
    }
    return null;
  };
  return walk(root, 0);
}

export function getAt(root: unknown, path: Array<string | number>): unknown {
  let node: any = root;
  for (const k of path) {
    if (node == null) return undefined;
    node = node[k];
  }
  return node;
}

/** Sets a value at an existing path (as returned by resolvePath). */
export function setAt(root: unknown, path: Array<string | number>, value: unknown): void {
  let node: any = root;
  for (let i = 0; i < path.length - 1; i++) node = node[path[i]];
  node[path[path.length - 1]] = value;
}

/** Human form of a path for diffs: `config.headers["X-Key"]`, `when.events[1]`. */
export function formatPath(path: Path): string {
  let out = '';
  for (const k of path) out = appendPath(out, k);
  return out;
}

/** `formatPath` one step at a time: the human path `shown` extended by one key or index. */
export function appendPath(shown: string, k: string | number): string {
  if (typeof k === 'number') return `${shown}[${k}]`;
  if (/^[A-Za-z_][A-Za-z0-9_-]*$/.test(k)) return shown ? `${shown}.${k}` : k;
  return `${shown}[${JSON.stringify(k)}]`;
}
