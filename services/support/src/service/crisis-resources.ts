import type { Database } from '@hearth/db';
import { crisisStore } from '../store/crisis-resources.js';
import type { CrisisResourceRow, SupportTables } from '../store/schema.js';

export interface CrisisDirectory {
  /** '' when the international directories were returned. */
  readonly regionCode: string;
  readonly emergencyNumber: string;
  readonly resources: readonly CrisisResourceRow[];
}

/**
 * The crisis-line directory (GetCrisisResources): a known region's lines then the international
 * directories; an unknown region, or none, the international directories alone. Always-open
 * services first, then those answering in the requested language (its primary subtag: "pt-BR"
 * matches "pt"), otherwise in the directory's order.
 */
export class CrisisResources {
  constructor(private readonly d: { readonly db: Database<SupportTables> }) {}

  async get(regionCode: string, language: string): Promise<CrisisDirectory> {
    const db = this.d.db.db;
    const known = regionCode ? await crisisStore.forRegion(db, regionCode) : undefined;
    const found = known ?? (await crisisStore.forRegion(db, ''));
    const wanted = language.split('-')[0]?.toLowerCase() ?? '';
    const speaks = (r: CrisisResourceRow) => wanted !== '' && r.languages.some((l) => l.split('-')[0]?.toLowerCase() === wanted);
    const rank = (r: CrisisResourceRow) => (r.always_open ? 0 : 2) + (speaks(r) ? 0 : 1);
    const resources = [...(found?.resources ?? [])].map((r, i) => ({ r, i })).sort((a, b) => rank(a.r) - rank(b.r) || a.i - b.i).map((x) => x.r);
    return { regionCode: known ? regionCode : '', emergencyNumber: known?.emergencyNumber ?? '', resources };
  }
}
