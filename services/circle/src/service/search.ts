/** At most this many words of a DiscoverCircles query are used. */
const MAX_WORDS = 8;

/**
 * The words of a search text: runs of letters and digits, lower-cased. Everything else
 * separates words, which also keeps tsquery syntax (&, |, !, :, quotes) out of the query.
 */
export function searchWords(query: string): string[] {
  const words = query.normalize('NFC').toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];
  return [...new Set(words)].slice(0, MAX_WORDS);
}
