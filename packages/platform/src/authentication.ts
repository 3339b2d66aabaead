import type { Interceptor } from '@connectrpc/connect';
import {
  AUTHZ_SCHEMA,
  type ServiceTokens,
  type SessionDenyList,
  type TokenVerifier,
  authenticationInterceptor,
  createSessionDenyList,
  createTokenVerifier,
  migrateAuthz,
} from '@hearth/authz';
import { type Database, createDatabase } from '@hearth/db';
import type { ServiceModule } from './host.js';
import type { BaseRuntime, SharedConfig } from './runtime.js';

/** Where the auth service publishes its public keys (see AuthService in auth.proto). */
export const JWKS_PATH = '/.well-known/jwks.json';

/** What a host needs to authenticate every RPC it serves; built once per process. */
export interface HostAuthentication {
  readonly interceptor: Interceptor;
  /** For credentials that do not arrive as RPCs (the realtime WebSocket upgrade). */
  readonly verifier: TokenVerifier;
  readonly denyList: SessionDenyList;
  /** Throws when no JWKS is reachable: the auth service is not hosted here and no URL is set. */
  assertKeySource(modules: readonly ServiceModule[]): void;
  /** Creates the deny-list's Postgres record if missing (idempotent, advisory-locked). */
  migrate(): Promise<void>;
  close(): Promise<void>;
}

/**
 * The authentication step for the services of one process: access tokens verified against the
 * auth service's JWKS (HEARTH_AUTH_JWKS_URL, or this process's own when it hosts the auth
 * service), the session deny-list in Redis with its Postgres record in the `authz` schema, and
 * the anonymous methods, which are those each service's rule table marks `public`.
 */
export function createHostAuthentication(opts: {
  config: SharedConfig;
  runtime: BaseRuntime;
  /** The hosted services; read on every call, as they are created after this. */
  modules: () => readonly ServiceModule[];
  /** This process's base URL, known once it listens. */
  selfUrl: () => string | undefined;
  /** Verifies the tokens other Hearth services call with. */
  serviceTokens: ServiceTokens;
}): HostAuthentication {
  const { config, runtime } = opts;
  const jwksUrl = config.auth.jwksUrl
    ? new URL(config.auth.jwksUrl)
    : () => {
        const self = opts.selfUrl();
        if (!self) throw new Error('the JWKS is read from this process, which is not listening yet');
        return new URL(JWKS_PATH, loopback(self));
      };
  const db: Database<unknown> = createDatabase(
    {
      ...config.database,
      schema: AUTHZ_SCHEMA,
      // Reads of one small indexed table, and only when Redis cannot answer.
      poolMax: Math.min(config.database.poolMax, 4),
      idleTimeoutMs: 30_000,
      applicationName: 'hearth-authz',
    },
    { logger: runtime.logger },
  );
  const denyList = createSessionDenyList({ db, redis: runtime.redis, logger: runtime.logger });
  const verifier = createTokenVerifier({ jwksUrl, issuer: config.auth.issuer, audience: config.auth.audience });
  let publicMethods: Map<string, Set<string>> | undefined;
  const interceptor = authenticationInterceptor({
    verifier,
    denyList,
    // Public methods are those whose authorization rule is `public` (sign-in itself).
    isPublic: (service, method) => {
      publicMethods ??= new Map(
        opts.modules().flatMap((m) =>
          m.rules
            ? [[m.rules.service.typeName, new Set(m.rules.service.methods.filter((x) => m.rules?.ruleFor(x.name)?.kind === 'public').map((x) => x.name))] as const]
            : [],
        ),
      );
      return publicMethods.get(service)?.has(method) ?? false;
    },
    serviceTokens: opts.serviceTokens,
    logger: runtime.logger,
  });
  return {
    interceptor,
    verifier,
    denyList,
    assertKeySource(modules) {
      if (!config.auth.jwksUrl && !modules.some((m) => m.mount.name === 'auth')) {
        throw new Error('HEARTH_AUTH_JWKS_URL is required when the auth service runs in another process');
      }
    },
    migrate: async () => {
      await migrateAuthz(db);
    },
    close: () => db.destroy(),
  };
}

/** A server bound to every interface is reached from inside the process on loopback. */
export function loopback(url: string): string {
  const u = new URL(url);
  if (u.hostname === '0.0.0.0') u.hostname = '127.0.0.1';
  if (u.hostname === '[::]') u.hostname = '[::1]';
  return u.toString();
}
