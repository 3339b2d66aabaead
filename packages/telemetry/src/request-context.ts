import { type ContextValues, createContextKey } from '@connectrpc/connect';
import { randomUUID } from 'node:crypto';
import type { Logger } from './logger.js';

/** What every handler knows about the call it is serving. */
export interface RequestContext {
  readonly requestId: string;
  /** Shared by every request in one user action across services; the request id when not given. */
  readonly correlationId: string;
  /** Child logger tagged with rpc, requestId, correlationId and, once known, the actor. */
  readonly logger: Logger;
  /** Set by authentication once the caller is known (a user id); absent for anonymous calls. */
  readonly actor: string | undefined;
  /** Records the caller: a user id, or "service:<name>". */
  setActor(actor: string): void;
}

/**
 * A RequestContext whose child logger is made on first use: most calls succeed without logging
 * a line, and a pino child (with redaction) is the most expensive thing a context holds.
 */
export class LazyRequestContext implements RequestContext {
  #logger: Logger | undefined;
  #actor: string | undefined;

  constructor(
    readonly requestId: string,
    readonly correlationId: string,
    private readonly root: Logger,
    private readonly bindings: Readonly<Record<string, string>>,
  ) {}

  get logger(): Logger {
    this.#logger ??= this.root.child({ ...this.bindings, requestId: this.requestId, correlationId: this.correlationId, ...(this.#actor ? { actor: this.#actor } : {}) });
    return this.#logger;
  }

  get actor(): string | undefined {
    return this.#actor;
  }

  setActor(actor: string): void {
    this.#actor = actor;
    this.#logger?.setBindings({ actor });
  }
}

export const REQUEST_ID_HEADER = 'x-request-id';
export const CORRELATION_ID_HEADER = 'x-correlation-id';

/**
 * Handlers read it with `ctx.values.get(requestContextKey)`. The default is `undefined` so a
 * missing telemetry interceptor shows up as a missing value rather than a made-up context.
 */
export const requestContextKey = createContextKey<RequestContext | undefined>(undefined, {
  description: 'hearth request context',
});

/**
 * The RequestContext set by telemetryInterceptor. Throws when it is absent, because that means the
 * server was wired without the telemetry interceptor, a bug no request should paper over.
 */
export function getRequestContext(values: ContextValues): RequestContext {
  const rc = values.get(requestContextKey);
  if (!rc) throw new Error('no RequestContext: telemetryInterceptor must run before this code');
  return rc;
}

const ID_PATTERN = /^[A-Za-z0-9._-]{1,128}$/;

/**
 * Returns the header value when it is a short token of safe characters, otherwise undefined.
 * Ids are echoed into headers and logs, so anything else (newlines, JSON, huge strings) is
 * replaced rather than trusted.
 */
export function sanitizeId(value: string | null | undefined): string | undefined {
  return typeof value === 'string' && ID_PATTERN.test(value) ? value : undefined;
}

/** Request and correlation ids for an incoming call, taken from its headers when they are sane. */
export function requestIdsFrom(headers: Headers): { requestId: string; correlationId: string } {
  const requestId = sanitizeId(headers.get(REQUEST_ID_HEADER)) ?? randomUUID();
  const correlationId = sanitizeId(headers.get(CORRELATION_ID_HEADER)) ?? requestId;
  return { requestId, correlationId };
}
