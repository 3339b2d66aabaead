import { Code, ConnectError } from '@connectrpc/connect';
import { type Algorithm, hash, verify } from '@node-rs/argon2';
import { zxcvbnAsync, zxcvbnOptions } from '@zxcvbn-ts/core';
import * as common from '@zxcvbn-ts/language-common';
import * as en from '@zxcvbn-ts/language-en';

const ARGON2_PHC = /^\$argon2(id|i|d)\$v=\d+\$m=\d+,t=\d+,p=\d+\$[A-Za-z0-9+/]+\$[A-Za-z0-9+/]+$/;

/**
 * argon2id parameters, in one place: OWASP's baseline (m = 19 MiB, t = 2, p = 1). Hashes carry
 * their parameters, so raising these later keeps old hashes verifiable.
 */
export const ARGON2_PARAMS = {
  // Algorithm.Argon2id: a const enum, which isolated modules cannot read at run time.
  algorithm: 2 as Algorithm.Argon2id,
  memoryCost: 19_456,
  timeCost: 2,
  parallelism: 1,
} as const;

/** The contract's lower bound (RegisterRequest.password); protovalidate checks it first. */
export const MIN_PASSWORD_LENGTH = 10;
/** zxcvbn scores 0..4; below 3 is guessable within a realistic offline attack budget. */
const MIN_SCORE = 3;

let dictionariesLoaded = false;
function loadDictionaries(): void {
  if (dictionariesLoaded) return;
  zxcvbnOptions.setOptions({
    dictionary: { ...common.dictionary, ...en.dictionary },
    graphs: common.adjacencyGraphs,
    translations: en.translations,
  });
  dictionariesLoaded = true;
}

export class PasswordHasher {
  // A real hash of a random password, so a login for an unknown email costs one full verify.
  readonly #dummy: Promise<string>;

  constructor() {
    this.#dummy = hash(crypto.randomUUID(), ARGON2_PARAMS);
  }

  hash(password: string): Promise<string> {
    return hash(password, ARGON2_PARAMS);
  }

  /** Verifies against `stored`, or against the dummy hash when there is none (same cost, always false). */
  async verify(stored: string | null | undefined, password: string): Promise<boolean> {
    if (!stored) {
      await verify(await this.#dummy, password).catch(() => false);
      return false;
    }
    // A stored value that is not an argon2 hash matches nothing. Any other failure (out of
    // memory, a thread pool gone) is ours, not a wrong password: it propagates, so the sign-in
    // limits do not count it against the person (see passwordAttempt).
    if (!ARGON2_PHC.test(stored)) return false;
    return verify(stored, password);
  }
}

/**
 * Refuses short and guessable passwords with InvalidArgument and zxcvbn's advice. `related` are
 * the person's own words (email, handle, name), which make a password guessable for them.
 */
export async function checkPasswordStrength(password: string, related: readonly string[]): Promise<void> {
  if ([...password].length < MIN_PASSWORD_LENGTH) {
    throw new ConnectError(`password must be at least ${MIN_PASSWORD_LENGTH} characters`, Code.InvalidArgument);
  }
  loadDictionaries();
  // zxcvbn's cost grows with length; the proto caps passwords at 256 bytes.
  const result = await zxcvbnAsync(password, related.filter((w) => w.length > 0));
  if (result.score >= MIN_SCORE) return;
  const hint = [result.feedback.warning, ...result.feedback.suggestions].filter((s): s is string => !!s).join(' ');
  throw new ConnectError(
    `password is too easy to guess${hint ? `: ${hint}` : ''}. Try a longer passphrase of several unrelated words.`,
    Code.InvalidArgument,
  );
}
