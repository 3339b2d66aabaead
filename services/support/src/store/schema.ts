import type { ColumnType, Kysely, Selectable } from 'kysely';

/** Kysely's view of the `support` schema (the connection's search_path, so names are unqualified). */
export interface SupportTables {
  safety_plans: SafetyPlansTable;
  crisis_regions: CrisisRegionsTable;
  crisis_resources: CrisisResourcesTable;
  support_requests: SupportRequestsTable;
  support_offers: SupportOffersTable;
}

export type Db = Kysely<SupportTables>;

/** A column with a default: optional on insert. */
type WithDefault<T> = ColumnType<T, T | undefined, T>;
/** pg returns int8 as a string; writes take numbers too. */
type BigintColumn = ColumnType<string, number | bigint | string, number | bigint | string>;

export interface SafetyPlansTable {
  user_id: string;
  plan: Uint8Array;
  key_id: string;
  version: BigintColumn;
  update_time: Date;
}

export type SafetyPlanRow = Selectable<SafetyPlansTable>;

export interface CrisisRegionsTable {
  /** '' for the international directories. */
  region_code: string;
  emergency_number: string;
}

export interface CrisisResourcesTable {
  id: ColumnType<number, never, never>;
  region_code: string;
  name: string;
  description: string;
  phone: WithDefault<string>;
  sms: WithDefault<string>;
  sms_body: WithDefault<string>;
  url: WithDefault<string>;
  hours: string;
  always_open: boolean;
  languages: string[];
}

export type CrisisResourceRow = Selectable<CrisisResourcesTable>;

export type RequestState = 'open' | 'matched' | 'resolved' | 'cancelled' | 'removed';

export interface SupportRequestsTable {
  id: string;
  circle_id: string;
  requester_id: string;
  idempotency_key: string;
  request_digest: Uint8Array;
  digest_key_id: string;
  /** SupportTopic's number. */
  topic: number;
  /** SupportUrgency's number (3 is the most urgent). */
  urgency: number;
  body: Uint8Array | null;
  body_key_id: string | null;
  anonymous: boolean;
  state: WithDefault<RequestState>;
  offer_count: WithDefault<number>;
  create_time: Date;
  update_time: Date;
  resolve_time: Date | null;
  version: ColumnType<string, number | bigint | string | undefined, number | bigint | string>;
}

export type SupportRequestRow = Selectable<SupportRequestsTable>;

export type OfferState = 'offered' | 'accepted' | 'withdrawn' | 'closed';

export interface SupportOffersTable {
  id: string;
  request_id: string;
  helper_id: string;
  idempotency_key: string;
  request_digest: Uint8Array;
  digest_key_id: string;
  message: Uint8Array;
  message_key_id: string;
  state: WithDefault<OfferState>;
  create_time: Date;
  update_time: Date;
}

export type SupportOfferRow = Selectable<SupportOffersTable>;
