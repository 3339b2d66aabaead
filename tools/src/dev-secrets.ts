import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Beside the dev database (.hearth/), never committed. */
export const DEV_SECRETS_FILE = fileURLToPath(new URL('../../.hearth/dev-secrets.json', import.meta.url));

export interface DevSecrets {
  /** Encrypts the auth service's signing keys at rest. */
  authKeyEncryptionKey: string;
  /** Signs service tokens; `npm run -w tools grant-role` reads it to act as an operator. */
  internalSecret: string;
  /** The circle service's key ring for message bodies (HEARTH_CIRCLE_MESSAGE_KEYS). */
  circleMessageKeys: string;
  /** The post service's key ring for post and response bodies (HEARTH_POST_BODY_KEYS). */
  postBodyKeys: string;
  /** The support service's key ring for safety plans (HEARTH_SUPPORT_PLAN_KEYS). */
  supportPlanKeys: string;
}

/**
 * Production passes these from a secret store; dev generates them on first run and keeps them,
 * so keys made by an earlier run still decrypt and tools can reach the running system.
 */
export async function devSecrets(file = DEV_SECRETS_FILE): Promise<DevSecrets> {
  const existing = await readFile(file, 'utf8').then(
    (t) => JSON.parse(t) as Partial<DevSecrets>,
    () => ({}) as Partial<DevSecrets>,
  );
  const secrets: DevSecrets = {
    authKeyEncryptionKey: existing.authKeyEncryptionKey ?? randomBytes(32).toString('base64'),
    internalSecret: existing.internalSecret ?? randomBytes(32).toString('base64url'),
    circleMessageKeys: existing.circleMessageKeys ?? `dev1:${randomBytes(32).toString('base64')}`,
    postBodyKeys: existing.postBodyKeys ?? `dev1:${randomBytes(32).toString('base64')}`,
    supportPlanKeys: existing.supportPlanKeys ?? `dev1:${randomBytes(32).toString('base64')}`,
  };
  if (
    existing.authKeyEncryptionKey !== secrets.authKeyEncryptionKey ||
    existing.internalSecret !== secrets.internalSecret ||
    existing.circleMessageKeys !== secrets.circleMessageKeys ||
    existing.postBodyKeys !== secrets.postBodyKeys ||
    existing.supportPlanKeys !== secrets.supportPlanKeys
  ) {
    await mkdir(dirname(file), { recursive: true, mode: 0o755 });
    await writeFile(file, JSON.stringify(secrets, null, 2), { mode: 0o600 });
  }
  return secrets;
}
