import type { DescService } from '@bufbuild/protobuf';
import { type Client, type Interceptor, type Transport, createClient } from '@connectrpc/connect';
import { createConnectTransport } from '@connectrpc/connect-node';
import { SERVICE_TOKEN_HEADER, type ServiceTokens } from '@hearth/authz';
import { requestContextKey } from '@hearth/telemetry';
import { loopback } from './authentication.js';

/** Builds Connect clients for the other Hearth services, authenticated as this process. */
export type ServiceClientFactory = <S extends DescService>(service: S) => Client<S>;

export interface ServiceClientOptions {
  readonly tokens: ServiceTokens;
  /** HEARTH_SERVICE_URLS: where services this process does not host are. */
  readonly urls: Readonly<Record<string, string>>;
  /** Names of the services hosted by this process; they are called on its own URL. */
  readonly hosted: () => ReadonlySet<string>;
  /** This process's base URL, known once it listens. */
  readonly selfUrl: () => string | undefined;
  /** Per-call deadline. Default 5 s. */
  readonly timeoutMs?: number;
}

/**
 * Services always call each other through Connect over HTTP, also when they share a process
 * (DESIGN: both modes take the same code path), so the callee's interceptors (authentication,
 * authorization, validation) always run. The transport is made on first use, when the
 * process's own URL is known.
 */
export function serviceClients(opts: ServiceClientOptions): ServiceClientFactory {
  const transports = new Map<string, Transport>();
  const authenticate: Interceptor = (next) => async (req) => {
    req.header.set(SERVICE_TOKEN_HEADER, await opts.tokens.token());
    // The correlation id of the call that caused this one, so logs of both can be joined.
    const correlationId = req.contextValues.get(requestContextKey)?.correlationId;
    if (correlationId) req.header.set('x-correlation-id', correlationId);
    return next(req);
  };
  const transportFor = (name: string): Transport => {
    let t = transports.get(name);
    if (t) return t;
    const base = opts.urls[name] ?? (opts.hosted().has(name) ? selfUrl(opts) : undefined);
    if (!base) throw new Error(`no URL for the ${name} service: add it to HEARTH_SERVICE_URLS`);
    t = createConnectTransport({
      baseUrl: base,
      httpVersion: '1.1',
      interceptors: [authenticate],
      defaultTimeoutMs: opts.timeoutMs ?? 5_000,
    });
    transports.set(name, t);
    return t;
  };
  return <S extends DescService>(service: S): Client<S> => {
    // "hearth.user.v1.UserService" is served by the module named "user".
    const name = service.typeName.split('.')[1] ?? '';
    const lazy: Transport = {
      unary: (...args) => transportFor(name).unary(...args),
      stream: (...args) => transportFor(name).stream(...args),
    };
    return createClient(service, lazy);
  };
}

function selfUrl(opts: ServiceClientOptions): string | undefined {
  const self = opts.selfUrl();
  return self ? loopback(self) : undefined;
}
