// Writes schema/orgloop.schema.json (for YAML editors) from the loader's schemas and the
// provider registry. engine/config/schema.test.ts fails when the committed file is stale.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { EDITOR_SCHEMA_PATH, editorSchemaText } from '../engine/config/editor-schema.js';

const out = join(import.meta.dirname, '..', EDITOR_SCHEMA_PATH);
writeFileSync(out, editorSchemaText());
process.stdout.write(`wrote ${EDITOR_SCHEMA_PATH}\n`);
