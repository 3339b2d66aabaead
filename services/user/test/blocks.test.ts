import assert from 'node:assert/strict';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { Code } from '@connectrpc/connect';
import { type BlockEvent, blocksTopic } from '@hearth/authz';
import { Role } from '@hearth/contracts/gen/hearth/user/v1/resources_pb.js';
import { newId } from '@hearth/db';
import { type Person, type TestUsers, refusal, startUsers, waitFor } from './helpers.js';

/** The cap is lowered for this file (user_service.proto says 10,000; the app takes it as an override). */
const CAP = 3;

describe('blocks through a real server', () => {
  let t: TestUsers;
  beforeAll(async () => {
    t = await startUsers({ blockCap: CAP });
  });
  afterAll(() => t?.close());

  const byHandle = (p: Person, handle: string) => p.users.getProfile({ lookup: { case: 'handle', value: handle } });
  const byId = (p: Person, userId: string) => p.users.getProfile({ lookup: { case: 'userId', value: userId } });
  const visible = async (viewer: Person, target: Person) => {
    const results = await Promise.allSettled([byId(viewer, target.userId), byHandle(viewer, target.handle.toUpperCase())]);
    const listed = (await viewer.users.getProfiles({ userIds: [target.userId] })).profiles[target.userId] !== undefined;
    const codes = await Promise.all(results.map(async (r) => (r.status === 'fulfilled' ? 'ok' : (await refusal(Promise.reject(r.reason))).code)));
    return { byId: codes[0], byHandle: codes[1], listed };
  };
  const HIDDEN = { byId: Code.NotFound, byHandle: Code.NotFound, listed: false };
  const SHOWN = { byId: 'ok', byHandle: 'ok', listed: true };

  it('a block hides the two people from each other in both directions, and from nobody else', async () => {
    const [a, b, c] = [await t.person(), await t.person(), await t.person()];
    assert.deepEqual(await visible(b, a), SHOWN);
    await a.users.blockUser({ userId: b.userId });
    assert.deepEqual(await visible(a, b), HIDDEN, 'the blocker no longer sees the blocked person');
    assert.deepEqual(await visible(b, a), HIDDEN, 'the blocked person no longer sees the blocker');
    assert.deepEqual(await visible(c, a), SHOWN);
    assert.deepEqual(await visible(c, b), SHOWN);
    const mixed = await b.users.getProfiles({ userIds: [a.userId, c.userId, b.userId] });
    assert.deepEqual(Object.keys(mixed.profiles).sort(), [b.userId, c.userId].sort());

    await a.users.unblockUser({ userId: b.userId });
    assert.deepEqual(await visible(b, a), SHOWN);
    assert.deepEqual(await visible(a, b), SHOWN);
  });

  it('moderators and admins see past blocks', async () => {
    const [a, mod, admin] = [await t.person(), await t.person(), await t.person()];
    await t.promote(mod, [Role.MODERATOR]);
    await t.promote(admin, [Role.ADMIN]);
    await a.users.blockUser({ userId: mod.userId });
    await a.users.blockUser({ userId: admin.userId });
    assert.deepEqual(await visible(mod, a), SHOWN);
    assert.deepEqual(await visible(admin, a), SHOWN);
  });

  it('BlockUser is idempotent (the first block is returned) and UnblockUser too', async () => {
    const [a, b] = [await t.person(), await t.person()];
    const first = await a.users.blockUser({ userId: b.userId });
    assert.equal(first.block?.userId, b.userId);
    assert.equal(first.block?.handle, b.handle, 'the blocked person stays recognisable to the blocker');
    const again = await a.users.blockUser({ userId: b.userId });
    assert.deepEqual(again.block?.createTime, first.block?.createTime);
    assert.equal((await a.users.listBlocks({})).blocks.length, 1);
    await a.users.unblockUser({ userId: b.userId });
    await a.users.unblockUser({ userId: b.userId });
    assert.equal((await a.users.listBlocks({})).blocks.length, 0);
  });

  it('blocking yourself is InvalidArgument, an unknown user NotFound, a malformed id InvalidArgument', async () => {
    const a = await t.person();
    assert.equal((await refusal(a.users.blockUser({ userId: a.userId }))).code, Code.InvalidArgument);
    assert.equal((await refusal(a.users.blockUser({ userId: newId() }))).code, Code.NotFound);
    assert.equal((await refusal(a.users.blockUser({ userId: 'nope' }))).code, Code.InvalidArgument);
    assert.equal((await refusal(a.users.listBlocks({ pageToken: 'garbage!' }))).code, Code.InvalidArgument);
    assert.equal((await refusal(a.users.listBlocks({ pageSize: 101 }))).code, Code.InvalidArgument);
  });

  it('ListBlocks pages the caller\'s blocks most recent first and never lists who blocked the caller', async () => {
    const a = await t.person();
    const others = [await t.person(), await t.person(), await t.person()];
    for (const o of others) await a.users.blockUser({ userId: o.userId });
    const p1 = await a.users.listBlocks({ pageSize: 2 });
    assert.deepEqual(
      p1.blocks.map((b) => b.userId),
      [others[2]?.userId, others[1]?.userId],
    );
    assert.notEqual(p1.nextPageToken, '');
    const p2 = await a.users.listBlocks({ pageSize: 2, pageToken: p1.nextPageToken });
    assert.deepEqual(
      p2.blocks.map((b) => b.userId),
      [others[0]?.userId],
    );
    assert.equal(p2.nextPageToken, '');
    assert.equal((await others[0]?.users.listBlocks({}))?.blocks.length, 0);
  });

  it(`past ${CAP} blocks BlockUser is ResourceExhausted; an existing block is still returned`, async () => {
    const a = await t.person();
    const others = [await t.person(), await t.person(), await t.person(), await t.person()];
    for (const o of others.slice(0, CAP)) await a.users.blockUser({ userId: o.userId });
    assert.equal((await refusal(a.users.blockUser({ userId: others[CAP]?.userId ?? '' }))).code, Code.ResourceExhausted);
    assert.equal((await a.users.blockUser({ userId: others[0]?.userId ?? '' })).block?.userId, others[0]?.userId);
    await a.users.unblockUser({ userId: others[0]?.userId ?? '' });
    await a.users.blockUser({ userId: others[CAP]?.userId ?? '' });
  });

  it('concurrent blocks cannot pass the cap together', async () => {
    const a = await t.person();
    const others = await Promise.all(Array.from({ length: CAP + 3 }, () => t.person()));
    const settled = await Promise.allSettled(others.map((o) => a.users.blockUser({ userId: o.userId })));
    assert.equal(settled.filter((s) => s.status === 'fulfilled').length, CAP);
    assert.equal((await a.users.listBlocks({})).blocks.length, CAP);
  });

  it('CheckBlocks: both directions, a few seconds of max_age; for services and moderators, not plain users', async () => {
    const [a, b, c, mod] = [await t.person(), await t.person(), await t.person(), await t.person()];
    await t.promote(mod, [Role.MODERATOR]);
    await a.users.blockUser({ userId: b.userId });
    await c.users.blockUser({ userId: a.userId });
    const res = await t.service.checkBlocks({ userId: a.userId, otherUserIds: [b.userId, c.userId, mod.userId] });
    assert.deepEqual([...res.blockedUserIds].sort(), [b.userId, c.userId].sort());
    const maxAge = Number(res.maxAge?.seconds ?? 0n);
    assert.ok(maxAge >= 1 && maxAge <= 10, `max_age ${maxAge}s`);
    assert.deepEqual((await mod.users.checkBlocks({ userId: b.userId, otherUserIds: [a.userId] })).blockedUserIds, [a.userId]);
    assert.equal((await refusal(a.users.checkBlocks({ userId: a.userId, otherUserIds: [b.userId] }))).code, Code.PermissionDenied);
  });

  it('block changes are published on user.blocks after commit', async () => {
    const [a, b] = [await t.person(), await t.person()];
    const probe = randomUUID();
    const seen: BlockEvent[] = [];
    const stop = t.host.runtime.bus.subscribe(blocksTopic, (e) => {
      if (e.userId === a.userId) seen.push(e);
    });
    try {
      // Subscribing is asynchronous on Redis; wait until our own probe (a block of nobody) comes back.
      await waitFor(async () => {
        await t.host.runtime.bus.publish(blocksTopic, { userId: a.userId, otherUserId: probe, blocked: false });
        return seen.length > 0;
      }, 'the probe event');
      const real = () => seen.filter((e) => e.otherUserId !== probe);
      await a.users.blockUser({ userId: b.userId });
      await a.users.unblockUser({ userId: b.userId });
      await waitFor(async () => real().length >= 2, 'user.blocks');
      assert.deepEqual(real(), [
        { userId: a.userId, otherUserId: b.userId, blocked: true },
        { userId: a.userId, otherUserId: b.userId, blocked: false },
      ]);
    } finally {
      stop();
    }
  });
});
