import * as oidc from 'openid-client';
import { isLoopbackHttp } from '../config.js';
import type { ProviderName } from '../store/schema.js';
import type { AuditLogger } from './audit.js';

/** How to reach one OpenID provider (from HEARTH_AUTH_<PROVIDER>_*). */
export interface ProviderSettings {
  readonly issuer: string;
  readonly clientId: string;
  readonly clientSecret: string;
}

/** What a valid ID token says about the person. */
export interface ProviderIdentity {
  readonly subject: string;
  readonly email: string | null;
  /** The provider vouches that the person controls `email`. */
  readonly emailVerified: boolean;
  readonly name: string | null;
}

export interface AuthorizationRequest {
  readonly redirectUri: string;
  readonly state: string;
  readonly nonce: string;
  readonly codeChallenge: string;
}

export interface CodeExchange {
  readonly redirectUri: string;
  readonly code: string;
  readonly state: string;
  readonly nonce: string;
  readonly codeVerifier: string;
}

/**
 * A provider call that failed. `unavailable`: the provider could not be reached or answered
 * nonsense (retry later); `rejected`: it refused the code or its ID token did not validate.
 * `reason` is an error code safe to log (never a token or code).
 */
export class ProviderError extends Error {
  constructor(
    readonly kind: 'unavailable' | 'rejected',
    readonly reason: string,
    options?: { cause?: unknown },
  ) {
    super(`identity provider ${kind}: ${reason}`, options);
    this.name = 'ProviderError';
  }
}

/** Google's scopes are OpenID's standard ones; Apple names the profile scope `name`. */
const SCOPES: Record<ProviderName, string> = { google: 'openid email profile', apple: 'openid email name' };
/** Seconds for any one provider request (discovery, token, JWKS). */
const REQUEST_TIMEOUT_SEC = 10;
/** Provider answers that mean "broken or overloaded", not "this sign-in is invalid". */
const UNAVAILABLE_CODES: ReadonlySet<string> = new Set(['OAUTH_RESPONSE_IS_NOT_CONFORM', 'OAUTH_RESPONSE_IS_NOT_JSON']);

/**
 * The OpenID Connect relying party, through openid-client: discovery (cached per provider), the
 * authorization URL, and the code exchange with PKCE, state and nonce checks and ID token
 * validation (issuer, audience, expiry, nonce, signature against the provider's JWKS).
 */
export class OAuthProviders {
  readonly #configs = new Map<ProviderName, Promise<oidc.Configuration>>();

  constructor(
    private readonly settings: Partial<Record<ProviderName, ProviderSettings>>,
    private readonly logger: AuditLogger,
  ) {}

  isConfigured(provider: ProviderName): boolean {
    return this.settings[provider] !== undefined;
  }

  /** Discovers the provider now (cached), so a later exchange cannot fail on discovery. */
  async prepare(provider: ProviderName): Promise<void> {
    await this.#configuration(provider);
  }

  async authorizationUrl(provider: ProviderName, r: AuthorizationRequest): Promise<URL> {
    const config = await this.#configuration(provider);
    return oidc.buildAuthorizationUrl(config, {
      redirect_uri: r.redirectUri,
      response_type: 'code',
      scope: SCOPES[provider],
      state: r.state,
      nonce: r.nonce,
      code_challenge: r.codeChallenge,
      code_challenge_method: 'S256',
    });
  }

