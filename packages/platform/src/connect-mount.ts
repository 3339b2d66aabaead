import {
  Code,
  ConnectError,
  type ConnectRouter,
  type ConnectRouterOptions,
  createConnectRouter,
  createContextValues,
} from '@connectrpc/connect';
import { createLinkedAbortController } from '@connectrpc/connect/protocol';
import type { UniversalServerResponse } from '@connectrpc/connect/protocol';
import * as protoConnect from '@connectrpc/connect/protocol-connect';
import { errorToJsonBytes } from '@connectrpc/connect/protocol-connect';
import type { DescMessage } from '@bufbuild/protobuf';
import { jsonDecodeError } from './decode-errors.js';
import * as protoGrpc from '@connectrpc/connect/protocol-grpc';
import * as protoGrpcWeb from '@connectrpc/connect/protocol-grpc-web';
import { universalRequestFromNodeRequest, universalResponseToNodeResponse } from '@connectrpc/connect-node';
import { fastCompression } from './compression.js';
import type { FastifyInstance } from 'fastify';
import type { ServerResponse } from 'node:http';
import { clientAddressKey } from './client-address.js';
import { type UnaryAnswer, createUnaryPath } from './connect-unary.js';

export interface ConnectMountOptions extends ConnectRouterOptions {
  readonly routes: (router: ConnectRouter) => void;
  /** After `close()`, in-flight calls get this long before they are aborted. */
  readonly shutdownTimeoutMs: number;
  /** Unary Connect calls through connect-unary.ts (default); false sends every call to connect-es. */
  readonly unaryPath?: boolean;
}

/** A unary request body the lean path will serve (read by the content-type parser). */
class UnaryBody {
  constructor(readonly bytes: Uint8Array | 'tooLarge') {}
}

function answerAsUniversal(a: UnaryAnswer): UniversalServerResponse {
  const header = new Headers();
  for (const [k, v] of Object.entries(a.header)) for (const e of Array.isArray(v) ? v : [v]) header.append(k, e);
  return { status: a.status, header, body: (async function* () { yield a.body; })() };
}

async function universalAsAnswer(r: UniversalServerResponse): Promise<UnaryAnswer> {
  const chunks: Uint8Array[] = [];
  if (r.body) for await (const c of r.body as AsyncIterable<Uint8Array>) chunks.push(c);
  const header: Record<string, string | string[]> = {};
  r.header?.forEach((value, key) => {
    const e = header[key];
    header[key] = e === undefined ? value : Array.isArray(e) ? [...e, value] : [e, value];
  });
  return { status: r.status, header, body: Buffer.concat(chunks) };
}

/**
 * Mounts Connect handlers on Fastify, like @connectrpc/connect-fastify's plugin (same public
 * connect-node adapters), with one difference: a request whose binary protobuf body cannot be
 * decoded is answered InvalidArgument, as a malformed JSON body is. connect-es reports it as
 * Internal (its parse step runs before any interceptor), which would blame the server for a
 * client's bad input and page the on-call for it.
 */
