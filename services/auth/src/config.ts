import { type ConfigSpec, type ServiceConfig, env, schemas, secretEnv } from '@hearth/config';

const KEK = secretEnv(
  'HEARTH_AUTH_KEY_ENCRYPTION_KEY',
  {},
  'base64 of 32 random bytes; encrypts the token signing keys at rest (AES-256-GCM). Required, keep it in a secret store',
);

/** Variables only the auth service reads (prefix HEARTH_AUTH_). The shared ones are in @hearth/config. */
export const authConfigSpec = {
  keyEncryptionKey: {
    ...KEK,
    // The message must not echo the value: it is a secret.
    schema: KEK.schema.refine((s) => s !== undefined && decodesTo32Bytes(s.reveal()), 'must be base64 of exactly 32 bytes'),
  },
  signingAlg: env('HEARTH_AUTH_SIGNING_ALG', schemas.oneOf(['EdDSA', 'ES256'], 'EdDSA'), 'access token signature algorithm (new keys only)'),
  accessTtlSec: env('HEARTH_AUTH_ACCESS_TTL_SEC', schemas.positiveInt(900, 3_600), 'access token lifetime in seconds'),
  refreshIdleTtlSec: env(
    'HEARTH_AUTH_REFRESH_IDLE_TTL_SEC',
    schemas.positiveInt(30 * 86_400),
    'a session ends when not refreshed for this long (sliding, extended by every Refresh)',
  ),
  sessionMaxTtlSec: env(
    'HEARTH_AUTH_SESSION_MAX_TTL_SEC',
    schemas.positiveInt(90 * 86_400),
    'absolute session lifetime from sign-in, whatever the refreshes',
  ),
  keyRotationDays: env('HEARTH_AUTH_KEY_ROTATION_DAYS', schemas.positiveInt(30, 365), 'how long one signing key signs before its successor takes over'),
} as const satisfies ConfigSpec;

export type AuthConfig = ServiceConfig<typeof authConfigSpec>;

function decodesTo32Bytes(value: string): boolean {
  const trimmed = value.trim();
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(trimmed)) return false;
  return Buffer.from(trimmed, 'base64').length === 32;
}
