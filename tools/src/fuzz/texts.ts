import type { FieldRules } from '@hearth/contracts/gen/buf/validate/validate_pb.js';
import { ruleNumber } from './schema.js';

/** One way to spoil a value: a name for reports and the bad value, built only when used. */
export interface Variant<T, A extends unknown[] = []> {
  readonly name: string;
  readonly value: (...args: A) => T;
  /** The server cannot have understood this value: answering it OK means it was silently dropped. */
  readonly mustRefuse?: boolean;
  /** Tried before the others of its class (the ones issue 9 saw fail). */
  readonly first?: boolean;
}

const insert = (s: string, at: number, x: string) => `${s.slice(0, at)}${x}${s.slice(at)}`;

/**
 * Text Postgres cannot store or that is odd, built around a string the field accepts so that
 * length and pattern rules are all that stand between it and the store: NUL (text columns
 * cannot hold U+0000), lone surrogates (not encodable as UTF-8), very long strings,
 * direction overrides, zero-width and combining characters, emoji sequences, controls.
 */
export function oddTexts(valid: string): Variant<string>[] {
  const mid = Math.floor(valid.length / 2);
  return [
    { name: 'NUL in the middle', first: true, value: () => insert(valid, mid, '\u0000') },
    { name: 'NUL at the end', value: () => `${valid}\u0000` },
    { name: 'NUL only', value: () => '\u0000' },
    { name: 'NUL escaped in text', value: () => `${valid}\\u0000%00` },
    { name: 'lone high surrogate', value: () => insert(valid, mid, '\ud800') },
    { name: 'lone low surrogate', value: () => `\udc00${valid}` },
    { name: 'reversed surrogate pair', value: () => `${valid}\udc00\ud800` },
    { name: '100k characters', value: () => `${valid}${'x'.repeat(100_000)}` },
    { name: '20k emoji', value: () => '\u{1F525}'.repeat(20_000) },
    { name: 'right-to-left override', value: () => `\u202e${valid}\u202c\u200f` },
    { name: 'zero-width characters', value: () => `\u200b${insert(valid, mid, '\u200c\u200d\u2060')}\ufeff` },
    { name: 'combining marks', value: () => `${valid}${'\u0301\u0336\u0489'.repeat(40)}` },
    { name: 'emoji sequences', value: () => `${valid}\u{1F469}\u200d\u{1F469}\u200d\u{1F467}\u200d\u{1F466}\u{1F3F3}\ufe0f\u200d\u{1F308}\u{1F9D1}\u{1F3FD}\u200d\u{1F9B1}` },
    { name: 'control characters', value: () => `${valid}\u0001\u0008\u001b[31m\u007f\u0085` },
    { name: 'line and paragraph separators', value: () => `${valid}\u2028\u2029\r\n\v\f` },
    { name: 'noncharacters and U+10FFFF', value: () => `${valid}\ufffe\uffff\u{10FFFF}\ufffd` },
    { name: 'SQL and LIKE metacharacters', value: () => `${valid}%_\\'";--/*` },
    { name: 'whitespace only', value: () => ' \t\n\u00a0\u3000' },
    { name: 'compatibility forms', value: () => `${valid}\ufb01\u212a\uff21\u0130\u0131\u00df` },
    { name: 'upper-cased', value: () => valid.toUpperCase() },
  ];
}

/** Strings right at and just past the field's length rules, counted in code points and bytes. */
export function lengthBoundaries(rules: FieldRules | undefined): Variant<string>[] {
  const r = rules?.type.case === 'string' ? rules.type.value : undefined;
  const out: Variant<string>[] = [{ name: 'empty string', value: () => '' }];
  const maxLen = ruleNumber(r, 'maxLen');
  const maxBytes = ruleNumber(r, 'maxBytes');
  const minLen = ruleNumber(r, 'minLen');
  if (maxLen !== undefined) {
    out.push({ name: `max_len ${maxLen} in 4-byte characters`, value: () => '\u{1F525}'.repeat(maxLen) });
    out.push({ name: `max_len ${maxLen} + 1`, value: () => 'x'.repeat(maxLen + 1) });
    out.push({ name: `max_len ${maxLen} in combining sequences`, value: () => 'e\u0301'.repeat(Math.max(1, Math.floor(maxLen / 2))) });
  }
  if (maxBytes !== undefined) {
    out.push({ name: `max_bytes ${maxBytes} in 3-byte characters`, value: () => '\u20ac'.repeat(Math.floor(maxBytes / 3)) });
    out.push({ name: `max_bytes ${maxBytes} + 1`, value: () => `${'x'.repeat(maxBytes - 1)}\u00e9` });
  }
  if (minLen !== undefined && minLen > 0) out.push({ name: `min_len ${minLen} - 1`, value: () => 'x'.repeat(minLen - 1) });
  return out;
}
