import assert from 'node:assert/strict';
import { describe, it } from 'vitest';
import { REDACTED, createLogger, redactPaths } from '../src/index.js';
import { memoryLog } from './support/memory-log.js';

const SECRET_KEYS = [
  'password',
  'newPassword',
  'currentPassword',
  'token',
  'accessToken',
  'refreshToken',
  'access_token',
  'refresh_token',
  'secret',
  'clientSecret',
  'privateKey',
  'idToken',
  'code_verifier',
  'cookie',
];

function logOnce(obj: Record<string, unknown>) {
  const dest = memoryLog();
  createLogger({ service: 'auth', destination: dest }).info(obj, 'hello');
  assert.equal(dest.lines.length, 1);
  return { line: dest.lines[0]!, raw: dest.raw[0]! };
}

describe('createLogger', () => {
  it('writes JSON with service, ISO time and a level name', () => {
    const { line } = logOnce({ userId: 'u1' });
    assert.equal(line.service, 'auth');
    assert.equal(line.level, 'info');
    assert.equal(line.msg, 'hello');
    assert.equal(line.userId, 'u1');
    assert.match(String(line.time), /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
  });

  it('respects the level option', () => {
    const dest = memoryLog();
    const logger = createLogger({ service: 'auth', level: 'warn', destination: dest });
    logger.info('dropped');
    logger.warn('kept');
    assert.deepEqual(
      dest.lines.map((l) => l.msg),
      ['kept'],
    );
  });

  for (const key of SECRET_KEYS) {
    it(`redacts ${key} at the top level and one and two levels deep`, () => {
      const value = `s3cr3t-${key}`;
      const { line, raw } = logOnce({
        [key]: value,
        user: { [key]: value, name: 'ada' },
        body: { auth: { [key]: value, kind: 'x' } },
      });
      assert.ok(!raw.includes(value), `${key} leaked: ${raw}`);
      assert.equal(line[key], REDACTED);
      assert.deepEqual(line.user, { [key]: REDACTED, name: 'ada' });
      assert.deepEqual(line.body, { auth: { [key]: REDACTED, kind: 'x' } });
    });
  }

  it('redacts authorization, cookie and set-cookie headers wherever headers are logged', () => {
    const headers = () => ({
      authorization: 'Bearer abc.def.ghi',
      cookie: 'sid=abc',
      'set-cookie': ['sid=abc; HttpOnly'],
      'user-agent': 'test',
    });
    const { line, raw } = logOnce({
      headers: headers(),
      req: { method: 'POST', headers: headers() },
      res: { statusCode: 200, headers: headers() },
      upstream: { call: { headers: headers() } },
    });
    for (const leaked of ['abc.def.ghi', 'sid=abc']) assert.ok(!raw.includes(leaked), `leaked ${leaked}: ${raw}`);
    const expected = { authorization: REDACTED, cookie: REDACTED, 'set-cookie': REDACTED, 'user-agent': 'test' };
    assert.deepEqual(line.headers, expected);
    assert.deepEqual((line.req as { headers: unknown }).headers, expected);
    assert.deepEqual((line.res as { headers: unknown }).headers, expected);
    assert.deepEqual((line.upstream as { call: { headers: unknown } }).call.headers, expected);
  });

  it('redacts in child loggers and their bindings too', () => {
    const dest = memoryLog();
    const child = createLogger({ service: 'auth', destination: dest }).child({ rpc: 'x/Y' });
    child.info({ creds: { password: 'hunter2' } }, 'login');
    assert.ok(!dest.raw[0]!.includes('hunter2'));
    assert.equal(dest.lines[0]!.rpc, 'x/Y');
  });

  it('exports the paths it redacts', () => {
    for (const key of SECRET_KEYS) {
      assert.ok(redactPaths.includes(key) && redactPaths.includes(`*.${key}`) && redactPaths.includes(`*.*.${key}`), key);
    }
    assert.ok(redactPaths.includes('*.headers.authorization'));
    assert.ok(redactPaths.includes('*.headers["set-cookie"]'));
  });
});
