import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { ConfigError } from '../errors.js';
import { fmtFiles, formatYaml, projectYamlFiles } from './fmt.js';

const messy = `# org config
sources:
    -   id: github      # the repo
        connector: "@orgloop/connector-github"
        config: {repo: acme/api,   token: "\${GITHUB_TOKEN}"}



        poll: {interval: 2m}
# routes below
routes:
- name: pr-review
  when:
     source: github
     events: [ pull_request_review,resource.changed ]
  then: { actor: engineering-agent }
  with:
    prompt_file: './sops/pr-review.md'
  description: |
    keep
      this  indentation
    # not a comment
`;

const canonical = `# org config
sources:
  - id: github # the repo
    connector: "@orgloop/connector-github"
    config: { repo: acme/api, token: "\${GITHUB_TOKEN}" }

    poll: { interval: 2m }
# routes below
routes:
  - name: pr-review
    when:
      source: github
      events: [pull_request_review, resource.changed]
    then: { actor: engineering-agent }
    with:
      prompt_file: './sops/pr-review.md'
    description: |
      keep
        this  indentation
      # not a comment
`;

describe('formatYaml', () => {
  it('produces the canonical layout, keeping comments, quotes and block scalars', () => {
    expect(formatYaml(messy, 'orgloop.yaml')).toBe(canonical);
    expect(parse(formatYaml(messy, 'x'))).toEqual(parse(messy));
  });

  it('is idempotent', () => {
    expect(formatYaml(canonical, 'orgloop.yaml')).toBe(canonical);
  });

  it('keeps multi-document files and their separators', () => {
    const text = 'kind: RouteGroup\nroutes: []\n---\n# second\nkind: RouteGroup\nroutes:\n- name: a\n';
    expect(formatYaml(text, 'r.yaml')).toBe('kind: RouteGroup\nroutes: []\n---\n# second\nkind: RouteGroup\nroutes:\n  - name: a\n');
  });

  it('reports syntax errors as file:line:col', () => {
    let err: unknown;
    try {
      formatYaml('routes:\n  - name: a\n   bad: [\n', 'routes/x.yaml');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).message).toMatch(/^routes\/x\.yaml:\d+:\d+: /);
  });

  it('keeps a double-quoted string with \\n escapes on one line', () => {
    const text = 'with: { text: "New ticket: {{payload.subject}}\\n{{payload.url}}\\n\\n{{prompt}}" }\n';
    expect(formatYaml(text, 'x.yaml')).toBe(text);
  });

  it('leaves long strings on one line', () => {
    const long = `description: ${'word '.repeat(40).trim()}\n`;
    expect(formatYaml(long, 'x')).toBe(long);
  });
});

describe('fmtFiles and project discovery', () => {
  function project(): string {
    const dir = mkdtempSync(join(tmpdir(), 'orgloop-fmt-'));
    mkdirSync(join(dir, 'connectors'));
    mkdirSync(join(dir, 'routes'));
    writeFileSync(
      join(dir, 'orgloop.yaml'),
      'apiVersion: orgloop/v1alpha1\nkind: Project\nmetadata: {name: demo}\nconnectors:\n- connectors/github.yaml\n- connectors/missing.yaml\n',
    );
    writeFileSync(join(dir, 'connectors', 'github.yaml'), 'kind: ConnectorGroup\nsources:\n- id: github\n  connector: github\n');
    writeFileSync(join(dir, 'routes', 'a.yaml'), 'kind: RouteGroup\nroutes:\n  - name: a\n');
    writeFileSync(join(dir, 'routes', 'broken.yaml'), 'routes: [\n');
    return dir;
  }

  it('finds the files of a multi-file project and warns about missing ones', () => {
    const dir = project();
    const { files, warnings } = projectYamlFiles(join(dir, 'orgloop.yaml'));
    expect(files.map((f) => f.slice(dir.length + 1))).toEqual(['orgloop.yaml', 'connectors/github.yaml', 'routes/a.yaml', 'routes/broken.yaml']);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/connectors\/missing\.yaml: listed in .* but not found; skipped/);
  });

  it('--check writes nothing; formatting rewrites only changed files and never a broken one', () => {
    const dir = project();
    const { files } = projectYamlFiles(join(dir, 'orgloop.yaml'));
    const display = (f: string) => f.slice(dir.length + 1);
    const before = files.map((f) => readFileSync(f, 'utf8'));
    const checked = fmtFiles(files, { check: true, display });
    expect(checked.filter((r) => r.changed).map((r) => r.file)).toEqual(['orgloop.yaml', 'connectors/github.yaml']);
    expect(checked.find((r) => r.file === 'routes/broken.yaml')?.error).toMatch(/^routes\/broken\.yaml:\d+:\d+: /);
    expect(files.map((f) => readFileSync(f, 'utf8'))).toEqual(before);

    const written = fmtFiles(files, { check: false, display });
    expect(written.filter((r) => r.changed).length).toBe(2);
    expect(readFileSync(join(dir, 'connectors', 'github.yaml'), 'utf8')).toBe('kind: ConnectorGroup\nsources:\n  - id: github\n    connector: github\n');
    expect(readFileSync(join(dir, 'routes', 'broken.yaml'), 'utf8')).toBe('routes: [\n');
    expect(fmtFiles(files, { check: true, display }).filter((r) => r.changed)).toEqual([]);
  });
});