export function mountConnect(app: FastifyInstance, opts: ConnectMountOptions): void {
  const shutdown = createLinkedAbortController(opts.shutdownSignal);
  app.addHook('preClose', (done) => {
    setTimeout(() => shutdown.abort(new ConnectError('server is shutting down', Code.Unavailable)), opts.shutdownTimeoutMs).unref();
    done();
  });
  const routerOptions = {
    acceptCompression: [...fastCompression],
    ...opts,
    shutdownSignal: shutdown.signal,
  };
  const router = createConnectRouter(routerOptions);
  // Unary Connect calls take the lean path (connect-unary.ts); everything else connect-es's.
  const unary = createUnaryPath(routerOptions, opts.routes, router);
  const useUnaryPath = opts.unaryPath ?? true;
  if (router.handlers.length === 0) return;

  void app.register(async (scope) => {
    // Connect reads bodies itself; these parsers only stop Fastify from consuming them.
    const noop = (_req: unknown, _payload: unknown, done: (err: null, body?: undefined) => void) => done(null, undefined);
    // A unary call's body is read here in full when the lean path will serve it; otherwise it
    // is left unread for connect-es.
    scope.addContentTypeParser([protoConnect.contentTypeUnaryJson, protoConnect.contentTypeUnaryProto], (req, payload, done) => {
      if (!useUnaryPath || req.method !== 'POST' || !unary.spec(req.routeOptions.url ?? '') || !unary.accepts(req.headers)) {
        done(null, undefined);
        return;
      }
      const chunks: Buffer[] = [];
      let length = 0;
      let settled = false;
      const onData = (chunk: Buffer) => {
        length += chunk.length;
        // A body of undeclared length stops being read past the limit, as connect-es stops;
        // Node discards the rest once the answer is sent.
        if (length > unary.readMaxBytes) {
          settled = true;
          payload.off('data', onData);
          payload.pause();
          done(null, new UnaryBody('tooLarge'));
          return;
        }
        chunks.push(chunk);
      };
      payload.on('data', onData);
      payload.on('end', () => {
        if (!settled) done(null, new UnaryBody(chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, length)));
      });
      payload.on('error', (err: Error) => {
        if (!settled) done(err, undefined);
      });
    });
    scope.addContentTypeParser(
      [
        protoConnect.contentTypeStreamJson,
        protoGrpcWeb.contentTypeProto,
        protoGrpcWeb.contentTypeJson,
        protoGrpc.contentTypeProto,
        protoGrpc.contentTypeJson,
      ],
      noop,
    );
    scope.addContentTypeParser(protoGrpc.contentTypeRegExp, noop);
    scope.addContentTypeParser(protoGrpcWeb.contentTypeRegExp, noop);
    scope.addContentTypeParser(protoConnect.contentTypeRegExp, noop);

    for (const handler of router.handlers) {
      const spec = unary.spec(handler.requestPath);
      scope.all(handler.requestPath, async (req, reply) => {
        try {
          const values = createContextValues().set(clientAddressKey, {
            ip: req.ip,
            userAgent: (req.headers['user-agent'] ?? '').slice(0, 512),
          });
          if (spec && req.body instanceof UnaryBody) {
            const answer = await unary.serve(spec, { req: req.raw, res: reply.raw }, req.body.bytes, values);
            const failure = answer.status === 200 ? undefined : await decodeFailureAsInvalidArgument(answerAsUniversal(answer), handler.method.input);
            const final = failure ? await universalAsAnswer(failure) : answer;
            // Fastify's headers (security, CORS) and the call's, written in one go.
            reply.raw.writeHead(final.status, { ...(reply.getHeaders() as Record<string, string | string[]>), ...final.header });
            endWithBody(reply.raw, final.body);
            return reply.hijack();
          }
          const res = await handler(universalRequestFromNodeRequest(req.raw, reply.raw, req.body as undefined, values));
          for (const [key, value] of Object.entries(reply.getHeaders())) {
            if (value !== undefined) reply.raw.setHeader(key, value);
          }
          await universalResponseToNodeResponse(await decodeFailureAsInvalidArgument(res, handler.method.input), reply.raw);
        } catch (err) {
          if (ConnectError.from(err).code !== Code.Aborted) req.log.error({ err }, `connect handler ${handler.method.name} failed`);
        }
        return reply.hijack();
      });
    }
  });
}

/**
 * Ends a response whose head is set with its body in one socket write. Node sends a body given
 * as bytes as a second buffer next to the head (one `writev` of two), but joins a body given as
 * a latin1 (one byte per character) string to the head and writes both at once; latin1 maps
 * every byte to itself, so any body, JSON or protobuf, goes out unchanged. The content length
 * is already in the head. The bench showed the two-buffer write at about twice the CPU of the
 * one (docs/benchmarks.md).
 */
function endWithBody(res: ServerResponse, body: Uint8Array): void {
  res.end(Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('latin1'), 'latin1');
}

const PARSE_BINARY = 'parse binary:';

/**
 * Request bodies Connect could not decode are refused before any interceptor runs: binary ones
 * as Internal (turned into InvalidArgument here), JSON ones as InvalidArgument in protobuf-es's
 * words (given the field-error shape here, see jsonDecodeError). Only error responses are read.
 */
async function decodeFailureAsInvalidArgument(res: UniversalServerResponse, input: DescMessage): Promise<UniversalServerResponse> {
  // gRPC: the status travels in trailers.
  if (res.trailer?.get('grpc-status') === String(Code.Internal) && decodeURIComponent(res.trailer.get('grpc-message') ?? '').startsWith(PARSE_BINARY)) {
    res.trailer.set('grpc-status', String(Code.InvalidArgument));
    return res;
  }
  // Connect unary: an error is a small JSON body with an HTTP error status.
  if ((res.status !== 500 && res.status !== 400) || res.body === undefined) return res;
  const chunks: Uint8Array[] = [];
  for await (const chunk of res.body) chunks.push(chunk);
  const bytes = Buffer.concat(chunks);
  let body: Uint8Array = bytes;
  let status = res.status;
  try {
    const parsed = JSON.parse(bytes.toString('utf8')) as { code?: string; message?: string };
    let replacement: ConnectError | undefined;
    if (parsed.code === 'internal' && parsed.message?.startsWith(PARSE_BINARY)) {
      replacement = new ConnectError(`cannot decode request: ${parsed.message.slice(PARSE_BINARY.length).trim()}`, Code.InvalidArgument);
    } else if (parsed.code === 'invalid_argument' && parsed.message) {
      replacement = jsonDecodeError(input, parsed.message);
    }
    if (replacement) {
      status = 400;
      body = errorToJsonBytes(replacement, {});
      res.header?.set('content-length', String(body.byteLength));
    }
  } catch {
    // Not a Connect JSON error body: pass it through unchanged.
  }
  return { ...res, status, body: (async function* () { yield body; })() };
}
