// The service layer straight, without the network: the races and the purge clock are easier
// to drive from here than through RPCs.
import assert from 'node:assert/strict';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { EmptySchema } from '@bufbuild/protobuf/wkt';
import { Code, ConnectError } from '@connectrpc/connect';
import type { Caller, Identity, Role } from '@hearth/authz';
import { VersionConflictError, newId } from '@hearth/db';
import { knownError } from '@hearth/platform';
import { purgeDeletedAccounts } from '../src/service/purge.js';
import { blockStore } from '../src/store/blocks.js';
import { profileStore } from '../src/store/profiles.js';
import { DAY_MS, type TestUsers, startUsers } from './helpers.js';

const who = (userId: string, roles: Role[] = ['user']): Identity => ({ userId, sessionId: newId(), roles });
const asUser = (identity: Identity): Caller => ({ kind: 'user', identity });
/**
 * The code a caller would get for an error of the service layer: the errors the shared layers
 * throw on purpose (a stale version, a foreign page token) are mapped as the platform maps them.
 */
const codeOf = (err: unknown) => (knownError(err, EmptySchema) ?? ConnectError.from(err)).code;
const code = (r: PromiseSettledResult<unknown>) => (r.status === 'rejected' ? codeOf(r.reason) : 'ok');

describe('user services against Postgres', () => {
  let t: TestUsers;
  beforeAll(async () => {
    t = await startUsers();
  });
  afterAll(() => t?.close());

  const profile = async (handle = `p_${newId().slice(-12)}`) => t.app.profiles.createUser({ userId: newId(), handle, displayName: '' });

  it('concurrent updates of one version: exactly one wins and the version moves by one', async () => {
    const p = await profile();
    const settled = await Promise.allSettled(
      Array.from({ length: 10 }, (_, i) => t.app.profiles.updateProfile(who(p.id), { version: 1, bio: `bio ${i}` })),
    );
    assert.deepEqual(settled.map(code).sort(), ['ok', ...Array(9).fill(Code.Aborted)].sort());
    for (const s of settled) {
      if (s.status === 'rejected') assert.ok(s.reason instanceof VersionConflictError && s.reason.current === '2', String(s.reason));
    }
    const row = await profileStore.findById(t.db.db, p.id);
    assert.equal(row?.version, 2);
  });

  it('two admins demoting each other at once: one succeeds, the other hits the last-admin guard', async () => {
    const [a, b] = [await profile(), await profile()];
    const service: Caller = { kind: 'service', service: { service: 'test' } };
    // Make a and b the only active admins of this database.
    const admins = await profileStore.list(t.db.db, { role: 'admin' }, undefined, 100);
    for (const x of admins) {
      await t.app.accounts.setUserRoles(service, { userId: x.id, roles: [], version: x.version, reason: 'reset' }).catch(() => undefined);
    }
    await t.app.accounts.setUserRoles(service, { userId: a.id, roles: ['admin'], version: 1, reason: 'setup' });
    await t.app.accounts.setUserRoles(service, { userId: b.id, roles: ['admin'], version: 1, reason: 'setup' });
    const settled = await Promise.allSettled([
      t.app.accounts.setUserRoles(asUser(who(a.id, ['admin'])), { userId: b.id, roles: [], version: 2, reason: 'coup' }),
      t.app.accounts.setUserRoles(asUser(who(b.id, ['admin'])), { userId: a.id, roles: [], version: 2, reason: 'coup' }),
    ]);
    assert.deepEqual(settled.map(code).sort(), ['ok', Code.FailedPrecondition].sort());
    assert.equal(await profileStore.countActiveAdmins(t.db.db, newId()), 1);
  });

  it('purges exactly the accounts whose retention ended by the given time', async () => {
    const [early, late] = [await profile(), await profile()];
    const other = await profile();
    await t.app.blocks.block(who(early.id), other.id);
    await t.app.blocks.block(who(other.id), early.id);
    await t.app.accounts.deleteAccount(who(early.id), early.handle);
    t.advance(DAY_MS);
    await t.app.accounts.deleteAccount(who(late.id), late.handle);
    const earlyRow = await profileStore.findById(t.db.db, early.id);
    const lateRow = await profileStore.findById(t.db.db, late.id);
    const between = new Date(((earlyRow?.purge_after?.getTime() ?? 0) + (lateRow?.purge_after?.getTime() ?? 0)) / 2);

    assert.equal(await purgeDeletedAccounts(t.db, new Date(between.getTime() - 2 * DAY_MS)), 0);
    assert.equal(await purgeDeletedAccounts(t.db, between), 1);
    assert.equal((await profileStore.findById(t.db.db, early.id))?.handle, null);
    assert.equal((await profileStore.findById(t.db.db, late.id))?.handle, late.handle, 'not due yet');
    assert.equal((await blockStore.blockedAmong(t.db.db, other.id, [early.id])).size, 0);
    assert.equal(await purgeDeletedAccounts(t.db, new Date(between.getTime() + 2 * DAY_MS)), 1);
  });

  it('a deleted account cannot edit its profile or delete itself twice', async () => {
    const p = await profile();
    await t.app.accounts.deleteAccount(who(p.id), p.handle);
    await assert.rejects(t.app.profiles.updateProfile(who(p.id), { version: 2, bio: 'x' }), (err) => {
      assert.equal(codeOf(err), Code.FailedPrecondition);
      return true;
    });
    await assert.rejects(t.app.accounts.deleteAccount(who(p.id), p.handle), (err) => {
      assert.equal(codeOf(err), Code.FailedPrecondition);
      return true;
    });
  });

  it('Blocks.check answers from the store in both directions; ids that are not UUIDs are blocked by nobody', async () => {
    const [a, b, c] = [await profile(), await profile(), await profile()];
    await t.app.blocks.block(who(b.id), a.id);
    assert.deepEqual([...(await t.app.blocks.check(a.id, [b.id, c.id, 'not-a-uuid']))], [b.id]);
    assert.deepEqual([...(await t.app.blocks.check(b.id, [a.id, c.id]))], [a.id]);
    assert.equal((await t.app.blocks.check('not-a-uuid', [a.id])).size, 0);
  });

  it("the host's authorization asks CheckBlocks (both directions) and forgets a cached answer when a block changes", async () => {
    const [a, b, c] = [await profile(), await profile(), await profile()];
    await t.app.blocks.block(who(b.id), a.id);
    const source = t.host.runtime.authorization.blocks;
    assert.deepEqual([...(await source.blockedAmong(a.id, [b.id, c.id]))], [b.id]);
    // Both answers are cached now (for seconds); the block below is published on user.blocks
    // after commit, and the host's cache drops the pair at once instead of waiting for the TTL.
    await t.app.blocks.block(who(a.id), c.id);
    assert.deepEqual([...(await source.blockedAmong(a.id, [b.id, c.id]))].sort(), [b.id, c.id].sort());
    await t.app.blocks.unblock(who(b.id), a.id);
    assert.deepEqual([...(await source.blockedAmong(a.id, [b.id, c.id]))], [c.id]);
  });
});
