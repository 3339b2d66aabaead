import { Code, ConnectError } from '@connectrpc/connect';
import { timestampDate } from '@bufbuild/protobuf/wkt';
import type { TokenPair } from '@hearth/contracts/gen/hearth/auth/v1/resources_pb.js';

/** The tokens of one signed-in session, as an app keeps them (in secure storage on mobile). */
export interface SessionTokens {
  readonly accessToken: string;
  /** Single-use: every Refresh returns a new one, and presenting an old one ends the session. */
  readonly refreshToken: string;
  /** When the access token stops being accepted, by the server's clock (informational). */
  readonly accessExpireTime?: Date | undefined;
}

/** Exchanges a refresh token for the session's next tokens (AuthService.Refresh). */
export type Refresher = (refreshToken: string) => Promise<SessionTokens | TokenPair>;

export interface TokenStoreOptions {
  /**
   * Tokens restored from storage at start-up. Their access token may have expired meanwhile:
   * the first call it is refused on refreshes it.
   */
  readonly tokens?: SessionTokens;
  /**
   * Called after every change: new tokens after a sign-in or a refresh (persist them, since the
   * old refresh token no longer works), or undefined when the session ended (show sign-in).
   */
  readonly onChange?: (tokens: SessionTokens | undefined) => void;
  /**
   * Refresh this long before the access token expires instead of waiting for a refusal
   * (at most half its lifetime). Default 60 s.
   */
  readonly refreshBeforeMs?: number;
  /** The device clock, for tests. Only intervals are measured with it. */
  readonly now?: () => number;
}

/**
 * Holds one session's tokens and refreshes them one call at a time: a refresh token is
 * single-use and the server revokes the whole session when one is presented twice
 * (auth_service.proto, Refresh), so concurrent callers that need a refresh share the one in flight.
 */
export class TokenStore {
  readonly #onChange: ((tokens: SessionTokens | undefined) => void) | undefined;
  readonly #refreshBeforeMs: number;
  readonly #now: () => number;
  #tokens: SessionTokens | undefined;
  /** Device-clock time after which the access token is refreshed before use. */
  #refreshAt = Number.POSITIVE_INFINITY;
  #inFlight: Promise<SessionTokens | undefined> | undefined;

  constructor(opts: TokenStoreOptions = {}) {
    this.#onChange = opts.onChange;
    this.#refreshBeforeMs = opts.refreshBeforeMs ?? 60_000;
    this.#now = opts.now ?? Date.now;
    if (opts.tokens) this.#hold(opts.tokens);
  }

  /** The current tokens, if signed in. */
  get tokens(): SessionTokens | undefined {
    return this.#tokens;
  }

  /**
   * Replaces the tokens (after a sign-in, or restored from storage). Undefined forgets them;
   * the session stays open on the server until AuthService.Logout, which also clears the store.
   */
  set(tokens: SessionTokens | TokenPair | undefined): void {
    const next = tokens && '$typeName' in tokens ? fromPair(tokens) : tokens;
    if (next && next.refreshToken === '') return; // cookie delivery: the browser holds them
    this.#hold(next);
    this.#onChange?.(next);
  }

  clear(): void {
    this.set(undefined);
  }

  /** The access token for the next call, refreshed first when it is about to expire. */
  async accessToken(refresh: Refresher): Promise<string | undefined> {
    const held = this.#tokens;
    if (held && this.#now() >= this.#refreshAt) return (await this.refresh(refresh, held.accessToken))?.accessToken;
    return held?.accessToken;
  }

  /**
   * Replaces `stale` (the access token a call was refused with) by a fresh one. If the tokens
   * changed since that call started, or a refresh is already running, no new Refresh is sent.
   * Resolves to undefined when there is no session; rejects with the server's Unauthenticated
   * when the session has ended (the store is then cleared) and with other errors as they come
   * (the tokens are kept, so a later call tries again).
   */
  refresh(refresh: Refresher, stale: string): Promise<SessionTokens | undefined> {
    if (this.#inFlight) return this.#inFlight;
    const held = this.#tokens;
    if (!held || held.accessToken !== stale) return Promise.resolve(held);
    const flight = refresh(held.refreshToken).then(
      (next) => {
        // A sign-in or sign-out while the refresh ran wins over its result.
        if (this.#tokens === held) this.set(next);
        return this.#tokens;
      },
      (err: unknown) => {
        if (ConnectError.from(err).code === Code.Unauthenticated && this.#tokens === held) this.clear();
        throw err;
      },
    );
    this.#inFlight = flight.finally(() => {
      this.#inFlight = undefined;
    });
    return this.#inFlight;
  }

  #hold(tokens: SessionTokens | undefined): void {
    this.#tokens = tokens;
    const lifetimeMs = tokens ? accessLifetimeMs(tokens.accessToken) : undefined;
    // Measured from now on the device clock, with the lifetime the server wrote into the token,
    // so a device clock that is off by minutes neither refreshes on every call nor never.
    // At most half the lifetime early, so short-lived tokens are not refreshed before every call.
    const early = Math.min(this.#refreshBeforeMs, (lifetimeMs ?? 0) / 2);
    this.#refreshAt = lifetimeMs === undefined ? Number.POSITIVE_INFINITY : this.#now() + lifetimeMs - early;
  }
}

function fromPair(pair: TokenPair): SessionTokens {
  return {
    accessToken: pair.accessToken,
    refreshToken: pair.refreshToken,
    accessExpireTime: pair.accessExpireTime ? timestampDate(pair.accessExpireTime) : undefined,
  };
}

/** `exp - iat` of a JWT, read without verifying (the server verifies); undefined if absent. */
function accessLifetimeMs(jwt: string): number | undefined {
  try {
    const payload = jwt.split('.')[1] ?? '';
    const json = atob(payload.replace(/-/g, '+').replace(/_/g, '/'));
    const { iat, exp } = JSON.parse(json) as { iat?: unknown; exp?: unknown };
    return typeof iat === 'number' && typeof exp === 'number' ? (exp - iat) * 1000 : undefined;
  } catch {
    return undefined;
  }
}
