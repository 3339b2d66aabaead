import type { CrisisResourceRow, Db } from './schema.js';

/** support.crisis_regions and support.crisis_resources. */
export const crisisStore = {
  /** A region's emergency number and its services with the international ones, in seed order; undefined for an unknown region. */
  async forRegion(db: Db, regionCode: string): Promise<{ emergencyNumber: string; resources: CrisisResourceRow[] } | undefined> {
    const region = await db.selectFrom('crisis_regions').select('emergency_number').where('region_code', '=', regionCode).executeTakeFirst();
    if (!region) return undefined;
    const resources = await db
      .selectFrom('crisis_resources')
      .selectAll()
      .where('region_code', 'in', [regionCode, ''])
      .orderBy((eb) => eb.case().when('region_code', '=', '').then(1).else(0).end())
      .orderBy('id')
      .execute();
    return { emergencyNumber: region.emergency_number, resources };
  },
};
