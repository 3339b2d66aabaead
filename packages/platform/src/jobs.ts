import type { Logger } from '@hearth/telemetry';
import { Logger as WorkerLogger, type Runner, type TaskList, run, runMigrations } from 'graphile-worker';
import { type Kysely, sql } from 'kysely';
import pg from 'pg';

/** A durable task: runs at least once, so it must be idempotent. Throwing retries it with backoff. */
export type JobTask = (payload: unknown) => Promise<void>;

export interface JobQueueOptions {
  readonly databaseUrl: string;
  /** The Postgres schema of this service's queue, e.g. "users_jobs" (one per service). */
  readonly schema: string;
  readonly logger: Logger;
  readonly tasks: Readonly<Record<string, JobTask>>;
  /** graphile-worker crontab lines, e.g. "0 * * * * user.purge". */
  readonly crontab?: string;
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
 * Jobs are enqueued with `enqueueJob` in the same transaction as the change that causes them,
 * so a committed change always gets its side effect and a rolled-back one never does.
 */
export function createJobQueue(opts: JobQueueOptions): JobQueue {
  const logger = workerLogger(opts.logger.child({ subsystem: 'jobs', queue: opts.schema }));
  const taskList: TaskList = Object.fromEntries(
    Object.entries(opts.tasks).map(([name, task]) => [name, async (payload: unknown) => task(payload)]),
  );
  let runner: Runner | undefined;
  // Our own pool: graphile-worker ends a pool it made without waiting and after removing its
  // error listener, so a connection dropped during shutdown would crash the process.
  const concurrency = opts.concurrency ?? 2;
  let pool: pg.Pool | undefined;
  const poolFor = () => {
    pool ??= new pg.Pool({ connectionString: opts.databaseUrl, max: concurrency + 2, application_name: `hearth-${opts.schema}` });
    pool.on('error', (err) => opts.logger.warn({ err: { message: err.message } }, 'idle job queue connection failed'));
    return pool;
  };
  const common = () => ({ pgPool: poolFor(), schema: opts.schema, logger, noPreparedStatements: true });
  return {
    async migrate() {
      await runMigrations(common());
    },
    async start() {
      if (runner) return;
      runner = await run({
        ...common(),
        taskList,
        concurrency,
        pollInterval: opts.pollIntervalMs ?? 2_000,
        noHandleSignals: true,
        ...(opts.crontab ? { crontab: opts.crontab } : {}),
      });
    },
    async stop() {
      const r = runner;
      runner = undefined;
      await r?.stop();
      const p = pool;
      pool = undefined;
      await p?.end();
    },
  };
}

export interface EnqueueOptions {
  /** A pending job with the same key is replaced instead of adding a second one. */
  readonly jobKey?: string;
  readonly runAt?: Date;
  /** Default 25 (graphile-worker's): about 3 days of exponential backoff. */
  readonly maxAttempts?: number;
}

const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

/** Adds a job in the caller's transaction (or outside one, when given the database). */
export async function enqueueJob(
  // Any database or transaction: the job only needs the connection, not the caller's tables.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  db: Kysely<any>,
  schema: string,
  task: string,
  payload: Record<string, unknown>,
  opts: EnqueueOptions = {},
): Promise<void> {
  if (!SCHEMA_NAME.test(schema)) throw new Error(`invalid job queue schema: ${schema}`);
  await sql`select ${sql.id(schema, 'add_job')}(
      identifier => ${task},
      payload => ${JSON.stringify(payload)}::json,
      run_at => ${opts.runAt ?? null}::timestamptz,
      max_attempts => ${opts.maxAttempts ?? null}::int,
      job_key => ${opts.jobKey ?? null}::text
    )`.execute(db);
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
