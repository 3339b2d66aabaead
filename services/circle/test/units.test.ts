// Pure units: search words, invite codes, page tokens.
import assert from 'node:assert/strict';
import { Code } from '@connectrpc/connect';
import { DiscoverCirclesRequestSchema } from '@hearth/contracts/gen/hearth/circle/v1/circle_service_pb.js';
import { InvalidPageTokenError, PageTokens } from '@hearth/db';
import { knownError } from '@hearth/platform';
import { describe, it } from 'vitest';
import { INVITE_ALPHABET, INVITE_CODE_LENGTH, newInviteCode } from '../src/service/invite-codes.js';
import { circlePages } from '../src/service/pages.js';
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
  const pages = circlePages(PageTokens.fromSecret('circle units'));
  const id = '01900000-0000-7000-8000-000000000000';
  const t = new Date('2026-11-24T10:00:00.000Z');

  /** The token with its position edited and its tag left as it was (version byte, JSON, 16-byte tag). */
  const edited = (token: string, change: (position: Record<string, unknown>) => Record<string, unknown>) => {
    const bytes = Buffer.from(token, 'base64url');
    const position = JSON.parse(bytes.subarray(1, -16).toString('utf8')) as Record<string, unknown>;
    return Buffer.concat([bytes.subarray(0, 1), Buffer.from(JSON.stringify(change(position))), bytes.subarray(-16)]).toString('base64url');
  };

  it('round-trip a position under the same filters', () => {
    const token = pages.discover.encode({ t, id }, 'grief');
    assert.deepEqual(pages.discover.decode(token, 'grief'), { t, id });
    assert.equal(pages.discover.decode('', 'grief'), undefined);
  });

  it('refuse other filters, other lists, forged and edited tokens and bad fields with InvalidArgument', () => {
    const token = pages.discover.encode({ t, id }, 'grief');
    const bad = [
      () => pages.discover.decode(token, 'loss'),
      () => pages.myCircles.decode(token, 'grief'),
      () => pages.discover.decode('not a token', ''),
      () => pages.discover.decode(circlePages(PageTokens.fromSecret('another deployment')).discover.encode({ t, id }, 'grief'), 'grief'),
      () => pages.discover.decode(edited(token, (p) => ({ ...p, t: 'yesterday' })), 'grief'),
      () => pages.discover.decode(edited(token, (p) => ({ ...p, id: "x' or 1=1" })), 'grief'),
      () => pages.discover.decode(edited(token, (p) => ({ ...p, f: 'loss' })), 'loss'),
      // Signed by this deployment, but with fields the list does not read.
      () => pages.discover.decode(pages.discover.encode({ t: 'yesterday' as unknown as Date, id }, ''), ''),
      () => pages.discover.decode(pages.discover.encode({ t, id: "x' or 1=1" }, ''), ''),
    ];
    for (const [i, f] of bad.entries()) {
      assert.throws(
        f,
        (err) => err instanceof InvalidPageTokenError && knownError(err, DiscoverCirclesRequestSchema)?.code === Code.InvalidArgument,
        `bad token ${i}`,
      );
    }
  });
});
