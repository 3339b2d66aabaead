import {
  Code,
  ConnectError,
  type ConnectRouter,
  type ContextValues,
  type HandlerContext,
  type MethodImplSpec,
  createMethodImplSpec,
  createServiceImplSpec,
} from '@connectrpc/connect';
import type { DescMethod, DescService } from '@bufbuild/protobuf';
import {
  type UniversalHandlerOptions,
  compressionNegotiate,
  createMethodSerializationLookup,
  invokeUnaryImplementation,
  mergeNonProtocolHeaders,
  validateUniversalHandlerOptions,
} from '@connectrpc/connect/protocol';
import {
  codeToHttpStatus,
  contentTypeUnaryJson,
  contentTypeUnaryProto,
  errorToJsonBytes,
  headerContentType,
  headerTimeout,
  headerUnaryAcceptEncoding,
  headerUnaryContentLength,
  headerUnaryEncoding,
  parseContentType,
  parseTimeout,
  trailerMux,
} from '@connectrpc/connect/protocol-connect';
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';

/**
 * A unary call of the Connect protocol (POST, a JSON or protobuf body, no streaming), served
 * without connect-node's universal request and response adapters. It runs the same steps as
 * connect-es's own unary handler (see @connectrpc/connect/protocol-connect/handler-factory.js),
 * with the same serializers, interceptors, compression, timeout parsing and error encoding, so
 * its answers are byte for byte Connect's (test/connect-unary.test.ts generates requests and
 * compares the two). What it leaves out is what each call paid for and never used (ADR 0009):
 * two AbortControllers linked by listeners and aborted at the end of every call (each abort
 * builds a DOMException with a stack trace), the URL parsed twice, the body read through async
 * iterators, and the response written through one.
 *
 * The call's signal still aborts when the deadline passes, the server shuts down, or the client
 * goes away before its answer is written; it is not aborted when the call ends normally.
 *
 * Everything else (GET, compressed request bodies of unknown size, streaming, gRPC, gRPC-web,
 * a per-service option) goes to connect-es's handler: `accepts` says which requests come here.
 */
export type UnarySpec = Extract<MethodImplSpec, { kind: 'unary' }>;

export interface UnaryPath {
  /** The method's implementation, if this path serves it (unary, no per-service options). */
  spec(requestPath: string): UnarySpec | undefined;
  /**
   * Whether a request to a served method may take this path: a unary Connect content type and
   * a declared length within the read limit, or no declared length (a chunked body, as
   * connect-node's clients send, read up to the limit). Decided before the body is read.
   */
  accepts(headers: IncomingHttpHeaders): boolean;
  /** The read limit a body of undeclared length is held to (readMaxBytes). */
  readonly readMaxBytes: number;
  /**
   * Serves the call; `body` is the request body, read in full, or `tooLarge` when a body of
   * undeclared length passed the read limit (answered as connect-es answers it).
   */
  serve(spec: UnarySpec, raw: { req: IncomingMessage; res: ServerResponse }, body: Uint8Array | 'tooLarge', values: ContextValues): Promise<UnaryAnswer>;
}

export interface UnaryAnswer {
  readonly status: number;
  /** Lower-case header names; a name may repeat (set-cookie). */
  readonly header: Record<string, string | string[]>;
  readonly body: Uint8Array;
}

/**
 * Records the services `routes` registers (as a ConnectRouter would) and builds the unary path
 * for them with the router's own options.
 */
