import type { ColumnType, Insertable, Selectable } from 'kysely';

/** Kysely's view of the `auth` schema (the connection's search_path, so names are unqualified). */
export interface AuthTables {
  accounts: AccountsTable;
  sessions: SessionsTable;
  refresh_tokens: RefreshTokensTable;
  signing_keys: SigningKeysTable;
  audit_events: AuditEventsTable;
  identities: IdentitiesTable;
  oauth_flows: OAuthFlowsTable;
}

export interface AccountsTable {
  id: string;
  email: string;
  password_hash: string | null;
  roles: ColumnType<string[], string[] | undefined, string[]>;
  state: ColumnType<AccountState, AccountState | undefined, AccountState>;
  created_at: Date;
  updated_at: Date;
  deleted_at: Date | null;
}

export type AccountState = 'active' | 'suspended' | 'deleted';
export type Account = Selectable<AccountsTable>;

export interface SessionsTable {
  id: string;
  user_id: string;
  device_name: string;
  ip: string;
  user_agent: string;
  created_at: Date;
  last_used_at: Date;
  idle_expires_at: Date;
  absolute_expires_at: Date;
  revoked_at: Date | null;
  revoke_reason: string | null;
}

export type SessionRow = Selectable<SessionsTable>;
export type NewSession = Insertable<SessionsTable>;

export interface RefreshTokensTable {
  token_hash: Buffer;
  session_id: string;
  created_at: Date;
  expires_at: Date;
  rotated_at: Date | null;
  replaced_by: Buffer | null;
}

export type RefreshTokenRow = Selectable<RefreshTokensTable>;

export interface SigningKeysTable {
  kid: string;
  alg: string;
  public_jwk: ColumnType<Record<string, unknown>, string, string>;
  private_key_enc: Buffer;
  created_at: Date;
  publish_at: Date;
  sign_from: Date;
  retire_at: Date;
  expire_at: Date;
}

export type SigningKeyRow = Selectable<SigningKeysTable>;

export interface AuditEventsTable {
  id: string;
  at: Date;
  type: string;
  user_id: string | null;
  session_id: string | null;
  ip: string;
  user_agent: string;
  request_id: string | null;
  detail: ColumnType<Record<string, unknown>, string, string>;
}

export type ProviderName = 'google' | 'apple';
export type FlowIntentName = 'sign_in' | 'link';

export interface IdentitiesTable {
  id: string;
  account_id: string;
  provider: ProviderName;
  subject: string;
  email: string | null;
  created_at: Date;
  last_used_at: Date | null;
}

export type IdentityRow = Selectable<IdentitiesTable>;

export interface OAuthFlowsTable {
  state_hash: Buffer;
  provider: ProviderName;
  intent: FlowIntentName;
  redirect_uri: string;
  code_challenge: string;
  nonce: string;
  user_id: string | null;
  created_at: Date;
  expires_at: Date;
  used_at: Date | null;
}

export type OAuthFlowRow = Selectable<OAuthFlowsTable>;
