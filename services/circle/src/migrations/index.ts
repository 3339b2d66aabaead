import type { Migrations } from '@hearth/db';
import * as circles from './2026-11-24-0001-circles.js';
import * as audit from './2026-11-24-0002-audit.js';
import * as sharedAudit from './2026-11-30-0001-shared-audit.js';
import * as messages from './2026-12-01-0001-messages.js';

/**
 * The circles schema's migrations, in the order they apply (keys sort by timestamp). Each one is
 * immutable once merged: change the schema with a new entry, never by editing an old one.
 */
export const migrations: Migrations = {
  '2026_11_24_0001_circles': circles,
  '2026_11_24_0002_audit': audit,
  '2026_11_30_0001_shared_audit': sharedAudit,
  '2026_12_01_0001_messages': messages,
};
