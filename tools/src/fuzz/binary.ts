import { type DescMessage, type JsonObject, fromJson, toBinary } from '@bufbuild/protobuf';
import type { Rng } from './prng.js';
import type { Variant } from './texts.js';

/** The baseline as protobuf bytes, or undefined if the generated JSON does not parse as the message. */
export function baselineBytes(message: DescMessage, baseline: JsonObject): Uint8Array | undefined {
  try {
    return toBinary(message, fromJson(message, baseline));
  } catch {
    return undefined;
  }
}

/**
 * Bodies for the binary protocol (application/proto): random bytes, the valid message cut
 * short or with a byte changed, and the malformed encodings decoders trip on (a length past
 * the end, an endless varint, field number 0, an unterminated group, a wire type that does
 * not exist).
 */
export function binaryBodies(valid: Uint8Array | undefined, rng: Rng): Variant<Uint8Array>[] {
  const out: Variant<Uint8Array>[] = [
    { name: 'random bytes', first: true, value: () => rng.bytes(1 + rng.int(256)) },
    { name: 'length far past the end', value: () => Uint8Array.of(0x0a, 0xff, 0xff, 0xff, 0xff, 0x07, 0x61) },
    { name: 'endless varint', value: () => Uint8Array.of(0x08, ...Array<number>(11).fill(0xff)) },
    { name: 'field number 0', value: () => Uint8Array.of(0x00, 0x01) },
    { name: 'unterminated group', value: () => Uint8Array.of(0x0b, 0x08, 0x01) },
    { name: 'wire type 7', value: () => Uint8Array.of(0x0f, 0x01) },
    { name: 'field number 2^29 - 1', value: () => Uint8Array.of(0xf8, 0xff, 0xff, 0xff, 0x0f, 0x01) },
    { name: 'invalid UTF-8 in field 1', value: () => Uint8Array.of(0x0a, 0x02, 0xc3, 0x28) },
  ];
  if (valid && valid.length > 1) {
    out.push({ name: 'valid message truncated', first: true, value: () => valid.subarray(0, 1 + rng.int(valid.length - 1)) });
    out.push({
      name: 'valid message with one byte changed',
      value: () => {
        const copy = Uint8Array.from(valid);
        const i = rng.int(copy.length);
        copy[i] = (copy[i] as number) ^ (1 + rng.int(255));
        return copy;
      },
    });
    out.push({ name: 'valid message', value: () => valid });
  }
  return out;
}
