import type { AuditEventsTable } from '@hearth/db';
import type { ColumnType, Kysely, Selectable } from 'kysely';

/** Kysely's view of the `circles` schema (the connection's search_path, so names are unqualified). */
export interface CirclesTables {
  circles: CirclesTable;
  members: MembersTable;
  invites: InvitesTable;
  bans: BansTable;
  audit_events: AuditEventsTable;
  messages: MessagesTable;
  message_mentions: MessageMentionsTable;
  read_markers: ReadMarkersTable;
  message_reactions: MessageReactionsTable;
}

/** Every store function takes the executor, so callers choose the transaction. */
export type Db = Kysely<CirclesTables>;

export type Visibility = 'public' | 'private';
export type Role = 'owner' | 'host' | 'member';

// bigint columns come back from pg as strings; versions and sequences stay far below 2^53.
type BigintColumn = ColumnType<string, number | undefined, number>;

export interface CirclesTable {
  id: string;
  name: string;
  description: string;
  guidelines: string;
  visibility: Visibility;
  member_cap: number;
  member_count: ColumnType<number, number | undefined, number>;
  owner_id: string;
  last_seq: BigintColumn;
  create_time: Date;
  update_time: Date;
  archive_time: Date | null;
  version: BigintColumn;
  creator_id: string;
  idempotency_key: string;
  search: ColumnType<string, never, never>;
}

export type CircleRow = Omit<Selectable<CirclesTable>, 'search'>;

export interface MembersTable {
  circle_id: string;
  user_id: string;
  role: Role;
  role_rank: ColumnType<number, never, never>;
  join_time: Date;
  mute_expire_time: Date | null;
  version: BigintColumn;
}

export type MemberRow = Selectable<MembersTable>;

export interface InvitesTable {
  code: string;
  circle_id: string;
  creator_id: string;
  create_time: Date;
  expire_time: Date;
  revoke_time: Date | null;
  max_uses: number;
  use_count: ColumnType<number, number | undefined, number>;
  idempotency_key: string;
}

export type InviteRow = Selectable<InvitesTable>;

export interface BansTable {
  circle_id: string;
  user_id: string;
  banned_by: string;
  reason: string;
  create_time: Date;
}

export type BanRow = Selectable<BansTable>;

export type MessageKind = 'text' | 'joined' | 'left' | 'welcome';

export interface MessagesTable {
  id: string;
  circle_id: string;
  seq: BigintColumn;
  kind: MessageKind;
  sender_id: string | null;
  subject_user_id: string | null;
  client_message_id: string | null;
  request_digest: Uint8Array | null;
  digest_key_id: string | null;
  thread_root_id: string | null;
  body_key_id: string | null;
  body: Uint8Array | null;
  reply_count: ColumnType<number, number | undefined, number>;
  last_reply_time: Date | null;
  create_time: Date;
  edit_time: Date | null;
  delete_time: Date | null;
  pin_time: Date | null;
  pinned_by: string | null;
  version: BigintColumn;
}

export type MessageRow = Selectable<MessagesTable>;

export interface MessageMentionsTable {
  message_id: string;
  user_id: string;
  circle_id: string;
  create_time: Date;
}

export interface ReadMarkersTable {
  user_id: string;
  circle_id: string;
  last_read_seq: BigintColumn;
  update_time: Date;
}

export interface MessageReactionsTable {
  message_id: string;
  user_id: string;
  emoji: string;
  create_time: Date;
}
