// The operator's grant-role command against the whole system: roles are added and removed one
// by one (never replaced wholesale), each change is audited with its reason, and removing a role
// ends the person's sessions.
import assert from 'node:assert/strict';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { Code, ConnectError } from '@connectrpc/connect';
import { type HearthClient, TokenStore, createHearthClient } from '@hearth/client';
import pg from 'pg';
import { grantRole } from '../src/grant-role.js';
import { newUser, startWholeSystem, type WholeSystem } from './helpers.js';

async function eventually<T>(check: () => Promise<T>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await check();
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

describe('grant-role', () => {
  let system: WholeSystem;
  let env: Record<string, string>;
  let operator: Record<string, string>;

  beforeAll(async () => {
    system = await startWholeSystem();
    env = { ...system.env };
    operator = { HEARTH_URL: system.url, HEARTH_INTERNAL_SECRET: env.HEARTH_INTERNAL_SECRET ?? '' };
  });
  afterAll(async () => {
    await system?.close();
  });

  async function person(): Promise<{ id: string; handle: string; client: HearthClient }> {
    const client = createHearthClient({ baseUrl: system.url, tokens: new TokenStore() });
    const req = newUser('keeper');
    await client.auth.register(req);
    // The profile is created by a job that auth enqueued with the account.
    const { profile } = await eventually(() => client.user.getMe({}));
    assert.ok(profile);
    return { id: profile.id, handle: profile.handle, client };
  }

  it('refuses to guess: neither --add nor --remove, the old --role, or an unknown role', async () => {
    await assert.rejects(grantRole(['--handle', 'sam', '--reason', 'x'], operator), /nothing to do/);
    await assert.rejects(grantRole(['--handle', 'sam', '--role', 'admin', '--reason', 'x'], operator), /--role is gone/);
    await assert.rejects(grantRole(['--handle', 'sam', '--add', 'owner', '--reason', 'x'], operator), /unknown role "owner"/);
    await assert.rejects(grantRole(['--handle', 'sam', '--add', 'admin', '--remove', 'admin', '--reason', 'x'], operator), /both name admin/);
    await assert.rejects(grantRole(['--handle', 'sam', '--add', 'admin'], operator), /--reason/);
  });

  it('adds a role and keeps the others, removes one and ends the sessions, and audits each reason', async () => {
    const p = await person();
    const run = (...args: string[]) => grantRole(['--handle', p.handle.toUpperCase(), ...args], operator);

    assert.deepEqual(await run('--add', 'moderator', '--reason', 'runs the night shift'), {
      handle: p.handle,
      roles: ['user', 'moderator'],
      changed: true,
      sessionsEnded: false,
    });
    // The bug this replaces: a "grant" of admin used to drop moderator.
    assert.deepEqual((await run('--add', 'admin', '--reason', 'first admin')).roles, ['user', 'moderator', 'admin']);
    assert.equal((await run('--add', 'admin', '--reason', 'again')).changed, false);
    // Still signed in: added roles reach the token at the next refresh.
    await p.client.user.getMe({});

    const removed = await run('--remove', 'moderator', '--reason', 'shift ended');
    assert.deepEqual(removed.roles, ['user', 'admin']);
    assert.equal(removed.sessionsEnded, true);
    await eventually(async () => {
      const err = await p.client.user.getMe({}).then(
        () => assert.fail('still signed in'),
        (e: unknown) => ConnectError.from(e),
      );
      assert.equal(err.code, Code.Unauthenticated);
    });

    const audit = new pg.Client({ connectionString: system.system.database.url });
    await audit.connect();
    try {
      const { rows } = await audit.query<{ actor: string; reason: string }>(
        'select actor, reason from users.audit_events where target = $1 and action = $2 order by create_time',
        [p.id, 'roles.set'],
      );
      assert.deepEqual(
        rows.map((r) => r.reason),
        ['runs the night shift', 'first admin', 'shift ended'],
      );
      assert.ok(rows.every((r) => r.actor === 'service:operator'));
    } finally {
      await audit.end();
    }
  });

  it('names a missing person', async () => {
    await assert.rejects(grantRole(['--handle', 'nobody_here', '--add', 'admin', '--reason', 'x'], operator), /no account with handle nobody_here/);
  });
});
