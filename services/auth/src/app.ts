import type { ConnectRouter } from '@connectrpc/connect';
import { JWKS_PATH, type SessionDenyList } from '@hearth/authz';
import { UserService } from '@hearth/contracts/gen/hearth/user/v1/user_service_pb.js';
import { type Database, pageField } from '@hearth/db';
import { type JobQueue, type Runtime, ServiceApp, type ServiceDefinition, createJobQueue, serviceDatabase } from '@hearth/platform';
import type { FastifyInstance } from 'fastify';
import pg from 'pg';
import { type AuthConfig, authConfigChecks, authConfigSpec } from './config.js';
import { type AuthLimits, createAuthLimits, defaultAuthLimitsConfig } from './limits/index.js';
import { migrations } from './migrations/index.js';
import { type RpcDeps, registerRpc } from './rpc/index.js';
import { authRules } from './rpc/rules.js';
import { AccountAccess } from './service/account-access.js';
import { PasswordAccounts } from './service/password-accounts.js';
import { KeyWrapper } from './service/crypto.js';
import { KeyRing } from './service/key-ring.js';
import { OAuthProviders, type ProviderSettings } from './service/oauth-providers.js';
import { OAuthSignIn } from './service/oauth-sign-in.js';
import { PasswordHasher } from './service/passwords.js';
import { createProfileHandler } from './service/profile-delivery.js';
import { SessionControl } from './service/session-control.js';
import { Sessions } from './service/sessions.js';
import { TokenIssuer } from './service/tokens.js';
import { authJobs } from './store/jobs.js';
import type { AuthTables, ProviderName } from './store/schema.js';

/** The Postgres schema this service owns; no other service reads it. */
export const SCHEMA = 'auth';

export { JWKS_PATH };
/** Shorter than KeyRing's publish lead (1 h), so a successor is in every cache before it signs. */
const JWKS_MAX_AGE_SEC = 300;

export interface AuthDeps {
  readonly db: Database<AuthTables>;
  /** The process's session deny-list (every service of the process checks it). */
  readonly denyList: SessionDenyList;
  readonly limits: AuthLimits;
  /** The service's clock; tests move it to exercise expiry and key rotation. */
  readonly now: () => Date;
}

/** Composition root of the auth service: the one place its dependencies are built and wired. */
export class AuthApp extends ServiceApp<AuthTables> {
  static fromConfig(config: AuthConfig, runtime: Runtime, overrides: Partial<AuthDeps> = {}): AuthApp {
    // Without Redis the counters live in Postgres, on a small pool of their own (the limiter
    // speaks pg directly, not Kysely).
    const limitsPool =
      overrides.limits || runtime.redis
        ? undefined
        : new pg.Pool({ connectionString: config.database.url, max: 2, application_name: 'hearth-auth-limits' });
    limitsPool?.on('error', (err) => runtime.logger.warn({ err: { message: err.message } }, 'idle rate-limit Postgres connection failed'));
    limitsPool?.on('connect', (client) => client.on('error', () => undefined));
    const limits =
      overrides.limits ??
      createAuthLimits({
        config: defaultAuthLimitsConfig,
        ...(runtime.redis ? { redis: runtime.redis.client } : {}),
        ...(limitsPool ? { postgres: { pool: limitsPool, schema: SCHEMA } } : {}),
      });
    const deps: AuthDeps = {
      db: overrides.db ?? serviceDatabase<AuthTables>(runtime, 'auth', SCHEMA),
      denyList: overrides.denyList ?? runtime.sessions.denyList,
      limits,
      now: overrides.now ?? (() => new Date()),
    };
    return new AuthApp(config, runtime, deps, limitsPool);
  }

  readonly name = 'auth';
  readonly rules = [authRules];
  readonly keyRing: KeyRing;
  /** Mints access tokens with the service's signing keys (sign-in; tests that are not about it). */
  readonly tokens: TokenIssuer;
  readonly #rpc: RpcDeps;
  readonly #limitsPool: pg.Pool | undefined;

