import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { describe, it } from 'vitest';
import { type ConfigSpec, loadServiceConfig } from '@hearth/config';
import { type ServiceDefinition, describeStartFailure } from '@hearth/platform';
import { definitions } from '@hearth/testkit/system';
import { fileURLToPath } from 'node:url';

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));

/** What one service needs of its own (the circle and post services' key rings), so a case sees only its own problems. */
const OWN: Record<string, Record<string, string>> = {
  circle: { HEARTH_CIRCLE_MESSAGE_KEYS: `k1:${Buffer.alloc(32, 7).toString('base64')}` },
  post: { HEARTH_POST_BODY_KEYS: `k1:${Buffer.alloc(32, 8).toString('base64')}` },
  support: { HEARTH_SUPPORT_PLAN_KEYS: `k1:${Buffer.alloc(32, 9).toString('base64')}` },
};

interface Exit {
  code: number | null;
  stderr: string;
}

/** Starts an entry point the way npm scripts do and waits for it to exit. */
function run(entry: string, env: Record<string, string>): Promise<Exit> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--conditions=@hearth/source', '--import', 'tsx', entry], {
      cwd: repoRoot,
      env: { PATH: process.env.PATH ?? '', ...env },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.on('error', reject);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stderr });
    });
  });
}

/**
 * What a service's main.ts (runService) prints when its configuration fails, computed in this
 * process: the same loading, cross-field checks and start-failure text, without a process each.
 * A few cases below start the real processes, to prove the exit code and that this is the text.
 */
function report(name: keyof typeof definitions, env: Record<string, string>): string {
  const d = definitions[name] as unknown as ServiceDefinition<ConfigSpec, never>;
  try {
    loadServiceConfig(name, d.configSpec, env, d.configChecks ?? [], { alone: true });
  } catch (err) {
    return describeStartFailure(err);
  }
  return '';
}

// Each case starts its own process and waits for it to exit: they run side by side.
describe.concurrent('a bad config never starts a server', () => {
  it('one service exits non-zero naming both bad values, without a stack trace', async () => {
    const alone = { HEARTH_INTERNAL_SECRET: 'x'.repeat(32), HEARTH_AUTH_JWKS_URL: 'http://auth:8080/.well-known/jwks.json' };
    const { code, stderr } = await run('services/user/src/main.ts', { ...alone, HEARTH_PORT: 'eighty', DATABASE_URL: 'mysql://localhost/hearth' });
    assert.equal(code, 1);
    assert.match(stderr, /HEARTH_PORT/);
    assert.match(stderr, /DATABASE_URL/);
    assert.match(stderr, /2 problems/);
    assert.doesNotMatch(stderr, /\n\s+at /, 'no stack trace');
    // The in-process report the other cases read is this text.
    assert.ok(stderr.includes(report('user', { ...alone, HEARTH_PORT: 'eighty', DATABASE_URL: 'mysql://localhost/hearth' })), stderr);
  });

  it('the monolith reports the problems of every service once', async () => {
    const { code, stderr } = await run('tools/src/migrate.ts', {
      DATABASE_URL: 'postgres://localhost/hearth',
      HEARTH_LOG_LEVEL: 'loud',
      HEARTH_REALTIME_HEARTBEAT_MS: '-5',
    });
    assert.equal(code, 1);
    assert.match(stderr, /HEARTH_LOG_LEVEL/);
    assert.match(stderr, /HEARTH_REALTIME_HEARTBEAT_MS/);
    assert.equal(stderr.match(/HEARTH_LOG_LEVEL/g)?.length, 1);
  });

  it('a misspelt variable is an error, not a silent default', () => {
    assert.match(report('post', { DATABASE_URL: 'postgres://localhost/hearth', HEARTH_PROT: '9000' }), /HEARTH_PROT: unknown variable/);
  });
});

