import { readFile, writeFile } from 'node:fs/promises';
import type { ScenarioOptions, ScenarioResult, Spread } from './measure.js';

export interface Argon2Figures {
  /** KiB, as in the PHC string's `m=`. */
  readonly memoryCost: number;
  readonly timeCost: number;
  readonly parallelism: number;
  /** Bytes of raw hash output. */
  readonly outputLen: number;
  readonly hashMs: Spread;
  readonly verifyMs: Spread;
  readonly samples: number;
}

export interface AuthBenchReport {
  readonly date: string;
  readonly machine: { readonly cores: number; readonly memGiB: number; readonly cpu: string };
  readonly node: string;
  readonly postgres: string;
  readonly redis: string;
  readonly dbPoolMax: number;
  readonly signingAlg: string;
  /** 1-minute load average just before the run: other work on the machine skews the figures. */
  readonly loadBefore: number;
  readonly options: ScenarioOptions & { readonly accounts: number };
  readonly argon2: Argon2Figures;
  readonly login: readonly ScenarioResult[];
  readonly refresh: readonly ScenarioResult[];
}

const INTRO = `# Benchmarks

Throughput and latency of hot paths, measured on a development machine against the real
services, the real PostgreSQL and the real Redis. They are not tests and do not run in
\`npm test\`; they are run by hand after a change that may move the figures, and the generated
sections below are replaced by the run (\`--write\`). Compare figures only between runs on the
same machine.

| Section | Command |
| --- | --- |
| Auth: Login and Refresh | \`npm run -w tools bench:auth -- --write\` (options: \`--rounds 5 --seconds 3 --warmup 1 --accounts 32 --samples 20\`) |
| Platform: GetCircle through the host vs a bare route | \`npm run -w tools bench:platform -- --write\` (dev loader); \`npm run build && npm run -w tools bench:platform:dist -- --write\` (compiled) |
`;

/** The auth section (without its markers), in markdown. */
export function renderAuthSection(r: AuthBenchReport): string {
  const a = r.argon2;
  const o = r.options;
  const cores = r.machine.cores;
  const boundOpsPerSec = (cores * 1000) / a.verifyMs.median;
  const rows = [
    ...r.login.map((s) => row(s, `${pct(s.opsPerSec.median / boundOpsPerSec)}`)),
    ...r.refresh.map((s) => row(s, '–')),
  ];
  const setup = wrap(
    `Measured on ${r.date}: ${r.machine.cpu}, ${cores} cores, ${r.machine.memGiB} GiB RAM; Node ${r.node}; ` +
      `PostgreSQL ${r.postgres} and Redis ${r.redis} on loopback; 1-minute load average ${r.loadBefore.toFixed(2)} before ` +
      'the run. The auth service runs in the benchmark’s process (port 0, log level silent, ' +
      `Postgres pool of ${r.dbPoolMax}, the real limiter in Redis with its per-IP budgets raised so that nothing is ` +
      'refused), and the generated Connect client calls it over HTTP/1.1 from the same process and event loop: ' +
      `client, server, Postgres and Redis share the ${cores} cores. Each row is a closed loop of *concurrency* ` +
      `callers: one untimed ${sec(o.warmupMs)} warm-up round, then ${o.rounds} rounds of ${sec(o.durationMs)}; figures ` +
      `are the **median of the ${o.rounds} rounds**, with the min–max of throughput in brackets. Latency is per call ` +
      `as the client sees it. Login cycles over ${o.accounts} accounts registered beforehand (not timed); each ` +
      'Refresh caller rotates its own session’s token chain, since a refresh token is good once. CPU is CPU time ' +
      'per second of wall time, of this process (all threads) and of the whole machine.',
  );
  const hashing = wrap(
    '**argon2id** (`ARGON2_PARAMS` in `services/auth/src/service/passwords.ts`, read back from a hash it ' +
      `produced): memoryCost ${a.memoryCost} KiB (${(a.memoryCost / 1024).toFixed(0)} MiB), timeCost ${a.timeCost}, ` +
      `parallelism ${a.parallelism}, output ${a.outputLen} bytes. One hash takes ${ms(a.hashMs)} and one verify ` +
      `${ms(a.verifyMs)} (median of ${a.samples}, one at a time, min–max in brackets), so ${cores} cores can verify ` +
      `at most ${cores} / ${a.verifyMs.median.toFixed(1)} ms = **${n0(boundOpsPerSec)} logins/s**, the bound the ` +
      'last column compares Login with.',
  );
  return `## Auth: Login and Refresh

${setup}

${hashing}

| RPC | Concurrency | ops/s (min–max) | p50 ms | p95 ms | p99 ms | ops/round | CPU: node / machine (cores) | event loop busy | vs argon2 bound |
| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |
${rows.join('\n')}

${interpret(r, boundOpsPerSec)}
`;
}

/**
 * What the figures say, worded from the figures themselves so that a rerun on another machine
 * cannot leave a stale claim behind.
 */