  private constructor(config: AuthConfig, runtime: Runtime, deps: AuthDeps, limitsPool: pg.Pool | undefined) {
    const jobs: JobQueue = createJobQueue({
      databaseUrl: config.database.url,
      queue: authJobs,
      logger: runtime.logger,
      handlers: [createProfileHandler(() => runtime.serviceClient(UserService))],
    });
    super({ db: deps.db, migrations, jobs, logger: runtime.logger });
    this.#limitsPool = limitsPool;
    const s = config.service;
    this.keyRing = new KeyRing({
      db: deps.db,
      wrapper: new KeyWrapper(s.keyEncryptionKey.reveal()),
      alg: s.signingAlg,
      rotationMs: s.keyRotationDays * 86_400_000,
      accessTtlMs: s.accessTtlSec * 1000,
      now: deps.now,
      logger: runtime.logger,
    });
    const tokens = new TokenIssuer(this.keyRing, { issuer: config.auth.issuer, audience: config.auth.audience, accessTtlSec: s.accessTtlSec });
    this.tokens = tokens;
    const sessions = new Sessions(deps.db, tokens, deps.denyList, {
      refreshIdleTtlMs: s.refreshIdleTtlSec * 1000,
      sessionMaxTtlMs: s.sessionMaxTtlSec * 1000,
    });
    const common = { db: deps.db, sessions, limits: deps.limits, now: deps.now };
    const sessionPages = runtime.pageTokens.codec('auth.sessions', { t: pageField.time(), id: pageField.id() });
    this.#rpc = {
      auth: new PasswordAccounts({ ...common, hasher: new PasswordHasher() }),
      sessions: new SessionControl({ ...common, pages: sessionPages }),
      oauth: new OAuthSignIn({
        db: deps.db,
        sessions,
        limits: deps.limits,
        providers: new OAuthProviders(providerSettings(config), runtime.logger),
        redirectUris: new Set(s.oauth.redirectUris),
        now: deps.now,
      }),
      access: new AccountAccess({ db: deps.db, sessions, now: deps.now }),
      now: deps.now,
      logger: runtime.logger,
    };
  }

  routes(router: ConnectRouter): void {
    registerRpc(router, this.#rpc);
  }

  override http(app: FastifyInstance): void {
    const keyRing = this.keyRing;
    app.get(JWKS_PATH, async (_req, reply) => {
      const jwks = await keyRing.jwks();
      return reply.header('cache-control', `public, max-age=${JWKS_MAX_AGE_SEC}`).type('application/json').send(jwks);
    });
  }

  /** After the schema: the first signing key must exist before the first token is asked for. */
  override async migrate(): Promise<void> {
    await super.migrate();
    await this.keyRing.rotate();
  }

  protected override async onStart(): Promise<void> {
    this.keyRing.start();
  }

  protected override async onStop(): Promise<void> {
    this.keyRing.close();
  }

  override async close(): Promise<void> {
    await this.#limitsPool?.end();
    await super.close();
  }
}

/** The providers that are configured (the configuration checks have refused half a provider). */
function providerSettings(config: AuthConfig): Partial<Record<ProviderName, ProviderSettings>> {
  const out: Partial<Record<ProviderName, ProviderSettings>> = {};
  for (const name of ['google', 'apple'] as const) {
    const p = config.service.oauth[name];
    if (p.clientId && p.clientSecret) out[name] = { issuer: p.issuer, clientId: p.clientId, clientSecret: p.clientSecret.reveal() };
  }
  return out;
}

/** The auth service as hosts run it (main.ts, the monolith, the test harness). */
export const authService: ServiceDefinition<typeof authConfigSpec, AuthDeps, AuthApp> = {
  name: 'auth',
  configSpec: authConfigSpec,
  configChecks: authConfigChecks,
  create: (config, runtime, overrides) => AuthApp.fromConfig(config, runtime, overrides),
};
