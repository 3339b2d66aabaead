import type { Db, SafetyPlanRow } from './schema.js';

/** support.safety_plans. */
export const safetyPlanStore = {
  async find(db: Db, userId: string, opts: { forUpdate?: boolean } = {}): Promise<SafetyPlanRow | undefined> {
    let q = db.selectFrom('safety_plans').selectAll().where('user_id', '=', userId);
    if (opts.forUpdate) q = q.forUpdate();
    return q.executeTakeFirst();
  },

  /** The first plan; undefined if one appeared meanwhile (a concurrent first save). */
  async insert(db: Db, row: SafetyPlanRow): Promise<SafetyPlanRow | undefined> {
    return db.insertInto('safety_plans').values(row).onConflict((oc) => oc.column('user_id').doNothing()).returningAll().executeTakeFirst();
  },

  async replace(db: Db, userId: string, patch: { plan: Uint8Array; key_id: string; version: string; update_time: Date }): Promise<SafetyPlanRow> {
    return db.updateTable('safety_plans').set(patch).where('user_id', '=', userId).returningAll().executeTakeFirstOrThrow();
  },

  async delete(db: Db, userId: string): Promise<void> {
    await db.deleteFrom('safety_plans').where('user_id', '=', userId).execute();
  },
};
