import { SERVICE_TOKEN_HEADER, ServiceTokens } from '@hearth/authz';
import { type ConfigSpec, type ServiceConfig, loadServiceConfig } from '@hearth/config';
import { type Host, type HostedService, type ServiceDefinition, migrateServices, startHost } from '@hearth/platform';
import { createHash, randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { type TestDatabase, createTestDatabase } from '../postgres.js';
import { type TestRedis, createTestRedis } from '../redis.js';
import { type Clients, connectClients } from './clients.js';
import { Seed } from './seed.js';
import { type ModuleOf, type Name, type OverridesOf, definitions } from './services.js';
import { migratedTemplate } from './template.js';

/**
 * The key-encryption key every test system uses: the template's signing keys are encrypted with
 * it, so every copy of the template must read them with the same one. Test-only, never secret.
 */
export const TEST_KEY_ENCRYPTION_KEY = createHash('sha256').update('hearth testkit key-encryption key').digest('base64');

/** The circle service's message key ring in tests (same reasoning: cloned rows must open). */
export const TEST_MESSAGE_KEYS = `test1:${createHash('sha256').update('hearth testkit message key').digest('base64')}`;
export const TEST_POST_KEYS = `test1:${createHash('sha256').update('hearth testkit post key').digest('base64')}`;
export const TEST_SUPPORT_KEYS = `test1:${createHash('sha256').update('hearth testkit support key').digest('base64')}`;

export interface TestSystemOptions<N extends Name> {
  /** The services to host in one process, as in monolith mode (e.g. ['auth', 'user', 'circle']). */
  readonly services: readonly N[];
  /** Dependencies to swap per service (each service's composition root decides which). */
  readonly overrides?: { readonly [K in N]?: OverridesOf<K> };
  /** Redis as in production (default), or none: the bus on Postgres, limits in Postgres. */
  readonly redis?: boolean;
  /** More environment variables (HEARTH_*), on top of the harness's. */
  readonly env?: Readonly<Record<string, string>>;
  /** A name for the database, to spot it in pg_stat_activity. */
  readonly name?: string;
  /**
   * How the system reaches Postgres and Redis: given the real URL, the one to use (a test that
   * takes a dependency away puts a TcpProxy in between).
   */
  readonly through?: { readonly postgres?: (url: string) => string; readonly redis?: (url: string) => string };
}

export interface TestSystem<N extends Name> extends Clients {
  readonly host: Host;
  readonly url: string;
  /** The hosted modules as their composition roots built them (e.g. `modules.circle` is a CircleApp). */
  readonly modules: { readonly [K in N]: ModuleOf<K> };
  /** The system's database (a copy of the migrated template) and environment. */
  readonly database: TestDatabase;
  readonly env: Readonly<Record<string, string>>;
  /** People, circles and the like, made through the system's own APIs. */
  readonly seed: Seed;
  /** Call options of another Hearth service (a valid service token). */
  asService(name?: string): Promise<{ headers: Record<string, string> }>;
  close(): Promise<void>;
}

/**
 * Starts the given services through the production host (the same phases, pipeline and
 * modules `npm run dev` runs) on a database of the test's own, copied from a migrated template,
 * and returns typed clients, the modules and a seeder. Each test file gets its own database and
 * its own Redis key and channel prefix, so files run side by side. `close()` stops the host and
 * drops the database.
 */
export async function startTestSystem<N extends Name>(opts: TestSystemOptions<N>): Promise<TestSystem<N>> {
  const template = await migratedTemplate(migrateEverything);
  const database = await createTestDatabase({ prefix: opts.name ?? opts.services.join('_'), template });
  const redis: TestRedis | undefined = (opts.redis ?? true) ? await createTestRedis() : undefined;
  const secret = opts.env?.HEARTH_INTERNAL_SECRET ?? randomBytes(32).toString('base64url');
  const databaseUrl = opts.through?.postgres?.(database.url) ?? database.url;
  const redisUrl = redis ? (opts.through?.redis?.(redis.url) ?? redis.url) : undefined;
  const env: Record<string, string> = {
    ...baseEnv(databaseUrl),
    HEARTH_INTERNAL_SECRET: secret,
    ...(redisUrl ? { REDIS_URL: redisUrl } : {}),
    ...opts.env,
  };
  const client = redisUrl && redis ? new Redis(redisUrl, { keyPrefix: redis.keyPrefix, enableOfflineQueue: false, maxRetriesPerRequest: 0, connectTimeout: 1_000 }) : undefined;
  client?.on('error', () => undefined);
  let host: Host | undefined;
  try {
    const { shared, services } = configure(opts.services, env, (opts.overrides ?? {}) as Record<string, unknown>);
    host = await startHost({
      name: 'hearth',
      config: shared,
      services,
      // Cheap on a copy of the template (every schema is current), and it is the path production takes.
      migrate: true,
      ...(client && redis ? { runtime: { redis: client, channelPrefix: redis.keyPrefix } } : {}),
    });
  } catch (err) {
    client?.disconnect();
    await redis?.close();
    await database.drop();
    throw err;
  }
  const started = host;
  const clients = connectClients(started.url);
  const modules = Object.fromEntries(started.modules.map((m) => [m.name, m])) as { [K in N]: ModuleOf<K> };
  const asService = async (name = 'test') => ({ headers: { [SERVICE_TOKEN_HEADER]: await new ServiceTokens(secret, name).token() } });
  let closing: Promise<void> | undefined;
  return {
    ...clients,
    host: started,
    url: started.url,
    modules,
    database,
    env,
    seed: new Seed({ clients, runtime: started.runtime, auth: (modules as Partial<Record<Name, unknown>>).auth as ModuleOf<'auth'> | undefined }),
    asService,
    close: () =>
      (closing ??= (async () => {
        await started.close();
        client?.disconnect();
        await redis?.flush().catch(() => undefined);
        await redis?.close();
        await database.drop();
      })()),
  };
}

/** The environment every test system starts from (quiet logs, port 0, the test key). */
export function baseEnv(databaseUrl: string): Record<string, string> {
  return {
    DATABASE_URL: databaseUrl,
    HEARTH_PORT: '0',
    HEARTH_LOG_LEVEL: process.env.HEARTH_TEST_LOG_LEVEL ?? 'silent',
    // Nothing routes to a test system from outside, so shutdown need not wait for load balancers.
    HEARTH_DRAIN_DELAY_MS: '0',
    HEARTH_AUTH_KEY_ENCRYPTION_KEY: TEST_KEY_ENCRYPTION_KEY,
    HEARTH_CIRCLE_MESSAGE_KEYS: TEST_MESSAGE_KEYS,
    HEARTH_POST_BODY_KEYS: TEST_POST_KEYS,
    HEARTH_SUPPORT_PLAN_KEYS: TEST_SUPPORT_KEYS,
  };
}

function configure(
  names: readonly Name[],
  env: Record<string, string>,
  overrides: Record<string, unknown>,
): { shared: ServiceConfig<ConfigSpec>; services: HostedService[] } {
  let shared: ServiceConfig<ConfigSpec> | undefined;
  const services = names.map((name): HostedService => {
    const definition = definitions[name] as unknown as ServiceDefinition<ConfigSpec, unknown>;
    const config = loadServiceConfig(name, definition.configSpec, env, definition.configChecks ?? []);
    shared ??= config;
    return { name, create: (runtime) => definition.create(config, runtime, overrides[name] as never) };
  });
  if (!shared) throw new Error('a test system needs at least one service');
  return { shared, services };
}

/** What the template holds: every schema of every service, migrated by the production host. */
async function migrateEverything(databaseUrl: string): Promise<void> {
  const names = Object.keys(definitions) as Name[];
  const { shared, services } = configure(names, { ...baseEnv(databaseUrl), HEARTH_INTERNAL_SECRET: randomBytes(32).toString('base64url') }, {});
  await migrateServices({ name: 'template', config: shared, services });
}
