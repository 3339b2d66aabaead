import { createHash } from 'node:crypto';
import { Code, ConnectError } from '@connectrpc/connect';

import { InFlight } from './in-flight.js';
import { type CounterBackend, STORE_TIMEOUT_MS, SlidingWindow, type WindowCount, addressKey, resilient } from '@hearth/platform';
import type { AuthLimits, LoginKey } from './types.js';

/** The budgets; ADR 0005 says why each is what it is. */
export interface AuthLimitsConfig {
  /** The window every sign-in failure budget is counted over, in seconds; it slides (ADR 0005). */
  loginWindowSec: number;
  /**
   * Failed sign-ins one account may have from one client address per window: one person's typos
   * on one device or network. The tightest budget.
   */
  loginFailuresPerAccountAddress: number;
  /** Failed sign-ins one account may have from all addresses together per window (guessing spread over many addresses). */
  loginFailuresPerAccount: number;
  /**
   * Failed sign-ins one client address may have over all accounts per window (spraying and
   * stuffing from one place). Loose: a family, an office or a campus may share the address.
   */
  loginFailuresPerAddress: number;
  registerPerIpPerHour: number;
  refreshPerIpPerMinute: number;
  /** StartOAuth writes a row and FinishOAuth calls the provider: both are counted. */
  oauthPerIpPerHour: number;
}

export const defaultAuthLimitsConfig: AuthLimitsConfig = {
  loginWindowSec: 15 * 60,
  loginFailuresPerAccountAddress: 5,
  loginFailuresPerAccount: 10,
  loginFailuresPerAddress: 100,
  registerPerIpPerHour: 10,
  refreshPerIpPerMinute: 60,
  oauthPerIpPerHour: 60,
};

/**
 * How long the counters keep a reservation that was never released (its process crashed).
 * Every other path releases it; this only bounds what a crash leaves behind. Far above a login
 * (an argon2id verify is tens of milliseconds).
 */
const IN_FLIGHT_SEC = 10;
/** Counters only count: the budgets are compared here, so the library's own limit never refuses. */
const UNCAPPED = 1_000_000;

/** The client-facing refusal; `retry-after` becomes a response header. */
export function tooManyAttempts(retryAfterSec: number): ConnectError {
  return new ConnectError('too many attempts, try again later', Code.ResourceExhausted, { 'retry-after': String(retryAfterSec) });
}

/** Keys never hold an email in clear: counters live in Redis/Postgres, outside the account store. */
export function accountKey(email: string): string {
  return createHash('sha256').update(email).digest('hex').slice(0, 32);
}

/** One thing whose sign-in failures are budgeted: an account, an account from one address, or an address. */
interface Subject {
  readonly failures: SlidingWindow;
  readonly key: string;
  readonly limit: number;
  /** Whether a right password clears it: not for an address, which other people share. */
  readonly clearedBySuccess: boolean;
  readonly inFlightKey: string;
}

