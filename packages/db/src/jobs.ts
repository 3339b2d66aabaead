import { type Kysely, sql } from 'kysely';
import type { z } from 'zod';
import { assertSchemaName } from './database.js';

/**
 * A durable task of a service's job queue, named once with its payload type: the code that
 * enqueues it and the worker that runs it import the same definition. The worker checks each
 * payload against `payload` before running it (see @hearth/platform createJobQueue).
 */
export interface JobDefinition<T> {
  readonly name: string;
  readonly payload: z.ZodType<T>;
}

// graphile-worker task identifiers as its crontab accepts them (no dots).
const JOB_NAME = /^[a-z][a-z0-9-]*(:[a-z][a-z0-9-]*)+$/;

/** Declares a job, e.g. `defineJob('user:sync-access', z.object({ userId: z.uuid() }))`. */
export function defineJob<S extends z.ZodType>(name: string, payload: S): JobDefinition<z.output<S>> {
  if (!JOB_NAME.test(name)) throw new Error(`invalid job name ${JSON.stringify(name)}: use service:what, lower case`);
  return { name, payload: payload as unknown as z.ZodType<z.output<S>> };
}

export interface EnqueueOptions {
  /** A pending job with the same key is replaced instead of adding a second one. */
  readonly jobKey?: string;
  readonly runAt?: Date;
  /** Default 25 (graphile-worker's): about 3 days of exponential backoff. */
  readonly maxAttempts?: number;
}

/**
 * Where one service's jobs go: its graphile-worker schema (e.g. "users_jobs"). `enqueue` adds a
 * job in the caller's transaction, so a committed change always gets its side effect and a
 * rolled-back one never does. The payload is checked before it is stored: a job that could never
 * run is refused while the change that causes it can still fail.
 */
export class JobQueueRef {
  constructor(readonly schema: string) {
    assertSchemaName(schema);
  }

  async enqueue<T>(
    // Any database or transaction: the job only needs the connection, not the caller's tables.
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    db: Kysely<any>,
    job: JobDefinition<T>,
    payload: T,
    opts: EnqueueOptions = {},
  ): Promise<void> {
    const checked = job.payload.parse(payload);
    await sql`select ${sql.id(this.schema, 'add_job')}(
        identifier => ${job.name},
        payload => ${JSON.stringify(checked)}::json,
        run_at => ${opts.runAt ?? null}::timestamptz,
        max_attempts => ${opts.maxAttempts ?? null}::int,
        job_key => ${opts.jobKey ?? null}::text
      )`.execute(db);
  }
}
