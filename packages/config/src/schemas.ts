import { z } from 'zod';

/** Reusable leaf schemas. Each accepts the raw string from the environment (or undefined). */

/** A number from the environment; only a value that is no number at all is "must be a number". */
const number = () => z.coerce.number({ error: (issue) => (issue.code === 'invalid_type' ? 'must be a number' : undefined) });

export const port = (fallback: number) =>
  number().int('must be a whole number').min(0, 'must be at least 0').max(65535, 'must be at most 65535').default(fallback);

export const positiveInt = (fallback: number, max = Number.MAX_SAFE_INTEGER) =>
  number().int('must be a whole number').min(1, 'must be at least 1').max(max, `must be at most ${max}`).default(fallback);

export const ratio = (fallback: number) => number().min(0, 'must be at least 0').max(1, 'must be at most 1').default(fallback);

export const bool = (fallback: boolean) =>
  z
    .enum(['true', 'false', '1', '0', 'yes', 'no'], { error: 'must be true or false' })
    .transform((v) => v === 'true' || v === '1' || v === 'yes')
    .optional()
    .transform((v) => v ?? fallback);

export const oneOf = <const T extends readonly [string, ...string[]]>(values: T, fallback: T[number]) =>
  z.enum(values, { error: `must be one of ${values.join(', ')}` }).default(fallback);

/** A URL with one of the given protocols, e.g. `postgresUrl` or `redis:`. */
export const url = (protocols: readonly string[]) =>
  z
    .string()
    .refine((v) => {
      try {
        return protocols.includes(new URL(v).protocol);
      } catch {
        return false;
      }
    }, `must be a URL starting with ${protocols.map((p) => `${p}//`).join(' or ')}`);

export const postgresUrl = () => url(['postgres:', 'postgresql:']);
export const redisUrl = () => url(['redis:', 'rediss:']);
export const httpUrl = () => url(['http:', 'https:']);

/** A comma-separated list; empty means the fallback. */
export const list = (fallback: readonly string[] = []) =>
  z
    .string()
    .optional()
    .transform((v) => (v === undefined ? [...fallback] : v.split(',').map((s) => s.trim()).filter(Boolean)));

/**
 * `name=url` pairs separated by commas, e.g. "user=http://user:8080,circle=http://circle:8080".
 * Every name must be one of `names` and every URL http(s).
 */
export const urlMap = (names: readonly string[]) =>
  z
    .string()
    .optional()
    .transform((v, ctx) => {
      const out: Record<string, string> = {};
      for (const pair of (v ?? '').split(',').map((s) => s.trim()).filter(Boolean)) {
        const eq = pair.indexOf('=');
        const name = pair.slice(0, eq).trim();
        const target = pair.slice(eq + 1).trim();
        let ok = eq > 0 && names.includes(name);
        try {
          ok &&= ['http:', 'https:'].includes(new URL(target).protocol);
        } catch {
          ok = false;
        }
        if (!ok) {
          ctx.addIssue({ code: 'custom', message: `"${pair.slice(0, 80)}" is not name=http(s)://... with a name among ${names.join(', ')}` });
          return z.NEVER;
        }
        out[name] = target;
      }
      return out;
    });

/** One key of a key ring: its id (stored next to what it encrypted) and 32 bytes of key. */
export interface RingKey {
  readonly id: string;
  readonly key: Buffer;
}

const KEY_ID = /^[A-Za-z0-9_-]{1,32}$/;

/**
 * Parses a key ring, `id:base64,id:base64,...` (each key 32 bytes), the first one current: new
 * data is sealed with it, and every listed key still opens what it sealed, so keys rotate by
 * putting a new one first and dropping an old one once nothing uses it. Returns the problems
 * instead of the keys when the text is not such a ring; the messages never echo key material.
 */
/** The keys of a ring the config has already checked (keyRingEnv); `name` is its variable, for the impossible case. */
export function ringKeys(name: string, ring: { reveal(): string }): RingKey[] {
  const parsed = parseKeyRing(ring.reveal());
  if ('problem' in parsed) throw new Error(`${name}: ${parsed.problem}`);
  return parsed.keys;
}

export function parseKeyRing(text: string): { keys: RingKey[] } | { problem: string } {
  const keys: RingKey[] = [];
  for (const entry of text.split(',').map((s) => s.trim()).filter(Boolean)) {
    const colon = entry.indexOf(':');
    const id = colon > 0 ? entry.slice(0, colon) : '';
    if (!KEY_ID.test(id)) return { problem: `entry ${keys.length + 1}: expected <id>:<base64 key> with an id of 1-32 letters, digits, _ or -` };
    const key = Buffer.from(entry.slice(colon + 1), 'base64');
    if (key.length !== 32) return { problem: `key "${id}" must be base64 of exactly 32 bytes` };
    if (keys.some((k) => k.id === id)) return { problem: `key id "${id}" is listed twice` };
    keys.push({ id, key });
  }
  if (keys.length === 0) return { problem: 'must list at least one <id>:<base64 key>' };
  return { keys };
}
