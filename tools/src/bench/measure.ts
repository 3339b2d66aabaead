import { randomBytes } from 'node:crypto';
import { readFile, readdir } from 'node:fs/promises';
import { cpus } from 'node:os';
import { performance } from 'node:perf_hooks';

/** One timed round of one scenario. Latencies are in milliseconds. */
export interface Round {
  readonly ops: number;
  readonly opsPerSec: number;
  readonly p50: number;
  readonly p95: number;
  readonly p99: number;
  /** CPU time of this process (client, server and argon2 threads) per second: cores in use. */
  readonly processCores: number;
  /** CPU time of the whole machine (this process, Postgres, Redis) per second. */
  readonly machineCores: number;
  /** Share of the time the main thread (the event loop both client and server run on) was busy. */
  readonly eventLoop: number;
}

/** A figure over several rounds: the median is what we report, min and max show the spread. */
export interface Spread {
  readonly median: number;
  readonly min: number;
  readonly max: number;
}

export interface ScenarioResult {
  readonly name: string;
  readonly concurrency: number;
  readonly rounds: readonly Round[];
  readonly opsPerSec: Spread;
  readonly p50: Spread;
  readonly p95: Spread;
  readonly p99: Spread;
  readonly processCores: Spread;
  readonly machineCores: Spread;
  readonly eventLoop: Spread;
  /** Median operations per round, so a reader can judge how many samples a p99 rests on. */
  readonly opsPerRound: number;
}

export interface ScenarioOptions {
  readonly rounds: number;
  readonly durationMs: number;
  /** One untimed round of this length first: JIT, pools and caches warm up outside the figures. */
  readonly warmupMs: number;
}

/** An operation for worker `worker`; it must throw on failure, so no error is counted as a success. */
export type Operation = (worker: number) => Promise<void>;

/**
 * Runs `op` in a closed loop on `concurrency` workers until `durationMs` has passed. Operations
 * started before the deadline finish and count; throughput is over the real elapsed time.
 */
export async function runRound(op: Operation, concurrency: number, durationMs: number): Promise<Round> {
  const latencies: number[] = [];
  const cpu0 = process.cpuUsage();
  const machine0 = machineBusyMs();
  const elu0 = performance.eventLoopUtilization();
  const start = performance.now();
  const deadline = start + durationMs;
  const worker = async (w: number): Promise<void> => {
    while (performance.now() < deadline) {
      const t0 = performance.now();
      await op(w);
      latencies.push(performance.now() - t0);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, (_, w) => worker(w)));
  const elapsedMs = performance.now() - start;
  const cpu = process.cpuUsage(cpu0);
  const elu = performance.eventLoopUtilization(elu0);
  latencies.sort((a, b) => a - b);
  return {
    ops: latencies.length,
    opsPerSec: latencies.length / (elapsedMs / 1000),
    p50: percentile(latencies, 50),
    p95: percentile(latencies, 95),
    p99: percentile(latencies, 99),
    processCores: (cpu.user + cpu.system) / 1000 / elapsedMs,
    machineCores: (machineBusyMs() - machine0) / elapsedMs,
    eventLoop: elu.utilization,
  };
}

/** Busy (non-idle) CPU milliseconds of every core since boot. */
function machineBusyMs(): number {
  return cpus().reduce((sum, c) => sum + c.times.user + c.times.nice + c.times.sys + c.times.irq, 0);
}

/** A warm-up round, then `rounds` timed rounds, summarised by their medians. */
export async function runScenario(
  name: string,
  concurrency: number,
  opts: ScenarioOptions,
  op: Operation,
  progress: (line: string) => void = () => undefined,
): Promise<ScenarioResult> {
  if (opts.warmupMs > 0) await runRound(op, concurrency, opts.warmupMs);
  const rounds: Round[] = [];
  for (let i = 0; i < opts.rounds; i++) {
    const r = await runRound(op, concurrency, opts.durationMs);
    progress(`${name} c=${concurrency} round ${i + 1}/${opts.rounds}: ${r.opsPerSec.toFixed(1)} ops/s, p50 ${r.p50.toFixed(1)} ms`);
    rounds.push(r);
  }
  return {
    name,
    concurrency,
    rounds,
    opsPerSec: spread(rounds.map((r) => r.opsPerSec)),
    p50: spread(rounds.map((r) => r.p50)),
    p95: spread(rounds.map((r) => r.p95)),
    p99: spread(rounds.map((r) => r.p99)),
    processCores: spread(rounds.map((r) => r.processCores)),
    machineCores: spread(rounds.map((r) => r.machineCores)),
    eventLoop: spread(rounds.map((r) => r.eventLoop)),
    opsPerRound: median(rounds.map((r) => r.ops)),
  };
}

/** Median wall time in milliseconds of `samples` sequential calls of `fn`, after `warmup` untimed ones. */
export async function medianTime(fn: () => Promise<unknown>, samples: number, warmup = 2): Promise<Spread> {
  for (let i = 0; i < warmup; i++) await fn();
  const times: number[] = [];
  for (let i = 0; i < samples; i++) {
    const t0 = performance.now();
    await fn();
    times.push(performance.now() - t0);
  }
  return spread(times);
}

/** Nearest-rank percentile of an ascending array. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1] as number;
}

export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}

export function spread(values: readonly number[]): Spread {
  return { median: median(values), min: Math.min(...values), max: Math.max(...values) };
}

/** CPU seconds used so far by every process whose command name is `comm` (Linux /proc). */
export async function cpuOf(comm: string): Promise<number> {
  const ticks = 100; // USER_HZ on Linux
  let total = 0;
  for (const pid of await readdir('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      if ((await readFile(`/proc/${pid}/comm`, 'utf8')).trim() !== comm) continue;
      const stat = (await readFile(`/proc/${pid}/stat`, 'utf8')).split(') ')[1]!.split(' ');
      total += (Number(stat[11]) + Number(stat[12])) / ticks;
    } catch {
      // The process ended while being read.
    }
  }
  return total;
}

/**
 * The environment a benchmark's server child runs Hearth in: its own database and Redis, fresh
 * secrets and key rings, quiet logs, long-lived access tokens (the generator signs in once).
 */
export function benchServerEnv(databaseUrl: string, redisUrl: string): Record<string, string> {
  const random32 = () => randomBytes(32).toString('base64');
  return {
    DATABASE_URL: databaseUrl,
    REDIS_URL: redisUrl,
    HEARTH_PORT: '0',
    HEARTH_LOG_LEVEL: 'warn',
    HEARTH_AUTH_ACCESS_TTL_SEC: '3600',
    HEARTH_AUTH_KEY_ENCRYPTION_KEY: random32(),
    HEARTH_INTERNAL_SECRET: random32(),
    HEARTH_CIRCLE_MESSAGE_KEYS: `bench:${random32()}`,
    HEARTH_POST_BODY_KEYS: `bench:${random32()}`,
    HEARTH_SUPPORT_PLAN_KEYS: `bench:${random32()}`,
  };
}
