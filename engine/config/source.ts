// One YAML file of a project: fast parse for the data (js-yaml), exact positions on demand
// (the `yaml` package's node ranges + LineCounter). The `yaml` parser takes over a second on a
// 10,000-route file, so it only runs for files that actually have a diagnostic to place; the
// package itself is loaded then too (its modules cost ~50 ms of every command's start).

import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { relative, isAbsolute } from 'node:path';
import jsyaml from 'js-yaml';
import type { Document, LineCounter } from 'yaml';

let yamlModule: typeof import('yaml') | undefined;
const yaml = (): typeof import('yaml') => (yamlModule ??= createRequire(import.meta.url)('yaml') as typeof import('yaml'));

export type PathSeg = string | number;

export interface Position {
  line: number;
  col: number;
}

/** How a file is named in messages: relative to the working directory when inside it. */
export function displayPath(abs: string): string {
  const rel = relative(process.cwd(), abs);
  return rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel : abs;
}

export interface SyntaxProblem extends Position {
  message: string;
}

export class SourceFile {
  readonly display: string;
  /** parsed value (null for an empty file) */
  readonly data: unknown;
  readonly syntaxErrors: SyntaxProblem[];
  private readonly starts: WeakMap<object, number>;
  private lineStarts?: number[];
  private doc?: Document;
  private counter?: LineCounter;

  private constructor(
    readonly path: string,
    readonly text: string,
  ) {
    this.display = displayPath(path);
    this.starts = new WeakMap();
    this.syntaxErrors = [];
    const stack: number[] = [];
    try {
      this.data = jsyaml.load(text, {
        filename: path,
        schema: jsyaml.CORE_SCHEMA,
        listener: (event, state) => {
          if (event === 'open') stack.push(state.position);
          else {
            const at = stack.pop();
            const r = state.result;
            if (at !== undefined && r !== null && typeof r === 'object' && !this.starts.has(r)) this.starts.set(r, at);
          }
        },
      }) ?? null;
    } catch (err) {
      this.data = null;
      this.syntaxErrors = this.describeSyntaxError(err as jsyaml.YAMLException);
    }
  }

  static read(path: string): SourceFile {
    return new SourceFile(path, readFileSync(path, 'utf8'));
  }

  static fromText(path: string, text: string): SourceFile {
    return new SourceFile(path, text);
  }

  /** Position where a parsed object or array starts (cheap; no second parse). */
  startOf(value: unknown): Position | undefined {
    if (value === null || typeof value !== 'object') return undefined;
    const at = this.starts.get(value);
    return at === undefined ? undefined : this.offsetToPos(at);
  }

  /**
   * Position of the node at `path` (or of its key when `key` is set); walks up to the nearest
   * existing ancestor when the path does not exist (e.g. a missing required field).
   */
  pos(path: PathSeg[], opts: { key?: boolean } = {}): Position {
    const doc = this.document();
    const { isMap, isNode, isPair, isScalar, isSeq } = yaml();
    let node: unknown = doc.contents;
    let keyNode: unknown;
    for (const seg of path) {
      let next: unknown;
      let nextKey: unknown;
      if (isMap(node)) {
        const pair = node.items.find((p) => isPair(p) && (isScalar(p.key) ? p.key.value : p.key) == seg);
        if (pair) {
          next = pair.value ?? pair.key;
          nextKey = pair.key;
        }
      } else if (isSeq(node) && typeof seg === 'number') {
        next = node.items[seg];
      }
      if (next === undefined) break;
      node = next;
      keyNode = nextKey;
    }
    const target = opts.key && keyNode ? keyNode : node;
    const offset = isNode(target) && target.range ? target.range[0] : 0;
    const lp = this.counter!.linePos(offset);
    return { line: lp.line, col: lp.col };
  }

  private document(): Document {
    if (!this.doc) {
      this.counter = new (yaml().LineCounter)();
      this.doc = yaml().parseDocument(this.text, { lineCounter: this.counter, uniqueKeys: false });
    }
    return this.doc;
  }

  private offsetToPos(offset: number): Position {
    if (!this.lineStarts) {
      const starts = [0];
      for (let i = this.text.indexOf('\n'); i >= 0; i = this.text.indexOf('\n', i + 1)) starts.push(i + 1);
      this.lineStarts = starts;
    }
    const s = this.lineStarts;
    let lo = 0;
    let hi = s.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (s[mid]! <= offset) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo + 1, col: offset - s[lo]! + 1 };
  }

  /** YAML syntax errors, as the `yaml` parser words and places them (all of them, not the first). */
  private describeSyntaxError(err: jsyaml.YAMLException): SyntaxProblem[] {
    const counter = new (yaml().LineCounter)();
    const doc = yaml().parseDocument(this.text, { lineCounter: counter });
    if (doc.errors.length > 0) {
      return doc.errors.map((e) => {
        const lp = e.linePos?.[0] ?? counter.linePos(e.pos[0]);
        return { line: lp.line, col: lp.col, message: `invalid YAML: ${firstLine(e.message)}` };
      });
    }
    const mark = err.mark;
    return [{ line: (mark?.line ?? 0) + 1, col: (mark?.column ?? 0) + 1, message: `invalid YAML: ${err.reason ?? err.message}` }];
  }
}

function firstLine(s: string): string {
  return s.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
}
