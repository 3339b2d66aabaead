import type { Spread } from './measure.js';
import type { ProfileSummary } from './profile.js';
import { wrap } from './report.js';

export interface TargetFigures {
  readonly opsPerSec: Spread;
  readonly p50: Spread;
  readonly p99: Spread;
  /** CPU of the server process, in cores. */
  readonly serverCores: Spread;
  readonly opsPerRound: number;
}

export interface PlatformBenchReport {
  readonly date: string;
  /** `dev`: sources through tsx, as `npm run dev`; `dist`: the compiled output, as production. */
  readonly mode: 'dev' | 'dist';
  readonly machine: { readonly cores: number; readonly memGiB: number; readonly cpu: string };
  readonly node: string;
  readonly postgres: string;
  readonly poolMax: number;
  readonly loadBefore: number;
  readonly options: { readonly rounds: number; readonly durationMs: number; readonly warmupMs: number };
  readonly rows: ReadonlyArray<{ readonly concurrency: number; readonly host: TargetFigures; readonly bare: TargetFigures; readonly ratio: number }>;
  readonly profile: ProfileSummary & { readonly file: string; readonly concurrency: number; readonly seconds: number };
}

/** The platform section for one mode (without its markers), in markdown. */
export function renderPlatformSection(r: PlatformBenchReport): string {
  const o = r.options;
  const how = r.mode === 'dist' ? 'the compiled output (`dist/`, plain `node`), as production runs it' : 'the sources through the dev loader (tsx), as `npm run dev` runs them';
  const setup = wrap(
    `Measured on ${r.date}: ${r.machine.cpu}, ${r.machine.cores} cores, ${r.machine.memGiB} GiB RAM; Node ${r.node}; PostgreSQL ` +
      `${r.postgres} and Redis on loopback; 1-minute load average ${r.loadBefore.toFixed(2)} before the run. One child process ` +
      `serves, from ${how}, both the whole of Hearth in monolith mode (log level info, Redis configured, Postgres pools of ` +
      `${r.poolMax}) and a bare Fastify route that runs GetCircle's two indexed lookups with the same SQL on a pool of the ` +
      'same size and nothing else. The benchmark process drives one target at a time with a closed loop of *concurrency* ' +
      'callers, each on its own keep-alive HTTP/1.1 connection, sending the same JSON request with the same bearer token ' +
      `(an authenticated member's GetCircle of a private circle). After a ${o.warmupMs / 1000} s warm-up per target, ` +
      `${o.rounds} rounds of ${o.durationMs / 1000} s alternate between the targets; figures are the **median of the rounds** ` +
      '(min–max of throughput in brackets); server CPU is the child process’s CPU time per second of wall time, and per ' +
      'call that divided by the calls per second.',
  );
  const table = [
    '| Concurrency | host ops/s (min–max) | bare ops/s (min–max) | host / bare | host p50 / p99 ms | bare p50 / p99 ms | server cores host / bare | server CPU µs per call host / bare |',
    '| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...r.rows.map((x) =>
      [
        x.concurrency,
        `${x.host.opsPerSec.median.toFixed(0)} (${x.host.opsPerSec.min.toFixed(0)}–${x.host.opsPerSec.max.toFixed(0)})`,
        `${x.bare.opsPerSec.median.toFixed(0)} (${x.bare.opsPerSec.min.toFixed(0)}–${x.bare.opsPerSec.max.toFixed(0)})`,
        `**${x.ratio.toFixed(2)}x**`,
        `${x.host.p50.median.toFixed(2)} / ${x.host.p99.median.toFixed(2)}`,
        `${x.bare.p50.median.toFixed(2)} / ${x.bare.p99.median.toFixed(2)}`,
        `${x.host.serverCores.median.toFixed(2)} / ${x.bare.serverCores.median.toFixed(2)}`,
        `${((x.host.serverCores.median / x.host.opsPerSec.median) * 1e6).toFixed(0)} / ${((x.bare.serverCores.median / x.bare.opsPerSec.median) * 1e6).toFixed(0)}`,
      ].join(' | '),
    ).map((line) => `| ${line} |`),
  ].join('\n');
  const p = r.profile;
  const components = p.components
    .slice(0, 12)
    .map((c) => `| ${c.name} | ${c.ms.toFixed(0)} | ${(c.share * 100).toFixed(1)} % |`)
    .join('\n');
  const functions = p.functions
    .slice(0, 12)
    .map((f) => `| \`${f.name.replace(/\|/g, '\\|')}\` | ${f.ms.toFixed(0)} | ${(f.share * 100).toFixed(1)} % |`)
    .join('\n');
  const title = r.mode === 'dist' ? 'compiled output' : 'dev loader';
  return `## Platform: GetCircle through the host vs a bare route (${title})

${setup}

${table}

CPU profile of the server under the host load (concurrency ${p.concurrency}, ${p.seconds} s, ${p.busyMs.toFixed(0)} ms busy of
${p.totalMs.toFixed(0)} ms sampled; saved as \`${p.file}\`, open it in Chrome DevTools). Self time by component:

| component | self ms | share of busy |
| --- | ---: | ---: |
${components}

Hottest functions by self time:

| function | self ms | share of busy |
| --- | ---: | ---: |
${functions}
`;
}