  /** Redeems the code and returns the validated ID token's identity; throws ProviderError. */
  async exchange(provider: ProviderName, x: CodeExchange): Promise<ProviderIdentity> {
    const config = await this.#configuration(provider);
    // The redirect the app received, rebuilt from its parts (the contract passes code and state).
    const callback = new URL(x.redirectUri);
    callback.searchParams.set('code', x.code);
    callback.searchParams.set('state', x.state);
    const server = config.serverMetadata();
    // RFC 9207 providers add `iss` to the redirect, which the contract does not carry. The flow
    // is bound to this provider server-side (its state names it), which is the mix-up defence
    // `iss` exists for, so the configured issuer stands in for it.
    if (server.authorization_response_iss_parameter_supported) callback.searchParams.set('iss', server.issuer);
    let tokens: Awaited<ReturnType<typeof oidc.authorizationCodeGrant>>;
    try {
      tokens = await oidc.authorizationCodeGrant(config, callback, {
        pkceCodeVerifier: x.codeVerifier,
        expectedState: x.state,
        expectedNonce: x.nonce,
        idTokenExpected: true,
      });
    } catch (err) {
      throw classify(err);
    }
    const claims = tokens.claims();
    if (!claims) throw new ProviderError('rejected', 'no_id_token');
    return {
      subject: claims.sub,
      email: typeof claims.email === 'string' && claims.email ? claims.email : null,
      // Apple sent the string "true" for years; Google sends a boolean.
      emailVerified: claims.email_verified === true || claims.email_verified === 'true',
      name: typeof claims.name === 'string' && claims.name.trim() ? claims.name.trim() : null,
    };
  }

  /** Discovery once per provider; a failure is not cached, so the next call tries again. */
  #configuration(provider: ProviderName): Promise<oidc.Configuration> {
    let config = this.#configs.get(provider);
    if (!config) {
      config = this.#discover(provider);
      this.#configs.set(provider, config);
      config.catch(() => this.#configs.delete(provider));
    }
    return config;
  }

  async #discover(provider: ProviderName): Promise<oidc.Configuration> {
    const s = this.settings[provider];
    if (!s) throw new Error(`provider ${provider} is not configured`);
    const issuer = new URL(s.issuer);
    try {
      return await oidc.discovery(issuer, s.clientId, s.clientSecret, undefined, {
        timeout: REQUEST_TIMEOUT_SEC,
        // Only a provider on this machine (tests, local development) may speak plain http.
        ...(isLoopbackHttp(issuer) ? { execute: [oidc.allowInsecureRequests] } : {}),
      });
    } catch (err) {
      this.logger.warn({ provider, issuer: s.issuer, err: errorSummary(err) }, 'OpenID discovery failed');
      throw new ProviderError('unavailable', 'discovery_failed', { cause: err });
    }
  }
}

function classify(err: unknown): ProviderError {
  if (err instanceof oidc.ResponseBodyError) {
    // `error` is the provider's OAuth error code (invalid_grant, ...); bounded, it is only logged.
    return new ProviderError(err.status >= 500 ? 'unavailable' : 'rejected', err.error.slice(0, 64), { cause: err });
  }
  if (err instanceof oidc.AuthorizationResponseError) return new ProviderError('rejected', err.error.slice(0, 64), { cause: err });
  if (err instanceof oidc.WWWAuthenticateChallengeError) return new ProviderError('rejected', 'www_authenticate_challenge', { cause: err });
  if (err instanceof oidc.ClientError) {
    const code = err.code ?? 'client_error';
    return new ProviderError(UNAVAILABLE_CODES.has(code) ? 'unavailable' : 'rejected', code, { cause: err });
  }
  if (isNetworkFailure(err)) return new ProviderError('unavailable', 'network', { cause: err });
  // Anything else is a bug here, not the provider's answer: let it surface as Internal.
  throw err;
}

/** fetch's own failures (refused, reset, DNS, timeout), as opposed to openid-client's coded TypeErrors. */
function isNetworkFailure(err: unknown): boolean {
  if (err instanceof TypeError) return !('code' in err);
  return err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError');
}

/** A loggable description: class, code and message only (provider messages carry no tokens). */
function errorSummary(err: unknown): Record<string, unknown> {
  if (!(err instanceof Error)) return { message: String(err) };
  const cause = err.cause instanceof Error ? { cause: `${err.cause.name}: ${err.cause.message}` } : {};
  return { name: err.name, code: (err as { code?: unknown }).code, message: err.message, ...cause };
}