export function buildAuthLimits(config: AuthLimitsConfig, backend: CounterBackend, opts: { timeoutMs?: number } = {}): AuthLimits {
  assertConfig(config);
  const timeoutMs = opts.timeoutMs ?? STORE_TIMEOUT_MS;
  const window = config.loginWindowSec;
  const sliding = (name: string, windowSec: number) =>
    new SlidingWindow(resilient(backend, { name, points: UNCAPPED, durationSec: SlidingWindow.storeDurationSec(windowSec) }, timeoutMs), windowSec * 1000);
  const accountFailures = sliding('auth_login_fail_account', window);
  const accountAddressFailures = sliding('auth_login_fail_account_ip', window);
  const addressFailures = sliding('auth_login_fail_ip', window);
  const inFlightSpec = { name: 'auth_login_in_flight', points: UNCAPPED, durationSec: IN_FLIGHT_SEC };
  const inFlight = new InFlight({ store: backend.store(inFlightSpec), local: backend.local(inFlightSpec) }, { lifeMs: IN_FLIGHT_SEC * 1000, timeoutMs });
  const register = sliding('auth_register_ip', 3600);
  const refresh = sliding('auth_refresh_ip', 60);
  const oauth = sliding('auth_oauth_ip', 3600);

  const subjects = (key: LoginKey): Subject[] => {
    const account = accountKey(key.email);
    const address = addressKey(key.ip);
    return [
      { failures: accountFailures, key: account, limit: config.loginFailuresPerAccount, clearedBySuccess: true, inFlightKey: `account:${account}` },
      {
        failures: accountAddressFailures,
        key: `${account}@${address}`,
        limit: config.loginFailuresPerAccountAddress,
        clearedBySuccess: true,
        inFlightKey: `account_ip:${account}@${address}`,
      },
      { failures: addressFailures, key: address, limit: config.loginFailuresPerAddress, clearedBySuccess: false, inFlightKey: `ip:${address}` },
    ];
  };

  const releaseAll = (all: readonly Subject[]) => Promise.all(all.map((s) => inFlight.release(s.inFlightKey)));

  /**
   * The wait before this attempt may go ahead, or undefined if it may now. A subject admits it
   * while its failures plus the attempts in flight (this one included) stay within its budget.
   */
  const refusal = (all: readonly Subject[], failures: readonly WindowCount[], pending: readonly number[]): number | undefined => {
    let wait: number | undefined;
    all.forEach((s, i) => {
      const failed = failures[i]?.total ?? 0;
      if (failed + Math.max(pending[i] ?? 1, 1) <= s.limit) return;
      // At the budget: until enough failures leave the window for one more. Below it: other
      // attempts are being verified right now, and their outcomes come within the second.
      const w = failed >= s.limit ? retryAfter(failures[i]?.msUntilAtMost(s.limit - 1) ?? -1, window) : 1;
      wait = Math.max(wait ?? 0, w);
    });
    return wait;
  };

  // Counted before the decision, refused ones included, like a library consume: a client that
  // keeps hammering keeps itself refused.
  const consume = async (counter: SlidingWindow, ip: string, allowed: number, windowSec: number): Promise<void> => {
    await backend.ready();
    const count = await counter.add(addressKey(ip));
    if (count.total > allowed) throw tooManyAttempts(retryAfter(count.msUntilAtMost(allowed - 1), windowSec));
  };

  return {
    async checkLogin(key) {
      await backend.ready();
      const all = subjects(key);
      // Reserve before reading the failures: recordLoginFailure counts the failure before it
      // releases its reservation, so a concurrent attempt is seen in one count or the other,
      // and parallel guesses cannot all pass a check that only read the failures.
      // (A reservation never fails: it is made in memory when the store cannot take it.)
      const pending = await Promise.all(all.map((s) => inFlight.reserve(s.inFlightKey)));
      let wait: number | undefined;
      try {
        const failures = await Promise.all(all.map((s) => s.failures.count(s.key)));
        wait = refusal(all, failures, pending);
      } catch (err) {
        await releaseAll(all);
        throw err;
      }
      if (wait === undefined) return;
      await releaseAll(all);
      throw tooManyAttempts(wait);
    },

    async recordLoginFailure(key) {
      const all = subjects(key);
      try {
        await backend.ready();
        await Promise.all(all.map((s) => s.failures.record(s.key)));
      } finally {
        // After the failure is counted, never before (see checkLogin), and whatever happened.
        await releaseAll(all);
      }
    },

    async recordLoginSuccess(key) {
      const all = subjects(key);
      try {
        await backend.ready();
        await Promise.all(all.filter((s) => s.clearedBySuccess).map((s) => s.failures.reset(s.key)));
      } finally {
        await releaseAll(all);
      }
    },

    async releaseLogin(key) {
      await releaseAll(subjects(key));
    },

    consumeRegister: (ip) => consume(register, ip, config.registerPerIpPerHour, 3600),
    consumeRefresh: (ip) => consume(refresh, ip, config.refreshPerIpPerMinute, 60),
    consumeOAuth: (ip) => consume(oauth, ip, config.oauthPerIpPerHour, 3600),
  };
}

/**
 * Whole seconds, at least 1 (0 would invite an immediate retry) and at most the window plus
 * the one bucket the count may reach back beyond it.
 */
function retryAfter(msBeforeNext: number, windowSec: number): number {
  if (!(msBeforeNext > 0)) return 1;
  return Math.min(SlidingWindow.storeDurationSec(windowSec), Math.max(1, Math.ceil(msBeforeNext / 1000)));
}

function assertConfig(config: AuthLimitsConfig): void {
  const bad = Object.entries(config).filter(([, v]) => !Number.isInteger(v) || (v as number) < 1);
  if (bad.length > 0) {
    throw new Error(`auth limits: ${bad.map(([k, v]) => `${k}=${String(v)}`).join(', ')} must be integers >= 1`);
  }
}
