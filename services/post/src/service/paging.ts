import { type PageCodec, filteredPage, pageSizeOf } from '@hearth/db';
import type { TimePosition } from '../store/posts.js';

/** A row of the post service's lists: paged by (create_time, id). */
export interface PagedRow {
  readonly id: string;
  readonly create_time: Date;
}

/** @hearth/db's filteredPage over (create_time, id), the position every post list pages by. */
export function keysetPage<R extends PagedRow>(opts: {
  readonly codec: PageCodec<{ t: Date; id: string }>;
  readonly scope: string;
  readonly pageSize: number;
  readonly defaultSize: number;
  readonly pageToken: string;
  readonly read: (after: TimePosition | undefined, limit: number) => Promise<R[]>;
  readonly keep: (rows: readonly R[]) => Promise<(row: R) => boolean>;
}): Promise<{ items: R[]; next: string }> {
  return filteredPage({
    codec: opts.codec,
    filters: opts.scope,
    size: pageSizeOf(opts.pageSize, opts.defaultSize),
    pageToken: opts.pageToken,
    positionOf: (r: R) => ({ t: r.create_time, id: r.id }),
    read: (after, limit) => opts.read(after && { time: after.t, id: after.id }, limit),
    keep: opts.keep,
  });
}
