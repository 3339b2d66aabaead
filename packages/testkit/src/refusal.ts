import assert from 'node:assert/strict';
import { ConnectError } from '@connectrpc/connect';

/** Awaits a call that must fail and returns its error; fails the test if the call succeeds. */
export async function refusal(p: Promise<unknown>): Promise<ConnectError> {
  try {
    await p;
  } catch (err) {
    return ConnectError.from(err);
  }
  assert.fail('expected the call to fail');
}
