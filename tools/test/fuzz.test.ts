// Issue 9, "Bad input must never be internal": every RPC of every service in @hearth/contracts,
// found in the descriptors (a new RPC is covered without a line here), is called with classes of
// bad input generated per field from its descriptor and protovalidate rules (tools/src/fuzz),
// through the whole system in its own process. Any internal, unknown or data_loss, HTTP 5xx,
// unavailable, hang or crash fails the run, as does an upper-case id answered differently from
// its lower-case spelling or an unknown enum name accepted silently. Replay a run with
// HEARTH_FUZZ_SEED; HEARTH_FUZZ_CASES sets the cases per RPC; HEARTH_FUZZ_LOG_FILE keeps every
// call as JSON lines and HEARTH_FUZZ_LOG_LEVEL the system's own logs, to study a finding.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { appendFileSync, writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { PostService, UserService, services } from '@hearth/contracts';
import { createTestDatabase } from '@hearth/testkit';
import { clientAddresses } from '../src/fuzz/addresses.js';
import { CASE_CLASSES } from '../src/fuzz/cases.js';
import { spawnSystem, type SystemProcess } from '../src/fuzz/child.js';
import { excerpt, formatFindings } from '../src/fuzz/classify.js';
import { type Sender, createSender } from '../src/fuzz/http.js';
import { PLANTED_USER_ID, startFairServer, startPlantedServer } from '../src/fuzz/planted.js';
import { createRng, seedFromEnv } from '../src/fuzz/prng.js';
import { type FuzzResult, fuzz } from '../src/fuzz/run.js';
import { type Rpc, everyRpc, holdsUuid, slotsOf } from '../src/fuzz/schema.js';
import { type Identity, seedIdentity } from '../src/fuzz/session.js';
import { baselineOf } from '../src/fuzz/valid.js';
import { systemEnv } from './helpers.js';

const SEED = seedFromEnv(process.env.HEARTH_FUZZ_SEED);
const CASES = Number(process.env.HEARTH_FUZZ_CASES ?? 25);
const DEADLINE_MS = 5_000;
/** RPCs walked in parallel, each worker as a person of its own: the server and the fuzzer share two cores. */
const WORKERS = 2;
/** Where to write every call of the run as JSON lines, to study a failure. */
const LOG_FILE = process.env.HEARTH_FUZZ_LOG_FILE;

describe('fuzz: the walk finds what it looks for', () => {
  const fixed: Identity = {
    headers: () => ({ authorization: 'Bearer planted' }),
    ids: () => ({ userId: PLANTED_USER_ID, circleId: PLANTED_USER_ID, email: 'planted@example.org', password: 'planted password' }),
    freshCircle: async () => randomUUID(),
    alive: async () => true,
    renew: async () => undefined,
    counts: { renewals: 0, people: 1 },
  };

  it('reports a planted internal, page-token internal, hang, case mismatch, silently accepted enum and crash', async () => {
    const server = await startPlantedServer();
    // Long enough for a loaded two-core machine; the planted hang waits forever anyway.
    const sender = createSender(server.url, 1_500);
    try {
      // Each planted trigger is among the inputs every class tries first, so any seed draws it.
      // The crash comes last: the walk stops there.
      const planted = ['GetMe', 'GetProfile', 'UpdateProfile', 'UpdateSettings', 'BlockUser', 'ListBlocks', 'ListUsers', 'UnblockUser'];
      const rpcs = planted.map((name) => everyRpc([UserService]).find((r) => r.method.name === name)).filter((r) => r !== undefined);
      const result = await fuzz({
        rpcs,
        sender,
        identities: [fixed],
        seed: SEED,
        casesPerRpc: Math.max(CASES, 30),
        anonymousShare: 0,
        maxHangsPerRpc: 1,
        serverExited: () => server.exited(),
      });
      const has = (rpc: string, klass: string, problem: string) =>
        result.findings.some((f) => f.rpc === `UserService.${rpc}` && f.klass === klass && f.problem === problem);
      const report = formatFindings(result.findings, 'planted server');
      assert.ok(has('UpdateProfile', 'text', 'internal'), report);
      assert.ok(has('ListBlocks', 'page-token', 'internal'), report);
      assert.ok(has('BlockUser', 'text', 'hang'), report);
      assert.ok(has('GetProfile', 'case-changed ids', 'case mismatch'), report);
      assert.ok(has('ListUsers', 'enum', 'accepted silently'), report);
      assert.ok(result.findings.some((f) => f.rpc === 'UserService.UnblockUser' && f.problem.startsWith('crash')), report);
      assert.match(result.stoppedBy ?? '', /UnblockUser/);
      // Plain connect-es answers undecodable protobuf as internal: the reason connect-mount.ts exists.
      assert.ok(has('GetMe', 'binary', 'internal'), report);
      const clean = ['GetMe', 'UpdateSettings'].flatMap((rpc) => result.findings.filter((f) => f.rpc === `UserService.${rpc}` && f.klass !== 'binary'));
      assert.equal(clean.length, 0, formatFindings(clean, 'RPCs without a planted bug must have no findings outside the binary class'));
    } finally {
      sender.close();
      await server.close();
    }
  });

  it('reports nothing where every answer is fair', async () => {
    const server = await startFairServer();
    const sender = createSender(server.url, 1_500);
    try {
      const result = await fuzz({ rpcs: everyRpc([PostService]), sender, identities: [fixed], seed: SEED, casesPerRpc: CASES, anonymousShare: 0.2 });
      assert.equal(result.findings.length, 0, formatFindings(result.findings, 'fair server'));
      assert.ok(result.calls > everyRpc([PostService]).length * CASES);
    } finally {
      sender.close();
      await server.close();
    }
  });
});

