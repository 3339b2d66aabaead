import type { Migrations } from '@hearth/db';
import * as profiles from './2026-11-24-0001-profiles.js';
import * as blocks from './2026-11-24-0002-blocks.js';
import * as audit from './2026-11-24-0003-audit.js';
import * as sharedAudit from './2026-11-30-0001-shared-audit.js';

/**
 * The users schema's migrations, in the order they apply (keys sort by timestamp). Each one is
 * immutable once merged: change the schema with a new entry, never by editing an old one.
 */
export const migrations: Migrations = {
  '2026_11_24_0001_profiles': profiles,
  '2026_11_24_0002_blocks': blocks,
  '2026_11_24_0003_audit': audit,
  '2026_11_30_0001_shared_audit': sharedAudit,
};
