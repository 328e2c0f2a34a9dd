// The `defaults:` section of a project file on its own. `start` runs the applied version from
// the store, not the YAML, but the executor's settings may be written in the project file
// (cmd/settings.ts): this reads just that section, checked and placed like the rest of the config,
// without requiring the other sections to be valid.

import { dirname, resolve } from 'node:path';
import type { JSONSchema } from '../../providers/types.js';
import { ConfigError } from '../errors.js';
import { Diagnostics } from './diagnostics.js';
import { projectEnv } from './env.js';
import { fileSchema } from './schema.js';
import { effectiveDefaults } from './workspace-defaults.js';
import { SourceFile } from './source.js';
import { resolveTemplates } from './templates.js';
import { check, dotted } from './validator.js';

export interface ProjectDefaults {
  values: Record<string, unknown>;
  /** `file:line:col` of a key in the section, for messages about its value */
  where(key: string): string;
}

/** The project file's `defaults:`, or null when there is no project file (start with --state elsewhere). */
export function readProjectDefaults(file: string, env: NodeJS.ProcessEnv): ProjectDefaults | null {
  let src: SourceFile;
  try {
    src = SourceFile.read(file);
  } catch {
    return null;
  }
  const diags = new Diagnostics();
  for (const e of src.syntaxErrors) diags.atPos(src, e, e.message);
  const top = src.data;
  const isMap = (v: unknown) => v !== null && typeof v === 'object' && !Array.isArray(v);
  const raw = isMap(top) ? (top as Record<string, unknown>).defaults : undefined;
  const eff = effectiveDefaults(top, env.ORGLOOP_WORKSPACE);
  let values: Record<string, unknown> = {};
  if (!diags.failed) {
    const schema = (fileSchema.properties as Record<string, JSONSchema>).defaults!;
    if (raw !== undefined) for (const issue of check(schema, raw, ['defaults'])) diags.at(src, issue.path, issue.message, issue.severity, { key: issue.atKey });
    const ws = env.ORGLOOP_WORKSPACE || 'default';
    const wsEntry = isMap(top) && isMap((top as Record<string, unknown>).workspaces) ? ((top as Record<string, Record<string, unknown>>).workspaces![ws] as Record<string, unknown> | undefined) : undefined;
    if (isMap(wsEntry) && wsEntry!.defaults !== undefined) {
      for (const issue of check(schema, wsEntry!.defaults, ['workspaces', ws, 'defaults'])) diags.at(src, issue.path, issue.message, issue.severity, { key: issue.atKey });
    }
    if (isMap(raw) || Object.keys(eff.values).length) {
      const r = resolveTemplates(eff.values, projectEnv(dirname(resolve(file)), env));
      for (const p of r.problems) diags.at(src, [...eff.path(String(p.path[0])), ...p.path.slice(1)], `defaults.${dotted(p.path)}: ${p.message}`);
      values = r.value as Record<string, unknown>;
    }
  }
  if (diags.failed) throw new ConfigError(diags.errors);
  return {
    values,
    where: (key) => {
      const p = src.pos(eff.path(key), {});
      return `${src.display}:${p.line}:${p.col}`;
    },
  };
}

