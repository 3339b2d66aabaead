import { uuidv7 } from 'uuidv7';

/** A new UUIDv7: time-ordered, so primary-key inserts stay append-only in the btree. */
export function newId(): string {
  return uuidv7();
}
