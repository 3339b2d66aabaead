import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'vitest';
import { schemas } from '@hearth/config';
import { createRng } from '@hearth/testkit';
import { FieldCipher, FieldCipherError, type RingKey } from '../src/index.js';

const key = (id: string): RingKey => ({ id, key: randomBytes(32) });

/** Text of every UTF-8 width (ASCII, 2-, 3- and 4-byte characters), empty included. */
function text(rng: ReturnType<typeof createRng>): string {
  const pools = ['abc xyz 09', 'éøßñü', '☕中文ひらがな', '🌙🫶🏽👩‍👩‍👧'];
  let s = '';
  const n = rng.int(60);
  for (let i = 0; i < n; i++) {
    const chars = [...rng.pick(pools)];
    s += rng.pick(chars);
  }
  return s;
}

describe('FieldCipher', () => {
  it('opens what it sealed, for generated text of every width, and never stores the text', () => {
    const rng = createRng(0xc1f3);
    const cipher = new FieldCipher([key('k1')]);
    for (let i = 0; i < 300; i++) {
      const plain = text(rng);
      const sealed = cipher.seal(plain, `row-${i}`);
      assert.equal(sealed.keyId, 'k1');
      assert.equal(cipher.open(sealed, `row-${i}`), plain);
      if (plain.length >= 4) assert.ok(!Buffer.from(sealed.data).includes(Buffer.from(plain, 'utf8')), 'the plaintext is not in the sealed bytes');
    }
    // Sealing twice gives different bytes (a fresh IV each time).
    assert.notDeepEqual(cipher.seal('same', 'row').data, cipher.seal('same', 'row').data);
  });

  it('refuses any altered byte, a value moved to another row, and a truncated value', () => {
    const rng = createRng(0xbadf);
    const cipher = new FieldCipher([key('k1')]);
    const sealed = cipher.seal('I need someone to talk to tonight', 'message-1');
    for (let i = 0; i < 200; i++) {
      const data = Buffer.from(sealed.data);
      const at = rng.int(data.length);
      data[at] = (data[at]! ^ (1 + rng.int(255))) & 0xff;
      assert.throws(() => cipher.open({ keyId: 'k1', data }, 'message-1'), FieldCipherError, `byte ${at} altered`);
    }
    assert.throws(() => cipher.open(sealed, 'message-2'), FieldCipherError, 'another row');
    assert.throws(() => cipher.open({ keyId: 'k1', data: sealed.data.subarray(0, 20) }, 'message-1'), FieldCipherError);
  });

  it('rotates: new values under the first key, old values still open, an unknown key is refused', () => {
    const [k1, k2] = [key('k1'), key('k2')];
    const before = new FieldCipher([k1]);
    const old = before.seal('before rotation', 'row');
    const after = new FieldCipher([k2, k1]);
    assert.equal(after.currentKeyId, 'k2');
    assert.equal(after.open(old, 'row'), 'before rotation');
    const fresh = after.seal('after rotation', 'row');
    assert.equal(fresh.keyId, 'k2');
    assert.throws(() => before.open(fresh, 'row'), /no key "k2"/);
    // Same id, other key material (a mistyped ring): refused, not garbage.
    assert.throws(() => new FieldCipher([key('k2')]).open(fresh, 'row'), FieldCipherError);
  });

  it('digests: equal under one key, different under another, never the bare hash', () => {
    const [k1, k2] = [key('k1'), key('k2')];
    const ring = new FieldCipher([k2, k1]);
    assert.deepEqual(ring.digest('same text'), ring.digest('same text', 'k2'));
    assert.notDeepEqual(ring.digest('same text'), ring.digest('other text'));
    assert.notDeepEqual(ring.digest('same text', 'k1'), ring.digest('same text', 'k2'));
    assert.deepEqual(new FieldCipher([k1]).digest('same text'), ring.digest('same text', 'k1'), 'an old key still gives its digests');
    assert.throws(() => ring.digest('x', 'k9'), FieldCipherError);
  });

  it('tells a retry from a different request by a stored digest, also after a rotation', () => {
    const [k1, k2] = [key('k1'), key('k2')];
    const stored = { digest: new FieldCipher([k1]).digest('the request'), keyId: 'k1' };
    const rotated = new FieldCipher([k2, k1]);
    assert.equal(rotated.digestMatches('the request', stored), true);
    assert.equal(rotated.digestMatches('another request', stored), false);
    assert.equal(rotated.digestMatches('the request', { ...stored, digest: stored.digest.slice(0, 16) }), false, 'a truncated digest');
    assert.throws(() => new FieldCipher([k2]).digestMatches('the request', stored), FieldCipherError);
  });

  it('never prints a key', () => {
    assert.equal(JSON.stringify({ cipher: new FieldCipher([key('k1')]) }), '{"cipher":"[FieldCipher]"}');
  });
});

describe('parseKeyRing', () => {
  const b64 = () => randomBytes(32).toString('base64');

  it('reads id:key pairs, the first current', () => {
    const parsed = schemas.parseKeyRing(` k2:${b64()} , k1:${b64()}`);
    assert.ok('keys' in parsed);
    assert.deepEqual(parsed.keys.map((k) => k.id), ['k2', 'k1']);
  });

  it('names what is wrong without echoing key material', () => {
    const short = randomBytes(16).toString('base64');
    for (const [ring, want] of [
      ['', /at least one/],
      [b64(), /expected <id>:<base64 key>/],
      [`k1:${short}`, /"k1" must be base64 of exactly 32 bytes/],
      [`k1:${b64()},k1:${b64()}`, /listed twice/],
      [`bad id:${b64()}`, /entry 1/],
    ] as const) {
      const parsed = schemas.parseKeyRing(ring);
      assert.ok('problem' in parsed, ring);
      assert.match(parsed.problem, want);
      assert.ok(!parsed.problem.includes(short) && !ring.split(/[:,]/).slice(1).some((k) => k.length > 8 && parsed.problem.includes(k)), 'no key material');
    }
  });
});
