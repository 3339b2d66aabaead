// The whole system in monolith mode, through production code: every service's routes are
// mounted on one origin, every RPC in proto/ answers a Connect code (never a 404), readiness
// reflects Postgres, and the typed SDK reaches every service.
import assert from 'node:assert/strict';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { Code, ConnectError } from '@connectrpc/connect';
import { services } from '@hearth/contracts';
import { startTcpProxy } from '@hearth/testkit';
import { createHearthClient } from '@hearth/client';
import { type Name, definitions, startTestSystem } from '@hearth/testkit/system';
import { type WholeSystem, newUser, startWholeSystem } from './helpers.js';

describe('monolith mode', () => {
  let system: WholeSystem;

  beforeAll(async () => {
    system = await startWholeSystem();
  });
  afterAll(async () => {
    await system?.close();
  });

  it('is ready once every schema has migrated', async () => {
    const res = await fetch(`${system.url}/health/ready`);
    assert.equal(res.status, 200);
    const body = (await res.json()) as { checks: Record<string, string> };
    for (const name of ['auth', 'user', 'circle', 'post', 'moderation', 'support']) {
      assert.equal(body.checks[`postgres:${name}`], 'ok', name);
    }
  });

  /** POSTs `{}` to every RPC in proto/ and returns each answer's Connect code. */
  async function walk(headers: Record<string, string> = {}, skip: string[] = []): Promise<Array<{ rpc: string; status: number; code: string | undefined }>> {
    const answers = [];
    for (const service of Object.values(services)) {
      for (const method of service.methods) {
        const rpc = `${service.typeName}/${method.name}`;
        if (skip.includes(rpc)) continue;
        const res = await fetch(`${system.url}/${rpc}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...headers },
          body: '{}',
        });
        const body = (await res.json()) as { code?: string };
        answers.push({ rpc, status: res.status, code: body.code });
      }
    }
    return answers;
  }

  it('answers every RPC anonymously with a Connect code: Unauthenticated unless it is public', async () => {
    const answers = await walk();
    assert.ok(answers.length >= 100, `expected the whole v1 surface, saw ${answers.length} RPCs`);
    // Logout is public too (it takes a refresh token when the access token has expired), but
    // `{}` carries neither, so it is Unauthenticated like the rest.
    const publicRpcs = ['Register', 'Login', 'Refresh', 'StartOAuth', 'FinishOAuth'].map((m) => `hearth.auth.v1.AuthService/${m}`);
    const crisisLines = 'hearth.support.v1.SupportService/GetCrisisResources';
    for (const { rpc, status, code } of answers) {
      assert.notEqual(status, 404, rpc);
      // Authentication runs before validation, so an anonymous caller learns nothing about the rules.
      if (rpc === crisisLines) assert.ok(code === 'unimplemented' || code === undefined, `${rpc} is public: ${code}`);
      else assert.equal(code, publicRpcs.includes(rpc) ? 'invalid_argument' : 'unauthenticated', rpc);
    }
  });

  it('answers every RPC of a signed-in user with a Connect code, not a 404', async () => {
    const { tokens } = await system.client.auth.register(newUser());
    // Logout and LogoutAll accept `{}` and would end this very session (the auth suite tests them).
    const skip = ['Logout', 'LogoutAll'].map((m) => `hearth.auth.v1.AuthService/${m}`);
    const answers = await walk({ authorization: `Bearer ${tokens?.accessToken}` }, skip);
    for (const { rpc, status, code } of answers) {
      assert.notEqual(status, 404, rpc);
      // A deliberate answer, never a crash: success, refused by authorization (which rule applies
      // to whom is the authorization matrix's job), by validation, or Unimplemented until its
      // issue lands.
      const deliberate = [undefined, 'invalid_argument', 'permission_denied', 'not_found', 'unimplemented'];
      assert.ok(deliberate.includes(code), `${rpc} answered ${status} ${code}`);
    }
  });

  it('serves the typed SDK from one origin, signed in with a bearer token', async () => {
    const { tokens } = await system.client.auth.register(newUser());
    const client = createHearthClient({ baseUrl: system.url, getAccessToken: () => tokens?.accessToken });
    assert.equal((await client.support.getCrisisResources({ regionCode: 'GB', language: 'en' })).emergencyNumber, '999');
    // What is not built yet says so, never a fake success.
    await assert.rejects(client.support.listActiveSos({}), (err) => {
      assert.equal(ConnectError.from(err).code, Code.Unimplemented);
      return true;
    });
    await assert.rejects(client.circle.getCircle({ circleId: '0192d5e0-0000-7000-8000-000000000000' }), (err) => {
      assert.equal(ConnectError.from(err).code, Code.NotFound);
      return true;
    });
    await assert.rejects(client.circle.getCircle({ circleId: 'nope' }), (err) => {
      assert.equal(ConnectError.from(err).code, Code.InvalidArgument);
      return true;
    });
    const sessions = await client.auth.listSessions({});
    assert.equal(sessions.sessions[0]?.id, tokens?.sessionId);
    assert.equal(sessions.sessions[0]?.current, true);
  });

  it('reports readiness failure when its database goes away', async () => {
    const proxy = await startTcpProxy();
    const other = await startTestSystem({ services: Object.keys(definitions) as Name[], through: { postgres: (url) => proxy.rewrite(url) } });
    try {
      assert.equal((await fetch(`${other.url}/health/ready`)).status, 200);
      proxy.cut();
      const res = await fetch(`${other.url}/health/ready`);
      assert.equal(res.status, 503);
      assert.equal((await fetch(`${other.url}/health/live`)).status, 200, 'still alive: restarting would not help');
    } finally {
      proxy.restore();
      await other.close();
      await proxy.close();
    }
  });
});
