// Scenario 8: config fuzzing. Random mutations of the valid testdata projects (YAML text edits
// and structural edits of the parsed document) never crash `validate` or `plan`: the outcome is
// success, or config errors that each carry file:line:col and a message. Most cases run the
// loader and planner in-process for speed; a sample goes through the real CLI, where a failure
// must be exit 1 with only `file:line:col: message` lines (never a stack trace or a bare
// internal error).

import fc from 'fast-check';
import { cpSync, mkdtempSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseDocument, stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadProject } from '../../engine/config/load.js';
import { ConfigError } from '../../engine/errors.js';
import { planFromProject, registryHints, type ProviderHints } from '../../engine/plan/plan.js';
import { testKey } from '../../engine/plan/test-helpers/project.js';
import { openStore } from '../../state/open.js';
import type { Store } from '../../state/store.js';
import { cli } from './harness.js';

// One seed for the whole file: FUZZ_SEED to replay a failure or explore other cases, otherwise a
// fixed default so a run is reproducible. Every failure message names it.
const SEED = seedFromEnv(process.env.FUZZ_SEED);
const REPLAY = `seed ${SEED} (replay: FUZZ_SEED=${SEED} npx vitest run test/reliability/config-fuzz.test.ts)`;

function seedFromEnv(v: string | undefined): number {
  if (v === undefined || v === '') return 20_261_206;
  if (!/^-?\d+$/.test(v)) throw new Error(`FUZZ_SEED must be an integer (got "${v}")`);
  return Number(v);
}

const VALID = resolve(fileURLToPath(new URL('../../testdata/valid', import.meta.url)));
const DIAG = /^(.+):(\d+):(\d+): (.+)$/;

interface Target {
  name: string;
  dir: string; // a private copy
  entry: string;
  files: Array<{ path: string; text: string }>; // yaml files of the project
}

function yamlFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...yamlFiles(p));
    else if (/\.ya?ml$/.test(name)) out.push(p);
  }
  return out;
}

let targets: Target[] = [];
let store: Store;
let hints: ProviderHints;

beforeAll(async () => {
  const root = mkdtempSync(join(tmpdir(), 'orgloop-fuzz-'));
  targets = readdirSync(VALID).map((name) => {
    const dir = join(root, name);
    cpSync(join(VALID, name), dir, { recursive: true });
    return { name, dir, entry: join(dir, 'orgloop.yaml'), files: yamlFiles(dir).map((p) => ({ path: p, text: readFileSync(p, 'utf8') })) };
  });
  store = await openStore(join(root, 'state.db'));
  hints = await registryHints();
});
afterAll(() => store?.close());

// ---- mutations ----

const YAML_NOISE = [':', ': ', '-', '- ', '{', '}', '[', ']', ',', "'", '"', '\n', '  ', '\t', '#', '&a', '*a', '!!str ', '|', '>', '%', '@', '`', '${', '${NOPE}', '?', '~', 'null', '0x1f', '1e999', '\\u0000', 'é', '\u0000'];

type TextMutation =
  | { kind: 'delete'; at: number; len: number }
  | { kind: 'insert'; at: number; text: string }
  | { kind: 'dupLine'; line: number }
  | { kind: 'dropLine'; line: number }
  | { kind: 'indent'; line: number; delta: number }
  | { kind: 'truncate'; at: number };

const textMutation: fc.Arbitrary<TextMutation> = fc.oneof(
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), len: fc.integer({ min: 1, max: 40 }) }),
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), text: fc.oneof(fc.constantFrom(...YAML_NOISE), fc.string({ maxLength: 8 })) }),
  fc.record({ kind: fc.constant('dupLine' as const), line: fc.nat() }),
  fc.record({ kind: fc.constant('dropLine' as const), line: fc.nat() }),
  fc.record({ kind: fc.constant('indent' as const), line: fc.nat(), delta: fc.integer({ min: -4, max: 4 }) }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
);

