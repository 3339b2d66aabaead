import { createHash } from 'node:crypto';
import { Code, ConnectError } from '@connectrpc/connect';

import { SlidingWindow } from './sliding-window.js';
import type { CounterBackend } from './stores.js';
import type { AuthLimits, LoginKey } from './types.js';

export interface AuthLimitsConfig {
  /** Failed logins allowed per account and per IP within one window before refusing. */
  loginFailuresPerWindow: number;
  /** The login failure window in seconds; it slides (ADR 0005). */
  loginWindowSec: number;
  registerPerIpPerHour: number;
  refreshPerIpPerMinute: number;
  /** StartOAuth writes a row and FinishOAuth calls the provider: both are counted. */
  oauthPerIpPerHour: number;
}

export const defaultAuthLimitsConfig: AuthLimitsConfig = {
  loginFailuresPerWindow: 5,
  loginWindowSec: 15 * 60,
  registerPerIpPerHour: 10,
  refreshPerIpPerMinute: 60,
  oauthPerIpPerHour: 60,
};

/**
 * How long a login that passed `checkLogin` holds its reservation if the caller never records
 * its outcome (a crash, an error between check and verify). Far above an argon2id verify.
 */
const IN_FLIGHT_SEC = 30;
/** In-flight reservations never refuse by themselves; they are added to the failures. */
const IN_FLIGHT_MAX = 1_000_000;

/** The client-facing refusal; `retry-after` becomes a response header. */
export function tooManyAttempts(retryAfterSec: number): ConnectError {
  return new ConnectError('too many attempts, try again later', Code.ResourceExhausted, { 'retry-after': String(retryAfterSec) });
}

/** Keys never hold an email in clear: counters live in Redis/Postgres, outside the account store. */
export function accountKey(email: string): string {
  return createHash('sha256').update(email).digest('hex').slice(0, 32);
}

interface LoginSubject {
  readonly failures: SlidingWindow;
  readonly key: string;
  readonly inFlightKey: string;
}

export function buildAuthLimits(config: AuthLimitsConfig, backend: CounterBackend): AuthLimits {
  assertConfig(config);
  const limit = config.loginFailuresPerWindow;
  const window = config.loginWindowSec;
  // The library counters only count; the sliding windows decide (points never refuse here).
  const sliding = (name: string, windowSec: number) =>
    new SlidingWindow(backend.counter({ name, points: IN_FLIGHT_MAX, durationSec: SlidingWindow.storeDurationSec(windowSec) }), windowSec * 1000);
  const accountFailures = sliding('auth_login_fail_account', window);
  const ipFailures = sliding('auth_login_fail_ip', window);
  const inFlight = backend.counter({ name: 'auth_login_in_flight', points: IN_FLIGHT_MAX, durationSec: IN_FLIGHT_SEC });
  const register = sliding('auth_register_ip', 3600);
  const refresh = sliding('auth_refresh_ip', 60);
  const oauth = sliding('auth_oauth_ip', 3600);

  const subjects = (key: LoginKey): [account: LoginSubject, ip: LoginSubject] => {
    const account = accountKey(key.email);
    return [
      { failures: accountFailures, key: account, inFlightKey: `account:${account}` },
      { failures: ipFailures, key: key.ip, inFlightKey: `ip:${key.ip}` },
    ];
  };

  const release = async (inFlightKey: string): Promise<void> => {
    const res = await inFlight.reward(inFlightKey);
    // The reservation's window ended before its release: the reward started a new window
    // below zero, which would admit one extra attempt in it.
    if (res.consumedPoints < 0) await inFlight.delete(inFlightKey);
  };

  // Counted before the decision, refused ones included, like a library consume: a client that
  // keeps hammering keeps itself refused.
  const consume = async (counter: SlidingWindow, key: string, allowed: number, windowSec: number): Promise<void> => {
    await backend.ready();
    const count = await counter.add(key);
    if (count.total > allowed) throw tooManyAttempts(retryAfter(count.msUntilAtMost(allowed - 1), windowSec));
  };

  return {
    async checkLogin(key) {
      await backend.ready();
      const all = subjects(key);
      // Reserve before reading the failures: recordLoginFailure counts the failure before it
      // releases its reservation, so a concurrent attempt is seen in one count or the other,
      // and parallel guesses cannot all pass a check that only read the failures.
      const reserved = await Promise.all(all.map((s) => inFlight.penalty(s.inFlightKey)));
      const failures = await Promise.all(all.map((s) => s.failures.count(s.key)));
      let refusal: number | undefined;
      all.forEach((_, i) => {
        const failed = failures[i]?.total ?? 0;
        const pending = Math.max(reserved[i]?.consumedPoints ?? 1, 1);
        if (failed + pending <= limit) return;
        // At the limit: wait until a failure leaves the window. Below it: other attempts are
        // still being verified.
        const wait = failed >= limit ? retryAfter(failures[i]?.msUntilAtMost(limit - 1) ?? -1, window) : 1;
        refusal = Math.max(refusal ?? 0, wait);
      });
      if (refusal !== undefined) {
        await Promise.all(all.map((s) => release(s.inFlightKey)));
        throw tooManyAttempts(refusal);
      }
    },

    async recordLoginFailure(key) {
      await backend.ready();
      await Promise.all(
        subjects(key).map(async (s) => {
          await s.failures.add(s.key);
          await release(s.inFlightKey);
        }),
      );
    },

    async recordLoginSuccess(key) {
      await backend.ready();
      const [account, ip] = subjects(key);
      await Promise.all([accountFailures.reset(account.key), release(account.inFlightKey), release(ip.inFlightKey)]);
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
