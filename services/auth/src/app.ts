import { type SessionDenyList, createSessionDenyList, migrateAuthz } from '@hearth/authz';
import { type Database, createDatabase, migrateToLatest } from '@hearth/db';
import { UserService } from '@hearth/contracts/gen/hearth/user/v1/user_pb.js';
import { JWKS_PATH, type JobQueue, type Runtime, type ServiceModule, createJobQueue, postgresCheck } from '@hearth/platform';
import type { FastifyInstance } from 'fastify';
import pg from 'pg';
import type { AuthConfig } from './config.js';
import { type AuthLimits, createAuthLimits, defaultAuthLimitsConfig } from './limits/index.js';
import { migrations } from './migrations/index.js';
import { registerRpc } from './rpc/index.js';
import { authRules } from './rpc/rules.js';
import { AccessService } from './service/access-service.js';
import { AuthService } from './service/auth-service.js';
import { KeyWrapper } from './service/crypto.js';
import { KeyRing } from './service/key-ring.js';
import { OAuthProviders, type ProviderSettings } from './service/oauth-providers.js';
import { OAuthService } from './service/oauth-service.js';
import { PasswordHasher } from './service/passwords.js';
import { CREATE_PROFILE_TASK, createProfileTask } from './service/profile-delivery.js';
import { SessionService } from './service/session-service.js';
import { Sessions } from './service/sessions.js';
import { TokenIssuer } from './service/tokens.js';
import { JOBS_SCHEMA } from './store/jobs.js';
import type { AuthTables, ProviderName } from './store/schema.js';

/** The Postgres schema this service owns; no other service reads it. */
export const SCHEMA = 'auth';

export { JWKS_PATH };
/** Shorter than KeyRing's publish lead (1 h), so a successor is in every cache before it signs. */
const JWKS_MAX_AGE_SEC = 300;

export interface AuthDeps {
  readonly db: Database<AuthTables>;
  readonly denyList: SessionDenyList;
  readonly limits: AuthLimits;
  /** The service's clock; tests move it to exercise expiry and key rotation. */
  readonly now: () => Date;
}

/** Composition root of the auth service: the one place its dependencies are built and wired. */
export class AuthApp implements ServiceModule {
  static fromConfig(config: AuthConfig, runtime: Runtime, overrides: Partial<AuthDeps> = {}): AuthApp {
    const db =
      overrides.db ??
      createDatabase<AuthTables>(
        { ...config.database, schema: SCHEMA, idleTimeoutMs: 30_000, applicationName: 'hearth-auth' },
        { logger: runtime.logger },
      );
    // The host's deny-list (every service of the process checks it) unless tests bring their own
    // or the host's authentication was replaced; only then does this service keep one itself.
    const shared = overrides.denyList ?? runtime.authentication?.denyList;
    const denyList = shared ?? createSessionDenyList({ db, redis: runtime.redis, logger: runtime.logger });
    // Without Redis the counters live in Postgres, on a small pool of their own (the limiter
    // speaks pg directly, not Kysely).
    const limitsPool =
      overrides.limits || runtime.redis
        ? undefined
        : new pg.Pool({ connectionString: config.database.url, max: 2, application_name: 'hearth-auth-limits' });
    limitsPool?.on('error', (err) => runtime.logger.warn({ err }, 'idle rate-limit Postgres connection failed'));
    const limits =
      overrides.limits ??
      createAuthLimits({
        config: defaultAuthLimitsConfig,
        ...(runtime.redis ? { redis: runtime.redis } : {}),
        ...(limitsPool ? { postgres: { pool: limitsPool, schema: SCHEMA } } : {}),
      });
    const deps = { db, denyList, limits, now: overrides.now ?? (() => new Date()) };
    return new AuthApp(config, runtime, deps, limitsPool, shared === undefined);
  }

  readonly mount;
  readonly readiness;
  readonly rules = authRules;
  readonly keyRing: KeyRing;
  readonly #jobs: JobQueue;

