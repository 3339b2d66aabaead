import { createHmac, hkdfSync, randomBytes, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';

/**
 * A page token the server did not issue, or issued for another list or other filters. The
 * platform answers it as InvalidArgument on the request's `page_token` field.
 */
export class InvalidPageTokenError extends Error {
  override readonly name = 'InvalidPageTokenError';
  constructor(reason: string) {
    super(`invalid page token: ${reason}`);
  }
}

// ADR 0003 caps page_token at 512 bytes; anything longer cannot be ours.
const MAX_TOKEN_LENGTH = 512;
const BASE64URL = /^[A-Za-z0-9_-]+$/;
/** The token format; a new format gets a new number and old tokens are refused cleanly. */
const VERSION = 1;
const MAC_BYTES = 16;

/** Position fields, as page codecs declare them. */
export const pageField = {
  /** A timestamp, carried as ISO 8601 with milliseconds. */
  time: () => z.iso.datetime({ offset: true }).transform((s) => new Date(s)),
  /** A canonical UUID. */
  id: () => z.string().regex(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/),
  /** A small whole number (a rank, a sequence). */
  int: (min = 0, max = Number.MAX_SAFE_INTEGER) => z.number().int().min(min).max(max),
  text: (max = 128) => z.string().max(max),
};

/** How one list's positions are turned into tokens and back. */
export interface PageCodec<P> {
  /** The token for the page after `position`; `filters` binds it to the query that made it. */
  encode(position: P, filters?: string): string;
  /** Undefined for '' (the first page); throws InvalidPageTokenError for anything not ours. */
  decode(token: string, filters?: string): P | undefined;
  /** Splits a fetch of `size + 1` rows into the page and the token for the next one. */
  page<R>(rows: readonly R[], size: number, positionOf: (last: R) => P, filters?: string): { items: R[]; next: string };
}

/**
 * Opaque, tamper-evident page tokens (keyset positions): base64url of a format version, the
 * position as JSON and an HMAC-SHA256 tag (truncated to 128 bits) over the list's name, the
 * version and the JSON. A token is refused unless this deployment's key made it for this list
 * and these filters, so a forged or edited token is InvalidArgument before any of it reaches a
 * query. Tokens carry positions, never secrets; they are authenticated, not encrypted.
 */
export class PageTokens {
  readonly #key: Buffer;

  private constructor(key: Buffer) {
    this.#key = key;
  }

  /**
   * The key is derived from a deployment secret (HEARTH_INTERNAL_SECRET), so every process of
   * one deployment accepts the others' tokens. Without one, a random key: tokens then last as
   * long as the process, which is what a single development process needs.
   */
  static fromSecret(secret: string | Uint8Array | undefined): PageTokens {
    if (secret === undefined) return new PageTokens(randomBytes(32));
    const ikm = typeof secret === 'string' ? Buffer.from(secret, 'utf8') : Buffer.from(secret);
    return new PageTokens(Buffer.from(hkdfSync('sha256', ikm, Buffer.alloc(0), 'hearth page tokens v1', 32)));
  }

  /** A codec for one list, e.g. `tokens.codec('circle.members', { r: pageField.int(1, 3), t: pageField.time(), id: pageField.id() })`. */
  codec<S extends z.ZodRawShape>(list: string, shape: S): PageCodec<z.output<z.ZodObject<S>>> {
    const schema = z.strictObject({ ...shape, f: z.string() });
    type P = z.output<z.ZodObject<S>>;
    const mac = (body: Buffer): Buffer =>
      createHmac('sha256', this.#key).update(list).update('\0').update(body).digest().subarray(0, MAC_BYTES);
    const encode = (position: P, filters = ''): string => {
      const body = Buffer.concat([Buffer.of(VERSION), Buffer.from(JSON.stringify({ ...position, f: filters }), 'utf8')]);
      const token = Buffer.concat([body, mac(body)]).toString('base64url');
      if (token.length > MAX_TOKEN_LENGTH) throw new RangeError(`page token is ${token.length} chars, above ${MAX_TOKEN_LENGTH}`);
      return token;
    };
    const decode = (token: string, filters = ''): P | undefined => {
      if (token === '') return undefined;
      if (token.length > MAX_TOKEN_LENGTH) throw new InvalidPageTokenError('too long');
      // Buffer's base64 decoder skips characters it does not know, so check the alphabet first.
      if (!BASE64URL.test(token)) throw new InvalidPageTokenError('not one of ours');
      const bytes = Buffer.from(token, 'base64url');
      if (bytes.length <= 1 + MAC_BYTES) throw new InvalidPageTokenError('not one of ours');
      const body = bytes.subarray(0, bytes.length - MAC_BYTES);
      const tag = bytes.subarray(bytes.length - MAC_BYTES);
      if (!timingSafeEqual(tag, mac(body))) throw new InvalidPageTokenError('not one of ours');
      if (body[0] !== VERSION) throw new InvalidPageTokenError('from another version; start from the first page');
      let raw: unknown;
      try {
        raw = JSON.parse(body.subarray(1).toString('utf8'));
      } catch {
        throw new InvalidPageTokenError('not one of ours');
      }
      const parsed = schema.safeParse(raw);
      // Authentic but unreadable: only a change of the list's position shape gets here.
      if (!parsed.success) throw new InvalidPageTokenError('from another version; start from the first page');
      const { f, ...position } = parsed.data as { f: string } & Record<string, unknown>;
      if (f !== filters) throw new InvalidPageTokenError('issued for other filters; send the same filters');
      return position as P;
    };
    return {
      encode,
      decode,
      page(rows, size, positionOf, filters = '') {
        if (rows.length <= size) return { items: [...rows], next: '' };
        const items = rows.slice(0, size);
        return { items, next: encode(positionOf(items[items.length - 1] as (typeof rows)[number]), filters) };
      },
    };
  }
}

/**
 * One keyset page of `read`, keeping only the rows `keep` admits (asked once per read, for all
 * the rows read: blocks, visibility): rows are read again further on until the page is full,
 * at most `maxRounds` reads, so filtering thins a page without shortening it. The token carries
 * the last row's position (`positionOf`) and is bound to `filters` (the circle, the reader, the
 * query), so one list's token is refused by another.
 */
export async function filteredPage<R, P>(opts: {
  readonly codec: PageCodec<P>;
  readonly filters: string;
  readonly size: number;
  readonly pageToken: string;
  readonly positionOf: (row: R) => P;
  readonly read: (after: P | undefined, limit: number) => Promise<R[]>;
  readonly keep: (rows: readonly R[]) => Promise<(row: R) => boolean>;
  readonly maxRounds?: number;
}): Promise<{ items: R[]; next: string }> {
  const { codec, filters, size } = opts;
  let after = codec.decode(opts.pageToken, filters);
  const kept: R[] = [];
  let lastRead: R | undefined;
  let exhausted = false;
  for (let round = 0; round < (opts.maxRounds ?? 5) && kept.length <= size; round++) {
    const limit = size + 1;
    const rows = await opts.read(after, limit);
    const keeps = await opts.keep(rows);
    for (const r of rows) if (keeps(r)) kept.push(r);
    const last = rows.at(-1);
    if (last === undefined || rows.length < limit) {
      exhausted = true;
      break;
    }
    lastRead = last;
    after = opts.positionOf(last);
  }
  if (kept.length > size) {
    const items = kept.slice(0, size);
    return { items, next: codec.encode(opts.positionOf(items[size - 1] as R), filters) };
  }
  return { items: kept, next: exhausted || lastRead === undefined ? '' : codec.encode(opts.positionOf(lastRead), filters) };
}

/** A request's page_size: 0 (unset) means the list's default; protovalidate caps the maximum. */
export function pageSizeOf(requested: number, fallback: number): number {
  return requested > 0 ? requested : fallback;
}
