import type { AuditEventsTable } from '@hearth/db';
import type { ColumnType, Insertable, Selectable } from 'kysely';

/** Kysely's view of the `users` schema (the connection's search_path, so names are unqualified). */
export interface UsersTables {
  profiles: ProfilesTable;
  settings: SettingsTable;
  blocks: BlocksTable;
  audit_events: AuditEventsTable;
}

export type AccountState = 'active' | 'suspended' | 'deleted';
export type RoleName = 'user' | 'moderator' | 'admin';
export type DirectMessages = 'everyone' | 'circle_members' | 'nobody';

// integer, not bigint: pg returns int8 as a string, and two billion edits of one profile is plenty.
type Version = ColumnType<number, number | undefined, number>;

export interface ProfilesTable {
  id: string;
  handle: string | null;
  display_name: ColumnType<string, string | undefined, string>;
  bio: ColumnType<string, string | undefined, string>;
  pronouns: ColumnType<string, string | undefined, string>;
  avatar_url: ColumnType<string, string | undefined, string>;
  state: ColumnType<AccountState, AccountState | undefined, AccountState>;
  roles: ColumnType<RoleName[], RoleName[] | undefined, RoleName[]>;
  version: Version;
  create_time: Date;
  update_time: Date;
  delete_time: ColumnType<Date | null, Date | null | undefined, Date | null>;
  purge_after: ColumnType<Date | null, Date | null | undefined, Date | null>;
}

export type ProfileRow = Selectable<ProfilesTable>;
export type NewProfile = Insertable<ProfilesTable>;

export interface SettingsTable {
  user_id: string;
  notify_messages: ColumnType<boolean, boolean | undefined, boolean>;
  notify_mentions: ColumnType<boolean, boolean | undefined, boolean>;
  notify_support_requests: ColumnType<boolean, boolean | undefined, boolean>;
  notify_sos_alerts: ColumnType<boolean, boolean | undefined, boolean>;
  direct_messages: ColumnType<DirectMessages, DirectMessages | undefined, DirectMessages>;
  show_presence: ColumnType<boolean, boolean | undefined, boolean>;
  discoverable_by_handle: ColumnType<boolean, boolean | undefined, boolean>;
  version: Version;
  update_time: ColumnType<Date | null, Date | null | undefined, Date | null>;
}

export type SettingsRow = Selectable<SettingsTable>;

export interface BlocksTable {
  blocker_id: string;
  blocked_id: string;
  create_time: Date;
}

export type AuditEventRow = Selectable<AuditEventsTable>;
export type { AuditEventsTable };
