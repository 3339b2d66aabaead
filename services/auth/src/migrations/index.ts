import type { Migrations } from '@hearth/db';
import * as accounts from './2026-11-23-0001-accounts.js';
import * as sessions from './2026-11-23-0002-sessions.js';
import * as signingKeys from './2026-11-23-0003-signing-keys.js';
import * as auditOutbox from './2026-11-23-0004-audit-outbox.js';
import * as oauth from './2026-11-23-0005-oauth.js';
import * as deletedAccountsErased from './2026-11-24-0001-deleted-accounts-erased.js';
import * as dropOutbox from './2026-11-24-0002-drop-outbox.js';

/**
 * The auth schema's migrations, in the order they apply (keys sort by timestamp). Each one is
 * immutable once merged: change the schema with a new entry, never by editing an old one.
 */
export const migrations: Migrations = {
  '2026_11_23_0001_accounts': accounts,
  '2026_11_23_0002_sessions': sessions,
  '2026_11_23_0003_signing_keys': signingKeys,
  '2026_11_23_0004_audit_outbox': auditOutbox,
  '2026_11_23_0005_oauth': oauth,
  '2026_11_24_0001_deleted_accounts_erased': deletedAccountsErased,
  '2026_11_24_0002_drop_outbox': dropOutbox,
};