function applyText(text: string, m: TextMutation): string {
  const lines = text.split('\n');
  switch (m.kind) {
    case 'delete': {
      const at = m.at % (text.length + 1);
      return text.slice(0, at) + text.slice(at + m.len);
    }
    case 'insert': {
      const at = m.at % (text.length + 1);
      return text.slice(0, at) + m.text + text.slice(at);
    }
    case 'truncate':
      return text.slice(0, m.at % (text.length + 1));
    case 'dupLine': {
      const i = m.line % lines.length;
      lines.splice(i, 0, lines[i]!);
      return lines.join('\n');
    }
    case 'dropLine':
      lines.splice(m.line % lines.length, 1);
      return lines.join('\n');
    case 'indent': {
      const i = m.line % lines.length;
      lines[i] = m.delta > 0 ? ' '.repeat(m.delta) + lines[i] : lines[i]!.replace(new RegExp(`^ {0,${-m.delta}}`), '');
      return lines.join('\n');
    }
  }
}

const weirdValue = fc.oneof(
  fc.constantFrom(null, true, false, 0, -1, 1.5, 1e300, '', ' ', 'x', '5m', '0s', '-1m', '99999999999d', '/(/', '${NOPE}', '{{x}}', '../../../etc/passwd', [], {}),
  fc.string({ maxLength: 12 }),
  fc.integer(),
  fc.array(fc.oneof(fc.string({ maxLength: 6 }), fc.integer(), fc.constant(null)), { maxLength: 3 }),
  fc.dictionary(fc.constantFrom('id', 'connector', 'config', 'when', 'then', 'source', 'actor', 'events', 'x'), fc.oneof(fc.string({ maxLength: 6 }), fc.integer()), { maxKeys: 3 }),
);

type StructMutation = { kind: 'set' | 'delete' | 'rename' | 'dupItem'; pick: number; value: unknown; name: string };
const structMutation: fc.Arbitrary<StructMutation> = fc.record({
  kind: fc.constantFrom('set' as const, 'delete' as const, 'rename' as const, 'dupItem' as const),
  pick: fc.nat(),
  value: weirdValue,
  name: fc.constantFrom('id', 'name', 'connector', 'config', 'when', 'then', 'source', 'actor', 'events', 'transforms', 'with', 'prompt_file', 'delivery', 'poll', 'kind', 'x-unknown', ''),
});

/** All (container, key) slots of a parsed document. */
function slots(node: unknown, out: Array<{ parent: any; key: string | number }> = []): Array<{ parent: any; key: string | number }> {
  const entries: Array<[string | number, unknown]> = Array.isArray(node) ? node.map((v, i) => [i, v]) : node && typeof node === 'object' ? Object.entries(node) : [];
  for (const [key, v] of entries) {
    out.push({ parent: node, key });
    slots(v, out);
  }
  return out;
}

function applyStruct(text: string, m: StructMutation): string {
  const doc = parseDocument(text);
  if (doc.errors.length) return text;
  let data: unknown;
  try {
    data = doc.toJS(); // throws on e.g. an alias without its anchor: leave such text to the loader
  } catch {
    return text;
  }
  const all = slots(data);
  if (all.length === 0) return text;
  const { parent, key } = all[m.pick % all.length]!;
  if (m.kind === 'set') parent[key] = m.value;
  else if (m.kind === 'delete') {
    if (Array.isArray(parent)) parent.splice(key as number, 1);
    else delete parent[key];
  }
  else if (m.kind === 'rename' && !Array.isArray(parent)) {
    parent[m.name] = parent[key];
    if (m.name !== key) delete parent[key];
  } else if (Array.isArray(parent)) parent.splice(key as number, 0, structuredClone(parent[key as number]));
  return stringify(data);
}

const mutation = fc.record({
  target: fc.nat(),
  file: fc.nat(),
  steps: fc.array(fc.oneof(textMutation.map((t) => ({ text: t })), structMutation.map((s) => ({ struct: s }))), { minLength: 1, maxLength: 3 }),
});

