// A structural check of the Mermaid flowcharts orgloop writes: what a parser would reject or
// misread. Used by tests; returns the problems found (empty = valid) and what it parsed.

const SHAPES: Record<string, string> = { '([': '])', '{{': '}}', '[[': ']]', '[/': '/]', '[': ']' };
const RESERVED = new Set(['end', 'graph', 'subgraph', 'flowchart', 'style', 'class', 'classDef', 'linkStyle', 'click', 'default']);
const ID = '[A-Za-z][A-Za-z0-9_]*';
// label text: letters, digits, a few punctuation marks, entity codes and <br/>
const LABEL_OK = /^(?:[A-Za-z0-9 _.,:/@+=*!?'()\-→]|#\d+;|<br\/>)*$/;

export interface MermaidParse {
  direction: string;
  nodes: Map<string, string>;
  edges: Array<{ from: string; to: string; label: string | null; dotted: boolean }>;
  classes: Map<string, string[]>;
  problems: string[];
}

export function checkMermaid(text: string): MermaidParse {
  const problems: string[] = [];
  const nodes = new Map<string, string>();
  const edges: MermaidParse['edges'] = [];
  const classDefs = new Set<string>();
  const classes = new Map<string, string[]>();
  const linkStyles: number[] = [];
  const lines = text.split('\n').map((l) => l.trim()).filter((l) => l !== '');
  const header = /^flowchart (LR|TD|TB|RL|BT)$/.exec(lines[0] ?? '');
  if (!header) problems.push(`line 1: expected "flowchart DIR", got ${JSON.stringify(lines[0])}`);
  const nodeRe = new RegExp(`^(${ID})(\\(\\[|\\{\\{|\\[\\[|\\[/|\\[)"([^"]*)"(\\]\\)|\\}\\}|\\]\\]|/\\]|\\])$`);
  const edgeRe = new RegExp(`^(${ID}) (-->|-\\.->)(?:\\|"([^"]*)"\\|)? (${ID})$`);
  lines.slice(1).forEach((line, i) => {
    const at = `line ${i + 2}`;
    if (line.startsWith('%%')) return;
    let m: RegExpExecArray | null;
    if ((m = nodeRe.exec(line))) {
      const [, id, open, label, close] = m as unknown as [string, string, string, string, string];
      if (SHAPES[open] !== close) problems.push(`${at}: shape ${open}…${close} does not match`);
      if (RESERVED.has(id.toLowerCase())) problems.push(`${at}: node id "${id}" is a Mermaid keyword`);
      if (nodes.has(id)) problems.push(`${at}: node "${id}" declared twice`);
      if (!LABEL_OK.test(label)) problems.push(`${at}: label has unescaped characters: ${label}`);
      nodes.set(id, label);
    } else if ((m = edgeRe.exec(line))) {
      const [, from, arrow, label, to] = m as unknown as [string, string, string, string | undefined, string];
      for (const id of [from, to]) if (!nodes.has(id)) problems.push(`${at}: edge uses undeclared node "${id}"`);
      if (label !== undefined && !LABEL_OK.test(label)) problems.push(`${at}: edge label has unescaped characters: ${label}`);
      edges.push({ from, to, label: label ?? null, dotted: arrow === '-.->' });
    } else if ((m = /^classDef ([A-Za-z][A-Za-z0-9_]*) ([a-z-]+:[^,;]+(?:,[a-z-]+:[^,;]+)*)$/.exec(line))) {
      classDefs.add(m[1]!);
    } else if ((m = new RegExp(`^class (${ID}(?:,${ID})*) ([A-Za-z][A-Za-z0-9_]*)$`).exec(line))) {
      const ids = m[1]!.split(',');
      if (!classDefs.has(m[2]!)) problems.push(`${at}: class "${m[2]}" used before classDef`);
      for (const id of ids) if (!nodes.has(id)) problems.push(`${at}: class on undeclared node "${id}"`);
      classes.set(m[2]!, ids);
    } else if ((m = /^linkStyle (\d+) ([a-z-]+:[^,;]+(?:,[a-z-]+:[^,;]+)*)$/.exec(line))) {
      linkStyles.push(Number(m[1]));
    } else {
      problems.push(`${at}: not a node, edge, classDef, class, linkStyle or comment: ${line}`);
    }
  });
  for (const n of linkStyles) if (n >= edges.length) problems.push(`linkStyle ${n} but only ${edges.length} edges`);
  return { direction: header?.[1] ?? '', nodes, edges, classes, problems };
}

/** Decodes Mermaid entity codes (#35;) and <br/> to read a label back. */
export function decodeLabel(label: string): string {
  return label.replace(/<br\/>/g, '\n').replace(/#(\d+);/g, (_m, n: string) => String.fromCodePoint(Number(n)));
}
