/**
 * Abuse limits of the auth service (contract between the handlers and the limiter; see
 * ./index.ts for the implementation). Every `check*`/`consume*` that refuses throws
 * `ConnectError(..., Code.ResourceExhausted)` with a `retry-after` (seconds) in its metadata.
 */
export interface AuthLimits {
  /** Refuses a login attempt when the account or the IP has failed too often (5 per 15 min). */
  checkLogin(key: LoginKey): Promise<void>;
  /** Counts a failed login against both the account and the IP. */
  recordLoginFailure(key: LoginKey): Promise<void>;
  /** A successful login clears the account's failure count (not the IP's). */
  recordLoginSuccess(key: LoginKey): Promise<void>;
  /** Counts and limits registrations per IP. */
  consumeRegister(ip: string): Promise<void>;
  /** Counts and limits refreshes per IP. */
  consumeRefresh(ip: string): Promise<void>;
  /** Counts and limits OAuth flows (StartOAuth, FinishOAuth, LinkOAuth) per IP. */
  consumeOAuth(ip: string): Promise<void>;
}

export interface LoginKey {
  /** The normalized email the attempt named (whether or not such an account exists). */
  readonly email: string;
  readonly ip: string;
}
