import { type PageCodec, pageSizeOf } from '@hearth/db';
import type { TimePosition } from '../store/posts.js';

/** A row a keyset page is made of. */
export interface PagedRow {
  readonly id: string;
  readonly create_time: Date;
}

/**
 * One keyset page of `read`, keeping the rows `keep` admits (its check is made once per read,
 * for all the rows read): rows are read again further on until the page is full (at most
 * `maxRounds` reads), so blocks and visibility thin a page without shortening it. Tokens carry the last row's (create_time, id) and are bound to `scope` (the circle, the
 * reader, the post), so one list's token is refused by another.
 */
export async function keysetPage<R extends PagedRow>(opts: {
  readonly codec: PageCodec<{ t: Date; id: string }>;
  readonly scope: string;
  readonly pageSize: number;
  readonly defaultSize: number;
  readonly pageToken: string;
  readonly read: (after: TimePosition | undefined, limit: number) => Promise<R[]>;
  readonly keep: (rows: readonly R[]) => Promise<(row: R) => boolean>;
  readonly maxRounds?: number;
}): Promise<{ items: R[]; next: string }> {
  const size = pageSizeOf(opts.pageSize, opts.defaultSize);
  const decoded = opts.codec.decode(opts.pageToken, opts.scope);
  let after: TimePosition | undefined = decoded && { time: decoded.t, id: decoded.id };
  const kept: R[] = [];
  let lastRead: R | undefined;
  let exhausted = false;
  for (let round = 0; round < (opts.maxRounds ?? 5) && kept.length <= size; round++) {
    const limit = size + 1;
    const rows = await opts.read(after, limit);
    const keeps = await opts.keep(rows);
    for (const r of rows) if (keeps(r)) kept.push(r);
    const last = rows.at(-1);
    if (!last || rows.length < limit) {
      exhausted = true;
      break;
    }
    lastRead = last;
    after = { time: last.create_time, id: last.id };
  }
  const tokenOf = (r: R) => opts.codec.encode({ t: r.create_time, id: r.id }, opts.scope);
  if (kept.length > size) {
    const items = kept.slice(0, size);
    return { items, next: tokenOf(items[size - 1]!) };
  }
  return { items: kept, next: exhausted || !lastRead ? '' : tokenOf(lastRead) };
}
