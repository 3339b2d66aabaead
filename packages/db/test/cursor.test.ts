import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InvalidCursorError, decodeCursor, encodeCursor, newId } from '../src/index.js';

describe('cursors', () => {
  it('round-trips a position through an opaque base64url token', () => {
    const position = { t: '2026-11-23T10:00:00.123Z', id: newId(), seq: 42 };
    const token = encodeCursor(position);
    assert.match(token, /^[A-Za-z0-9_-]+$/);
    assert.ok(!token.includes(position.id), 'the token must not show its contents as plain text');
    assert.deepEqual(decodeCursor(token), position);
  });

  const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64url');
  const garbage: [string, string][] = [
    ['empty', ''],
    ['not base64url', 'abc$%^'],
    ['base64 with padding', `${b64('{"a":1}')}==`],
    ['not JSON', b64('hello')],
    ['JSON array', b64('[1,2]')],
    ['JSON null', b64('null')],
    ['JSON number', b64('42')],
    ['JSON string', b64('"x"')],
    ['too long', b64(JSON.stringify({ pad: 'x'.repeat(600) }))],
  ];
  for (const [what, token] of garbage) {
    it(`rejects ${what} with InvalidCursorError`, () => {
      assert.throws(() => decodeCursor(token), (err: unknown) => err instanceof InvalidCursorError && /invalid page token/.test(err.message));
    });
  }

  it('refuses to encode a position above the 512-byte page_token limit', () => {
    assert.throws(() => encodeCursor({ pad: 'x'.repeat(600) }), RangeError);
  });
});

describe('newId', () => {
  it('returns UUIDv7 strings that sort in creation order', () => {
    const ids = Array.from({ length: 2_000 }, () => newId());
    for (const id of ids) assert.match(id, /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    assert.deepEqual([...ids].sort(), ids);
    assert.equal(new Set(ids).size, ids.length);
  });
});
