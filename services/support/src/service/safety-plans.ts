import { Code, ConnectError } from '@connectrpc/connect';
import { type Database, type FieldCipher, VersionConflictError } from '@hearth/db';
import { safetyPlanStore } from '../store/safety-plans.js';
import type { SupportTables } from '../store/schema.js';

/** A plan's contents (support resources.proto SafetyPlan, without version and time). */
export interface PlanContents {
  readonly warningSigns: readonly string[];
  readonly copingStrategies: readonly string[];
  readonly reasonsForLiving: readonly string[];
  readonly peopleToContact: ReadonlyArray<{ readonly name: string; readonly phone: string }>;
  readonly professionals: ReadonlyArray<{ readonly name: string; readonly phone: string }>;
  readonly safeEnvironment: readonly string[];
}

export interface SafetyPlan extends PlanContents {
  /** 0 when the person has none. */
  readonly version: bigint;
  readonly updateTime?: Date | undefined;
}

const EMPTY: SafetyPlan = {
  warningSigns: [],
  copingStrategies: [],
  reasonsForLiving: [],
  peopleToContact: [],
  professionals: [],
  safeEnvironment: [],
  version: 0n,
};

/**
 * Safety plans: each person's own, read and written only by them, sealed at rest as one
 * document, and erased for real on delete.
 */
export class SafetyPlans {
  constructor(private readonly d: { readonly db: Database<SupportTables>; readonly cipher: FieldCipher; readonly now: () => Date }) {}

  async get(userId: string): Promise<SafetyPlan> {
    const row = await safetyPlanStore.find(this.d.db.db, userId);
    return row ? this.open(row) : EMPTY;
  }

  /** Replaces the plan whole; `version` is the one last read, 0 for the first (Aborted when stale). */
  async update(userId: string, version: bigint, contents: PlanContents): Promise<SafetyPlan> {
    return this.d.db.transaction(async (tx) => {
      const current = await safetyPlanStore.find(tx, userId, { forUpdate: true });
      const at = current ? BigInt(current.version) : 0n;
      if (at !== version) throw new VersionConflictError('safety plan', String(at));
      const sealed = this.d.cipher.seal(JSON.stringify(contents), userId);
      const row = { plan: sealed.data, key_id: sealed.keyId, version: String(at + 1n), update_time: this.d.now() };
      if (current) return this.open(await safetyPlanStore.replace(tx, userId, row));
      const inserted = await safetyPlanStore.insert(tx, { user_id: userId, ...row });
      // Someone's other device saved a first plan at the same moment: this one is stale now.
      if (!inserted) throw new ConnectError('the safety plan was saved elsewhere meanwhile; read it again', Code.Aborted);
      return this.open(inserted);
    });
  }

  /** Erases the plan (the row goes; nothing is kept). Succeeds when there is none. */
  async delete(userId: string): Promise<void> {
    await safetyPlanStore.delete(this.d.db.db, userId);
  }

  private open(row: { user_id: string; plan: Uint8Array; key_id: string; version: string; update_time: Date }): SafetyPlan {
    const contents = JSON.parse(this.d.cipher.open({ keyId: row.key_id, data: row.plan }, row.user_id)) as PlanContents;
    return { ...contents, version: BigInt(row.version), updateTime: row.update_time };
  }
}