function interpret(r: AuthBenchReport, bound: number): string {
  const a = r.argon2;
  const cores = r.machine.cores;
  const login = best(r.login);
  const login1 = at(r.login, 1);
  const refresh = best(r.refresh);
  const refresh1 = at(r.refresh, 1);
  const share = login.opsPerSec.median / bound;
  const out: string[] = [];
  out.push(
    `Login peaks at ${n0(login.opsPerSec.median)} ops/s (concurrency ${login.concurrency}), ${pct(share)} of the argon2 bound of ` +
      `${n0(bound)} logins/s (${cores} cores / ${a.verifyMs.median.toFixed(1)} ms per verify).`,
  );
  if (share >= 0.75) {
    out.push('It is bounded by the CPU cost of argon2id; the rest of a login takes the remaining share of the same cores.');
  } else {
    out.push(
      `The hash is not the only limit: at concurrency 1 a login takes ${login1.p50.median.toFixed(1)} ms ` +
        `(p50), of which the verify is ${a.verifyMs.median.toFixed(1)} ms (${pct(a.verifyMs.median / login1.p50.median)}). The rest is ` +
        'the limiter’s Redis round trips (reserve, read, release), the session transaction in Postgres, signing the access ' +
        `token and HTTP on both ends, all driven by one event loop, which is ${pct(login.eventLoop.median)} busy at the peak. ` +
        `There the machine uses ${login.machineCores.median.toFixed(2)} of its ${cores} cores, ` +
        `${login.processCores.median.toFixed(2)} of them in this process (argon2 threads included); the rest is Postgres, ` +
        'Redis and whatever else runs on the machine.',
    );
  }
  const login4 = r.login.find((s) => s.concurrency === 4);
  const login16 = r.login.find((s) => s.concurrency === 16);
  if (login4 && login16) {
    out.push(
      `Past the core count, callers only queue: from concurrency 4 to 16 throughput goes from ${n0(login4.opsPerSec.median)} ` +
        `to ${n0(login16.opsPerSec.median)} ops/s while p50 goes from ${n0(login4.p50.median)} to ${n0(login16.p50.median)} ms.`,
    );
  }
  out.push(
    `Refresh does no hashing and peaks at ${n0(refresh.opsPerSec.median)} ops/s (concurrency ${refresh.concurrency}), ` +
      `${(refresh.opsPerSec.median / login.opsPerSec.median).toFixed(1)}× Login. Each is one Postgres transaction of sequential ` +
      'statements (lock the token and the session, read the account, insert the new token, mark the old one, touch the ' +
      `session, write the audit row), one Redis limiter call and an ${r.signingAlg} signature.`,
  );
  const busy1 = refresh1.eventLoop.median;
  out.push(
    `At concurrency 1 it takes ${refresh1.p50.median.toFixed(1)} ms (p50) with the event loop ${pct(busy1)} busy, so ` +
      (busy1 >= 0.5
        ? 'most of that time is this process’s own work around each round trip (socket reads and writes to Postgres, ' +
          'Redis and the client, query building, protobuf) rather than waiting for Postgres; '
        : 'most of that time is spent waiting for Postgres round trips; ') +
      `more callers overlap the waits until the event loop saturates (${pct(refresh.eventLoop.median)} busy at the peak).`,
  );
  return wrap(out.join(' '));
}

function at(results: readonly ScenarioResult[], concurrency: number): ScenarioResult {
  const found = results.find((s) => s.concurrency === concurrency);
  if (!found) throw new Error(`no result at concurrency ${concurrency}`);
  return found;
}

/** Markdown ignores single newlines; short lines keep the file readable in a diff. */
export function wrap(text: string, width = 100): string {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/)) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(line);
  return lines.join('\n');
}

function row(s: ScenarioResult, vsBound: string): string {
  return [
    s.name,
    s.concurrency,
    `${s.opsPerSec.median.toFixed(1)} (${s.opsPerSec.min.toFixed(1)}–${s.opsPerSec.max.toFixed(1)})`,
    s.p50.median.toFixed(1),
    s.p95.median.toFixed(1),
    s.p99.median.toFixed(1),
    Math.round(s.opsPerRound),
    `${s.processCores.median.toFixed(2)} / ${s.machineCores.median.toFixed(2)}`,
    pct(s.eventLoop.median),
    vsBound,
  ].join(' | ')
    .replace(/^/, '| ')
    .concat(' |');
}

function best(results: readonly ScenarioResult[]): ScenarioResult {
  const top = [...results].sort((x, y) => y.opsPerSec.median - x.opsPerSec.median)[0];
  if (!top) throw new Error('no results');
  return top;
}

const n0 = (x: number): string => x.toFixed(0);
const pct = (x: number): string => `${(x * 100).toFixed(0)} %`;
const sec = (ms: number): string => `${ms / 1000} s`;
const ms = (s: Spread): string => `${s.median.toFixed(1)} ms (${s.min.toFixed(1)}–${s.max.toFixed(1)})`;

/**
 * Replaces the text between `<!-- bench:<name>:start -->` and `<!-- bench:<name>:end -->` in
 * `file`, appending the marked section if it is missing and creating the file with its
 * introduction if there is none. Everything outside the markers is left as it was.
 */
export async function writeSection(file: string, name: string, content: string): Promise<void> {
  const start = `<!-- bench:${name}:start -->`;
  const end = `<!-- bench:${name}:end -->`;
  const block = `${start}\n${content.trimEnd()}\n${end}`;
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    text = INTRO;
  }
  const from = text.indexOf(start);
  const to = text.indexOf(end);
  if (from >= 0 && to > from) text = text.slice(0, from) + block + text.slice(to + end.length);
  else if (from >= 0 || to >= 0) throw new Error(`${file}: the ${name} markers are incomplete or out of order; fix them by hand`);
  else text = `${text.trimEnd()}\n\n${block}\n`;
  await writeFile(file, text);
}
