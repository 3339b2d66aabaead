import { type IsolationLevel, Kysely, PostgresDialect, type Transaction, sql } from 'kysely';
import pg from 'pg';

export interface DbConfig {
  /** postgres:// URL; the database may be shared by several services, each in its own schema. */
  url: string;
  /** The schema this service owns; it is the whole `search_path`, so unqualified names stay inside it. */
  schema: string;
  poolMax: number;
  /** How long a query waits for a pooled connection before failing. */
  connectionTimeoutMs: number;
  idleTimeoutMs: number;
  /** Server-side `statement_timeout` for every statement of this pool (migrations lift it). */
  statementTimeoutMs: number;
  /** Shown in `pg_stat_activity`, so operators can tell which service holds a connection. */
  applicationName: string;
}

/** The part of a pino logger the database needs; pino's `Logger` satisfies it. */
export interface DbLogger {
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export type CommitHook = () => void | Promise<void>;

/**
 * The one handle a transaction callback gets: a Kysely transaction (pass it to stores like any
 * Kysely) that also takes hooks to run once the transaction has committed.
 */
export type Tx<DB> = Transaction<DB> & CommitHooks;

/** The part of a transaction handle that code after-commit effects need (any schema's Tx). */
export interface CommitHooks {
  /**
   * Runs `hook` after the transaction commits (in registration order); never on rollback.
   * Use it for effects that must not be seen before the data is durable, e.g. bus publishes.
   */
  onCommit(hook: CommitHook): void;
}

export interface TransactionOptions {
  isolationLevel?: IsolationLevel;
}

const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

/** Schema names go into `search_path` startup options and DDL, so only plain identifiers are allowed. */
export function assertSchemaName(schema: string): void {
  if (!SCHEMA_NAME.test(schema)) {
    throw new Error(`invalid schema name ${JSON.stringify(schema)}: use lower-case letters, digits and _`);
  }
}

const stderrLogger: DbLogger = {
  warn: (obj, msg) => process.stderr.write(`${JSON.stringify({ level: 'warn', msg, ...serializable(obj) })}\n`),
  error: (obj, msg) => process.stderr.write(`${JSON.stringify({ level: 'error', msg, ...serializable(obj) })}\n`),
};

function serializable(obj: object): object {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(obj)) out[k] = v instanceof Error ? { message: v.message, stack: v.stack } : v;
  return out;
}

/**
 * Opens a pool for one service: `search_path` is the service schema and `statement_timeout`
 * applies on every connection (sent as startup parameters, so no extra round trip). The pool
 * connects lazily; call `ping()` to check the server answers.
 */
export function createDatabase<DB>(cfg: DbConfig, opts: { logger?: DbLogger } = {}): Database<DB> {
  assertSchemaName(cfg.schema);
  const logger = opts.logger ?? stderrLogger;
  const pool = new pg.Pool({
    connectionString: cfg.url,
    max: cfg.poolMax,
    connectionTimeoutMillis: cfg.connectionTimeoutMs,
    idleTimeoutMillis: cfg.idleTimeoutMs,
    statement_timeout: cfg.statementTimeoutMs,
    application_name: cfg.applicationName,
    options: `-c search_path=${cfg.schema}`,
  });
  // An idle client losing its connection (server restart, failover) emits 'error' on the pool;
  // unhandled, that would crash the process. The pool drops the client and reconnects on demand.
  pool.on('error', (err) => logger.error({ err, schema: cfg.schema }, 'idle Postgres connection failed'));
  // A checked-out client whose connection dies between two queries (a failover, a terminated
  // backend) emits 'error' on itself, not on the pool; without a listener that ends the process.
  // Its next query fails (and the call answers Unavailable), and the pool drops it on release.
  // (An idle client's failure is the pool's 'error' above; this one logs only checked-out ones.)
  const busy = new WeakSet<pg.PoolClient>();
  pool.on('acquire', (client) => busy.add(client));
  pool.on('release', (_err, client) => busy.delete(client));
  pool.on('connect', (client) => {
    client.on('error', (err) => {
      if (busy.has(client)) logger.warn({ err: { message: err.message }, schema: cfg.schema }, 'Postgres connection lost during use');
    });
  });
  const db = new Kysely<DB>({ dialect: new PostgresDialect({ pool }) });
  return new Database(db, { schema: cfg.schema, logger });
}

/** A service's handle on Postgres: the Kysely instance plus transactions with after-commit hooks. */
export class Database<DB> {
  readonly db: Kysely<DB>;
  readonly schema: string;
  readonly #logger: DbLogger;
  #destroyed: Promise<void> | undefined;

  constructor(db: Kysely<DB>, opts: { schema: string; logger?: DbLogger }) {
    this.db = db;
    this.schema = opts.schema;
    this.#logger = opts.logger ?? stderrLogger;
  }

  /**
   * Runs `fn` in one transaction. Hooks registered with `tx.onCommit` run after a successful
   * commit, in order, each awaited; a failing hook is logged and does not fail the call, because
   * the data is already committed. On rollback (fn throws, or COMMIT fails) no hook runs.
   */
  async transaction<T>(fn: (tx: Tx<DB>) => Promise<T>, opts: TransactionOptions = {}): Promise<T> {
    const hooks: CommitHook[] = [];
    let open = true;
    const onCommit = (hook: CommitHook): void => {
      if (!open) throw new Error('onCommit() called after the transaction ended');
      hooks.push(hook);
    };
    let builder = this.db.transaction();
    if (opts.isolationLevel) builder = builder.setIsolationLevel(opts.isolationLevel);
    let result: T;
    try {
      result = await builder.execute((trx) => fn(Object.assign(trx, { onCommit })));
    } finally {
      open = false;
    }
    for (const [index, hook] of hooks.entries()) {
      try {
        await hook();
      } catch (err) {
        this.#logger.error({ err, hook: index, schema: this.schema }, 'onCommit hook failed after commit');
      }
    }
    return result;
  }

  /** Readiness: `select 1`, failing after `timeoutMs` even when the pool is exhausted or the server hangs. */
  async ping(timeoutMs = 2_000): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`Postgres did not answer within ${timeoutMs} ms`)), timeoutMs);
    });
    try {
      await Promise.race([sql`select 1`.execute(this.db), timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Closes the pool (waits for checked-out connections to be released). Safe to call twice. */
  destroy(): Promise<void> {
    this.#destroyed ??= this.db.destroy();
    return this.#destroyed;
  }
}
