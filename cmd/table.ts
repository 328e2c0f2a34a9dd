// The CLI's one table layout: columns padded to the widest cell, two spaces apart. Colour is
// applied after padding, so escape codes never count towards a column's width.

import { Chalk } from 'chalk';

export type Paint = (row: readonly string[], col: number) => 'red' | 'yellow' | 'green' | null;

export function table(rows: string[][], opts: { color?: boolean; paint?: Paint } = {}): string {
  const c = new Chalk({ level: opts.color ? 1 : 0 });
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  const line = (r: string[], ri: number) =>
    r
      .map((cell, i) => {
        const padded = i === r.length - 1 ? cell : cell.padEnd(widths[i]!);
        const colour = ri > 0 && opts.paint ? opts.paint(r, i) : null;
        return colour ? padded.replace(cell, c[colour](cell)) : padded;
      })
      .join('  ')
      .trimEnd();
  return rows.map(line).join('\n') + '\n';
}
