import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import AjvModule from 'ajv';
import addFormatsModule from 'ajv-formats';
import jsyaml from 'js-yaml';
import { describe, expect, it } from 'vitest';
import { EDITOR_SCHEMA_PATH, editorSchemaText } from './editor-schema.js';

const root = join(import.meta.dirname, '../..');

function yamlFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((d) =>
    d.isDirectory() ? yamlFiles(join(dir, d.name)) : /\.ya?ml$/.test(d.name) ? [join(dir, d.name)] : [],
  );
}

describe('schema/orgloop.schema.json', () => {
  it('is current (regenerate with: npx tsx scripts/gen-schema.ts)', () => {
    expect(readFileSync(join(root, EDITOR_SCHEMA_PATH), 'utf8')).toBe(editorSchemaText());
  });

  it('accepts every YAML file of the valid testdata and examples, as an editor would check them', () => {
    const ajv = new AjvModule.default({ allErrors: true, strict: false, allowUnionTypes: true });
    addFormatsModule.default(ajv);
    const validate = ajv.compile(JSON.parse(editorSchemaText()));
    const files = [...yamlFiles(join(root, 'testdata/valid/legal')), ...yamlFiles(join(root, 'testdata/valid/multi-file')), ...yamlFiles(join(root, 'testdata/valid/single-file')), ...yamlFiles(join(root, 'examples/quickstart'))];
    expect(files.length).toBeGreaterThan(6);
    for (const f of files) {
      const ok = validate(jsyaml.load(readFileSync(f, 'utf8'), { schema: jsyaml.CORE_SCHEMA }));
      expect({ file: f, errors: ok ? null : validate.errors }).toEqual({ file: f, errors: null });
    }
  });

  it('rejects a provider config error an editor should flag', () => {
    const ajv = new AjvModule.default({ allErrors: true, strict: false, allowUnionTypes: true });
    addFormatsModule.default(ajv);
    const validate = ajv.compile(JSON.parse(editorSchemaText()));
    expect(validate({ sources: [{ id: 's', connector: '@orgloop/connector-webhook', config: { signature: 'nope' } }] })).toBe(false);
    expect(validate({ sources: [{ id: 's', connector: 'webhook', config: { signature: 'github' } }] })).toBe(true);
  });
});