  private constructor(
    config: AuthConfig,
    runtime: Runtime,
    private readonly deps: AuthDeps,
    private readonly limitsPool: pg.Pool | undefined,
    /** True when this service built its own deny-list, so it also creates its record. */
    private readonly ownsDenyList: boolean,
  ) {
    const s = config.service;
    const kek = s.keyEncryptionKey;
    if (!kek) throw new Error('HEARTH_AUTH_KEY_ENCRYPTION_KEY is required');
    this.keyRing = new KeyRing({
      db: deps.db,
      wrapper: new KeyWrapper(kek.reveal()),
      alg: s.signingAlg,
      rotationMs: s.keyRotationDays * 86_400_000,
      accessTtlMs: s.accessTtlSec * 1000,
      now: deps.now,
      logger: runtime.logger,
    });
    const tokens = new TokenIssuer(this.keyRing, { issuer: config.auth.issuer, audience: config.auth.audience, accessTtlSec: s.accessTtlSec });
    const sessions = new Sessions(deps.db, tokens, deps.denyList, {
      refreshIdleTtlMs: s.refreshIdleTtlSec * 1000,
      sessionMaxTtlMs: s.sessionMaxTtlSec * 1000,
    });
    const common = { db: deps.db, sessions, limits: deps.limits, now: deps.now };
    const oauth = new OAuthService({
      db: deps.db,
      sessions,
      limits: deps.limits,
      providers: new OAuthProviders(providerSettings(config), runtime.logger),
      redirectUris: new Set(s.oauth.redirectUris),
      now: deps.now,
    });
    const rpc = {
      auth: new AuthService({ ...common, hasher: new PasswordHasher() }),
      sessions: new SessionService(common),
      oauth,
      access: new AccessService({ db: deps.db, sessions, now: deps.now }),
      now: deps.now,
      logger: runtime.logger,
    };
    const keyRing = this.keyRing;
    this.mount = {
      name: 'auth',
      routes: (router: Parameters<typeof registerRpc>[0]) => registerRpc(router, rpc),
      http(app: FastifyInstance) {
        app.get(JWKS_PATH, async (_req, reply) => {
          const jwks = await keyRing.jwks();
          return reply.header('cache-control', `public, max-age=${JWKS_MAX_AGE_SEC}`).type('application/json').send(jwks);
        });
      },
    };
    this.readiness = [postgresCheck(deps.db, 'postgres:auth')];
    this.#jobs = createJobQueue({
      databaseUrl: config.database.url,
      schema: JOBS_SCHEMA,
      logger: runtime.logger,
      tasks: { [CREATE_PROFILE_TASK]: createProfileTask(() => runtime.serviceClient(UserService)) },
    });
    this.keyRing.start();
  }

  async migrate(): Promise<void> {
    await migrateToLatest(this.deps.db, { schema: SCHEMA, migrations });
    // The deny-list's Postgres record; the host migrates it when the deny-list is its own.
    if (this.ownsDenyList) await migrateAuthz(this.deps.db);
    await this.#jobs.migrate();
    await this.keyRing.rotate();
  }

  /** Works the job queue once the process listens (the user service may be this process). */
  async start(): Promise<void> {
    await this.#jobs.start();
  }

  async close(): Promise<void> {
    await this.#jobs.stop();
    this.keyRing.close();
    await this.limitsPool?.end();
    await this.deps.db.destroy();
  }
}

/**
 * The providers that are configured: a client id turns one on, and then its secret is required
 * (both are server-side confidential clients). Half a configuration refuses to start.
 */
function providerSettings(config: AuthConfig): Partial<Record<ProviderName, ProviderSettings>> {
  const out: Partial<Record<ProviderName, ProviderSettings>> = {};
  const problems: string[] = [];
  for (const name of ['google', 'apple'] as const) {
    const p = config.service.oauth[name];
    const env = `HEARTH_AUTH_${name.toUpperCase()}`;
    if (!p.clientId) {
      if (p.clientSecret) problems.push(`${env}_CLIENT_SECRET is set without ${env}_CLIENT_ID`);
      continue;
    }
    if (!p.clientSecret) {
      problems.push(`${env}_CLIENT_SECRET is required with ${env}_CLIENT_ID`);
      continue;
    }
    out[name] = { issuer: p.issuer, clientId: p.clientId, clientSecret: p.clientSecret.reveal() };
  }
  if (problems.length > 0) throw new Error(`invalid OAuth configuration: ${problems.join('; ')}`);
  return out;
}
