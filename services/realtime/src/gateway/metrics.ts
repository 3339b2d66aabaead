import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/** Commit-to-socket latency of live messages: 1 ms .. 10 s. */
const FANOUT_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10];

/**
 * The gateway's metrics (registered on the process's registry, exported on /metrics): sockets
 * and subscriptions open now, frames in and out by kind, closes by reason, resumes and Resyncs,
 * and the fan-out latency from a message's store time to its socket write.
 */
export class GatewayMetrics {
  readonly sockets: Gauge<'state'>;
  readonly subscriptions: Gauge;
  readonly framesIn: Counter<'kind'>;
  readonly framesOut: Counter<'kind'>;
  readonly closes: Counter<'reason'>;
  readonly resumes: Counter;
  readonly resyncs: Counter;
  readonly dropped: Counter;
  readonly ackLag: Histogram;
  readonly fanout: Histogram;

  constructor(registry: Registry) {
    const registers = [registry];
    this.sockets = new Gauge({ name: 'hearth_realtime_sockets', help: 'Open sockets, by state (unwelcomed: waiting for Hello or its check; welcomed)', labelNames: ['state'], registers });
    this.subscriptions = new Gauge({ name: 'hearth_realtime_subscriptions', help: 'Channel subscriptions open on this gateway', registers });
    this.framesIn = new Counter({ name: 'hearth_realtime_frames_in_total', help: 'Client frames received, by kind', labelNames: ['kind'], registers });
    this.framesOut = new Counter({ name: 'hearth_realtime_frames_out_total', help: 'Server frames sent, by kind', labelNames: ['kind'], registers });
    this.closes = new Counter({ name: 'hearth_realtime_closes_total', help: 'Sockets closed by the gateway, by ServerError code (slow consumers, timeouts, ...)', labelNames: ['reason'], registers });
    this.resumes = new Counter({ name: 'hearth_realtime_resumes_total', help: 'Subscriptions that resumed from a cursor', registers });
    this.resyncs = new Counter({ name: 'hearth_realtime_resyncs_total', help: 'Resync frames sent (more missing at resume than the backfill limit)', registers });
    this.dropped = new Counter({ name: 'hearth_realtime_dropped_total', help: 'Ephemeral frames (typing, presence) dropped for a socket past half its buffer', registers });
    this.ackLag = new Histogram({
      name: 'hearth_realtime_ack_lag_messages',
      help: 'Messages sent on a channel but not yet acknowledged by the app, at each Ack',
      buckets: [0, 1, 2, 5, 10, 25, 50, 100, 250, 1000],
      registers,
    });
    this.fanout = new Histogram({
      name: 'hearth_realtime_fanout_seconds',
      help: "Time from a message's store (its create_time) to its live socket write",
      buckets: FANOUT_BUCKETS,
      registers,
    });
  }
}
