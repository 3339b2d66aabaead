import { type ConfigCheck, type ConfigSpec, type ServiceConfig, env, schemas, secretEnv, z } from '@hearth/config';

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
  oauth: {
    redirectUris: env(
      'HEARTH_AUTH_OAUTH_REDIRECT_URIS',
      redirectUriList(),
      'comma-separated redirect URIs StartOAuth accepts (exact match, no query or fragment); empty allows none',
    ),
    google: providerSpec('GOOGLE', 'Google', 'https://accounts.google.com'),
    apple: providerSpec('APPLE', 'Apple', 'https://appleid.apple.com'),
  },
} as const satisfies ConfigSpec;

export type AuthConfig = ServiceConfig<typeof authConfigSpec>;

/**
 * A provider is on when its client id is set, and then its secret is required (both are
 * server-side confidential clients); half a provider is a configuration problem.
 */
export const authConfigChecks: ReadonlyArray<ConfigCheck<AuthConfig>> = (['google', 'apple'] as const).map((name) => {
  const env = `HEARTH_AUTH_${name.toUpperCase()}`;
  return {
    variables: [`${env}_CLIENT_ID`, `${env}_CLIENT_SECRET`],
    check: (c: AuthConfig) => {
      const p = c.service.oauth[name];
      if (p.clientId && !p.clientSecret) return [{ variable: `${env}_CLIENT_SECRET`, message: `missing: required with ${env}_CLIENT_ID` }];
      if (!p.clientId && p.clientSecret) return [{ variable: `${env}_CLIENT_ID`, message: `missing: ${env}_CLIENT_SECRET is set without it` }];
      return [];
    },
  };
});

function decodesTo32Bytes(value: string): boolean {
  const trimmed = value.trim();
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(trimmed)) return false;
  return Buffer.from(trimmed, 'base64').length === 32;
}

/** One OpenID provider: found by discovery on its issuer; "not configured" without a client id. */
function providerSpec(key: string, name: string, issuer: string) {
  return {
    issuer: env(`HEARTH_AUTH_${key}_ISSUER`, issuerUrl(issuer), `${name} OpenID issuer URL (https; plain http only on loopback, for tests)`),
    clientId: env(`HEARTH_AUTH_${key}_CLIENT_ID`, z.string().optional(), `${name} OAuth client id; unset turns ${name} sign-in off`),
    clientSecret: secretEnv(`HEARTH_AUTH_${key}_CLIENT_SECRET`, { optional: true }, `${name} OAuth client secret; required with the client id`),
  } as const;
}

const LOOPBACK_HOSTS: ReadonlySet<string> = new Set(['127.0.0.1', '[::1]', 'localhost']);

/** True for http issuers on this machine: the only place a provider may run without TLS. */
export function isLoopbackHttp(url: URL): boolean {
  return url.protocol === 'http:' && LOOPBACK_HOSTS.has(url.hostname);
}

function issuerUrl(fallback: string) {
  return z
    .string()
    .default(fallback)
    .refine((v) => {
      try {
        const u = new URL(v);
        return (u.protocol === 'https:' || isLoopbackHttp(u)) && !u.search && !u.hash;
      } catch {
        return false;
      }
    }, 'must be an https URL without query or fragment (http only for 127.0.0.1, ::1 or localhost)');
}

/**
 * Redirect URIs are compared as exact strings, and the token request sends the URI back without
 * its query, so each must be written as the URL parser writes it and carry no query or fragment.
 */
function redirectUriList() {
  return schemas.list([]).superRefine((uris, ctx) => {
    for (const uri of uris) {
      let parsed: URL | undefined;
      try {
        parsed = new URL(uri);
      } catch {
        ctx.addIssue({ code: 'custom', message: `${JSON.stringify(uri)} is not a URL` });
        continue;
      }
      if (parsed.search || parsed.hash || uri.includes('?') || uri.includes('#')) {
        ctx.addIssue({ code: 'custom', message: `${JSON.stringify(uri)} must not have a query or fragment` });
      } else if (parsed.href !== uri) {
        ctx.addIssue({ code: 'custom', message: `${JSON.stringify(uri)} must be written in normal form: ${JSON.stringify(parsed.href)}` });
      }
    }
  });
}
