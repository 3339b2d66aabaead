import type { Migrations } from '@hearth/db';
import * as posts from './2026-12-01-0001-posts.js';
import * as feedIndex from './2026-12-01-0002-feed-index.js';
import * as responses from './2026-12-01-0003-responses.js';
import * as reactions from './2026-12-01-0004-reactions.js';

/**
 * The posts schema's migrations, in the order they apply (keys sort by timestamp). Each one is
 * immutable once merged: change the schema with a new entry, never by editing an old one.
 */
export const migrations: Migrations = {
  '2026_12_01_0001_posts': posts,
  '2026_12_01_0002_feed_index': feedIndex,
  '2026_12_01_0003_responses': responses,
  '2026_12_01_0004_reactions': reactions,
};