export function createUnaryPath(options: Partial<UniversalHandlerOptions>, register: (router: ConnectRouter) => void, into: ConnectRouter): UnaryPath {
  const opt = validateUniversalHandlerOptions(options);
  const specs = new Map<string, { spec: UnarySpec; serialization: ReturnType<typeof createMethodSerializationLookup> }>();
  const add = (spec: MethodImplSpec) => {
    if (spec.kind !== 'unary') return;
    specs.set(`/${spec.method.parent.typeName}/${spec.method.name}`, {
      spec,
      serialization: createMethodSerializationLookup(spec.method, opt.binaryOptions, opt.jsonOptions, opt),
    });
  };
  // A router that forwards every registration to the real one, and keeps what it can serve.
  const recorder: ConnectRouter = {
    get handlers() {
      return into.handlers;
    },
    service(service: DescService, implementation: never, serviceOptions?: Partial<UniversalHandlerOptions>) {
      into.service(service, implementation, serviceOptions);
      if (!serviceOptions) for (const spec of Object.values(createServiceImplSpec(service, implementation).methods)) add(spec);
      return recorder;
    },
    rpc(method: DescMethod, impl: never, methodOptions?: Partial<UniversalHandlerOptions>) {
      into.rpc(method, impl, methodOptions);
      if (!methodOptions) add(createMethodImplSpec(method, impl));
      return recorder;
    },
  } as unknown as ConnectRouter;
  register(recorder);

  const inFlight = new Set<AbortController>();
  const onShutdown = () => {
    for (const c of inFlight) c.abort(opt.shutdownSignal?.reason);
  };
  opt.shutdownSignal?.addEventListener('abort', onShutdown, { once: true });

  const usable = opt.requestGate === undefined && !opt.requireConnectProtocolHeader;

  return {
    spec(requestPath) {
      return usable ? specs.get(requestPath)?.spec : undefined;
    },
    readMaxBytes: opt.readMaxBytes,
    accepts(headers) {
      const type = parseContentType(headers['content-type'] ?? null);
      if (type === undefined || type.stream) return false;
      const length = headers['content-length'];
      if (length === undefined) return headers['transfer-encoding'] !== undefined;
      const n = Number(length);
      return Number.isSafeInteger(n) && n >= 0 && n <= opt.readMaxBytes;
    },
    async serve(spec, raw, body, values) {
      const entry = specs.get(`/${spec.method.parent.typeName}/${spec.method.name}`);
      if (!entry) throw new Error(`no unary path for ${spec.method.name}`);
      const { serialization } = entry;
      const nodeHeaders = raw.req.headers;
      const requestHeader = webHeaders(nodeHeaders);
      const type = parseContentType(requestHeader.get(headerContentType));
      if (type === undefined || type.stream) throw new Error('accepts() let a request through that it should not have');
      const timeout = parseTimeout(requestHeader.get(headerTimeout), opt.maxTimeoutMs);

      const controller = new AbortController();
      inFlight.add(controller);
      if (opt.shutdownSignal?.aborted) controller.abort(opt.shutdownSignal.reason);
      let deadline: NodeJS.Timeout | undefined;
      let timeoutMs: () => number | undefined = () => undefined;
      if (timeout.timeoutMs !== undefined) {
        const at = Date.now() + timeout.timeoutMs;
        timeoutMs = () => at - Date.now();
        const expire = () => controller.abort(new ConnectError('the operation timed out', Code.DeadlineExceeded));
        if (timeout.timeoutMs <= 0) expire();
        else deadline = setTimeout(expire, timeout.timeoutMs);
      }
      // The client went away before its answer was written: what it asked for may stop.
      const onClose = () => {
        if (!raw.res.writableFinished) controller.abort(new ConnectError('operation was aborted', Code.Canceled));
      };
      raw.res.once('close', onClose);

      const context: HandlerContext & { abort(reason?: unknown): void } = {
        method: spec.method,
        service: spec.method.parent,
        requestMethod: 'POST',
        protocolName: 'connect',
        url: `${'encrypted' in raw.req.socket && raw.req.socket.encrypted ? 'https' : 'http'}://${nodeHeaders.host ?? ''}${raw.req.url ?? ''}`,
        signal: controller.signal,
        timeoutMs,
        requestHeader,
        responseHeader: new Headers({ [headerContentType]: type.binary ? contentTypeUnaryProto : contentTypeUnaryJson }),
        responseTrailer: new Headers(),
        values,
        abort: (reason?: unknown) => controller.abort(reason),
      };
      const compression = compressionNegotiate(opt.acceptCompression, requestHeader.get(headerUnaryEncoding), requestHeader.get(headerUnaryAcceptEncoding), headerUnaryAcceptEncoding);
      let status = 200;
      let out: Uint8Array;
      try {
        if (compression.error) throw compression.error;
        if (timeout.error) throw timeout.error;
        // As connect-es's readAllBytes, for a body whose size was not declared.
        if (body === 'tooLarge') throw new ConnectError(`message size is larger than configured readMaxBytes ${opt.readMaxBytes}`, Code.ResourceExhausted);
        let bytes = body;
        if (compression.request) bytes = await compression.request.decompress(bytes, opt.readMaxBytes);
        const input = serialization.getI(type.binary).parse(bytes);
        const output = await invokeUnaryImplementation(spec, context, input, opt.interceptors);
        out = serialization.getO(type.binary).serialize(output);
      } catch (e) {
        // As connect-es: the call's signal says why it ended badly.
        controller.abort(e);
        const error = e instanceof ConnectError ? e : new ConnectError('internal error', Code.Internal, undefined, undefined, e);
        status = codeToHttpStatus(error.code);
        context.responseHeader.set(headerContentType, contentTypeUnaryJson);
        if (!error.isWireError) mergeNonProtocolHeaders(context.responseHeader, error.metadata);
        out = errorToJsonBytes(error, opt.jsonOptions);
      } finally {
        clearTimeout(deadline);
        inFlight.delete(controller);
      }
      if (compression.response && out.byteLength >= opt.compressMinBytes) {
        out = await compression.response.compress(out);
        context.responseHeader.set(headerUnaryEncoding, compression.response.name);
      }
      const header = trailerMux(context.responseHeader, context.responseTrailer);
      header.set(headerUnaryContentLength, out.byteLength.toString(10));
      return { status, header: nodeHeadersOf(header), body: out };
    },
  };
}

/** As connect-node's nodeHeaderToWebHeader. */
function webHeaders(nodeHeaders: IncomingHttpHeaders): Headers {
  const header = new Headers();
  for (const k in nodeHeaders) {
    if (k.startsWith(':')) continue;
    const v = nodeHeaders[k];
    if (v === undefined) continue;
    if (typeof v === 'string') header.append(k, v);
    else for (const e of v) header.append(k, e);
  }
  return header;
}

/** As connect-node's webHeaderToNodeHeaders (names are lower-case in Headers already). */
function nodeHeadersOf(header: Headers): Record<string, string | string[]> {
  const o: Record<string, string | string[]> = Object.create(null) as Record<string, string | string[]>;
  header.forEach((value, key) => {
    const existing = o[key];
    if (existing === undefined) o[key] = value;
    else if (Array.isArray(existing)) existing.push(value);
    else o[key] = [existing, value];
  });
  return o;
}
