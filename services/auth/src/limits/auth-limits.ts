import { createHash } from 'node:crypto';
import { Code, ConnectError } from '@connectrpc/connect';
import { RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import type { CounterBackend } from './stores.js';
import type { AuthLimits, LoginKey } from './types.js';

export interface AuthLimitsConfig {
  /** Failed logins allowed per account and per IP within one window before refusing. */
  loginFailuresPerWindow: number;
  /** The login failure window in seconds; it starts at the first failure (ADR 0005). */
  loginWindowSec: number;
  registerPerIpPerHour: number;
  refreshPerIpPerMinute: number;
}

export const defaultAuthLimitsConfig: AuthLimitsConfig = {
  loginFailuresPerWindow: 5,
  loginWindowSec: 15 * 60,
  registerPerIpPerHour: 10,
  refreshPerIpPerMinute: 60,
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
  readonly failures: RateLimiterAbstract;
  readonly key: string;
  readonly inFlightKey: string;
}

export function buildAuthLimits(config: AuthLimitsConfig, backend: CounterBackend): AuthLimits {
  assertConfig(config);
  const limit = config.loginFailuresPerWindow;
  const window = config.loginWindowSec;
  const accountFailures = backend.counter({ name: 'auth_login_fail_account', points: limit, durationSec: window });
  const ipFailures = backend.counter({ name: 'auth_login_fail_ip', points: limit, durationSec: window });
  const inFlight = backend.counter({ name: 'auth_login_in_flight', points: IN_FLIGHT_MAX, durationSec: IN_FLIGHT_SEC });
  const register = backend.counter({ name: 'auth_register_ip', points: config.registerPerIpPerHour, durationSec: 3600 });
  const refresh = backend.counter({ name: 'auth_refresh_ip', points: config.refreshPerIpPerMinute, durationSec: 60 });

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

  const consume = async (limiter: RateLimiterAbstract, key: string, windowSec: number): Promise<void> => {
    await backend.ready();
    try {
      await limiter.consume(key);
    } catch (err) {
      if (err instanceof RateLimiterRes) throw tooManyAttempts(retryAfter(err.msBeforeNext, windowSec));
      throw err;
    }
  };

  return {
    async checkLogin(key) {
      await backend.ready();
      const all = subjects(key);
      // Reserve before reading the failures: recordLoginFailure counts the failure before it
      // releases its reservation, so a concurrent attempt is seen in one count or the other,
      // and parallel guesses cannot all pass a check that only read the failures.
      const reserved = await Promise.all(all.map((s) => inFlight.penalty(s.inFlightKey)));
      const failures = await Promise.all(all.map((s) => s.failures.get(s.key)));
      let refusal: number | undefined;
      all.forEach((_, i) => {
        const failed = failures[i]?.consumedPoints ?? 0;
        const pending = Math.max(reserved[i]?.consumedPoints ?? 1, 1);
        if (failed + pending <= limit) return;
        // At the limit: wait for the window. Below it: other attempts are still being verified.
        const wait = failed >= limit ? retryAfter(failures[i]?.msBeforeNext ?? -1, window) : 1;
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
          await s.failures.penalty(s.key);
          await release(s.inFlightKey);
        }),
      );
    },

    async recordLoginSuccess(key) {
      await backend.ready();
      const [account, ip] = subjects(key);
      await Promise.all([accountFailures.delete(account.key), release(account.inFlightKey), release(ip.inFlightKey)]);
    },

    consumeRegister: (ip) => consume(register, ip, 3600),
    consumeRefresh: (ip) => consume(refresh, ip, 60),
  };
}

/** Whole seconds, at least 1 (0 would invite an immediate retry) and at most the window. */
function retryAfter(msBeforeNext: number, windowSec: number): number {
  if (!(msBeforeNext > 0)) return windowSec;
  return Math.min(windowSec, Math.max(1, Math.ceil(msBeforeNext / 1000)));
}

function assertConfig(config: AuthLimitsConfig): void {
  const bad = Object.entries(config).filter(([, v]) => !Number.isInteger(v) || (v as number) < 1);
  if (bad.length > 0) {
    throw new Error(`auth limits: ${bad.map(([k, v]) => `${k}=${String(v)}`).join(', ')} must be integers >= 1`);
  }
}
