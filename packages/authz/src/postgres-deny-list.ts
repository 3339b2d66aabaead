import type { Database } from '@hearth/db';
import { type Kysely, sql } from 'kysely';
import { DENY_LIST_GRACE_MS, type DenyEntry, type SessionDenyList } from './deny-list.js';
import type { AuthzLogger } from './errors.js';

interface AuthzTables {
  'authz.revoked_sessions': { session_id: string; until: Date; revoke_time: Date };
}

export interface PostgresDenyListOptions {
  /** Expired rows are deleted at most this often (during revoke). Default 10 min. */
  readonly purgeEveryMs?: number;
  readonly logger?: AuthzLogger;
}

/**
 * The deny-list in Postgres (`authz.revoked_sessions`, see authzMigrations): the durable record
 * every process's ReplicatedSessionDenyList copies. Reads ignore expired rows; expired rows are
 * purged an hour after expiry, opportunistically on writes.
 */
export class PostgresSessionDenyList<DB = unknown> implements SessionDenyList {
  readonly #db: Kysely<AuthzTables>;
  readonly #purgeEveryMs: number;
  readonly #logger: AuthzLogger | undefined;
  #lastPurge = Number.NEGATIVE_INFINITY;

  constructor(db: Database<DB> | Kysely<DB>, opts: PostgresDenyListOptions = {}) {
    // Structural, like @hearth/db's migrate: Kysely has no `db` member.
    this.#db = ('db' in db ? db.db : db) as unknown as Kysely<AuthzTables>;
    this.#purgeEveryMs = opts.purgeEveryMs ?? 600_000;
    this.#logger = opts.logger;
  }

  async revoke(sessionId: string, until: Date): Promise<void> {
    const at = new Date(until.getTime() + DENY_LIST_GRACE_MS);
    await this.#db
      .insertInto('authz.revoked_sessions')
      .values({ session_id: sessionId, until: at, revoke_time: sql<Date>`now()` })
      // Keep the latest expiry: a second revocation with an earlier `until` must not shorten it.
      // The revoke time moves on, so replicas that sync by it see the longer expiry too.
      .onConflict((oc) =>
        oc.column('session_id').doUpdateSet((eb) => ({
          until: sql<Date>`greatest(${eb.ref('authz.revoked_sessions.until')}, ${eb.ref('excluded.until')})`,
          revoke_time: sql<Date>`now()`,
        })),
      )
      .execute();
    await this.#maybePurge();
  }

  async isRevoked(sessionId: string): Promise<boolean> {
    const row = await this.#db
      .selectFrom('authz.revoked_sessions')
      .select('session_id')
      .where('session_id', '=', sessionId)
      .where('until', '>', sql<Date>`now()`)
      .executeTakeFirst();
    return row !== undefined;
  }

  /**
   * Entries still in force that were written at or after `since` (by the database's clock), and
   * the database's time now, to ask from next time. Replicas overlap their asks a little, since a
   * row's revoke time is taken before its transaction commits.
   */
  async revokedSince(since: Date): Promise<{ entries: DenyEntry[]; now: Date }> {
    // The clock first: a row written after it is found by the next ask.
    const { now } = await this.#db.selectNoFrom(sql<Date>`now()`.as('now')).executeTakeFirstOrThrow();
    const rows = await this.#db
      .selectFrom('authz.revoked_sessions')
      .select(['session_id', 'until'])
      .where('until', '>', now)
      .where('revoke_time', '>=', since)
      .execute();
    return { entries: rows.map((r) => ({ sessionId: r.session_id, until: new Date(r.until.getTime() - DENY_LIST_GRACE_MS) })), now };
  }

  /** Deletes rows that expired more than an hour ago; returns how many. */
  async purgeExpired(): Promise<number> {
    const res = await this.#db
      .deleteFrom('authz.revoked_sessions')
      .where('until', '<', sql<Date>`now() - interval '1 hour'`)
      .executeTakeFirst();
    return Number(res.numDeletedRows);
  }

  async #maybePurge(): Promise<void> {
    const now = Date.now();
    if (now - this.#lastPurge < this.#purgeEveryMs) return;
    this.#lastPurge = now;
    try {
      await this.purgeExpired();
    } catch (err) {
      // Housekeeping: the revocation itself is committed, and reads ignore expired rows anyway.
      this.#logger?.warn({ err }, 'purging expired revoked sessions failed');
    }
  }
}
