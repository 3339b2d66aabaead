import type { JobDefinition, JobQueueRef } from '@hearth/db';
import type { Logger } from '@hearth/telemetry';
import { Logger as WorkerLogger, type Runner, type TaskList, run, runMigrations } from 'graphile-worker';
import pg from 'pg';

/**
 * A job that can never succeed, whatever the retries (the other service refused its input for
 * good): it is logged as an error and dropped instead of retried for days.
 */
export class PermanentJobError extends Error {
  override readonly name = 'PermanentJobError';
}

/** How one job is worked. Runs at least once, so it must be idempotent; throwing retries it. */
export interface JobHandler<T = never> {
  readonly job: JobDefinition<T>;
  run(payload: T): Promise<void>;
}

/** Pairs a job with its worker, typed by the job's own payload. */
export function handle<T>(job: JobDefinition<T>, run: (payload: T) => Promise<void>): JobHandler<T> {
  return { job, run };
}

export interface JobQueueOptions {
  readonly databaseUrl: string;
  /** The service's queue (its graphile-worker schema, e.g. "users_jobs"). */
  readonly queue: JobQueueRef;
  readonly logger: Logger;
  // Handlers of different payload types side by side; each is checked against its own job.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  readonly handlers: ReadonlyArray<JobHandler<any>>;
  /** Jobs run on a schedule: a cron expression each, e.g. `{ job: purge, at: '0 * * * *' }`. */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  readonly schedule?: ReadonlyArray<{ readonly job: JobDefinition<any>; readonly at: string }>;
  /** Jobs run at the same time by this process. Default 2. */
  readonly concurrency?: number;
  /** How often to look for due jobs when no NOTIFY arrived (ms). Default 2000. */
  readonly pollIntervalMs?: number;
}

export interface JobQueue {
  /** Creates or upgrades the queue's schema (idempotent; graphile-worker takes its own lock). */
  migrate(): Promise<void>;
  /** Starts working jobs; they also start within milliseconds of being committed (LISTEN/NOTIFY). */
  start(): Promise<void>;
  /** Stops taking jobs and waits for running ones to finish. */
  stop(): Promise<void>;
}

/**
 * The durable job queue of one service (ADR 0006): graphile-worker in the service's own schema.
 * Jobs are enqueued with `queue.enqueue(tx, job, payload)` in the transaction of the change that
 * causes them. Each payload is checked against its job's type before it runs: one that does not
 * fit (an older format, a bug) is logged and dropped, never retried forever.
 */
const STUCK_MS = 5_000;
const RETRY_MS = 2_000;

export function createJobQueue(opts: JobQueueOptions): JobQueue {
  const log = opts.logger.child({ subsystem: 'jobs', queue: opts.queue.schema });
  const logger = workerLogger(log);
  const taskList: TaskList = {};
  for (const h of opts.handlers) {
    taskList[h.job.name] = async (raw: unknown) => {
      const parsed = h.job.payload.safeParse(raw);
      if (!parsed.success) {
        log.error({ job: h.job.name }, 'job payload does not fit its definition; dropped');
        return;
      }
      try {
        await h.run(parsed.data);
      } catch (err) {
        if (!(err instanceof PermanentJobError)) throw err;
        log.error({ job: h.job.name, err: { message: err.message } }, 'job cannot succeed; dropped');
      }
    };
  }
  for (const s of opts.schedule ?? []) {
    if (!taskList[s.job.name]) throw new Error(`scheduled job ${s.job.name} has no handler`);
  }
  const crontab = (opts.schedule ?? []).map((s) => `${s.at} ${s.job.name}`).join('\n');
  let runner: Runner | undefined;
  // Our own pool: graphile-worker ends a pool it made without waiting and after removing its
  // error listener, so a connection dropped during shutdown would crash the process.
  const concurrency = opts.concurrency ?? 2;
  let pool: pg.Pool | undefined;
  const poolFor = () => {
    if (!pool) {
      pool = new pg.Pool({ connectionString: opts.databaseUrl, max: concurrency + 2, application_name: `hearth-${opts.queue.schema}` });
      pool.on('error', (err) => log.warn({ err: { message: err.message } }, 'idle job queue connection failed'));
      pool.on('connect', (client) => client.on('error', (err) => log.warn({ err: { message: err.message } }, 'job queue connection lost')));
    }
    return pool;
  };
  const common = () => ({ pgPool: poolFor(), schema: opts.queue.schema, logger, noPreparedStatements: true });

  // A supervised runner. graphile-worker retries its own connection failures, but a runner can
  // still end up stuck (it caches the failed first lookup of its task ids and fails every poll
  // after, even once the database is back) or stop by itself. A runner that has failed to fetch
  // jobs for STUCK_MS, or that ended without being asked, is replaced by a fresh one.
  let running = false;
  let retryTimer: NodeJS.Timeout | undefined;
  const launch = async (): Promise<void> => {
    const r = await run({
      ...common(),
      taskList,
      concurrency,
      pollInterval: opts.pollIntervalMs ?? 2_000,
      noHandleSignals: true,
      ...(crontab ? { crontab } : {}),
      // Completing or failing a job goes through graphile-worker's batcher (delay 0: the next
      // tick), whose database failures are handled: it logs them and stops the runner, which is
      // then replaced. Unbatched, the same failure is a promise nobody awaits, an unhandled
      // rejection that would end the process. The job stays locked and runs again when its
      // lock expires (at least once, as every handler expects).
      preset: { worker: { completeJobBatchDelay: 0, failJobBatchDelay: 0 } },
    });
    runner = r;
    let failingSince: number | undefined;
    r.events.on('worker:getJob:error', () => {
      failingSince ??= Date.now();
      if (Date.now() - failingSince >= STUCK_MS) void replace(r, 'it has not been able to fetch jobs');
    });
    const fetched = () => {
      failingSince = undefined;
    };
    r.events.on('worker:getJob:empty', fetched);
    r.events.on('job:start', fetched);
    r.promise.then(
      () => replace(r, 'it stopped by itself'),
      (err: unknown) => replace(r, `it stopped: ${(err as Error).message}`),
    );
  };
  const replace = async (r: Runner, reason: string): Promise<void> => {
    if (!running || runner !== r) return;
    runner = undefined;
    log.warn({ reason }, 'replacing the job runner');
    await r.stop().catch(() => undefined);
    const relaunch = () => {
      if (!running || runner) return;
      launch().catch((err: unknown) => {
        log.warn({ err: { message: (err as Error).message } }, 'job runner could not start; trying again');
        retryTimer = setTimeout(relaunch, RETRY_MS);
      });
    };
    relaunch();
  };
  return {
    async migrate() {
      await runMigrations(common());
    },
    async start() {
      if (running) return;
      running = true;
      await launch();
    },
    async stop() {
      running = false;
      clearTimeout(retryTimer);
      const r = runner;
      runner = undefined;
      // A runner whose database went away may have stopped by itself; that is stopped enough.
      await r?.stop().catch((err: unknown) => {
        if (!/already stopped/i.test((err as Error).message)) throw err;
      });
      const p = pool;
      pool = undefined;
      await p?.end();
    },
  };
}

// graphile-worker logs through its own small interface; route it to the service's pino logger.
// Job payloads are never logged: they may name people.
function workerLogger(logger: Logger): WorkerLogger {
  return new WorkerLogger(() => (level, message, meta) => {
    const obj = { err: (meta as { error?: unknown } | undefined)?.error };
    if (level === 'error') logger.error(obj, message);
    else if (level === 'warning') logger.warn(obj, message);
    else logger.debug({}, message);
  });
}
