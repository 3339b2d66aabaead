import type { DescService } from '@bufbuild/protobuf';
import { type Client, type Interceptor, type Transport, createClient } from '@connectrpc/connect';
import { createConnectTransport } from '@connectrpc/connect-node';
import { SERVICE_TOKEN_HEADER, type ServiceTokens } from '@hearth/authz';
import { requestContextKey } from '@hearth/telemetry';
import type { HostAddress, ServiceClientFactory } from './contract.js';

export interface ServiceClientOptions {
  readonly tokens: ServiceTokens;
  /** HEARTH_SERVICE_URLS: where services this process does not host are. */
  readonly urls: Readonly<Record<string, string>>;
  /** Names of the services hosted by this process; they are called on its own address. */
  readonly hosted: ReadonlySet<string>;
  readonly address: HostAddress;
  /** Per-call deadline. Default 5 s. */
  readonly timeoutMs?: number;
}

/**
 * Services always call each other through Connect over HTTP, also when they share a process
 * (DESIGN: both modes take the same code path), so the callee's interceptors (authentication,
 * authorization, validation) always run. A service's transport is made on its first call, when
 * the process serves requests and its own address is known.
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
    const base = opts.urls[name] ?? (opts.hosted.has(name) ? opts.address.url() : undefined);
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

/** The address the listen phase resolves: one URL, readable only once known. */
export function hostAddress(): HostAddress & { resolve(url: string): void } {
  let value: string | undefined;
  return {
    url() {
      if (value === undefined) throw new Error('this process is not listening yet, so its own address is unknown');
      return value;
    },
    resolve(url) {
      value = loopback(url);
    },
  };
}

/** A server bound to every interface is reached from inside the process on loopback. */
export function loopback(url: string): string {
  const u = new URL(url);
  if (u.hostname === '0.0.0.0') u.hostname = '127.0.0.1';
  if (u.hostname === '[::]') u.hostname = '[::1]';
  return u.toString();
}
