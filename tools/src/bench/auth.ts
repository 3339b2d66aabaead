/**
 * Login and Refresh throughput of the real auth service: `npm run -w tools bench:auth [-- --write]`.
 * Not a test (nothing asserts a speed); it prints a markdown table and, with --write, updates the
 * auth section of docs/benchmarks.md. See that file for what the figures mean.
 */
import { type Client, createClient } from '@connectrpc/connect';
import { createConnectTransport } from '@connectrpc/connect-node';
import { loadServiceConfig } from '@hearth/config';
import { AuthService } from '@hearth/contracts/gen/hearth/auth/v1/auth_service_pb.js';
import { TokenDelivery } from '@hearth/contracts/gen/hearth/auth/v1/resources_pb.js';
import { createDatabase } from '@hearth/db';
import { type Host, startHost } from '@hearth/platform';
import { AuthApp, authConfigSpec } from '@hearth/service-auth';
import { createTestDatabase, createTestRedis } from '@hearth/testkit';
import { Redis } from 'ioredis';
import { randomBytes } from 'node:crypto';
import { availableParallelism, cpus, loadavg, totalmem } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
// Not exported by @hearth/service-auth; the benchmark needs the real limiter with other budgets
// and the exact hashing parameters, so it reaches into the service's source.
import { createAuthLimits, defaultAuthLimitsConfig } from '../../../services/auth/src/limits/index.js';
import { ARGON2_PARAMS, PasswordHasher } from '../../../services/auth/src/service/passwords.js';
import { type ScenarioOptions, type ScenarioResult, medianTime, runScenario } from './measure.js';
import { type Argon2Figures, type AuthBenchReport, renderAuthSection, writeSection } from './report.js';

const PASSWORD = 'lantern orbit velvet cactus 42';
const CONCURRENCY = [1, 4, 16] as const;
/** Far above anything a run of a few minutes can reach, so the limiter counts but never refuses. */
const UNLIMITED = 100_000_000;

const { values: args } = parseArgs({
  options: {
    write: { type: 'boolean', default: false },
    rounds: { type: 'string', default: '5' },
    seconds: { type: 'string', default: '3' },
    warmup: { type: 'string', default: '1' },
    accounts: { type: 'string', default: '32' },
    samples: { type: 'string', default: '20' },
  },
});
const opts: ScenarioOptions = {
  rounds: positive('rounds', args.rounds),
  durationMs: positive('seconds', args.seconds) * 1000,
  warmupMs: Number(args.warmup) * 1000,
};
const accountCount = positive('accounts', args.accounts);
const samples = positive('samples', args.samples);

const log = (line: string): void => void process.stderr.write(`${line}\n`);

const loadBefore = loadavg()[0] ?? 0;
if (loadBefore > 0.5) log(`warning: 1-minute load average is ${loadBefore.toFixed(2)}; other work will skew the figures`);

const testDb = await createTestDatabase({ prefix: 'bench_auth' });
const testRedis = await createTestRedis();
const redis = new Redis(testRedis.url, { keyPrefix: testRedis.keyPrefix, maxRetriesPerRequest: 1 });
let host: Host | undefined;
try {
  const config = loadServiceConfig('auth', authConfigSpec, {
    DATABASE_URL: testDb.url,
    REDIS_URL: testRedis.url,
    HEARTH_PORT: '0',
    HEARTH_LOG_LEVEL: 'silent',
    HEARTH_AUTH_KEY_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
  });
  // The real limiter, counting in Redis. Every call comes from 127.0.0.1, and more than
  // loginFailuresPerAccountAddress logins in flight from one address are refused by design, so that
  // budget is raised along with the per-IP register and refresh budgets.
  const limits = createAuthLimits({
    config: {
      ...defaultAuthLimitsConfig,
      loginFailuresPerAccountAddress: UNLIMITED,
      registerPerIpPerHour: UNLIMITED,
      refreshPerIpPerMinute: UNLIMITED,
    },
    redis,
  });
  host = await startHost({
    name: 'auth',
    config,
    runtime: { redis },
    services: [{ name: 'auth', create: (runtime) => AuthApp.fromConfig(config, runtime, { limits }) }],
  });
  const client = createClient(AuthService, createConnectTransport({ baseUrl: host.url, httpVersion: '1.1' }));

  log(`auth on ${host.url}; registering ${accountCount} accounts`);
  const emails = await registerAccounts(client, accountCount);

  log(`argon2id: ${samples} hashes and verifies`);
  const argon2 = await measureArgon2(samples);

  const login: ScenarioResult[] = [];
  let next = 0;
  for (const c of CONCURRENCY) {
    login.push(
      await runScenario('Login', c, opts, async () => {
        const email = emails[next++ % emails.length] as string;
        await client.login({ email, password: PASSWORD, deviceName: 'bench', tokenDelivery: TokenDelivery.BODY });
      }, log),
    );
  }

  const refresh: ScenarioResult[] = [];
  for (const c of CONCURRENCY) {
    // One session per worker: a refresh token is good once, so each worker follows its own chain.
    const chains = await Promise.all(
      Array.from({ length: c }, async (_, w) => {
        const res = await client.login({ email: emails[w % emails.length] as string, password: PASSWORD, deviceName: 'bench', tokenDelivery: TokenDelivery.BODY });
        return refreshTokenOf(res.tokens);
      }),
    );
    refresh.push(
      await runScenario('Refresh', c, opts, async (w) => {
        const res = await client.refresh({ refreshToken: chains[w], tokenDelivery: TokenDelivery.BODY });
        chains[w] = refreshTokenOf(res.tokens);
      }, log),
    );
  }

  const report: AuthBenchReport = {
    date: new Date().toISOString().slice(0, 10),
    machine: { cores: availableParallelism(), memGiB: Math.round(totalmem() / 2 ** 30), cpu: cpus()[0]?.model.trim() ?? 'unknown CPU' },
    node: process.version,
    postgres: await postgresVersion(testDb.url),
    redis: await redisVersion(redis),
    dbPoolMax: config.database.poolMax,
    signingAlg: config.service.signingAlg,
    loadBefore,
    options: { ...opts, accounts: accountCount },
    argon2,
    login,
    refresh,
  };
  const section = renderAuthSection(report);
  process.stdout.write(`${section}\n`);
  if (args.write) {
    const file = fileURLToPath(new URL('../../../docs/benchmarks.md', import.meta.url));
    await writeSection(file, 'auth', section);
    log(`updated ${file}`);
  }
} finally {
  await host?.close();
  redis.disconnect();
  await testRedis.flush().catch(() => undefined);
  await testRedis.close();
  await testDb.drop();
}