describe.concurrent('services in separate processes: what they need together, reported at once', () => {
  // Every service but auth as Helm and compose start it alone (report(): main.ts's text).
  for (const name of ['user', 'circle', 'post', 'moderation', 'support', 'realtime'] as const) {
    it(`${name}: no internal secret and no JWKS URL are both named, in one report, without a stack trace`, () => {
      const text = report(name, {
        ...OWN[name],
        DATABASE_URL: 'postgres://localhost/hearth',
        HEARTH_SERVICE_URLS: 'auth=http://auth:8080,user=http://user:8080',
        HEARTH_PORT: 'eighty',
      });
      for (const v of ['HEARTH_INTERNAL_SECRET', 'HEARTH_AUTH_JWKS_URL', 'HEARTH_PORT']) assert.match(text, new RegExp(v), `${name}: ${text}`);
      assert.match(text, /3 problems/);
      assert.doesNotMatch(text, /\n\s+at /, 'no stack trace');
    });
  }

  it('a service started alone needs the secret and the JWKS URL even without service URLs, named with every other problem', async () => {
    for (const name of ['user', 'circle', 'post', 'moderation', 'support', 'realtime'] as const) {
      const text = report(name, { ...OWN[name] });
      for (const v of ['DATABASE_URL', 'HEARTH_INTERNAL_SECRET', 'HEARTH_AUTH_JWKS_URL']) assert.match(text, new RegExp(`${v}: missing`), `${name}: ${text}`);
      assert.match(text, /3 problems/, `${name}: ${text}`);
    }
    // The real entry point prints that report, once, and never starts.
    const { code, stderr } = await run('services/circle/src/main.ts', { ...OWN.circle });
    assert.equal(code, 1);
    assert.ok(stderr.includes(report('circle', { ...OWN.circle })), stderr);
    assert.doesNotMatch(stderr, /\n\s+at /, 'no stack trace');
  });

  it('the monolith needs neither: one process makes its own secret and serves its own keys', () => {
    for (const name of ['user', 'circle', 'realtime'] as const) {
      const d = definitions[name] as unknown as ServiceDefinition<ConfigSpec, never>;
      assert.doesNotThrow(() => loadServiceConfig(name, d.configSpec, { ...OWN[name], DATABASE_URL: 'postgres://localhost/hearth' }, d.configChecks ?? []));
    }
  });

  it('the circle, post and support services need their key rings, and a bad one is named without echoing a key', () => {
    const base = { DATABASE_URL: 'postgres://localhost/hearth', HEARTH_INTERNAL_SECRET: 'x'.repeat(32), HEARTH_AUTH_JWKS_URL: 'http://auth:8080/.well-known/jwks.json' };
    for (const [name, variable] of [
      ['circle', 'HEARTH_CIRCLE_MESSAGE_KEYS'],
      ['post', 'HEARTH_POST_BODY_KEYS'],
      ['support', 'HEARTH_SUPPORT_PLAN_KEYS'],
    ] as const) {
      assert.match(report(name, base), new RegExp(`${variable}: missing`));
      const short = Buffer.alloc(16, 9).toString('base64');
      const text = report(name, { ...base, [variable]: `k1:${short}` });
      assert.match(text, new RegExp(`${variable}: key "k1" must be base64 of exactly 32 bytes`));
      assert.ok(!text.includes(short), 'the key is not echoed');
    }
  });

  it('auth alone needs the secret with service URLs, but serves its own keys', () => {
    const text = report('auth', { DATABASE_URL: 'postgres://localhost/hearth', HEARTH_SERVICE_URLS: 'user=http://user:8080' });
    assert.match(text, /HEARTH_INTERNAL_SECRET/);
    assert.match(text, /HEARTH_AUTH_KEY_ENCRYPTION_KEY/);
    assert.doesNotMatch(text, /HEARTH_AUTH_JWKS_URL/);
  });

  it('a half-configured sign-in provider is reported with the other problems', () => {
    const text = report('auth', { DATABASE_URL: 'postgres://localhost/hearth', HEARTH_AUTH_GOOGLE_CLIENT_ID: 'abc' });
    assert.match(text, /HEARTH_AUTH_GOOGLE_CLIENT_SECRET: missing/);
    assert.match(text, /HEARTH_AUTH_KEY_ENCRYPTION_KEY/);
  });

  it('migrate with an unknown --service says so in one line', async () => {
    const child = spawn(process.execPath, ['--conditions=@hearth/source', '--import', 'tsx', 'tools/src/migrate.ts', '--service', 'nope'], {
      cwd: repoRoot,
      env: { PATH: process.env.PATH ?? '', DATABASE_URL: 'postgres://localhost/hearth' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    assert.equal(code, 1);
    assert.equal(stderr.trim(), 'cannot start: unknown service "nope"; expected one of auth, user, circle, post, moderation, support, realtime');
  });
});
