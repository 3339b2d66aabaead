import assert from 'node:assert/strict';
import { inspect } from 'node:util';
import { describe, it } from 'vitest';
import { ConfigError, Secret, env, loadConfig, loadServiceConfig, schemas, secretEnv, z } from '../src/index.js';

const spec = {
  server: { port: env('HEARTH_PORT', schemas.port(8080), 'port') },
  db: { url: env('DATABASE_URL', schemas.postgresUrl(), 'db') },
  key: secretEnv('HEARTH_AUTH_SIGNING_KEY', { minLength: 8 }, 'key'),
  mode: env('HEARTH_MODE', schemas.oneOf(['a', 'b'], 'a'), 'mode'),
};

describe('loadConfig', () => {
  it('builds a nested typed object with defaults', () => {
    const cfg = loadConfig(spec, { DATABASE_URL: 'postgres://x@localhost/db', HEARTH_AUTH_SIGNING_KEY: 'abcdefghij' });
    assert.equal(cfg.server.port, 8080);
    assert.equal(cfg.db.url, 'postgres://x@localhost/db');
    assert.equal(cfg.mode, 'a');
    assert.ok(cfg.key instanceof Secret);
    assert.equal(cfg.key.reveal(), 'abcdefghij');
  });

  it('reports every problem at once, naming each variable', () => {
    const err = catchConfigError(() =>
      loadConfig(spec, { HEARTH_PORT: 'eighty', DATABASE_URL: 'mysql://nope', HEARTH_MODE: 'c' }),
    );
    const names = err.problems.map((p) => p.variable).sort();
    assert.deepEqual(names, ['DATABASE_URL', 'HEARTH_AUTH_SIGNING_KEY', 'HEARTH_MODE', 'HEARTH_PORT']);
    assert.match(err.message, /4 problems/);
    assert.match(err.message, /HEARTH_PORT: .*"eighty"/);
  });

  it('says what is wrong with a number: not a number, not whole, or out of range', () => {
    const numbers = { n: env('HEARTH_N', schemas.positiveInt(5, 100), 'n'), p: env('HEARTH_P', schemas.port(80), 'p'), r: env('HEARTH_R', schemas.ratio(0.5), 'r') };
    for (const [value, want] of [
      ['abc', /must be a number/],
      ['1.5', /must be a whole number/],
      ['0', /must be at least 1/],
      ['101', /must be at most 100/],
    ] as const) {
      const err = catchConfigError(() => loadConfig(numbers, { HEARTH_N: value }));
      assert.match(err.message, want, value);
    }
    assert.match(catchConfigError(() => loadConfig(numbers, { HEARTH_P: '70000' })).message, /HEARTH_P: must be at most 65535/);
    assert.match(catchConfigError(() => loadConfig(numbers, { HEARTH_R: '2' })).message, /HEARTH_R: must be at most 1/);
  });

  it('never echoes a secret value', () => {
    const err = catchConfigError(() =>
      loadConfig(spec, { DATABASE_URL: 'postgres://h/d', HEARTH_AUTH_SIGNING_KEY: 'short' }),
    );
    assert.equal(err.problems.length, 1);
    assert.doesNotMatch(err.message, /short/);
  });

  it('keeps secrets out of JSON, strings and inspect', () => {
    const s = new Secret('hunter2-hunter2');
    assert.equal(JSON.stringify({ s }), '{"s":"[secret]"}');
    assert.equal(`${s}`, '[secret]');
    assert.doesNotMatch(inspect({ s }), /hunter2/);
  });

  it('treats empty strings as unset', () => {
    const cfg = loadConfig({ p: env('P', schemas.port(5), 'p') }, { P: '  ' });
    assert.equal(cfg.p, 5);
  });

  it('rejects unknown variables under an owned prefix but not foreign ones', () => {
    const small = { port: env('HEARTH_PORT', schemas.port(1), 'p') };
    const err = catchConfigError(() =>
      loadConfig(small, { HEARTH_PROT: '1', HEARTH_AUTH_X: '2', PATH: '/bin' }, { ownedPrefixes: ['HEARTH_'], foreignPrefixes: ['HEARTH_AUTH_'] }),
    );
    assert.deepEqual(err.problems.map((p) => p.variable), ['HEARTH_PROT']);
  });
});

describe('loadServiceConfig', () => {
  it('combines the shared and the service spec and ignores other services', () => {
    const cfg = loadServiceConfig('user', { retentionDays: env('HEARTH_USER_RETENTION_DAYS', schemas.positiveInt(30), 'r') }, {
      DATABASE_URL: 'postgres://localhost/hearth',
      HEARTH_AUTH_SOMETHING: 'belongs to auth',
      HEARTH_USER_RETENTION_DAYS: '7',
    });
    assert.equal(cfg.service.retentionDays, 7);
    assert.equal(cfg.server.port, 8080);
    assert.equal(cfg.redis.url, undefined);
    assert.equal(cfg.telemetry.tracingExporter, 'none');
  });

  it('fails on a misspelt variable of its own', () => {
    const err = catchConfigError(() =>
      loadServiceConfig('user', {}, { DATABASE_URL: 'postgres://localhost/h', HEARTH_USER_RETENSION_DAYS: '7' }),
    );
    assert.deepEqual(err.problems.map((p) => p.variable), ['HEARTH_USER_RETENSION_DAYS']);
  });

  it('accepts zod schemas directly', () => {
    const cfg = loadConfig({ n: env('N', z.string().regex(/^x+$/), 'n') }, { N: 'xxx' });
    assert.equal(cfg.n, 'xxx');
  });
});

function catchConfigError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  assert.fail('expected a ConfigError');
}