describe('fuzz: bad input is never internal', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let system: SystemProcess;
  let sender: Sender;
  let result: FuzzResult | undefined;
  const rpcs = everyRpc(Object.values(services));

  beforeAll(async () => {
    db = await createTestDatabase({ prefix: 'fuzz' });
    const env = { PATH: process.env.PATH, HOME: process.env.HOME, TMPDIR: process.env.TMPDIR, ...systemEnv(db.url) };
    system = await spawnSystem({ ...env, HEARTH_LOG_LEVEL: process.env.HEARTH_FUZZ_LOG_LEVEL ?? 'silent' });
    sender = createSender(system.url, DEADLINE_MS);
    // Unavailable counts as a finding only because the database is known to be up.
    const ready = await sender.get('/health/ready');
    assert.ok(ready.kind === 'answer' && ready.status === 200, `system not ready: ${JSON.stringify(ready)}`);
  });

  afterAll(async () => {
    sender?.close();
    await system?.stop();
    await db?.drop();
  });

  it('answers every class of bad input on every RPC fairly', { timeout: 600_000 }, async () => {
    const started = Date.now();
    const addresses = await clientAddresses(sender);
    const rng = createRng(SEED);
    const identities = await Promise.all(
      Array.from({ length: WORKERS }, () => seedIdentity({ url: system.url, rpcs, sender, rng, nextAddress: () => addresses.nextOwn() })),
    );
    result = await fuzz({
      rpcs,
      sender,
      identities,
      seed: SEED,
      casesPerRpc: CASES,
      anonymousShare: 0.2,
      nextAddress: () => addresses.nextCase(),
      serverExited: () => system.exited(),
      ...(LOG_FILE ? { onCall: logTo(LOG_FILE) } : {}),
    });
    const seconds = ((Date.now() - started) / 1000).toFixed(1);
    const slowest = [...result.coverage].sort((a, b) => b.ms - a.ms).slice(0, 5);
    console.log(`slowest RPCs: ${slowest.map((c) => `${c.rpc} ${c.ms} ms`).join(', ')}`);
    console.log(
      `seed ${SEED}, ${CASES} cases per RPC, ${rpcs.length} RPCs, ${result.calls} calls in ${seconds} s; ` +
        `${sum(identities.map((i) => i.counts.renewals))} sign-ins after a case ended a session, ${sum(identities.map((i) => i.counts.people))} people seeded; ` +
        `client addresses ${addresses.separate ? 'one per call' : 'shared (no loopback aliases: per-IP rate limits may answer some cases)'}`,
    );

    assert.equal(result.stoppedBy, undefined, `the walk stopped early: ${result.stoppedBy}\n${system.output()}`);
    assert.equal(result.findings.length, 0, formatFindings(result.findings, `${result.findings.length} findings (seed ${SEED}: replay with HEARTH_FUZZ_SEED=${SEED})`));
  });

  it('walked every RPC with every class that applies, skipping nothing', () => {
    assert.ok(result, 'the walk did not run');
    assert.ok(rpcs.length >= 110, `expected the whole v1 surface, saw ${rpcs.length} RPCs`);
    assert.deepEqual(result.coverage.map((c) => c.rpc), rpcs.map((r) => r.name), 'RPCs walked');
    const used = new Set(result.coverage.flatMap((c) => Object.keys(c.cases)));
    assert.deepEqual(CASE_CLASSES.filter((k) => !used.has(k)), [], 'classes never drawn');
    for (const c of result.coverage) assert.ok(Object.values(c.cases).reduce((a, b) => a + b, 0) >= Math.min(CASES, 10), `${c.rpc}: too few cases`);
    const covered = (r: Rpc) => result?.coverage.find((c) => c.rpc === r.name);
    const withToken = rpcs.filter((r) => r.method.input.fields.some((f) => f.name === 'page_token'));
    assert.deepEqual(withToken.filter((r) => !covered(r)?.cases['page-token']).map((r) => r.name), [], 'RPCs with a page_token that got no forged token');
    const rng = createRng(SEED);
    const withIds = rpcs.filter((r) => slotsOf(r.method.input, baselineOf(r.method.input, { userId: 'u', circleId: 'c', email: 'e', password: 'p' }, rng)).some(holdsUuid));
    assert.deepEqual(withIds.filter((r) => !covered(r)?.caseIdTargets.length).map((r) => r.name), [], 'RPCs with an id field whose case-changed id was not checked');
  });

  it('leaves the server process running and answering /health/live', async () => {
    assert.equal(system.exited(), undefined, `the system process ended:\n${system.output()}`);
    const live = await sender.get('/health/live');
    assert.ok(live.kind === 'answer' && live.status === 200, `/health/live: ${JSON.stringify(live)}`);
  });
});

function sum(ns: readonly number[]): number {
  return ns.reduce((a, b) => a + b, 0);
}

function logTo(file: string): NonNullable<Parameters<typeof fuzz>[0]['onCall']> {
  writeFileSync(file, '');
  return (rpc, c, body, outcome) =>
    appendFileSync(file, `${JSON.stringify({ rpc: rpc.name, class: c.klass, variant: c.variant, target: c.target, anonymous: c.anonymous, request: excerpt(body), outcome: { ...outcome, ...('body' in outcome ? { body: outcome.body.slice(0, 300) } : {}) } })}\n`);
}
