// Support requests through the generated client, against auth, user, circle and support in one
// host: posted by members who are not muted, at most three open at once (also under concurrent
// creates), idempotent, sealed at rest, seen by the circle's members (not across a block) and
// staff, listed most urgent first with keyset pages, changed only by the requester.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { Code } from '@connectrpc/connect';
import { CircleVisibility } from '@hearth/contracts/gen/hearth/circle/v1/resources_pb.js';
import { SupportOfferState, SupportRequestState, SupportTopic, SupportUrgency } from '@hearth/contracts/gen/hearth/support/v1/resources_pb.js';
import { refusal } from '@hearth/testkit';
import { type Person, type TestSystem, startTestSystem } from '@hearth/testkit/system';
import type { SupportApp } from '../src/app.js';

let sys: TestSystem<'auth' | 'user' | 'circle' | 'support'>;

beforeAll(async () => {
  sys = await startTestSystem({ services: ['auth', 'user', 'circle', 'support'], name: 'support_requests' });
});
afterAll(async () => {
  await sys?.close();
});

const circleWith = (members: number, visibility = CircleVisibility.PUBLIC) => sys.seed.circleWith(members, { visibility });

const ask = (circleId: string, who: Person, body: string, extra: { urgency?: SupportUrgency; anonymous?: boolean; key?: string; topic?: SupportTopic } = {}) =>
  sys.support
    .createSupportRequest(
      {
        idempotencyKey: extra.key ?? `s-${randomUUID()}`,
        circleId,
        topic: extra.topic ?? SupportTopic.LOW_MOOD,
        body,
        urgency: extra.urgency ?? SupportUrgency.MEDIUM,
        anonymous: extra.anonymous ?? false,
      },
      who.call,
    )
    .then((r) => r.request!);

