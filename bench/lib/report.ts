// What every benchmark returns, and the readable table of targets.

export interface Check {
  target: string;
  measured: string;
  pass: boolean;
}

export interface BenchResult {
  name: string;
  /** every figure measured, for the JSON file */
  metrics: Record<string, unknown>;
  /** the published targets this benchmark is held to (none for purely informative ones) */
  checks: Check[];
  /** figures worth a row in the table without a target */
  info?: Array<{ what: string; measured: string }>;
}

export function table(results: BenchResult[]): string {
  const rows: string[][] = [['benchmark', 'target', 'measured', 'result']];
  for (const r of results) {
    for (const c of r.checks) rows.push([r.name, c.target, c.measured, c.pass ? 'PASS' : 'FAIL']);
    for (const i of r.info ?? []) rows.push([r.name, i.what, i.measured, '-']);
  }
  const w = rows[0]!.map((_, col) => Math.max(...rows.map((row) => row[col]!.length)));
  const line = (row: string[]) => '| ' + row.map((c, i) => c.padEnd(w[i]!)).join(' | ') + ' |';
  return [line(rows[0]!), '|' + w.map((n) => '-'.repeat(n + 2)).join('|') + '|', ...rows.slice(1).map(line)].join('\n');
}
