import type { Rng } from './prng.js';
import type { Variant } from './texts.js';

const b64 = (s: string | Uint8Array) => Buffer.from(s).toString('base64url');
const json = (o: unknown) => JSON.stringify(o);

/**
 * Page tokens a client could forge. They are opaque by contract (ADR 0003), so any of these
 * must be InvalidArgument: random base64url, base64url JSON shaped like a keyset position
 * (`{t, id, f}`, with and without a version byte and a tag) whose id is malformed or whose
 * time is out of range, tokens past the 512-byte cap, and text that is not base64url at all.
 * `real` is a token the server issued for this list, when the baseline got one.
 */
export function forgedPageTokens(rng: Rng, real: string | undefined): Variant<string>[] {
  const time = '2026-11-30T12:00:00.000Z';
  const uuid = '01a22dbe-e7e2-7e76-8a81-d6c9a3f2f5e7';
  const versioned = (body: string) => b64(Buffer.concat([Buffer.of(1), Buffer.from(body), rng.bytes(16)]));
  const out: Variant<string>[] = [
    { name: 'random base64url', first: true, value: () => b64(rng.bytes(8 + rng.int(56))) },
    { name: 'JSON position with a malformed id', first: true, value: () => b64(json({ t: time, id: 'not-a-uuid', f: '' })) },
    { name: 'JSON position with an out-of-range time', first: true, value: () => b64(json({ t: '+275760-09-13T00:00:00.001Z', id: uuid, f: '' })) },
    { name: 'JSON position with a year-10000 time', value: () => b64(json({ t: '10000-01-01T00:00:00Z', id: uuid })) },
    { name: 'JSON position with a time that is not a time', value: () => b64(json({ t: 'yesterday', id: uuid, f: '' })) },
    { name: 'JSON position with numbers for strings', value: () => b64(json({ t: 0, id: 7, f: 1, r: '1' })) },
    { name: 'JSON position with an upper-case id', value: () => b64(json({ t: time, id: uuid.toUpperCase(), f: '' })) },
    { name: 'JSON position with NUL in the id', value: () => b64(json({ t: time, id: `${uuid}\u0000`, f: '' })) },
    { name: 'JSON position with a SQL fragment', value: () => b64(json({ t: time, id: "' OR 1=1 --", code: "'", seq: '1; --', f: '' })) },
    { name: 'JSON array', value: () => b64('[1,2,3]') },
    { name: 'JSON null', value: () => b64('null') },
    { name: 'versioned JSON position with a malformed id', value: () => versioned(json({ t: time, id: 'x', f: '' })) },
    { name: 'versioned JSON position with an out-of-range time', value: () => versioned(json({ t: '-271821-04-20T00:00:00.000Z', id: uuid, f: '' })) },
    { name: 'unknown version byte', value: () => b64(Buffer.concat([Buffer.of(255), Buffer.from(json({ t: time, id: uuid })), rng.bytes(16)])) },
    { name: 'base64 JSON that is not UTF-8', value: () => b64(Buffer.from([0x7b, 0x22, 0x74, 0x22, 0x3a, 0x22, 0xc3, 0x28, 0x22, 0x7d])) },
    { name: '513 characters', value: () => 'A'.repeat(513) },
    { name: '100k characters', value: () => b64(rng.bytes(75_000)) },
    { name: 'standard base64 with padding', value: () => Buffer.from(json({ t: time, id: uuid })).toString('base64') },
    { name: 'not base64 at all', value: () => '!!!%%%$$$' },
    { name: 'lone surrogate', value: () => 'abc\ud800' },
    { name: 'NUL', value: () => 'eyJ0Ijo\u0000' },
  ];
  if (real) {
    out.push({ name: 'issued token with one character changed', first: true, value: () => flipOne(real, rng) });
    out.push({ name: 'issued token truncated', value: () => real.slice(0, Math.max(1, Math.floor(real.length / 2))) });
    out.push({ name: 'issued token upper-cased', value: () => real.toUpperCase() });
  }
  return out;
}

function flipOne(token: string, rng: Rng): string {
  const i = rng.int(token.length);
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
  let c = token[i] as string;
  while (c === token[i]) c = alphabet[rng.int(alphabet.length)] as string;
  return `${token.slice(0, i)}${c}${token.slice(i + 1)}`;
}
