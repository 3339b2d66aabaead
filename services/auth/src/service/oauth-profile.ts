import { randomInt } from 'node:crypto';

const SUFFIX_ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';
const BASE_MAX = 20;
const DISPLAY_NAME_MAX = 50;
const FALLBACK_BASE = 'member';

/**
 * The handle and display name of an account created through Google or Apple. Only the name the
 * person shared is used, never their email: a handle is public, and an email's local part often
 * names someone who chose not to be named here. The random suffix keeps handles apart; the app
 * asks the person to review both (FinishOAuthResponse.account_created).
 */
export function generatedProfile(name: string | null): { handle: string; displayName: string } {
  const base =
    (name ?? '')
      .normalize('NFKD')
      .replace(/\p{M}/gu, '')
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '_')
      .replace(/^_+|_+$/g, '')
      .slice(0, BASE_MAX)
      .replace(/_+$/, '') || FALLBACK_BASE;
  let suffix = '';
  for (let i = 0; i < 6; i++) suffix += SUFFIX_ALPHABET[randomInt(SUFFIX_ALPHABET.length)];
  const handle = `${base.length >= 3 ? base : FALLBACK_BASE}_${suffix}`;
  // Code points, not UTF-16 units, so a name is never cut inside a character.
  const displayName = [...(name ?? '')].slice(0, DISPLAY_NAME_MAX).join('').trim();
  return { handle, displayName };
}
