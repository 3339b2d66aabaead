import assert from 'node:assert/strict';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { Code, ConnectError } from '@connectrpc/connect';
import { FlowIntent, IdentityProvider, TokenDelivery } from '@hearth/contracts/gen/hearth/auth/v1/resources_pb.js';
import { type TestAuth, newUser, startAuth } from './helpers.js';

async function code(p: Promise<unknown>): Promise<Code | 'ok'> {
  try {
    await p;
    return 'ok';
  } catch (err) {
    return ConnectError.from(err).code;
  }
}

// The limiter's own behaviour is tested in limits.test.ts; this shows the RPCs call it.
describe('auth RPCs go through the rate limiter', () => {
  let t: TestAuth;
  beforeAll(async () => {
    t = await startAuth({ limits: 'real' });
  });
  afterAll(() => t?.close());

  it('Login: repeated failures for an account are refused with ResourceExhausted, even with the right password', async () => {
    const user = newUser();
    await t.client.register(user);
    const attempt = (password: string) => t.client.login({ email: user.email, password, tokenDelivery: TokenDelivery.BODY });
    for (let i = 0; i < 5; i++) assert.equal(await code(attempt('definitely wrong password')), Code.Unauthenticated);
    assert.equal(await code(attempt(user.password)), Code.ResourceExhausted);
  });

  it('Register: refused per IP after the hourly allowance', async () => {
    const results: Array<Code | 'ok'> = [];
    for (let i = 0; i < 11; i++) results.push(await code(t.client.register(newUser())));
    assert.ok(results.includes(Code.ResourceExhausted), results.join(','));
    assert.ok(results.includes('ok'));
  });

  it('StartOAuth: refused per IP after the hourly allowance, before any other check', async () => {
    const start = () =>
      code(
        t.client.startOAuth({
          provider: IdentityProvider.GOOGLE,
          intent: FlowIntent.SIGN_IN,
          redirectUri: 'https://app.example/not-allowed',
          codeChallenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
        }),
      );
    const results: Array<Code | 'ok'> = [];
    for (let i = 0; i < 61; i++) results.push(await start());
    assert.deepEqual(new Set(results.slice(0, 60)), new Set([Code.InvalidArgument]));
    assert.equal(results[60], Code.ResourceExhausted);
  });
});
