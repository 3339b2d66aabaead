// The servers' response compression: fast levels, the same formats (anything that speaks gzip
// or brotli reads it), and connect-node's limits on what a compressed request may inflate to.
import assert from 'node:assert/strict';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { describe, it } from 'vitest';
import { Code, ConnectError } from '@connectrpc/connect';
import { createRng } from '@hearth/testkit';
import { fastCompression } from '../src/compression.js';

describe('fastCompression', () => {
  it('round-trips generated bodies in both formats, readable by zlib itself, and smaller when repetitive', async () => {
    const rnd = createRng(5);
    for (const c of fastCompression) {
      for (let i = 0; i < 50; i++) {
        const text = Array.from({ length: 1 + rnd.int(400) }, () => rnd.pick(['support ', 'circle ', 'thank you ', rnd.hex(6)])).join('');
        const bytes = new TextEncoder().encode(text);
        const packed = await c.compress(bytes);
        assert.ok(Buffer.from(await c.decompress(packed, 1 << 20)).equals(bytes), `${c.name} round-trips`);
        const plain = c.name === 'gzip' ? gunzipSync(packed) : brotliDecompressSync(packed);
        assert.equal(new TextDecoder().decode(plain), text);
      }
      // Small bodies are compressed in place, large ones on the thread pool: both readable.
      for (const size of [2_000, 200_000]) {
        const big = new TextEncoder().encode('hearth '.repeat(size / 7));
        const packed = await c.compress(big);
        assert.ok(packed.byteLength < big.byteLength / 10, `${c.name} compresses ${size} bytes`);
        assert.ok(Buffer.from(await c.decompress(packed, 1 << 20)).equals(big));
      }
    }
  });

  it('refuses a request that inflates past the read limit with ResourceExhausted', async () => {
    for (const c of fastCompression) {
      const bomb = await c.compress(new Uint8Array(1 << 20));
      const err = await c.decompress(bomb, 1024).then(
        () => assert.fail('inflated past the limit'),
        (e: unknown) => ConnectError.from(e),
      );
      assert.equal(err.code, Code.ResourceExhausted, c.name);
    }
  });
});
