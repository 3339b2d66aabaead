import type { FastifyInstance } from 'fastify';
import type { ReadinessCheck, RedisAccess } from './contract.js';

export interface HealthState {
  /** Set when shutdown begins, so load balancers stop routing here before the listener closes. */
  draining: boolean;
}

const CHECK_TIMEOUT_MS = 2_000;

/**
 * /health/live says the process is up (restart me if not); /health/ready says it can serve
 * (route to me if so): every check passes and we are not draining. Checks run in parallel,
 * each bounded by a timeout, and the body names the failing ones without internals.
 */
export function registerHealthRoutes(app: FastifyInstance, checks: readonly ReadinessCheck[], state: HealthState): void {
  app.get('/health/live', async () => ({ status: 'ok' }));

  app.get('/health/ready', async (_req, reply) => {
    if (state.draining) return reply.code(503).send({ status: 'draining' });
    const results = await Promise.all(checks.map((c) => runCheck(c)));
    const failed = results.filter((r) => r.status !== 'ok');
    if (failed.length > 0) {
      app.log.warn({ failed: failed.map((f) => f.name) }, 'readiness check failed');
    }
    const unavailable = failed.some((r) => r.critical);
    const status = unavailable ? 'unavailable' : failed.length > 0 ? 'degraded' : 'ok';
    return reply
      .code(unavailable ? 503 : 200)
      .send({ status, checks: Object.fromEntries(results.map((r) => [r.name, r.status])) });
  });
}

async function runCheck(c: ReadinessCheck): Promise<{ name: string; critical: boolean; status: 'ok' | 'failed' | 'timeout' }> {
  const critical = c.critical ?? true;
  const signal = AbortSignal.timeout(CHECK_TIMEOUT_MS);
  try {
    await Promise.race([
      c.check(signal),
      new Promise<never>((_, reject) => signal.addEventListener('abort', () => reject(signal.reason), { once: true })),
    ]);
    return { name: c.name, critical, status: 'ok' };
  } catch {
    return { name: c.name, critical, status: signal.aborted ? 'timeout' : 'failed' };
  }
}

/** Readiness of a Postgres-backed store: anything with a `ping()` (see @hearth/db `Database`). */
export function postgresCheck(db: { ping(): Promise<void> }, name = 'postgres'): ReadinessCheck {
  return { name, check: () => db.ping() };
}

/** Readiness of Redis: PING through the circuit breaker. Not critical (see ReadinessCheck). */
export function redisCheck(redis: RedisAccess): ReadinessCheck {
  return {
    name: 'redis',
    critical: false,
    check: async () => {
      const pong = await redis.run((r) => r.ping());
      if (pong !== 'PONG') throw new Error('unexpected PING answer');
    },
  };
}