describe('support requests', () => {
  it('are posted by members, idempotently, sealed at rest, at most three open at once even when asked together', async () => {
    const c = await circleWith(2);
    const [a, b] = c.members as [Person, Person];
    const key = `s-${randomUUID()}`;
    const first = await ask(c.id, a, 'Can someone talk tonight?', { key });
    assert.deepEqual([first.state, first.version, first.requesterId, first.body], [SupportRequestState.OPEN, 1n, a.userId, 'Can someone talk tonight?']);
    assert.equal((await ask(c.id, a, 'Can someone talk tonight?', { key })).id, first.id, 'a retry');
    assert.equal((await refusal(ask(c.id, a, 'another text', { key }))).code, Code.AlreadyExists);
    const row = await (sys.modules.support as SupportApp).db.db.selectFrom('support_requests').selectAll().where('id', '=', first.id).executeTakeFirstOrThrow();
    assert.ok(!Buffer.from(row.body!).toString('latin1').includes('tonight'), 'no plaintext in the row');
    const together = await Promise.allSettled(Array.from({ length: 4 }, (_, i) => ask(c.id, b, `together ${i}`)));
    assert.equal(together.filter((r) => r.status === 'fulfilled').length, 3, 'three of four concurrent creates');
    for (const r of together) if (r.status === 'rejected') assert.equal((await refusal(Promise.reject(r.reason))).code, Code.ResourceExhausted);
    const stranger = await sys.seed.person({ name: 'stranger' });
    assert.equal((await refusal(ask(c.id, stranger, 'hi'))).code, Code.PermissionDenied);
    await sys.circle.muteMember({ circleId: c.id, userId: a.userId, duration: { seconds: 600n }, reason: '' }, c.owner.call);
    await new Promise((r) => setTimeout(r, 50));
    assert.equal((await refusal(ask(c.id, a, 'muted'))).code, Code.PermissionDenied);
  });

  it('are seen by the circle’s members and staff, anonymously if asked, never across a block or by outsiders', async () => {
    const c = await circleWith(3);
    const [a, b, x] = c.members as [Person, Person, Person];
    const mod = await sys.seed.person({ name: 'mod', roles: ['moderator'] });
    const outsider = await sys.seed.person({ name: 'outsider' });
    const r = await ask(c.id, a, 'quietly', { anonymous: true });
    assert.equal(r.requesterId, a.userId, 'the requester sees themself');
    assert.equal((await sys.support.getSupportRequest({ id: r.id }, b.call)).request!.requesterId, '', 'members do not');
    assert.equal((await sys.support.getSupportRequest({ id: r.id }, mod.call)).request!.requesterId, a.userId, 'moderators do');
    assert.equal((await refusal(sys.support.getSupportRequest({ id: r.id }, outsider.call))).code, Code.NotFound);
    await sys.user.blockUser({ userId: a.userId }, x.call);
    await new Promise((res) => setTimeout(res, 50));
    assert.equal((await refusal(sys.support.getSupportRequest({ id: r.id }, x.call))).code, Code.NotFound, 'across a block');
    assert.deepEqual((await sys.support.listSupportRequests({ circleId: c.id }, x.call)).requests, []);
    assert.equal((await refusal(sys.support.listSupportRequests({ circleId: c.id }, outsider.call))).code, Code.NotFound);
  });

  it('list most urgent first, then newest, by keyset pages, across the caller’s circles or one, filtered', async () => {
    const [c1, c2] = [await circleWith(2), await circleWith(0)];
    const [a, b] = c1.members as [Person, Person];
    await sys.circle.joinCircle({ target: { case: 'circleId', value: c2.id } }, b.call);
    const made = [
      await ask(c1.id, a, 'low 1', { urgency: SupportUrgency.LOW }),
      await ask(c1.id, b, 'high 1', { urgency: SupportUrgency.HIGH, topic: SupportTopic.GRIEF }),
      await ask(c2.id, c2.owner, 'medium in c2', { urgency: SupportUrgency.MEDIUM }),
      await ask(c1.id, c1.owner, 'high 2', { urgency: SupportUrgency.HIGH }),
      await ask(c2.id, b, 'low in c2', { urgency: SupportUrgency.LOW }),
    ];
    const pages: string[] = [];
    let token = '';
    do {
      const res = await sys.support.listSupportRequests({ pageSize: 2, pageToken: token }, b.call);
      pages.push(...res.requests.map((r) => r.body));
      token = res.nextPageToken;
    } while (token);
    assert.deepEqual(pages, ['high 2', 'high 1', 'medium in c2', 'low in c2', 'low 1'], 'both of b’s circles');
    assert.deepEqual((await sys.support.listSupportRequests({ circleId: c2.id }, b.call)).requests.map((r) => r.body), ['medium in c2', 'low in c2']);
    assert.deepEqual((await sys.support.listSupportRequests({ onlyMine: true }, b.call)).requests.map((r) => r.body), ['high 1', 'low in c2']);
    assert.deepEqual((await sys.support.listSupportRequests({ topics: [SupportTopic.GRIEF] }, a.call)).requests.map((r) => r.body), ['high 1']);
    await sys.support.resolveSupportRequest({ id: made[1]!.id, version: 1n }, b.call);
    assert.ok(!(await sys.support.listSupportRequests({}, b.call)).requests.some((r) => r.id === made[1]!.id), 'resolved: not listed by default');
    assert.deepEqual(
      (await sys.support.listSupportRequests({ states: [SupportRequestState.RESOLVED] }, b.call)).requests.map((r) => r.body),
      ['high 1'],
    );
  });

  it('are changed only by the requester, version checked; resolve and cancel are final and repeat harmlessly', async () => {
    const c = await circleWith(2);
    const [a, b] = c.members as [Person, Person];
    const r = await ask(c.id, a, 'first words');
    const edited = (await sys.support.updateSupportRequest({ id: r.id, version: 1n, body: 'better words', urgency: SupportUrgency.HIGH }, a.call)).request!;
    assert.deepEqual([edited.version, edited.body, edited.urgency, edited.topic], [2n, 'better words', SupportUrgency.HIGH, SupportTopic.LOW_MOOD]);
    assert.equal((await refusal(sys.support.updateSupportRequest({ id: r.id, version: 1n, body: 'stale' }, a.call))).code, Code.Aborted);
    assert.equal((await refusal(sys.support.updateSupportRequest({ id: r.id, version: 2n, body: 'not mine' }, b.call))).code, Code.PermissionDenied);
    assert.equal((await refusal(sys.support.resolveSupportRequest({ id: r.id, version: 2n }, b.call))).code, Code.PermissionDenied);
    const done = (await sys.support.resolveSupportRequest({ id: r.id, version: 2n }, a.call)).request!;
    assert.deepEqual([done.state, done.version, Boolean(done.resolveTime)], [SupportRequestState.RESOLVED, 3n, true]);
    assert.equal((await sys.support.resolveSupportRequest({ id: r.id, version: 1n }, a.call)).request!.version, 3n, 'again: unchanged, version not checked');
    assert.equal((await refusal(sys.support.cancelSupportRequest({ id: r.id, version: 3n }, a.call))).code, Code.FailedPrecondition);
    assert.equal((await refusal(sys.support.updateSupportRequest({ id: r.id, version: 3n, body: 'after' }, a.call))).code, Code.FailedPrecondition);
    const other = await ask(c.id, a, 'never mind');
    assert.equal((await sys.support.cancelSupportRequest({ id: other.id, version: 1n }, a.call)).request!.state, SupportRequestState.CANCELLED);
    assert.ok(await ask(c.id, a, 'a slot is free again'));
  });
});

