import { Code, ConnectError } from '@connectrpc/connect';
import { InvalidCursorError, decodeCursor, encodeCursor } from '@hearth/db';

export const DEFAULT_PAGE_SIZE = 50;

/** A position in a list ordered by (time, id). */
export interface Position {
  readonly time: Date;
  readonly id: string;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * `filters` is written into the token and must match on the next call: a token from one query
 * used with other filters would silently skip or repeat rows.
 */
export function encodePosition(p: Position, filters = ''): string {
  return encodeCursor({ t: p.time.toISOString(), id: p.id, f: filters });
}

/** Undefined for the first page; InvalidArgument for a token that is not ours or not for these filters. */
export function decodePosition(token: string, filters = ''): Position | undefined {
  if (token === '') return undefined;
  let raw: Record<string, unknown>;
  try {
    raw = decodeCursor(token);
  } catch (err) {
    if (err instanceof InvalidCursorError) throw new ConnectError(err.message, Code.InvalidArgument);
    throw err;
  }
  const { t, id, f } = raw;
  const time = typeof t === 'string' ? new Date(t) : undefined;
  if (!time || Number.isNaN(time.getTime()) || typeof id !== 'string' || !UUID.test(id)) {
    throw new ConnectError('invalid page token', Code.InvalidArgument);
  }
  if (f !== filters) throw new ConnectError('page_token was issued for other filters; send the same filters', Code.InvalidArgument);
  return { time, id };
}

/** Splits a fetch of `size + 1` rows into the page and the next token. */
export function page<T>(rows: T[], size: number, positionOf: (row: T) => Position, filters = ''): { items: T[]; next: string } {
  if (rows.length <= size) return { items: rows, next: '' };
  const items = rows.slice(0, size);
  return { items, next: encodePosition(positionOf(items[items.length - 1] as T), filters) };
}
