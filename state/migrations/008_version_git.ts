// The git commit of the project directory each version was applied from (issue 20 item 14; migration 008):
// `history` shows it. Null for versions written before this migration, by state edits, or from
// a directory that is not a git work tree. git_dirty is 1 when the work tree had uncommitted
// changes, so the commit alone does not reproduce what was applied.

import type { Migration } from './index.js';

const sql = `
ALTER TABLE state_versions ADD COLUMN git_commit TEXT;
ALTER TABLE state_versions ADD COLUMN git_dirty INTEGER;
`;

export const migration: Migration = { version: 8, name: 'version_git', sqlite: sql, postgres: sql };
