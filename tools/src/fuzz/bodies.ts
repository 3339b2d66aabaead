import { gzipSync } from 'node:zlib';
import type { Variant } from './texts.js';

/** A whole request: its bytes and the headers that differ from a Connect JSON call. */
export interface Body {
  readonly bytes: Uint8Array;
  readonly headers: Readonly<Record<string, string>>;
}

export const JSON_TYPE = 'application/json';
export const PROTO_TYPE = 'application/proto';

const text = (s: string, headers: Record<string, string> = {}): Body => ({ bytes: Buffer.from(s, 'utf8'), headers: { 'content-type': JSON_TYPE, ...headers } });

let bomb: Buffer | undefined;

/** The valid-shape JSON text, and it with one string field set to "FUZZMARK" (undefined without one). */
type Texts = [baseline: string, withMarker: string | undefined];

/**
 * Whole bodies and headers that are wrong before any field is read: not JSON, not an object,
 * not UTF-8, nested too deep, past the body limit, a compression that is not what it claims
 * (or a gzip bomb), a content type Connect does not speak, protocol headers out of range.
 */
export function malformedBodies(): Variant<Body, Texts>[] {
  const markerBytes = (baseline: string, withMarker: string | undefined, bytes: number[]): Body => {
    const source = withMarker ?? withRawMembers(baseline, '"fuzzUnknownField":"FUZZMARK"');
    const [before, after] = source.split('FUZZMARK') as [string, string];
    return { bytes: Buffer.concat([Buffer.from(before), Buffer.from(bytes), Buffer.from(after)]), headers: { 'content-type': JSON_TYPE } };
  };
  const first = (baseline: string) => baseline.match(/^\{("[^"]+"):/)?.[1];
  return [
    { name: 'invalid UTF-8 in a string', first: true, value: (b, m) => markerBytes(b, m, [0xc3, 0x28, 0xff, 0xfe]) },
    { name: 'empty body', value: () => text('') },
    { name: 'JSON null', value: () => text('null') },
    { name: 'JSON array', value: (baseline) => text(`[${baseline}]`) },
    { name: 'JSON string', value: () => text('"x"') },
    { name: 'unterminated object', value: (baseline) => text(baseline.slice(0, -1)) },
    { name: 'two objects', value: (baseline) => text(`${baseline}${baseline}`) },
    { name: 'byte order mark', value: (baseline) => text(`\ufeff${baseline}`) },
    { name: 'duplicate keys', value: (baseline) => text(first(baseline) ? `{${first(baseline)}:null,${baseline.slice(1)}` : '{"a":1,"a":2}') },
    { name: 'UTF-16 body', value: (baseline) => ({ bytes: Buffer.from(baseline, 'utf16le'), headers: { 'content-type': JSON_TYPE } }) },
    { name: 'array nested 100k deep', value: () => text(`${'['.repeat(100_000)}${']'.repeat(100_000)}`) },
    { name: 'object nested 20k deep', value: () => text(`{"fuzz":${'{"a":'.repeat(20_000)}1${'}'.repeat(20_001)}`) },
    { name: 'body past the 1 MiB limit', value: () => text(`{"fuzzUnknownField":"${'x'.repeat(2 * 1024 * 1024)}"}`) },
    { name: 'gzip claimed, not gzip', value: (baseline) => text(baseline, { 'content-encoding': 'gzip' }) },
    { name: 'unsupported content-encoding', value: (baseline) => text(baseline, { 'content-encoding': 'zstd' }) },
    { name: 'gzip bomb (64 MiB inflated)', value: () => ({ bytes: (bomb ??= gzipSync(Buffer.alloc(64 * 1024 * 1024, 0x20))), headers: { 'content-type': JSON_TYPE, 'content-encoding': 'gzip' } }) },
    { name: 'text/plain', value: (baseline) => text(baseline, { 'content-type': 'text/plain' }) },
    { name: 'form-encoded', value: () => text('a=1&b=2', { 'content-type': 'application/x-www-form-urlencoded' }) },
    { name: 'JSON with charset utf-16', value: (baseline) => text(baseline, { 'content-type': 'application/json; charset=utf-16' }) },
    { name: 'no content-type', value: (baseline) => ({ bytes: Buffer.from(baseline), headers: {} }) },
    { name: 'streaming content-type on a unary RPC', value: (baseline) => text(baseline, { 'content-type': 'application/connect+json' }) },
    { name: 'connect-protocol-version 2', value: (baseline) => text(baseline, { 'connect-protocol-version': '2' }) },
    { name: 'negative connect-timeout-ms', value: (baseline) => text(baseline, { 'connect-timeout-ms': '-1' }) },
    { name: 'huge connect-timeout-ms', value: (baseline) => text(baseline, { 'connect-timeout-ms': '99999999999999999999' }) },
  ];
}

/** JSON text with raw members spliced in at the front: keys a JS object cannot hold as data. */
export function withRawMembers(json: string, members: string): string {
  return json === '{}' ? `{${members}}` : `{${members},${json.slice(1)}`;
}
