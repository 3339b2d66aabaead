import type { AuthLimits, LoginKey } from './types.js';

/** What checking a password found; anything else the check learned rides along. */
export interface PasswordVerdict {
  readonly passwordOk: boolean;
}

/**
 * One password check under the sign-in limits: refused (ResourceExhausted) when a budget is
 * spent; otherwise `check` runs and its verdict is recorded: a wrong password counts as a failure,
 * a right one clears the account's failures. When `check` throws instead (the database is gone or
 * times out, or anything else breaks before the password is judged) the attempt is released and
 * counts for nothing, and the error goes on: an outage must never lock anyone out, during it or
 * after it.
 */
export async function passwordAttempt<V extends PasswordVerdict>(limits: AuthLimits, key: LoginKey, check: () => Promise<V>): Promise<V> {
  await limits.checkLogin(key);
  let verdict: V;
  try {
    verdict = await check();
  } catch (err) {
    await limits.releaseLogin(key);
    throw err;
  }
  if (verdict.passwordOk) await limits.recordLoginSuccess(key);
  else await limits.recordLoginFailure(key);
  return verdict;
}
