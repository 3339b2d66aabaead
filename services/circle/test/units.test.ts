// Pure units: search words, invite codes, page tokens.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Code, ConnectError } from '@connectrpc/connect';
import { INVITE_ALPHABET, INVITE_CODE_LENGTH, newInviteCode } from '../src/service/invite-codes.js';
import { decodePage, encodePage, field } from '../src/service/pages.js';
import { searchWords } from '../src/service/search.js';

describe('searchWords', () => {
  it('keeps letters and digits only, lower-cased, so tsquery syntax never reaches Postgres', () => {
    assert.deepEqual(searchWords("Grief & loss: 'parents' | !kids:* (2024)"), ['grief', 'loss', 'parents', 'kids', '2024']);
    assert.deepEqual(searchWords('Éte ÉTÉ été'), ['éte', 'été']);
    assert.deepEqual(searchWords('  !!! '), []);
    assert.equal(searchWords('a b c d e f g h i j k').length, 8);
  });
});

describe('invite codes', () => {
  it('are 12 characters of an alphabet without look-alikes, drawn evenly', () => {
    assert.equal(new Set(INVITE_ALPHABET).size, INVITE_ALPHABET.length);
    for (const ch of '0O1lIo') assert.ok(!INVITE_ALPHABET.includes(ch), ch);
    const counts = new Map<string, number>();
    for (let i = 0; i < 2_000; i++) {
      const code = newInviteCode();
      assert.equal(code.length, INVITE_CODE_LENGTH);
      for (const ch of code) counts.set(ch, (counts.get(ch) ?? 0) + 1);
    }
    // 24,000 draws over 56 symbols: about 429 each; a biased generator would leave some far off.
    assert.equal(counts.size, INVITE_ALPHABET.length);
    for (const [ch, n] of counts) assert.ok(n > 300 && n < 560, `${ch} drawn ${n} times`);
  });
});

describe('page tokens', () => {
  const read = (raw: Record<string, unknown>) => {
    const time = field.time(raw.t);
    const id = field.uuid(raw.id);
    return time && id ? { time, id } : undefined;
  };
  const id = '01900000-0000-7000-8000-000000000000';

  it('round-trip a position under the same filters', () => {
    const token = encodePage({ t: '2026-11-24T10:00:00.000Z', id }, 'grief');
    assert.deepEqual(decodePage(token, 'grief', read), { time: new Date('2026-11-24T10:00:00.000Z'), id });
    assert.equal(decodePage('', 'grief', read), undefined);
  });

  it('refuse other filters, foreign tokens and tampered fields with InvalidArgument', () => {
    const token = encodePage({ t: '2026-11-24T10:00:00.000Z', id }, 'grief');
    const bad = [
      () => decodePage(token, 'loss', read),
      () => decodePage('not a token', '', read),
      () => decodePage(encodePage({ t: 'yesterday', id }, ''), '', read),
      () => decodePage(encodePage({ t: '2026-11-24T10:00:00.000Z', id: "x' or 1=1" }, ''), '', read),
    ];
    for (const f of bad) {
      assert.throws(f, (err) => err instanceof ConnectError && err.code === Code.InvalidArgument);
    }
  });
});
