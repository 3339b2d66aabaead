import assert from 'node:assert/strict';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { Code } from '@connectrpc/connect';
import { AccountState, DirectMessagePolicy, Role } from '@hearth/contracts/gen/hearth/user/v1/resources_pb.js';
import { type PresenceSharingEvent, presenceSharingTopic } from '@hearth/authz';
import { newId } from '@hearth/db';
import { type Person, type TestUsers, refusal, startUsers, waitFor } from './helpers.js';

describe('profiles and settings through a real server', () => {
  let t: TestUsers;
  beforeAll(async () => {
    t = await startUsers();
  });
  afterAll(() => t?.close());

  const byHandle = (p: Person, handle: string) => p.users.getProfile({ lookup: { case: 'handle', value: handle } });
  const byId = (p: Person, userId: string) => p.users.getProfile({ lookup: { case: 'userId', value: userId } });
  const create = (handle: string, userId = newId(), displayName = '') =>
    t.service.createUser({ userId, handle, displayName, idempotencyKey: `create-profile:${userId}` });

  it('a new profile has a lower-case handle, the handle as display name, version 1 and the documented settings', async () => {
    const a = await t.person('Sam_K');
    assert.equal(a.handle, 'sam_k');
    const { profile, settings } = await a.users.getMe({});
    assert.equal(profile?.id, a.userId);
    assert.equal(profile?.displayName, 'Sam_K');
    assert.equal(profile?.state, AccountState.ACTIVE);
    assert.deepEqual(profile?.roles, [Role.USER]);
    assert.equal(profile?.version, 1n);
    assert.deepEqual(
      {
        messages: settings?.notifications?.messages,
        mentions: settings?.notifications?.mentions,
        supportRequests: settings?.notifications?.supportRequests,
        sosAlerts: settings?.notifications?.sosAlerts,
        dm: settings?.privacy?.directMessages,
        presence: settings?.privacy?.showPresence,
        discoverable: settings?.privacy?.discoverableByHandle,
      },
      { messages: false, mentions: true, supportRequests: true, sosAlerts: true, dm: DirectMessagePolicy.CIRCLE_MEMBERS, presence: false, discoverable: true },
    );
    assert.equal(settings?.version, 1n);
    assert.equal(settings?.updateTime, undefined, 'never changed');
  });

  it("Register alone creates the profile: AuthService's job reaches CreateUser", async () => {
    const a = await t.register('Relay_Path');
    let me: Awaited<ReturnType<typeof a.users.getMe>> | undefined;
    const end = Date.now() + 10_000;
    while (!me) {
      me = await a.users.getMe({}).catch((err: unknown) => {
        if (Date.now() > end) throw err;
        return undefined;
      });
      if (!me) await new Promise((r) => setTimeout(r, 50));
    }
    assert.equal(me.profile?.handle, 'relay_path');
    assert.equal(me.profile?.displayName, 'Relay_Path');
  });

  it('CreateUser is idempotent by user id and gives a taken handle its first free variant within 30 characters', async () => {
    await create('Dup_Name');
    const id = newId();
    const first = await create('DUP_NAME', id, 'Dee');
    assert.equal(first.profile?.handle, 'dup_name1');
    assert.equal(first.profile?.displayName, 'Dee');
    const again = await create('something_else', id);
    assert.equal(again.profile?.handle, 'dup_name1', 'a repeat returns the profile already created');
    assert.equal((await create('dup_name')).profile?.handle, 'dup_name2');

    const long = `L${'o'.repeat(27)}ng`;
    assert.equal(long.length, 30);
    assert.equal((await create(long)).profile?.handle, long.toLowerCase());
    assert.equal((await create(long)).profile?.handle, `${long.toLowerCase().slice(0, 29)}1`);
  });

  it('concurrent CreateUser calls for one handle all succeed with distinct handles', async () => {
    const results = await Promise.all(Array.from({ length: 8 }, () => create('crowded')));
    const handles = results.map((r) => r.profile?.handle);
    assert.equal(new Set(handles).size, 8);
    assert.ok(handles.includes('crowded'));
  });

  it('CreateUser is for Hearth services: a user gets PermissionDenied, anonymous Unauthenticated', async () => {
    const a = await t.person();
    const req = { userId: newId(), handle: 'sneaky', displayName: '', idempotencyKey: 'k'.repeat(10) };
    assert.equal((await refusal(a.users.createUser(req))).code, Code.PermissionDenied);
    assert.equal((await refusal(t.anonymous.createUser(req))).code, Code.Unauthenticated);
  });

  it('GetProfile finds a handle in any letter case; unknown ids and handles are NotFound', async () => {
    const a = await t.person('Case_Test');
    const b = await t.person();
    assert.equal((await byHandle(b, 'CASE_test')).profile?.id, a.userId);
    assert.equal((await byId(b, a.userId)).profile?.handle, 'case_test');
    assert.equal((await refusal(byId(b, newId()))).code, Code.NotFound);
    assert.equal((await refusal(byHandle(b, 'nobody_here'))).code, Code.NotFound);
  });

  it('UpdateProfile changes only the fields set, moves the version, and refuses a stale one', async () => {
    const a = await t.person();
    const r1 = await a.users.updateProfile({ version: 1n, bio: 'gardener', pronouns: 'she/her' });
    assert.equal(r1.profile?.version, 2n);
    assert.equal(r1.profile?.bio, 'gardener');
    const r2 = await a.users.updateProfile({ version: 2n, displayName: 'Ada' });
    assert.deepEqual([r2.profile?.bio, r2.profile?.pronouns, r2.profile?.displayName], ['gardener', 'she/her', 'Ada']);
    const r3 = await a.users.updateProfile({ version: 3n, bio: '' });
    assert.equal(r3.profile?.bio, '', 'an empty string clears the bio');
    const stale = await refusal(a.users.updateProfile({ version: 3n, bio: 'late' }));
    assert.equal(stale.code, Code.Aborted);
    assert.equal(stale.rawMessage, 'the profile has changed (now version 4); reload it and try again');
    assert.equal((await a.users.getMe({})).profile?.bio, '', 'nothing written by the stale call');
  });

  it('concurrent UpdateProfile calls with the same version: exactly one wins, the others are Aborted', async () => {
    const a = await t.person();
    const settled = await Promise.allSettled(
      Array.from({ length: 6 }, (_, i) => a.users.updateProfile({ version: 1n, displayName: `Name ${i}` })),
    );
    const won = settled.filter((s) => s.status === 'fulfilled');
    assert.equal(won.length, 1);
    for (const s of settled) {
      if (s.status === 'rejected') assert.equal((await refusal(Promise.reject(s.reason))).code, Code.Aborted);
    }
    const me = await a.users.getMe({});
    assert.equal(me.profile?.version, 2n);
    assert.equal(me.profile?.displayName, won[0]?.status === 'fulfilled' ? won[0].value.profile?.displayName : undefined);
  });

  it('a new handle is compared case-insensitively: taken is AlreadyExists, your own in another case is fine', async () => {
    const a = await t.person('Owner_One');
    const b = await t.person();
    assert.equal((await refusal(b.users.updateProfile({ version: 1n, handle: 'OWNER_one' }))).code, Code.AlreadyExists);
    const mine = await a.users.updateProfile({ version: 1n, handle: 'OWNER_ONE' });
    assert.equal(mine.profile?.handle, 'owner_one');
    const moved = await a.users.updateProfile({ version: 2n, handle: 'Owner_Two' });
    assert.equal(moved.profile?.handle, 'owner_two');
    assert.equal((await b.users.updateProfile({ version: 1n, handle: 'owner_one' })).profile?.handle, 'owner_one', 'the old handle is free');
  });

  it('two people claiming one free handle at once: one gets it, the other AlreadyExists', async () => {
    const [a, b] = [await t.person(), await t.person()];
    const settled = await Promise.allSettled([a, b].map((p) => p.users.updateProfile({ version: 1n, handle: 'contested' })));
    assert.equal(settled.filter((s) => s.status === 'fulfilled').length, 1);
    const lost = settled.find((s) => s.status === 'rejected');
    assert.equal((await refusal(Promise.reject(lost?.status === 'rejected' ? lost.reason : undefined))).code, Code.AlreadyExists);
  });

  it('avatar_url must be an https URL on a Hearth media host; empty resets it', async () => {
    const a = await t.person();
    const ok = await a.users.updateProfile({ version: 1n, avatarUrl: 'https://media.hearth.app/u/1.png' });
    assert.equal(ok.profile?.avatarUrl, 'https://media.hearth.app/u/1.png');
    for (const bad of ['https://tracker.example/1.png', 'http://media.hearth.app/1.png', 'https://media.hearth.app:444/1.png', 'media.hearth.app/1.png']) {
      assert.equal((await refusal(a.users.updateProfile({ version: 2n, avatarUrl: bad }))).code, Code.InvalidArgument, bad);
    }
    assert.equal((await a.users.updateProfile({ version: 2n, avatarUrl: '' })).profile?.avatarUrl, '');
  });

  it('bad input is InvalidArgument and changes nothing', async () => {
    const a = await t.person();
    const bad = [
      () => a.users.updateProfile({ version: 1n }),
      () => a.users.updateProfile({ version: 0n, bio: 'x' }),
      () => a.users.updateProfile({ version: 1n, handle: 'no spaces' }),
      () => a.users.updateProfile({ version: 1n, handle: 'ab' }),
      () => a.users.updateProfile({ version: 1n, handle: 'x'.repeat(31) }),
      () => a.users.updateProfile({ version: 1n, displayName: '' }),
      () => a.users.updateProfile({ version: 1n, bio: 'b'.repeat(301) }),
      () => a.users.getProfile({ lookup: { case: 'handle', value: 'bad-handle' } }),
      () => a.users.getProfile({ lookup: { case: 'userId', value: 'not-a-uuid' } }),
      () => a.users.getProfile({}),
      () => a.users.getProfiles({ userIds: [] }),
      () => a.users.updateSettings({ version: 1n }),
      () => a.users.updateSettings({ version: 1n, directMessages: DirectMessagePolicy.UNSPECIFIED }),
    ];
    for (const [i, call] of bad.entries()) assert.equal((await refusal(call())).code, Code.InvalidArgument, `case ${i}`);
    assert.equal((await a.users.getMe({})).profile?.version, 1n);
  });

  it('UpdateSettings changes only the fields set, versions them, and refuses a stale version', async () => {
    const a = await t.person();
    const r = await a.users.updateSettings({ version: 1n, notifyMessages: true, directMessages: DirectMessagePolicy.NOBODY });
    assert.equal(r.settings?.version, 2n);
    assert.equal(r.settings?.notifications?.messages, true);
    assert.equal(r.settings?.notifications?.mentions, true, 'untouched');
    assert.equal(r.settings?.privacy?.directMessages, DirectMessagePolicy.NOBODY);
    assert.ok(r.settings?.updateTime);
    assert.equal((await refusal(a.users.updateSettings({ version: 1n, showPresence: true }))).code, Code.Aborted);
    assert.equal((await a.users.getMe({})).settings?.privacy?.showPresence, false);
  });

  it('CheckPresenceSharing names who shares presence, for services only; a change of show_presence is published after commit', async () => {
    const [a, b, c] = [await t.person(), await t.person(), await t.person()];
    const seen: PresenceSharingEvent[] = [];
    const stop = t.host.runtime.bus.subscribe(presenceSharingTopic, (e) => {
      if (e.userId === a.userId) seen.push(e);
    });
    try {
      // Subscribing is asynchronous on Redis; wait until a probe comes back.
      await waitFor(async () => {
        await t.host.runtime.bus.publish(presenceSharingTopic, { userId: a.userId, sharing: false });
        return seen.length > 0;
      }, 'the probe event');
      seen.length = 0;
      await a.users.updateSettings({ version: 1n, showPresence: true });
      await a.users.updateSettings({ version: 2n, notifyMessages: true });
      await b.users.updateSettings({ version: 1n, showPresence: false });
      const check = (ids: string[]) => t.service.checkPresenceSharing({ userIds: ids }).then((r) => r.sharingUserIds);
      assert.deepEqual(await check([a.userId, b.userId, c.userId, newId()]), [a.userId]);
      await a.users.updateSettings({ version: 3n, showPresence: false });
      assert.deepEqual(await check([a.userId]), []);
      await waitFor(async () => seen.length >= 2, 'presence-sharing events');
      assert.deepEqual(seen, [
        { userId: a.userId, sharing: true },
        { userId: a.userId, sharing: false },
      ], 'one event per change of show_presence, none for other settings');
      assert.equal((await refusal(a.users.checkPresenceSharing({ userIds: [b.userId] }))).code, Code.PermissionDenied);
      assert.equal((await refusal(t.service.checkPresenceSharing({ userIds: [] }))).code, Code.InvalidArgument);
    } finally {
      stop();
    }
  });

  it('discoverable_by_handle off: hidden by handle from others, still found by id, by its owner and by staff', async () => {
    const a = await t.person();
    const b = await t.person();
    const mod = await t.person();
    await t.promote(mod, [Role.MODERATOR]);
    await a.users.updateSettings({ version: 1n, discoverableByHandle: false });
    assert.equal((await refusal(byHandle(b, a.handle))).code, Code.NotFound);
    assert.equal((await byId(b, a.userId)).profile?.id, a.userId);
    assert.equal((await byHandle(a, a.handle)).profile?.id, a.userId);
    assert.equal((await byHandle(mod, a.handle)).profile?.id, a.userId);
  });

  it('GetProfiles leaves out unknown ids; services see every profile', async () => {
    const a = await t.person();
    const b = await t.person();
    const res = await a.users.getProfiles({ userIds: [a.userId, b.userId, newId()] });
    assert.deepEqual(Object.keys(res.profiles).sort(), [a.userId, b.userId].sort());
    const svc = await t.service.getProfiles({ userIds: [a.userId] });
    assert.equal(svc.profiles[a.userId]?.handle, a.handle);
  });

  it('every RPC needs a token', async () => {
    assert.equal((await refusal(t.anonymous.getMe({}))).code, Code.Unauthenticated);
    assert.equal((await refusal(t.anonymous.getProfile({ lookup: { case: 'handle', value: 'sam_k' } }))).code, Code.Unauthenticated);
  });
});
