import type { Rng } from './prng.js';
import type { Variant } from './texts.js';

const b64 = (s: string | Uint8Array) => Buffer.from(s).toString('base64url');
const json = (o: unknown) => JSON.stringify(o);
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** Times JavaScript parses but Postgres cannot store (before 4713 BC), or cannot parse at all. */
const BAD_TIMES = ['-271821-04-20T00:00:00.000Z', '+275760-09-13T00:00:00.000Z', 'not-a-time'];

/**
 * Page tokens a client could forge. They are opaque by contract (ADR 0003), so any of these
 * must be InvalidArgument: random base64url; base64url JSON shaped like a keyset position
 * (`{t, id, f}`, with and without a version byte and a tag) whose id is malformed or whose
 * time is out of range; tokens past the 512-byte cap; text that is not base64url at all; and,
 * when the baseline got one, the server's own token with each position field spoilt in turn.
 */
export function forgedPageTokens(rng: Rng, issued: string | undefined): Variant<string>[] {
  const time = '2026-11-30T12:00:00.000Z';
  const uuid = '01a22dbe-e7e2-7e76-8a81-d6c9a3f2f5e7';
  const versioned = (body: string) => b64(Buffer.concat([Buffer.of(1), Buffer.from(body), rng.bytes(16)]));
  const out: Variant<string>[] = [
    { name: 'random base64url', first: true, value: () => b64(rng.bytes(8 + rng.int(56))) },
    { name: 'JSON position with a malformed id', first: true, value: () => b64(json({ t: time, id: 'not-a-uuid', f: '' })) },
    { name: 'JSON position with a time before 4713 BC', first: true, value: () => b64(json({ t: BAD_TIMES[0], id: uuid, f: '' })) },
    { name: 'JSON position without filters, time before 4713 BC', value: () => b64(json({ t: BAD_TIMES[0], id: uuid })) },
    { name: 'JSON position without filters, malformed id', value: () => b64(json({ t: time, id: "x' OR 1=1 --" })) },
    { name: 'JSON position with a time that is not a time', value: () => b64(json({ t: 'yesterday', id: uuid, f: '' })) },
    { name: 'JSON position with numbers for strings', value: () => b64(json({ t: 0, id: 7, f: 1, r: '1' })) },
    { name: 'JSON position with an upper-case id', value: () => b64(json({ t: time, id: uuid.toUpperCase(), f: '' })) },
    { name: 'JSON position with NUL in the id', value: () => b64(json({ t: time, id: `${uuid}\u0000`, f: '' })) },
    { name: 'JSON array', value: () => b64('[1,2,3]') },
    { name: 'JSON null', value: () => b64('null') },
    { name: 'versioned JSON position with a malformed id', value: () => versioned(json({ t: time, id: 'x', f: '' })) },
    { name: 'versioned JSON position with a time before 4713 BC', value: () => versioned(json({ t: BAD_TIMES[0], id: uuid, f: '' })) },
    { name: 'unknown version byte', value: () => b64(Buffer.concat([Buffer.of(255), Buffer.from(json({ t: time, id: uuid })), rng.bytes(16)])) },
    { name: 'base64 JSON that is not UTF-8', value: () => b64(Buffer.from([0x7b, 0x22, 0x74, 0x22, 0x3a, 0x22, 0xc3, 0x28, 0x22, 0x7d])) },
    { name: '513 characters', value: () => 'A'.repeat(513) },
    { name: '100k characters', value: () => b64(rng.bytes(75_000)) },
    { name: 'standard base64 with padding', value: () => Buffer.from(json({ t: time, id: uuid })).toString('base64') },
    { name: 'not base64 at all', value: () => '!!!%%%$$$' },
    { name: 'lone surrogate', value: () => 'abc\ud800' },
    { name: 'NUL', value: () => 'eyJ0Ijo\u0000' },
  ];
  if (issued) out.push(...fromIssued(issued, rng));
  return out;
}

/** The issued token with one thing spoilt: each position field in turn, or a character, or its end. */
function fromIssued(token: string, rng: Rng): Variant<string>[] {
  const out: Variant<string>[] = [
    { name: 'issued token with one character changed', first: true, value: () => flipOne(token, rng) },
    { name: 'issued token truncated', value: () => token.slice(0, Math.max(1, Math.floor(token.length / 2))) },
  ];
  const bytes = Buffer.from(token, 'base64url');
  // Plain JSON, or a version byte, JSON and a tag: find the JSON object in it.
  const start = bytes.indexOf(0x7b);
  const end = bytes.lastIndexOf(0x7d);
  if (start < 0 || end < start) return out;
  let position: Record<string, unknown>;
  try {
    position = JSON.parse(bytes.subarray(start, end + 1).toString('utf8')) as Record<string, unknown>;
  } catch {
    return out;
  }
  const reencode = (changed: Record<string, unknown>) =>
    Buffer.concat([bytes.subarray(0, start), Buffer.from(JSON.stringify(changed)), bytes.subarray(end + 1)]).toString('base64url');
  for (const [key, value] of Object.entries(position)) {
    const spoilt: [string, unknown][] =
      typeof value === 'string' && UUID.test(value)
        ? [['malformed id', 'not-a-uuid'], ['upper-case id', value.toUpperCase()], ['id with NUL', `${value}\u0000`]]
        : typeof value === 'string' && !Number.isNaN(Date.parse(value))
          ? BAD_TIMES.map((t) => [`time ${t}`, t])
          : typeof value === 'number'
            ? [['negative', -1], ['huge', 1e300], ['string', String(value)]]
            : [['number', 1], ['object', {}]];
    for (const [label, bad] of spoilt) {
      out.push({ name: `issued token, ${key}: ${label}`, first: true, value: () => reencode({ ...position, [key]: bad }) });
    }
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
