import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export interface Metrics {
  /** Services register their own metrics here (never on prom-client's global registry). */
  readonly registry: Registry;
  /**
   * Finished RPCs. `service` is the fully-qualified Connect service (`hearth.auth.v1.AuthService`),
   * which on this metric takes the place of the process-wide `service` default label; `code` is
   * the Connect code name (see codeName).
   */
  readonly rpcRequests: Counter<'service' | 'method' | 'code'>;
  /** RPC latency in seconds, same labels as rpcRequests. */
  readonly rpcDuration: Histogram<'service' | 'method' | 'code'>;
  /** Plain-HTTP responses by route pattern (never the raw URL, which would explode cardinality). */
  readonly httpRequests: Counter<'route' | 'status'>;
  /** The Prometheus text exposition of everything in `registry`. */
  render(): Promise<{ contentType: string; body: string }>;
}

export interface MetricsOptions {
  readonly service: string;
  /** Node process metrics (event loop lag, heap, GC, fds); default true. */
  readonly collectDefault?: boolean;
  /** A registry to fill instead of a fresh one. */
  readonly registry?: Registry;
}

// From a cache hit to a slow SOS fan-out: 5 ms .. 10 s.
export const RPC_DURATION_BUCKETS: readonly number[] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/**
 * A fresh registry per call, so two servers in one test process (or monolith mode) never clash
 * over metric names the way the global registry would.
 */
export function createMetrics(opts: MetricsOptions): Metrics {
  const registry = opts.registry ?? new Registry();
  registry.setDefaultLabels({ service: opts.service });
  if (opts.collectDefault ?? true) collectDefaultMetrics({ register: registry });

  const rpcRequests = new Counter({
    name: 'hearth_rpc_requests_total',
    help: 'Connect RPCs handled, by service, method and result code',
    labelNames: ['service', 'method', 'code'] as const,
    registers: [registry],
  });
  const rpcDuration = new Histogram({
    name: 'hearth_rpc_duration_seconds',
    help: 'Time from receiving an RPC to its handler finishing (for streams: the stream ending)',
    labelNames: ['service', 'method', 'code'] as const,
    buckets: [...RPC_DURATION_BUCKETS],
    registers: [registry],
  });
  const httpRequests = new Counter({
    name: 'hearth_http_requests_total',
    help: 'HTTP responses sent, by route pattern and status code',
    labelNames: ['route', 'status'] as const,
    registers: [registry],
  });

  return {
    registry,
    rpcRequests,
    rpcDuration,
    httpRequests,
    async render() {
      return { contentType: registry.contentType, body: await registry.metrics() };
    },
  };
}
