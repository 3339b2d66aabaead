import { promisify } from 'node:util';
import * as zlib from 'node:zlib';
import type { Compression } from '@connectrpc/connect/protocol';
import { compressionBrotli, compressionGzip } from '@connectrpc/connect-node';

const gzip = promisify(zlib.gzip);
const brotli = promisify(zlib.brotliCompress);

/**
 * Bodies up to this size are compressed on the calling thread: for a few KiB that takes about
 * 20 µs, where zlib's asynchronous path (a stream and a thread-pool round trip per call) costs
 * four times the CPU. Larger bodies go to the thread pool, so no call holds the event loop long.
 */
const SYNC_MAX_BYTES = 64 * 1024;
const GZIP = { level: 1 };
const BROTLI = { params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 4 } };

const asBytes = (b: Buffer): Uint8Array<ArrayBuffer> => new Uint8Array(b.buffer as ArrayBuffer, b.byteOffset, b.byteLength);

/**
 * Response compression at a cost a busy server can afford. connect-node compresses with zlib's
 * defaults (gzip level 6, brotli quality 11) through zlib's asynchronous path: serving feed
 * pages (bench:feed) that took a third of the server's CPU. Here small bodies are compressed
 * in place, at gzip level 1 or brotli quality 4, which keep most of the saving on the wire.
 * Decompressing requests is connect-node's own, with its size limits.
 */
export const fastCompression: readonly Compression[] = [
  {
    name: compressionGzip.name,
    compress: async (bytes) => asBytes(bytes.byteLength <= SYNC_MAX_BYTES ? zlib.gzipSync(bytes, GZIP) : await gzip(bytes, GZIP)),
    decompress: (bytes, readMaxBytes) => compressionGzip.decompress(bytes, readMaxBytes),
  },
  {
    name: compressionBrotli.name,
    compress: async (bytes) => asBytes(bytes.byteLength <= SYNC_MAX_BYTES ? zlib.brotliCompressSync(bytes, BROTLI) : await brotli(bytes, BROTLI)),
    decompress: (bytes, readMaxBytes) => compressionBrotli.decompress(bytes, readMaxBytes),
  },
];
