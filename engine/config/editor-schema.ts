// The text of schema/orgloop.schema.json: the config schema with every built-in provider's
// config schema attached. Regenerate with `npx tsx scripts/gen-schema.ts`.

import { allProviders } from '../../providers/registry.js';
import { buildEditorSchema } from './schema.js';

export const EDITOR_SCHEMA_PATH = 'schema/orgloop.schema.json';

export function editorSchemaText(): string {
  return JSON.stringify(buildEditorSchema(allProviders()), null, 2) + '\n';
}
