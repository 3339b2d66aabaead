import { ACCESS_COOKIE, CSRF_COOKIE, CSRF_HEADER, REFRESH_COOKIE, csrfMatches, parseCookies } from '@hearth/authz';
import { randomToken } from './crypto.js';

/** The refresh cookie goes only to AuthService calls (Refresh, Logout), never to other services. */
export const REFRESH_COOKIE_PATH = '/hearth.auth.v1.AuthService/';

export interface CookieTokens {
  readonly accessToken: string;
  readonly accessMaxAgeSec: number;
  readonly refreshToken: string;
  readonly refreshMaxAgeSec: number;
}

/**
 * Set-Cookie values for TOKEN_DELIVERY_COOKIE. `__Host-` forces Secure, Path=/ and no Domain, so
 * no sibling subdomain can plant or read them; SameSite=Strict keeps them off cross-site
 * requests; the CSRF cookie alone is readable by scripts, for the double-submit header.
 */
export function tokenCookies(t: CookieTokens): string[] {
  const csrf = randomToken(16);
  return [
    `${ACCESS_COOKIE}=${t.accessToken}; Path=/; Max-Age=${Math.max(0, Math.ceil(t.accessMaxAgeSec))}; HttpOnly; Secure; SameSite=Strict`,
    `${REFRESH_COOKIE}=${t.refreshToken}; Path=${REFRESH_COOKIE_PATH}; Max-Age=${Math.max(0, Math.ceil(t.refreshMaxAgeSec))}; HttpOnly; Secure; SameSite=Strict`,
    `${CSRF_COOKIE}=${csrf}; Path=/; Max-Age=${Math.max(0, Math.ceil(t.refreshMaxAgeSec))}; Secure; SameSite=Strict`,
  ];
}

/** Set-Cookie values that delete the three cookies (same name, path and attributes). */
export function clearedCookies(): string[] {
  return [
    `${ACCESS_COOKIE}=; Path=/; Max-Age=0; HttpOnly; Secure; SameSite=Strict`,
    `${REFRESH_COOKIE}=; Path=${REFRESH_COOKIE_PATH}; Max-Age=0; HttpOnly; Secure; SameSite=Strict`,
    `${CSRF_COOKIE}=; Path=/; Max-Age=0; Secure; SameSite=Strict`,
  ];
}

export type CookieRefresh = { readonly kind: 'none' } | { readonly kind: 'csrf_failed' } | { readonly kind: 'ok'; readonly token: string };

/**
 * The refresh token carried by cookie. Browsers attach it to forged cross-site requests too, so
 * it counts only with the CSRF header equal to the CSRF cookie.
 */
export function refreshFromCookies(headers: Headers): CookieRefresh {
  const jar = parseCookies(headers.get('cookie'));
  const token = jar.get(REFRESH_COOKIE);
  if (!token) return { kind: 'none' };
  if (!csrfMatches(jar.get(CSRF_COOKIE), headers.get(CSRF_HEADER))) return { kind: 'csrf_failed' };
  return { kind: 'ok', token };
}