function mutate(m: { target: number; file: number; steps: Array<{ text?: TextMutation; struct?: StructMutation }> }) {
  const t = targets[m.target % targets.length]!;
  const f = t.files[m.file % t.files.length]!;
  let text = f.text;
  for (const s of m.steps) text = s.text ? applyText(text, s.text) : applyStruct(text, s.struct!);
  return { t, f, text };
}

const outcomes = { planned: 0, configErrors: 0 };

/** Runs validate + plan in-process; returns a description of a crash, or null when well-behaved. */
async function loadAndPlan(t: Target): Promise<string | null> {
  let project;
  try {
    project = await loadProject(t.entry, { env: {} });
  } catch (err) {
    if (!(err instanceof ConfigError)) return `loader threw ${(err as Error)?.name}: ${(err as Error)?.stack ?? String(err)}`;
    const errors = err.diagnostics.filter((d) => d.severity !== 'warning');
    if (errors.length === 0) return 'ConfigError without errors';
    for (const d of err.diagnostics) {
      if (!d.file || !(d.line >= 1) || !(d.col >= 1) || !d.message) return `diagnostic without a position or message: ${JSON.stringify(d)}`;
    }
    for (const line of err.message.split('\n')) if (!DIAG.test(line)) return `badly formatted diagnostic: ${line}`;
    outcomes.configErrors++;
    return null;
  }
  try {
    await planFromProject(store, project, { hints, stateKey: testKey });
  } catch (err) {
    if (err instanceof ConfigError) return (outcomes.configErrors++, null);
    return `plan threw ${(err as Error)?.name}: ${(err as Error)?.stack ?? String(err)}`;
  }
  outcomes.planned++;
  return null;
}

describe('reliability: config fuzzing (scenario 8)', () => {
  it('the valid testdata loads and plans cleanly before mutation', async () => {
    expect(targets.length).toBeGreaterThanOrEqual(3);
    for (const t of targets) expect(await loadAndPlan(t), t.name).toBeNull();
  });

  it('random text and structural mutations never crash the loader or the planner (in-process)', async () => {
    await fc.assert(
      fc.asyncProperty(mutation, async (m) => {
        const { t, f, text } = mutate(m);
        writeFileSync(f.path, text);
        try {
          const crash = await loadAndPlan(t);
          expect(crash, `${REPLAY}: ${relative(t.dir, f.path)} of ${t.name} mutated to:\n${text}`).toBeNull();
        } finally {
          writeFileSync(f.path, f.text);
        }
      }),
      { numRuns: 2500, seed: SEED },
    );
    // the mutations reach both sides: many break the config, some still make a valid one
    expect(outcomes.configErrors).toBeGreaterThan(250);
    expect(outcomes.planned).toBeGreaterThan(100);
  }, 120_000);

  it('through the CLI, a mutated config makes validate and plan exit 0, or 1 with only file:line:col messages', async () => {
    const samples = fc.sample(mutation, { numRuns: 10, seed: SEED });
    for (const m of samples) {
      const { t, f, text } = mutate(m);
      writeFileSync(f.path, text);
      try {
        for (const cmd of [['validate'], ['plan', '--state', join(t.dir, '.fuzz-state.db')]]) {
          const r = await cli([...cmd, '-c', t.entry], { cwd: t.dir, env: { ORGLOOP_DEBUG: '' } });
          const what = `${REPLAY}: ${cmd[0]} on ${relative(t.dir, f.path)} of ${t.name}:\n${text}\n--- stderr:\n${r.stderr}`;
          expect([0, 1], what).toContain(r.code);
          if (r.code === 1) {
            const lines = r.stderr.split('\n').filter(Boolean);
            expect(lines.at(-1), what).toMatch(/^\d+ errors? found\.$/);
            for (const line of lines.slice(0, -1)) expect(line, what).toMatch(DIAG);
            expect(r.stderr, what).not.toMatch(/\n\s+at /);
          }
        }
      } finally {
        writeFileSync(f.path, f.text);
      }
    }
  }, 120_000);
});
