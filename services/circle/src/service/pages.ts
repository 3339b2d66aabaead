import { Code, ConnectError } from '@connectrpc/connect';
import { InvalidCursorError, decodeCursor, encodeCursor } from '@hearth/db';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const CODE = /^[A-Za-z0-9]{12}$/;

export function pageSize(requested: number, fallback: number): number {
  return requested > 0 ? requested : fallback;
}

/**
 * A page token holds the last position and the request's filters: a token used with other
 * filters would silently skip or repeat rows, so it is refused instead.
 */
export function encodePage(position: Record<string, string | number>, filters: string): string {
  return encodeCursor({ ...position, f: filters });
}

/** The fields of a token from `encodePage`, checked by `read`; undefined for the first page. */
export function decodePage<T>(token: string, filters: string, read: (raw: Record<string, unknown>) => T | undefined): T | undefined {
  if (token === '') return undefined;
  let raw: Record<string, unknown>;
  try {
    raw = decodeCursor(token);
  } catch (err) {
    if (err instanceof InvalidCursorError) throw new ConnectError(err.message, Code.InvalidArgument);
    throw err;
  }
  if (raw.f !== filters) throw new ConnectError('page_token was issued for other filters; send the same filters', Code.InvalidArgument);
  const position = read(raw);
  if (position === undefined) throw new ConnectError('invalid page token', Code.InvalidArgument);
  return position;
}

export const field = {
  time(v: unknown): Date | undefined {
    if (typeof v !== 'string') return undefined;
    const d = new Date(v);
    return Number.isNaN(d.getTime()) ? undefined : d;
  },
  uuid: (v: unknown): string | undefined => (typeof v === 'string' && UUID.test(v) ? v : undefined),
  code: (v: unknown): string | undefined => (typeof v === 'string' && CODE.test(v) ? v : undefined),
  rank: (v: unknown): number | undefined => (v === 1 || v === 2 || v === 3 ? v : undefined),
};

/** Splits a fetch of `size + 1` rows into the page and the token for the next one. */
export function paginate<T>(rows: T[], size: number, tokenOf: (last: T) => string): { items: T[]; next: string } {
  if (rows.length <= size) return { items: rows, next: '' };
  const items = rows.slice(0, size);
  return { items, next: tokenOf(items[items.length - 1] as T) };
}
