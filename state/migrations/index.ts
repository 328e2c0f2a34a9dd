// Numbered schema migrations, applied in order by each backend when a store is opened.
// Add a migration as NNN_name.ts exporting `migration` and list it here; never edit one
// that has shipped — stores in the field have already applied it.

import { migration as m001 } from './001_initial.js';
import { migration as m002 } from './002_event_json.js';
import { migration as m003 } from './003_retention.js';
import { migration as m004 } from './004_executor_session.js';
import { migration as m005 } from './005_inbox.js';
import { migration as m006 } from './006_log_partitions.js';
import { migration as m007 } from './007_event_headers.js';
import { migration as m008 } from './008_version_git.js';
import { migration as m009 } from './009_count_shards.js';
import { migration as m010 } from './010_event_match.js';
import { migration as m011 } from './011_event_author_type.js';

export interface Migration {
  version: number;
  name: string;
  sqlite: string;
  postgres: string;
}

export const migrations: readonly Migration[] = [m001, m002, m003, m004, m005, m006, m007, m008, m009, m010, m011];