describe('support offers', () => {
  const offer = (requestId: string, who: Person, message: string, key = `o-${randomUUID()}`) =>
    sys.support.offerSupport({ idempotencyKey: key, requestId, message }, who.call).then((r) => r.offer!);

  it('are made by other members once each, seen by the requester (all) and each helper (their own), and accepted into a match that reveals who asked', async () => {
    const c = await circleWith(3);
    const [a, b, h] = c.members as [Person, Person, Person];
    const r = await ask(c.id, a, 'anyone around tonight?', { anonymous: true });
    assert.equal((await refusal(offer(r.id, a, 'me?'))).code, Code.PermissionDenied, 'not on one’s own request');
    const key = `o-${randomUUID()}`;
    const ob = await offer(r.id, b, 'I can talk after 8pm', key);
    assert.equal((await offer(r.id, b, 'I can talk after 8pm', key)).id, ob.id, 'a retry');
    assert.equal((await refusal(offer(r.id, b, 'again'))).code, Code.AlreadyExists, 'one live offer each');
    const oh = await offer(r.id, h, 'Same here, any time');
    assert.deepEqual([ob.state, ob.helperId, ob.message], [SupportOfferState.OFFERED, b.userId, 'I can talk after 8pm']);
    assert.equal((await sys.support.getSupportRequest({ id: r.id }, a.call)).request!.offerCount, 2);
    assert.deepEqual((await sys.support.listOffers({ requestId: r.id }, a.call)).offers.map((o) => o.helperId), [b.userId, h.userId], 'the requester sees all, oldest first');
    assert.deepEqual((await sys.support.listOffers({ requestId: r.id }, h.call)).offers.map((o) => o.id), [oh.id], 'a helper their own');
    assert.equal((await sys.support.getSupportRequest({ id: r.id }, b.call)).request!.requesterId, '', 'anonymous before a match');
    assert.equal((await refusal(sys.support.acceptOffer({ offerId: ob.id, version: 1n }, b.call))).code, Code.PermissionDenied);
    assert.equal((await refusal(sys.support.acceptOffer({ offerId: ob.id, version: 7n }, a.call))).code, Code.Aborted);
    const { request, offer: accepted } = await sys.support.acceptOffer({ offerId: ob.id, version: 1n }, a.call);
    assert.deepEqual([request!.state, request!.version, accepted!.state], [SupportRequestState.MATCHED, 2n, SupportOfferState.ACCEPTED]);
    assert.equal((await sys.support.acceptOffer({ offerId: ob.id, version: 1n }, a.call)).offer!.state, SupportOfferState.ACCEPTED, 'again: as it is');
    assert.equal((await sys.support.getSupportRequest({ id: r.id }, b.call)).request!.requesterId, a.userId, 'revealed to the accepted helper');
    assert.equal((await sys.support.getSupportRequest({ id: r.id }, h.call)).request!.requesterId, '', 'not to the others');
  });

  it('are withdrawn by their helper (a match with no accepted offer opens again) and closed when the request closes', async () => {
    const c = await circleWith(3);
    const [a, b, h] = c.members as [Person, Person, Person];
    const r = await ask(c.id, a, 'need someone');
    const ob = await offer(r.id, b, 'here');
    const oh = await offer(r.id, h, 'me too');
    await sys.support.acceptOffer({ offerId: ob.id, version: 1n }, a.call);
    assert.equal((await refusal(sys.support.withdrawOffer({ offerId: ob.id }, h.call))).code, Code.NotFound, 'another helper does not see it');
    const gone = (await sys.support.withdrawOffer({ offerId: ob.id }, b.call)).offer!;
    assert.equal(gone.state, SupportOfferState.WITHDRAWN);
    assert.equal((await sys.support.withdrawOffer({ offerId: ob.id }, b.call)).offer!.state, SupportOfferState.WITHDRAWN, 'again: as it is');
    const reopened = (await sys.support.getSupportRequest({ id: r.id }, a.call)).request!;
    assert.deepEqual([reopened.state, reopened.offerCount], [SupportRequestState.OPEN, 1]);
    assert.ok(await offer(r.id, b, 'back again'), 'a new live offer after withdrawing');
    await sys.support.cancelSupportRequest({ id: r.id, version: reopened.version }, a.call);
    const states = (await sys.support.listOffers({ requestId: r.id }, a.call)).offers.map((o) => SupportOfferState[o.state]);
    assert.deepEqual(states, ['WITHDRAWN', 'CLOSED', 'CLOSED']);
    assert.equal((await refusal(sys.support.withdrawOffer({ offerId: oh.id }, h.call))).code, Code.FailedPrecondition, 'closed');
    assert.equal((await refusal(offer(r.id, h, 'late'))).code, Code.FailedPrecondition, 'no offers on a cancelled request');
  });
});

