import assert from 'node:assert/strict';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { Code } from '@connectrpc/connect';
import { sql } from 'kysely';
import { type TestAuth, newUser, profileJobs, refusal, startAuth } from './helpers.js';

describe('profile delivery through the auth job queue', () => {
  let t: TestAuth;
  beforeAll(async () => {
    // No user service is hosted here or named in HEARTH_SERVICE_URLS: every delivery fails.
    t = await startAuth();
  });
  afterAll(() => t?.close());

  it('a Register that rolls back after enqueueing leaves neither account nor job', async () => {
    // A failure after the job was added: the session insert (same transaction) is refused.
    await sql`
      create function auth.test_refuse_session() returns trigger language plpgsql as $$
      begin raise exception 'refused by test'; end $$`.execute(t.db.db);
    await sql`
      create trigger test_refuse_session before insert on auth.sessions
      for each row when (new.device_name = 'refuse me') execute function auth.test_refuse_session()`.execute(t.db.db);
    try {
      const user = newUser();
      const err = await refusal(t.client.register({ ...user, deviceName: 'refuse me' }));
      assert.equal(err.code, Code.Internal);
      const accounts = await t.db.db.selectFrom('accounts').select('id').where('email', '=', user.email.toLowerCase()).execute();
      assert.equal(accounts.length, 0);
      assert.equal((await profileJobs(t)).filter((j) => j.payload.handle === user.handle).length, 0);
      // The same Register without the failure commits both.
      const { userId } = (await t.client.register(user)).tokens!;
      assert.equal((await profileJobs(t)).filter((j) => j.payload.userId === userId).length, 1);
    } finally {
      await sql`drop trigger test_refuse_session on auth.sessions`.execute(t.db.db);
      await sql`drop function auth.test_refuse_session()`.execute(t.db.db);
    }
  });

  it('the worker runs the job and keeps it for a retry while the user service is unreachable', async () => {
    const { userId } = (await t.client.register(newUser())).tokens!;
    let job = (await profileJobs(t)).find((j) => j.payload.userId === userId);
    for (let i = 0; i < 200 && job && !job.last_error; i++) {
      await new Promise((r) => setTimeout(r, 25));
      job = (await profileJobs(t)).find((j) => j.payload.userId === userId);
    }
    assert.ok(job, 'the job is not lost');
    assert.equal(job.attempts, 1);
    assert.match(job.last_error ?? '', /user service/);
  });
});
