import type { Db } from './accounts.js';
import type { FlowIntentName, OAuthFlowRow, ProviderName } from './schema.js';

export interface NewFlow {
  readonly stateHash: Buffer;
  readonly provider: ProviderName;
  readonly intent: FlowIntentName;
  readonly redirectUri: string;
  readonly codeChallenge: string;
  readonly nonce: string;
  readonly userId: string | null;
  readonly now: Date;
  readonly expiresAt: Date;
}

/** What the finishing call claims about its flow; all of it must match the stored flow. */
export interface FlowClaim {
  readonly stateHash: Buffer;
  readonly provider: ProviderName;
  readonly intent: FlowIntentName;
  readonly redirectUri: string;
  /** The caller of a LINK flow; null for SIGN_IN. */
  readonly userId: string | null;
  readonly now: Date;
}

/** Expired flows kept this long (for support questions) before a sweep deletes them. */
const KEEP_EXPIRED_MS = 86_400_000;
const SWEEP_BATCH = 100;

/** auth.oauth_flows: authorization requests between StartOAuth and FinishOAuth / LinkOAuth. */
export const oauthFlowStore = {
  async insert(db: Db, f: NewFlow): Promise<void> {
    await db
      .insertInto('oauth_flows')
      .values({
        state_hash: f.stateHash,
        provider: f.provider,
        intent: f.intent,
        redirect_uri: f.redirectUri,
        code_challenge: f.codeChallenge,
        nonce: f.nonce,
        user_id: f.userId,
        created_at: f.now,
        expires_at: f.expiresAt,
        used_at: null,
      })
      .execute();
  },

  /**
   * Marks the flow used and returns it, in one statement: of two calls with one state exactly one
   * gets the row. Undefined when the state is unknown, expired, used, or started for another
   * provider, intent, redirect URI or user (a mismatched call does not use the flow up).
   */
  async consume(db: Db, c: FlowClaim): Promise<OAuthFlowRow | undefined> {
    let q = db
      .updateTable('oauth_flows')
      .set({ used_at: c.now })
      .where('state_hash', '=', c.stateHash)
      .where('used_at', 'is', null)
      .where('expires_at', '>', c.now)
      .where('provider', '=', c.provider)
      .where('intent', '=', c.intent)
      .where('redirect_uri', '=', c.redirectUri);
    q = c.userId === null ? q.where('user_id', 'is', null) : q.where('user_id', '=', c.userId);
    return q.returningAll().executeTakeFirst();
  },

  /** Deletes a batch of long-expired flows; StartOAuth calls it, so the table stays small. */
  async sweep(db: Db, now: Date): Promise<void> {
    const before = new Date(now.getTime() - KEEP_EXPIRED_MS);
    await db
      .deleteFrom('oauth_flows')
      .where('state_hash', 'in', (eb) => eb.selectFrom('oauth_flows').select('state_hash').where('expires_at', '<', before).limit(SWEEP_BATCH))
      .execute();
  },
};
