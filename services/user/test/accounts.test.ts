import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { timestampDate } from '@bufbuild/protobuf/wkt';
import { Code } from '@connectrpc/connect';
import { TokenDelivery } from '@hearth/contracts/gen/hearth/auth/v1/resources_pb.js';
import { AccountState } from '@hearth/contracts/gen/hearth/user/v1/resources_pb.js';
import { newId } from '@hearth/db';
import { sql } from 'kysely';
import { eraseSupportJob, leaveCirclesJob } from '../src/service/jobs.js';
import { accountTopic } from '../src/service/topics.js';
import { DAY_MS, PASSWORD, type Person, SESSIONS_END, type TestUsers, refusal, startUsers, waitFor } from './helpers.js';

describe('account deletion and purge through a real server', () => {
  let t: TestUsers;
  beforeAll(async () => {
    // No circle service here, on purpose: the leave-circles job cannot finish, so the test can
    // see it queued (with the circle service hosted it might already be done and gone).
    t = await startUsers();
  });
  afterAll(() => t?.close());

  const jobs = (key: string) =>
    sql<{ identifier: string; key: string }>`
      select k.identifier, j.key from users_jobs._private_jobs j join users_jobs._private_tasks k on k.id = j.task_id
       where j.key = ${key}`
      .execute(t.db.db)
      .then((r) => r.rows);
  const login = (p: Person) => t.auth.login({ email: p.email, password: PASSWORD, deviceName: 'x', tokenDelivery: TokenDelivery.BODY });

  it('needs the caller\'s current handle, in any letter case', async () => {
    const a = await t.person();
    const b = await t.person();
    assert.equal((await refusal(a.users.deleteAccount({ confirmHandle: b.handle }))).code, Code.FailedPrecondition);
    assert.equal((await refusal(a.users.deleteAccount({ confirmHandle: 'x!' }))).code, Code.InvalidArgument);
    assert.equal((await a.users.getMe({})).profile?.state, AccountState.ACTIVE, 'nothing changed');
  });

  it('takes effect at once, keeps the handle until the purge, and the purge leaves nothing personal', async () => {
    // A real account: the sessions must end and the credentials go in the auth service.
    const [a, b, c] = [await t.account(), await t.person(), await t.person()];
    await a.users.updateProfile({ version: 1n, bio: 'something personal', pronouns: 'he/him' });
    await a.users.updateSettings({ version: 1n, showPresence: true });
    await a.users.blockUser({ userId: b.userId });
    await b.users.blockUser({ userId: a.userId });
    const before = Date.now();
    const res = await a.users.deleteAccount({ confirmHandle: a.handle.toUpperCase() });
    const purgeAt = timestampDate(res.purgeTime ?? assert.fail('no purge time')).getTime();
    assert.ok(Math.abs(purgeAt - (before + 30 * DAY_MS)) < 60_000, 'purged after 30 days by default');

    // Sessions ended (SetAccountAccess was tried right after commit) and sign-in is refused.
    assert.equal((await refusal(a.users.getMe({}))).code, Code.Unauthenticated, SESSIONS_END);
    assert.equal((await refusal(login(a))).code, Code.Unauthenticated);
    // Durable follow-ups were queued in the same transaction.
    assert.deepEqual((await jobs(`circles:${a.userId}`)).map((j) => j.identifier), [leaveCirclesJob.name]);
    assert.deepEqual((await jobs(`support:${a.userId}`)).map((j) => j.identifier), [eraseSupportJob.name]);

    const shown = await c.users.getProfile({ lookup: { case: 'userId', value: a.userId } });
    assert.equal(shown.profile?.state, AccountState.DELETED);
    assert.deepEqual(
      [shown.profile?.handle, shown.profile?.displayName, shown.profile?.bio, shown.profile?.pronouns],
      ['', '', '', ''],
    );
    assert.ok(shown.profile?.deleteTime);
    assert.equal((await c.users.getProfiles({ userIds: [a.userId] })).profiles[a.userId]?.state, AccountState.DELETED);
    assert.equal((await refusal(c.users.getProfile({ lookup: { case: 'handle', value: a.handle } }))).code, Code.NotFound);
    const row = await t.db.db.selectFrom('profiles').selectAll().where('id', '=', a.userId).executeTakeFirstOrThrow();
    assert.deepEqual([row.bio, row.pronouns, row.display_name], ['', '', ''], 'display fields are emptied at once');
    // The handle stays reserved until the purge.
    const taken = await t.service.createUser({ userId: newId(), handle: a.handle, displayName: '', idempotencyKey: 'kkkkkkkk' });
    assert.equal(taken.profile?.handle, `${a.handle}1`);

    assert.equal(await t.app.purge(), 0, 'not due yet');
    t.advance(30 * DAY_MS + 60_000);
    assert.ok((await t.app.purge()) >= 1);

    const purged = await t.db.db.selectFrom('profiles').selectAll().where('id', '=', a.userId).executeTakeFirstOrThrow();
    assert.equal(purged.handle, null);
    assert.deepEqual([purged.display_name, purged.bio, purged.pronouns, purged.avatar_url], ['', '', '', '']);
    assert.equal(purged.state, 'deleted');
    assert.equal(await t.db.db.selectFrom('settings').select('user_id').where('user_id', '=', a.userId).executeTakeFirst(), undefined);
    const blocks = await t.db.db
      .selectFrom('blocks')
      .selectAll()
      .where((eb) => eb.or([eb('blocker_id', '=', a.userId), eb('blocked_id', '=', a.userId)]))
      .execute();
    assert.deepEqual(blocks, [], 'blocks in both directions are gone');
    const free = await t.service.createUser({ userId: newId(), handle: a.handle, displayName: '', idempotencyKey: 'kkkkkkkk' });
    assert.equal(free.profile?.handle, a.handle, 'the handle is free again');
    const tomb = await c.users.getProfile({ lookup: { case: 'userId', value: a.userId } });
    assert.equal(tomb.profile?.state, AccountState.DELETED, 'old content still resolves to "Deleted account"');
    assert.equal(await t.app.purge(), 0, 'a second run finds nothing');
  });

  it('publishes user.account after commit', async () => {
    const a = await t.person();
    const probe = randomUUID();
    const seen: { userId: string }[] = [];
    const stop = t.host.runtime.bus.subscribe(accountTopic, (e) => {
      if (e.userId === a.userId || e.userId === probe) seen.push(e);
    });
    try {
      // Subscribing is asynchronous on Redis; wait until our own probe comes back.
      await waitFor(async () => {
        await t.host.runtime.bus.publish(accountTopic, { userId: probe, state: 'active', roles: ['user'] });
        return seen.length > 0;
      }, 'the probe event');
      await a.users.deleteAccount({ confirmHandle: a.handle });
      const real = () => seen.filter((e) => e.userId === a.userId);
      await waitFor(async () => real().length >= 1, 'user.account');
      assert.deepEqual(real(), [{ userId: a.userId, state: 'deleted', roles: ['user'] }]);
    } finally {
      stop();
    }
  });
});