describe('EraseUserData', () => {
  it("erases a deleted account's plan, requests and offers for real, reopening what its accepted offer matched; for services only", async () => {
    const c = await circleWith(2);
    const [gone, a] = c.members as [Person, Person];
    await sys.support.updateSafetyPlan({ version: 0n, warningSigns: ['x'] }, gone.call);
    const own = await ask(c.id, gone, 'mine');
    await sys.support.offerSupport({ idempotencyKey: `o-${randomUUID()}`, requestId: own.id, message: 'on theirs' }, a.call);
    const theirs = await ask(c.id, a, 'theirs');
    const offered = (await sys.support.offerSupport({ idempotencyKey: `o-${randomUUID()}`, requestId: theirs.id, message: 'here' }, gone.call)).offer!;
    await sys.support.acceptOffer({ offerId: offered.id, version: 1n }, a.call);
    assert.equal((await refusal(sys.support.eraseUserData({ userId: gone.userId }, a.call))).code, Code.PermissionDenied);
    const svc = await sys.asService('user');
    const erased = await sys.support.eraseUserData({ userId: gone.userId }, svc);
    assert.deepEqual([erased.requestCount, erased.offerCount], [1, 1]);
    const db = (sys.modules.support as SupportApp).db.db;
    const left = await Promise.all([
      db.selectFrom('safety_plans').select('user_id').where('user_id', '=', gone.userId).execute(),
      db.selectFrom('support_requests').select('id').where('requester_id', '=', gone.userId).execute(),
      db.selectFrom('support_offers').select('id').where((eb) => eb.or([eb('helper_id', '=', gone.userId), eb('request_id', '=', own.id)])).execute(),
    ]);
    assert.deepEqual(left, [[], [], []], 'nothing of theirs is kept');
    const after = (await sys.support.getSupportRequest({ id: theirs.id }, a.call)).request!;
    assert.deepEqual([after.state, after.offerCount], [SupportRequestState.OPEN, 0], 'their accepted offer went: open again');
    const again = await sys.support.eraseUserData({ userId: gone.userId }, svc);
    assert.deepEqual([again.requestCount, again.offerCount], [0, 0], 'idempotent');
  });
});
