import { type HearthClient, createHearthClient } from '@hearth/client';
import { TokenDelivery } from '@hearth/contracts/gen/hearth/auth/v1/resources_pb.js';
import type { ServiceModule } from '@hearth/platform';
import { type Name, type TestSystem, definitions, startTestSystem } from '@hearth/testkit/system';
import { randomBytes, randomUUID } from 'node:crypto';

/**
 * What a system needs besides its database: a fresh key-encryption key and internal secret per
 * run (the tests mint service tokens with the latter), quiet logs.
 */
export function systemEnv(databaseUrl: string): Record<string, string> {
  return {
    DATABASE_URL: databaseUrl,
    HEARTH_PORT: '0',
    HEARTH_LOG_LEVEL: 'silent',
    HEARTH_AUTH_KEY_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
    HEARTH_INTERNAL_SECRET: randomBytes(32).toString('base64url'),
    HEARTH_CIRCLE_MESSAGE_KEYS: `t1:${randomBytes(32).toString('base64')}`,
    HEARTH_POST_BODY_KEYS: `t1:${randomBytes(32).toString('base64')}`,
    HEARTH_SUPPORT_PLAN_KEYS: `t1:${randomBytes(32).toString('base64')}`,
  };
}

/** A Register request for a new person with a unique email and handle. */
export function newUser(prefix = 'walker') {
  const id = randomUUID().slice(0, 8);
  return {
    email: `${prefix}.${id}@example.org`,
    password: 'lantern orbit velvet cactus 42',
    handle: `${prefix}_${id}`,
    displayName: prefix,
    deviceName: 'system test',
    tokenDelivery: TokenDelivery.BODY,
    idempotencyKey: `key-${randomUUID()}`,
  };
}

/** Every service and the realtime gateway, as `npm run dev` runs them, through the test harness. */
export interface WholeSystem {
  readonly url: string;
  /** The SDK an app uses, pointed at the system (no credentials). */
  readonly client: HearthClient;
  /** The hosted modules, in the order the host built them. */
  readonly modules: readonly ServiceModule[];
  /** The environment the system was configured from (its internal secret included). */
  readonly env: Readonly<Record<string, string>>;
  readonly system: TestSystem<Name>;
  close(): Promise<void>;
}

export async function startWholeSystem(env: Record<string, string> = {}): Promise<WholeSystem> {
  const system = await startTestSystem({ services: Object.keys(definitions) as Name[], env, name: 'whole' });
  return {
    url: system.url,
    client: createHearthClient({ baseUrl: system.url }),
    modules: system.host.modules,
    env: system.env,
    system,
    close: () => system.close(),
  };
}
