import { randomInt } from 'node:crypto';

/** No 0/O/o and no 1/l/I: codes are read aloud and typed from screenshots. */
export const INVITE_ALPHABET = '23456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnpqrstuvwxyz';
export const INVITE_CODE_LENGTH = 12;

/** 12 characters from 56: about 70 bits from the CSPRNG, so codes cannot be guessed. */
export function newInviteCode(): string {
  let code = '';
  for (let i = 0; i < INVITE_CODE_LENGTH; i++) code += INVITE_ALPHABET[randomInt(INVITE_ALPHABET.length)];
  return code;
}
