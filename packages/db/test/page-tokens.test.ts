import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'vitest';
import { createRng } from '@hearth/testkit';
import { InvalidPageTokenError, PageTokens, canonicalUuid, isUuid, newId, pageField } from '../src/index.js';

const tokens = PageTokens.fromSecret(randomBytes(32));
const codec = tokens.codec('test.list', { t: pageField.time(), id: pageField.id() });

/** testkit's seeded generator, so a failure names the case that broke. */
const rng = (seed: number): (() => number) => createRng(seed).float;

describe('page tokens', () => {
  it('round-trip a position, bound to the list and the filters', () => {
    const position = { t: new Date('2026-11-23T10:00:00.123Z'), id: newId() };
    const token = codec.encode(position, 'archived');
    assert.match(token, /^[A-Za-z0-9_-]+$/);
    assert.deepEqual(codec.decode(token, 'archived'), position);
    assert.equal(codec.decode(''), undefined, 'the empty token is the first page');
    assert.throws(() => codec.decode(token, ''), /other filters/);
    const other = tokens.codec('test.other', { t: pageField.time(), id: pageField.id() });
    assert.throws(() => other.decode(token, 'archived'), InvalidPageTokenError, 'a token of another list');
  });

  it('are refused when made by another key (another deployment, a forger)', () => {
    const forged = PageTokens.fromSecret(randomBytes(32)).codec('test.list', { t: pageField.time(), id: pageField.id() });
    const token = forged.encode({ t: new Date(), id: newId() });
    assert.throws(() => codec.decode(token), InvalidPageTokenError);
  });

  it('refuse every change to a real token: any flipped bit, any cut, any addition', () => {
    const token = codec.encode({ t: new Date('2026-01-01T00:00:00Z'), id: newId() });
    const bytes = Buffer.from(token, 'base64url');
    for (let bit = 0; bit < bytes.length * 8; bit++) {
      const changed = Buffer.from(bytes);
      changed[bit >> 3] = (changed[bit >> 3] as number) ^ (1 << (bit & 7));
      assert.throws(() => codec.decode(changed.toString('base64url')), InvalidPageTokenError, `bit ${bit}`);
    }
    for (let cut = 1; cut < bytes.length; cut++) {
      assert.throws(() => codec.decode(bytes.subarray(0, cut).toString('base64url')), InvalidPageTokenError, `cut at ${cut}`);
    }
    assert.throws(() => codec.decode(Buffer.concat([bytes, Buffer.of(0)]).toString('base64url')), InvalidPageTokenError);
  });

  it('refuse random strings of every shape with InvalidPageTokenError, never anything else', () => {
    const next = rng(0x5eed);
    const alphabets = ['ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_', '!@#$%^&*()+=[]{}|;:,.<>?/~` ', '\u0000\u00e9\u4e2d\ud83d\ude00\ud800'];
    for (let i = 0; i < 2_000; i++) {
      const alphabet = alphabets[i % alphabets.length] as string;
      const length = Math.floor(next() * 700);
      let token = '';
      for (let j = 0; j < length; j++) token += alphabet[Math.floor(next() * alphabet.length)];
      if (token === '') continue;
      assert.throws(() => codec.decode(token), InvalidPageTokenError, JSON.stringify(token.slice(0, 40)));
    }
    // Base64 of JSON that looks like a position, as the old unsigned tokens were.
    const forgedJson = Buffer.from(JSON.stringify({ t: '9999-99-99', id: 'x', f: '' })).toString('base64url');
    assert.throws(() => codec.decode(forgedJson), InvalidPageTokenError);
  });

  it('refuses to encode past the 512-character page_token limit', () => {
    const wide = tokens.codec('test.wide', { s: pageField.text(10_000) });
    assert.throws(() => wide.encode({ s: 'x'.repeat(600) }), RangeError);
  });

  it('checks what an authentic token carries against the list\'s position shape', () => {
    const v1 = tokens.codec('test.shape', { t: pageField.time(), id: pageField.id() });
    const v2 = tokens.codec('test.shape', { t: pageField.time(), id: pageField.id(), r: pageField.int(1, 3) });
    assert.throws(() => v2.decode(v1.encode({ t: new Date(), id: newId() })), /another version/);
  });
});

describe('ids', () => {
  it('newId returns UUIDv7 strings that sort in creation order', () => {
    const ids = Array.from({ length: 2_000 }, () => newId());
    for (const id of ids) assert.match(id, /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    assert.deepEqual([...ids].sort(), ids);
  });

  it('canonicalUuid gives every spelling of an id one lower-case form, and nothing else passes', () => {
    const next = rng(42);
    for (let i = 0; i < 1_000; i++) {
      const id = newId();
      const spelled = [...id].map((c) => (next() < 0.5 ? c.toUpperCase() : c)).join('');
      assert.equal(canonicalUuid(spelled), id);
      assert.ok(isUuid(spelled));
    }
    for (const bad of ['', 'x', `${newId()} `, `{${newId()}}`, newId().replaceAll('-', ''), `${newId()}0`]) {
      assert.equal(canonicalUuid(bad), undefined, bad);
      assert.equal(isUuid(bad), false, bad);
    }
  });
});
