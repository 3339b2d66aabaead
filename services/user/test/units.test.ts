import assert from 'node:assert/strict';
import { describe, it } from 'vitest';
import { Code } from '@connectrpc/connect';
import { loadServiceConfig } from '@hearth/config';
import { ListUsersRequestSchema } from '@hearth/contracts/gen/hearth/user/v1/user_service_pb.js';
import { InvalidPageTokenError, PageTokens } from '@hearth/db';
import { knownError } from '@hearth/platform';
import { userConfigSpec } from '../src/config.js';
import { handleVariants, isMediaUrl, normalizeRoles, sameRoles, viewOf } from '../src/service/model.js';
import { userPages } from '../src/service/pages.js';

const ID = '0199a3b4-5c6d-7e8f-9012-3456789abcde';

describe('handle variants', () => {
  it('append a number, shortening the handle to stay within 30 characters', () => {
    assert.deepEqual(handleVariants('sam', 1, 3), ['sam1', 'sam2', 'sam3']);
    const long = 'a'.repeat(30);
    assert.deepEqual(handleVariants(long, 9, 2), [`${'a'.repeat(29)}9`, `${'a'.repeat(28)}10`]);
    for (const v of handleVariants(long, 1, 200)) assert.ok(v.length <= 30, v);
  });
});

describe('avatar hosts', () => {
  const hosts = ['media.hearth.app'];
  it('accept https URLs on a listed host only', () => {
    assert.equal(isMediaUrl('https://media.hearth.app/a/b.png', hosts), true);
    assert.equal(isMediaUrl('https://MEDIA.hearth.app/a.png', hosts), true);
    for (const bad of [
      'http://media.hearth.app/a.png',
      'https://media.hearth.app.evil.example/a.png',
      'https://evil.example/media.hearth.app',
      'https://media.hearth.app@evil.example/a.png',
      'https://user@media.hearth.app/a.png',
      'https://media.hearth.app:8443/a.png',
      'https://sub.media.hearth.app/a.png',
      'not a url',
    ]) {
      assert.equal(isMediaUrl(bad, hosts), false, bad);
    }
  });
});

describe('roles', () => {
  it('always include user, in one order', () => {
    assert.deepEqual(normalizeRoles([]), ['user']);
    assert.deepEqual(normalizeRoles(['admin', 'moderator', 'admin']), ['user', 'moderator', 'admin']);
    assert.equal(sameRoles(['admin'], ['user', 'admin']), true);
    assert.equal(sameRoles(['moderator'], ['admin']), false);
  });
});

describe('profile view', () => {
  it('empties every display field of a deleted account and keeps its identity', () => {
    const now = new Date();
    const row = {
      id: ID,
      handle: 'sam',
      display_name: 'Sam',
      bio: 'hi',
      pronouns: 'they/them',
      avatar_url: 'https://media.hearth.app/a.png',
      state: 'deleted' as const,
      roles: ['user' as const],
      version: 3,
      create_time: now,
      update_time: now,
      delete_time: now,
      purge_after: now,
    };
    const v = viewOf(row);
    assert.deepEqual([v.handle, v.display_name, v.bio, v.pronouns, v.avatar_url], ['', '', '', '', '']);
    assert.equal(v.id, ID);
    assert.equal('purge_after' in v, false);
    assert.equal(viewOf({ ...row, state: 'active' }).handle, 'sam');
  });
});

describe('page tokens', () => {
  const pages = userPages(PageTokens.fromSecret('the deployment secret'));
  /** Refused as a token the server did not issue, which the platform answers as InvalidArgument on page_token. */
  const refused = (f: () => unknown) =>
    assert.throws(f, (err) => {
      assert.ok(err instanceof InvalidPageTokenError, String(err));
      const answer = knownError(err, ListUsersRequestSchema);
      assert.equal(answer?.code, Code.InvalidArgument);
      assert.match(answer?.rawMessage ?? '', /^pageToken: /);
      return true;
    });

  it('round-trip a position and refuse other filters, foreign tokens and tampered ones', () => {
    const time = new Date('2026-11-24T10:00:00.123Z');
    const token = pages.users.encode({ t: time, id: ID }, 'active||sa');
    assert.deepEqual(pages.users.decode(token, 'active||sa'), { t: time, id: ID });
    assert.equal(pages.users.decode('', 'x'), undefined);
    refused(() => pages.users.decode(token, 'suspended||sa'));
    refused(() => pages.users.decode('not-a-token!', ''));
    // Foreign: another list's token, and one another deployment (another secret) signed.
    refused(() => pages.blocks.decode(token, 'active||sa'));
    refused(() => userPages(PageTokens.fromSecret('another deployment')).users.decode(token, 'active||sa'));
    // Tampered: cut short, or one byte of the position changed.
    refused(() => pages.users.decode(token.slice(0, -1), 'active||sa'));
    const edited = Buffer.from(token, 'base64url');
    edited[4] = (edited[4] ?? 0) ^ 1;
    refused(() => pages.users.decode(edited.toString('base64url'), 'active||sa'));
    // Forged: positions as the old, unsigned tokens carried them (good and bad alike).
    const unsigned = (position: object) => Buffer.from(JSON.stringify(position)).toString('base64url');
    refused(() => pages.users.decode(unsigned({ t: time.toISOString(), id: ID, f: '' }), ''));
    refused(() => pages.users.decode(unsigned({ t: 'yesterday', id: ID, f: '' }), ''));
    refused(() => pages.users.decode(unsigned({ t: time.toISOString(), id: 'x', f: '' }), ''));
    // Signed but malformed positions never reach a query either.
    refused(() => pages.users.decode(pages.users.encode({ t: new Date('yesterday'), id: ID }), ''));
    refused(() => pages.users.decode(pages.users.encode({ t: time, id: 'x' }), ''));
  });

  it('give a next token only when there is more', () => {
    const rows = [1, 2, 3].map((n) => ({ time: new Date(n), id: ID }));
    const position = (r: { time: Date; id: string }) => ({ t: r.time, id: r.id });
    assert.equal(pages.blocks.page(rows.slice(0, 2), 2, position).next, '');
    const { items, next } = pages.blocks.page(rows, 2, position);
    assert.equal(items.length, 2);
    assert.deepEqual(pages.blocks.decode(next), position(rows[1] ?? assert.fail('no row')));
  });
});

describe('config', () => {
  const base = { DATABASE_URL: 'postgres://localhost/x' };
  it('defaults to the Hearth media host and 30 days', () => {
    const c = loadServiceConfig('user', userConfigSpec, base);
    assert.deepEqual(c.service.mediaHosts, ['media.hearth.app']);
    assert.equal(c.service.deletedRetentionDays, 30);
  });
  it('reads a host list and refuses hosts that are not host names', () => {
    const c = loadServiceConfig('user', userConfigSpec, { ...base, HEARTH_USER_MEDIA_HOSTS: 'a.example.org, cdn.hearth.app' });
    assert.deepEqual(c.service.mediaHosts, ['a.example.org', 'cdn.hearth.app']);
    assert.throws(() => loadServiceConfig('user', userConfigSpec, { ...base, HEARTH_USER_MEDIA_HOSTS: 'https://x.org/' }), /HEARTH_USER_MEDIA_HOSTS/);
    assert.throws(() => loadServiceConfig('user', userConfigSpec, { ...base, HEARTH_USER_DELETED_RETENTION_DAYS: '0' }), /RETENTION_DAYS/);
  });
});
