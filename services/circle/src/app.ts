import type { BlockSource } from '@hearth/authz';
import { type Database, createDatabase, migrateToLatest } from '@hearth/db';
import { type Runtime, type ServiceModule, postgresCheck } from '@hearth/platform';
import type { CircleConfig } from './config.js';
import { migrations } from './migrations/index.js';
import { registerRpc } from './rpc/index.js';
import { circleRules } from './rpc/rules.js';
import { AccountRemoval } from './service/account-removal.js';
import { CircleService } from './service/circle-service.js';
import type { EventPublisher } from './service/events.js';
import { InviteService } from './service/invite-service.js';
import { MemberAdminService } from './service/member-admin-service.js';
import { MembershipService } from './service/membership-service.js';
import type { CirclesTables } from './store/schema.js';

/** The Postgres schema this service owns; no other service reads it. */
export const SCHEMA = 'circles';

export interface CircleDeps {
  readonly db: Database<CirclesTables>;
  /** The service's clock: invites and mutes expire by it; tests move it. */
  readonly now: () => Date;
  /** Where membership events go after commit (runtime.bus). */
  readonly bus: EventPublisher;
  /** Blocks between people, for DiscoverCircles (the host's cached source). */
  readonly blocks: BlockSource;
}

/** Composition root of the circle service: the one place its dependencies are built and wired. */
export class CircleApp implements ServiceModule {
  static fromConfig(config: CircleConfig, runtime: Runtime, overrides: Partial<CircleDeps> = {}): CircleApp {
    const db =
      overrides.db ??
      createDatabase<CirclesTables>(
        { ...config.database, schema: SCHEMA, idleTimeoutMs: 30_000, applicationName: 'hearth-circle' },
        { logger: runtime.logger },
      );
    return new CircleApp({
      db,
      now: overrides.now ?? (() => new Date()),
      bus: overrides.bus ?? runtime.bus,
      blocks: overrides.blocks ?? runtime.authorization.blocks,
    });
  }

  readonly mount;
  readonly readiness;
  readonly rules = circleRules;
  readonly authorizationSources;
  readonly circles: CircleService;
  readonly invites: InviteService;
  readonly memberships: MembershipService;
  readonly admin: MemberAdminService;
  readonly removal: AccountRemoval;

  private constructor(private readonly deps: CircleDeps) {
    const common = { db: deps.db, bus: deps.bus, now: deps.now };
    this.circles = new CircleService({ ...common, blocks: deps.blocks });
    this.invites = new InviteService(common);
    this.memberships = new MembershipService(common);
    this.admin = new MemberAdminService(common);
    this.removal = new AccountRemoval(common);
    const rpc = {
      circles: this.circles,
      invites: this.invites,
      memberships: this.memberships,
      admin: this.admin,
      removal: this.removal,
      now: deps.now,
    };
    this.mount = { name: 'circle', routes: (router: Parameters<typeof registerRpc>[0]) => registerRpc(router, rpc) };
    this.readiness = [postgresCheck(deps.db, 'postgres:circle')];
    this.authorizationSources = { memberships: this.memberships.source() };
  }

  async migrate(): Promise<void> {
    await migrateToLatest(this.deps.db, { schema: SCHEMA, migrations });
  }

  async close(): Promise<void> {
    await this.deps.db.destroy();
  }
}
