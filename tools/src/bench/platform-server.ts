/**
 * The server side of `bench:platform` (see platform.ts), run as a child process so the load
 * generator does not share its event loop. It serves two things from one process, as a new user
 * would run them:
 *
 * - the whole of Hearth in monolith mode (`startSystem`, what `npm run dev` runs), and
 * - a bare Fastify route that runs GetCircle's two indexed lookups (the circle by id, the
 *   caller's membership) with the same SQL on a pool of the same size, and nothing else: no
 *   authentication, authorization, validation, telemetry or Connect.
 *
 * It seeds one person and one circle, reports the URLs over IPC, and answers IPC requests for
 * its CPU usage and for CPU profiles (node:inspector, written as .cpuprofile files).
 */
import { Kysely, PostgresDialect } from 'kysely';
import { Session } from 'node:inspector/promises';
import { writeFile } from 'node:fs/promises';
import { randomInt, randomUUID } from 'node:crypto';
import { createConnectTransport } from '@connectrpc/connect-node';
import { createHearthClient } from '@hearth/client';
import pg from 'pg';
import Fastify from 'fastify';
import { TokenDelivery } from '@hearth/contracts/gen/hearth/auth/v1/resources_pb.js';
import { CircleVisibility } from '@hearth/contracts/gen/hearth/circle/v1/resources_pb.js';
import { startSystem } from '../system.js';

export type ServerRequest =
  | { readonly kind: 'cpu' }
  | { readonly kind: 'profile-start' }
  | { readonly kind: 'profile-stop'; readonly file: string }
  | { readonly kind: 'stop' };

export interface ServerReady {
  readonly kind: 'ready';
  readonly hostUrl: string;
  readonly bareUrl: string;
  readonly accessToken: string;
  readonly circleId: string;
  readonly poolMax: number;
  readonly postgres: string;
  readonly node: string;
}

interface BareTables {
  circles: {
    id: string;
    name: string;
    description: string;
    guidelines: string;
    visibility: string;
    member_cap: number;
    member_count: number;
    owner_id: string;
    last_seq: string;
    create_time: Date;
    update_time: Date;
    archive_time: Date | null;
    version: string;
  };
  members: { circle_id: string; user_id: string; role: string; join_time: Date; mute_expire_time: Date | null; version: string };
}

const send = (msg: unknown): void => void process.send?.(msg);

const env: Record<string, string | undefined> = { ...process.env };
const system = await startSystem({ env });
const poolMax = Number(env.HEARTH_DB_POOL_MAX ?? 10);

// Seed through the public API, as an app would, from an address of the loopback network of its
// own: registrations are limited per address, and a machine that runs the benchmark often
// would otherwise use up 127.0.0.1's budget.
const client = createHearthClient({
  baseUrl: system.url,
  transport: createConnectTransport({
    baseUrl: system.url,
    httpVersion: '1.1',
    nodeOptions: { localAddress: `127.${1 + randomInt(254)}.${randomInt(256)}.${1 + randomInt(254)}` },
  }),
});
const handle = `bench_${randomUUID().slice(0, 8)}`;
const { tokens } = await client.auth.register({
  email: `${handle}@example.org`,
  password: 'lantern orbit velvet cactus 42',
  handle,
  displayName: 'Bench',
  deviceName: 'bench',
  tokenDelivery: TokenDelivery.BODY,
  idempotencyKey: `bench-${handle}`,
});
if (!tokens) throw new Error('Register returned no tokens');
const callOptions = { headers: { authorization: `Bearer ${tokens.accessToken}` } };
const { circle } = await client.circle.createCircle(
  { name: 'Bench circle', description: 'Measured', guidelines: 'Be kind.', visibility: CircleVisibility.PRIVATE, idempotencyKey: `bench-${handle}` },
  callOptions,
);
if (!circle) throw new Error('CreateCircle returned no circle');

// The bare route: the same two queries on its own pool of the same size, in the circles schema.
const bareDb = new Kysely<BareTables>({
  dialect: new PostgresDialect({
    pool: new pg.Pool({ connectionString: env.DATABASE_URL, max: poolMax, options: '-c search_path=circles', application_name: 'bench-bare' }),
  }),
});
const bare = Fastify({ logger: false });
bare.post<{ Body: { circleId: string } }>('/bare/GetCircle', async (req, reply) => {
  const userId = tokens.userId;
  const c = await bareDb
    .selectFrom('circles as c')
    .select(['c.id', 'c.name', 'c.description', 'c.guidelines', 'c.visibility', 'c.member_cap', 'c.member_count', 'c.owner_id', 'c.last_seq', 'c.create_time', 'c.update_time', 'c.archive_time', 'c.version'])
    .where('c.id', '=', req.body.circleId)
    .executeTakeFirst();
  if (!c) return reply.code(404).send({ code: 'not_found' });
  const me = await bareDb.selectFrom('members').selectAll().where('circle_id', '=', c.id).where('user_id', '=', userId).executeTakeFirst();
  return {
    circle: {
      id: c.id,
      name: c.name,
      description: c.description,
      guidelines: c.guidelines,
      visibility: c.visibility,
      memberCap: c.member_cap,
      memberCount: c.member_count,
      ownerId: c.owner_id,
      lastSeq: c.last_seq,
      createTime: c.create_time.toISOString(),
      updateTime: c.update_time.toISOString(),
      version: c.version,
      ...(me ? { myMembership: { circleId: me.circle_id, userId: me.user_id, role: me.role, joinTime: me.join_time.toISOString(), version: me.version } } : {}),
    },
  };
});
const bareUrl = await bare.listen({ host: '127.0.0.1', port: 0 });

const pgVersion = await bareDb.selectNoFrom((eb) => eb.fn<string>('current_setting', [eb.val('server_version')]).as('v')).executeTakeFirstOrThrow();

const session = new Session();
session.connect();

process.on('message', (raw) => {
  const req = raw as ServerRequest;
  void (async () => {
    switch (req.kind) {
      case 'cpu': {
        const u = process.cpuUsage();
        send({ kind: 'cpu', micros: u.user + u.system, at: performance.now() });
        return;
      }
      case 'profile-start':
        await session.post('Profiler.enable');
        await session.post('Profiler.setSamplingInterval', { interval: 200 });
        await session.post('Profiler.start');
        send({ kind: 'profiling' });
        return;
      case 'profile-stop': {
        const { profile } = await session.post('Profiler.stop');
        await writeFile(req.file, JSON.stringify(profile));
        send({ kind: 'profiled', file: req.file });
        return;
      }
      case 'stop':
        session.disconnect();
        await bare.close();
        await bareDb.destroy();
        await system.close();
        send({ kind: 'stopped' });
        process.disconnect?.();
        return;
    }
  })().catch((err: unknown) => {
    process.stderr.write(`bench server: ${String(err)}\n`);
    process.exitCode = 1;
  });
});

send({
  kind: 'ready',
  hostUrl: system.url,
  bareUrl,
  accessToken: tokens.accessToken,
  circleId: circle.id,
  poolMax,
  postgres: pgVersion.v,
  node: process.version,
} satisfies ServerReady);
