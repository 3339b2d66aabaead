// Safety plans through the generated client: each person's own, empty at version 0 until saved,
// replaced whole with a version check (concurrent first saves: one wins), sealed at rest, and
// erased for real on delete. Nobody can read another person's plan: there is no field for it.
import assert from 'node:assert/strict';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { Code } from '@connectrpc/connect';
import { refusal } from '@hearth/testkit';
import { type TestSystem, startTestSystem } from '@hearth/testkit/system';
import type { SupportApp } from '../src/app.js';

let sys: TestSystem<'auth' | 'user' | 'support'>;

beforeAll(async () => {
  sys = await startTestSystem({ services: ['auth', 'user', 'support'], name: 'support_plans' });
});
afterAll(async () => {
  await sys?.close();
});

const plan = {
  warningSigns: ['Not sleeping', 'Skipping meals'],
  copingStrategies: ['A walk by the river'],
  reasonsForLiving: ['My sister', 'The dog'],
  peopleToContact: [{ name: 'Mum', phone: '+44 20 7946 0000' }],
  professionals: [{ name: 'Dr Okafor', phone: '(020) 7946-0001' }],
  safeEnvironment: ['My flatmate keeps the pills'],
};

describe('safety plans', () => {
  it('starts empty at version 0, saves whole with versions, and is sealed at rest', async () => {
    const me = await sys.seed.person({ name: 'planner' });
    const empty = (await sys.support.getSafetyPlan({}, me.call)).plan!;
    assert.deepEqual([empty.version, empty.warningSigns, empty.updateTime], [0n, [], undefined]);
    const saved = (await sys.support.updateSafetyPlan({ version: 0n, ...plan }, me.call)).plan!;
    assert.equal(saved.version, 1n);
    assert.ok(saved.updateTime);
    const read = (await sys.support.getSafetyPlan({}, me.call)).plan!;
    assert.deepEqual(
      { ...plan, peopleToContact: read.peopleToContact.map((c) => ({ name: c.name, phone: c.phone })), professionals: read.professionals.map((c) => ({ name: c.name, phone: c.phone })) },
      { ...plan },
    );
    assert.deepEqual([read.warningSigns, read.reasonsForLiving, read.version], [plan.warningSigns, plan.reasonsForLiving, 1n]);
    const row = await (sys.modules.support as SupportApp).db.db.selectFrom('safety_plans').selectAll().where('user_id', '=', me.userId).executeTakeFirstOrThrow();
    const raw = Buffer.from(row.plan).toString('latin1');
    assert.ok(!raw.includes('Mum') && !raw.includes('river') && !raw.includes('7946'), 'no plaintext in the row');
    const second = (await sys.support.updateSafetyPlan({ version: 1n, ...plan, copingStrategies: ['Music'] }, me.call)).plan!;
    assert.deepEqual([second.version, second.copingStrategies, second.warningSigns], [2n, ['Music'], plan.warningSigns]);
    assert.equal((await refusal(sys.support.updateSafetyPlan({ version: 1n, ...plan }, me.call))).code, Code.Aborted, 'stale');
    assert.equal((await refusal(sys.support.updateSafetyPlan({ version: 0n, ...plan }, me.call))).code, Code.Aborted, '0 when a plan exists');
    const other = await sys.seed.person({ name: 'other' });
    assert.equal((await sys.support.getSafetyPlan({}, other.call)).plan!.version, 0n, 'only one’s own');
  });

  it('lets exactly one of several concurrent first saves win, the rest Aborted', async () => {
    const me = await sys.seed.person({ name: 'racer' });
    const results = await Promise.allSettled(Array.from({ length: 5 }, (_, i) => sys.support.updateSafetyPlan({ version: 0n, ...plan, copingStrategies: [`try ${i}`] }, me.call)));
    const won = results.filter((r) => r.status === 'fulfilled');
    assert.equal(won.length, 1);
    for (const r of results) if (r.status === 'rejected') assert.equal((await refusal(Promise.reject(r.reason))).code, Code.Aborted);
    assert.equal((await sys.support.getSafetyPlan({}, me.call)).plan!.version, 1n);
  });

  it('erases the plan at once on delete (the row is gone), and deleting none succeeds', async () => {
    const me = await sys.seed.person({ name: 'eraser' });
    await sys.support.updateSafetyPlan({ version: 0n, ...plan }, me.call);
    await sys.support.deleteSafetyPlan({}, me.call);
    const rows = await (sys.modules.support as SupportApp).db.db.selectFrom('safety_plans').select('user_id').where('user_id', '=', me.userId).execute();
    assert.deepEqual(rows, []);
    assert.equal((await sys.support.getSafetyPlan({}, me.call)).plan!.version, 0n);
    await sys.support.deleteSafetyPlan({}, me.call);
    assert.equal((await sys.support.updateSafetyPlan({ version: 0n, ...plan }, me.call)).plan!.version, 1n, 'a new plan starts over');
  });

  it('refuses bad input with InvalidArgument and anonymous callers with Unauthenticated', async () => {
    const me = await sys.seed.person({ name: 'validator' });
    const bad = await refusal(sys.support.updateSafetyPlan({ version: 0n, ...plan, peopleToContact: [{ name: 'Mum', phone: 'call me maybe' }] }, me.call));
    assert.equal(bad.code, Code.InvalidArgument);
    assert.equal((await refusal(sys.support.updateSafetyPlan({ version: 0n, warningSigns: Array.from({ length: 21 }, () => 'x') }, me.call))).code, Code.InvalidArgument);
    assert.equal((await refusal(sys.support.getSafetyPlan({}))).code, Code.Unauthenticated);
  });
});
