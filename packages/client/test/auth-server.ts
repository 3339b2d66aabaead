// A real auth service on port 0 for the SDK's tests, started the way services/auth/test does
// it, with a clock the tests can move so the tokens it mints are already expired on arrival.
import { loadServiceConfig } from '@hearth/config';
import { TokenDelivery } from '@hearth/contracts/gen/hearth/auth/v1/resources_pb.js';
import { type Host, startHost } from '@hearth/platform';
import { type AuthDeps, AuthApp, authConfigSpec } from '@hearth/service-auth';
import { type TestDatabase, createTestDatabase } from '@hearth/testkit';
import { randomBytes, randomUUID } from 'node:crypto';

/** These tests are about the SDK; the limiter has its own tests. */
const noLimits: AuthDeps['limits'] = {
  checkLogin: async () => undefined,
  recordLoginFailure: async () => undefined,
  recordLoginSuccess: async () => undefined,
  consumeRegister: async () => undefined,
  consumeRefresh: async () => undefined,
  consumeOAuth: async () => undefined,
};

export interface AuthServer {
  readonly url: string;
  /** The access token lifetime the server is configured with. */
  readonly accessTtlMs: number;
  /** Puts the service's clock back (or forward again) so the access tokens it mints are already expired. */
  mintExpired(on: boolean): void;
  close(): Promise<void>;
}

export async function startAuthServer(): Promise<AuthServer> {
  const testDb: TestDatabase = await createTestDatabase({ prefix: 'client' });
  const config = loadServiceConfig('auth', authConfigSpec, {
    DATABASE_URL: testDb.url,
    HEARTH_PORT: '0',
    HEARTH_LOG_LEVEL: 'silent',
    HEARTH_AUTH_KEY_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
    HEARTH_INTERNAL_SECRET: randomBytes(32).toString('base64url'),
  });
  const ttlMs = config.service.accessTtlSec * 1000;
  // Started with the clock behind, so its one signing key (made at migrate) already signs
  // when the tests move the clock back: a key made later would be unknown to the verifier.
  let offset = -(ttlMs + 600_000);
  let host: Host;
  try {
    host = await startHost({
      name: 'auth',
      config,
      create: async (runtime) => [AuthApp.fromConfig(config, runtime, { limits: noLimits, now: () => new Date(Date.now() + offset) })],
    });
  } catch (err) {
    await testDb.drop();
    throw err;
  }
  offset = 0;
  return {
    url: host.url,
    accessTtlMs: ttlMs,
    mintExpired: (on) => {
      offset = on ? -(ttlMs + 120_000) : 0;
    },
    async close() {
      await host.close();
      await testDb.drop();
    },
  };
}

/** A fresh, valid Register request. */
export function newUser() {
  const id = randomUUID().slice(0, 8);
  return {
    email: `sdk.${id}@example.org`,
    password: 'lantern orbit velvet cactus 42',
    handle: `sdk_${id}`,
    deviceName: 'sdk test',
    tokenDelivery: TokenDelivery.BODY,
    idempotencyKey: `key-${randomUUID()}`,
  };
}