function positive(name: string, raw: string | undefined): number {
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} must be a whole number >= 1, got ${String(raw)}`);
  return n;
}

async function registerAccounts(client: Client<typeof AuthService>, count: number): Promise<string[]> {
  const run = randomBytes(4).toString('hex');
  const emails: string[] = [];
  // One at a time: registration is not what is measured, and this keeps it gentle.
  for (let i = 0; i < count; i++) {
    const email = `bench.${run}.${i}@example.org`;
    await client.register({
      email,
      password: PASSWORD,
      handle: `bench_${run}_${i}`,
      displayName: 'Bench',
      deviceName: 'bench',
      tokenDelivery: TokenDelivery.BODY,
      idempotencyKey: `bench-${run}-${i}`,
    });
    emails.push(email);
  }
  return emails;
}

function refreshTokenOf(tokens: { refreshToken: string } | undefined): string {
  if (!tokens?.refreshToken) throw new Error('the response carried no refresh token');
  return tokens.refreshToken;
}

/** Raw cost of one hash and one verify with the service's own hasher, one at a time. */
async function measureArgon2(n: number): Promise<Argon2Figures> {
  const hasher = new PasswordHasher();
  const stored = await hasher.hash(PASSWORD);
  const hashMs = await medianTime(() => hasher.hash(PASSWORD), n);
  const verifyMs = await medianTime(async () => {
    if (!(await hasher.verify(stored, PASSWORD))) throw new Error('argon2 verify rejected its own hash');
  }, n);
  return { ...parsePhc(stored), hashMs, verifyMs, samples: n };
}

/**
 * The parameters as the hash itself records them (`$argon2id$v=19$m=..,t=..,p=..$salt$hash`):
 * the output length is the library's default, so it is read back rather than assumed.
 */
function parsePhc(phc: string): Pick<Argon2Figures, 'memoryCost' | 'timeCost' | 'parallelism' | 'outputLen'> {
  const [, alg, , params, , digest] = phc.split('$');
  const p = new URLSearchParams((params ?? '').replaceAll(',', '&'));
  const figures = {
    memoryCost: Number(p.get('m')),
    timeCost: Number(p.get('t')),
    parallelism: Number(p.get('p')),
    outputLen: Buffer.from(digest ?? '', 'base64').length,
  };
  const expected = ARGON2_PARAMS;
  if (alg !== 'argon2id' || figures.memoryCost !== expected.memoryCost || figures.timeCost !== expected.timeCost || figures.parallelism !== expected.parallelism) {
    throw new Error(`the hash does not carry ARGON2_PARAMS: ${alg ?? '?'} ${params ?? '?'}`);
  }
  return figures;
}

async function postgresVersion(url: string): Promise<string> {
  const db = createDatabase<Record<string, never>>({
    url,
    schema: 'public',
    poolMax: 1,
    connectionTimeoutMs: 5_000,
    idleTimeoutMs: 1_000,
    statementTimeoutMs: 5_000,
    applicationName: 'bench-auth',
  });
  try {
    const row = await db.db
      .selectNoFrom((eb) => eb.fn<string>('current_setting', [eb.val('server_version')]).as('version'))
      .executeTakeFirstOrThrow();
    return row.version;
  } finally {
    await db.destroy();
  }
}

async function redisVersion(client: Redis): Promise<string> {
  const info = await client.info('server');
  return /redis_version:(\S+)/.exec(info)?.[1] ?? 'unknown';
}
