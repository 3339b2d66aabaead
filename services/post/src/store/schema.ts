import type { ColumnType, Kysely, Selectable } from 'kysely';

/** Kysely's view of the `posts` schema (the connection's search_path, so names are unqualified). */
export interface PostsTables {
  posts: PostsTable;
  responses: ResponsesTable;
  post_reactions: PostReactionsTable;
}

export type Db = Kysely<PostsTables>;

export type Visibility = 'members' | 'public';
export type ContentState = 'published' | 'hidden' | 'removed' | 'deleted';
/** pg returns int8 as a string; writes take numbers too. */
type BigintColumn = ColumnType<string, number | bigint | string | undefined, number | bigint | string>;

export interface PostsTable {
  id: string;
  circle_id: string;
  author_id: string;
  idempotency_key: string;
  request_digest: Uint8Array;
  digest_key_id: string;
  body: Uint8Array | null;
  content_warning: Uint8Array | null;
  body_key_id: string | null;
  anonymous: boolean;
  visibility: Visibility;
  state: ColumnType<ContentState, ContentState | undefined, ContentState>;
  response_count: ColumnType<number, number | undefined, number>;
  create_time: Date;
  edit_time: Date | null;
  delete_time: Date | null;
  expire_time: Date | null;
  version: BigintColumn;
}

export type PostRow = Selectable<PostsTable>;

export interface ResponsesTable {
  id: string;
  post_id: string;
  author_id: string;
  idempotency_key: string;
  request_digest: Uint8Array;
  digest_key_id: string;
  body: Uint8Array | null;
  body_key_id: string | null;
  anonymous: boolean;
  by_post_author: boolean;
  state: ColumnType<ContentState, ContentState | undefined, ContentState>;
  create_time: Date;
  edit_time: Date | null;
  delete_time: Date | null;
  version: BigintColumn;
}

export type ResponseRow = Selectable<ResponsesTable>;

export interface PostReactionsTable {
  post_id: string;
  user_id: string;
  /** ReactionKind's number (1..7). */
  kind: number;
  create_time: Date;
}
