/**
 * Abuse limits of the auth service (contract between the handlers and the limiter; see
 * ./index.ts for the implementation and docs/adr/0005-auth-rate-limits.md for the budgets).
 * Every `check*`/`consume*` that refuses throws `ConnectError(..., Code.ResourceExhausted)` with a
 * `retry-after` (seconds) in its metadata.
 *
 * A `checkLogin` that resolves has reserved the attempt; the caller ends it with exactly one of
 * `recordLoginFailure` (the password was wrong), `recordLoginSuccess` (it was right) or
 * `releaseLogin` (no verdict: the database or anything else failed first).
 * `passwordAttempt` (./password-attempt.ts) does this for every caller.
 */
export interface AuthLimits {
  /**
   * Refuses a login attempt when its account, its account from this address, or this address has
   * failed too often; otherwise reserves it until its outcome is recorded.
   */
  checkLogin(key: LoginKey): Promise<void>;
  /** Counts a wrong password against the account, the account from this address, and the address. */
  recordLoginFailure(key: LoginKey): Promise<void>;
  /** A right password clears the account's failures (from every address), not the address's. */
  recordLoginSuccess(key: LoginKey): Promise<void>;
  /**
   * Ends an attempt that got no verdict (an infrastructure failure): releases its reservation and
   * counts nothing.
   */
  releaseLogin(key: LoginKey): Promise<void>;
  /** Counts and limits registrations per client address. */
  consumeRegister(ip: string): Promise<void>;
  /** Counts and limits refreshes per client address. */
  consumeRefresh(ip: string): Promise<void>;
  /** Counts and limits OAuth flows (StartOAuth, FinishOAuth, LinkOAuth) per client address. */
  consumeOAuth(ip: string): Promise<void>;
}

export interface LoginKey {
  /** The normalized email the attempt named (whether or not such an account exists). */
  readonly email: string;
  /** The client address as the platform saw it; counted per IPv4 address or per IPv6 /64. */
  readonly ip: string;
}
