import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Code, ConnectError } from '@connectrpc/connect';
import { loadServiceConfig } from '@hearth/config';
import { userConfigSpec } from '../src/config.js';
import { handleVariants, isMediaUrl, normalizeRoles, sameRoles, viewOf } from '../src/service/model.js';
import { decodePosition, encodePosition, page } from '../src/service/pages.js';

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
  const refused = (f: () => unknown) =>
    assert.throws(f, (err) => err instanceof ConnectError && err.code === Code.InvalidArgument);

  it('round-trip a position and refuse other filters, foreign tokens and tampered ones', () => {
    const time = new Date('2026-11-24T10:00:00.123Z');
    const token = encodePosition({ time, id: ID }, 'active||sa');
    assert.deepEqual(decodePosition(token, 'active||sa'), { time, id: ID });
    assert.equal(decodePosition('', 'x'), undefined);
    refused(() => decodePosition(token, 'suspended||sa'));
    refused(() => decodePosition('not-a-token!', ''));
    refused(() => decodePosition(Buffer.from(JSON.stringify({ t: 'yesterday', id: ID, f: '' })).toString('base64url'), ''));
    refused(() => decodePosition(Buffer.from(JSON.stringify({ t: time.toISOString(), id: 'x', f: '' })).toString('base64url'), ''));
  });

  it('give a next token only when there is more', () => {
    const rows = [1, 2, 3].map((n) => ({ time: new Date(n), id: ID }));
    assert.equal(page(rows.slice(0, 2), 2, (r) => r).next, '');
    const { items, next } = page(rows, 2, (r) => r);
    assert.equal(items.length, 2);
    assert.deepEqual(decodePosition(next), rows[1]);
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
