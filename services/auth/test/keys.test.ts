import assert from 'node:assert/strict';
import { afterAll, beforeAll, beforeEach, describe, it } from 'vitest';
import { ConfigError, loadServiceConfig } from '@hearth/config';
import { type Database, createDatabase, migrateToLatest } from '@hearth/db';
import { type TestDatabase, createTestDatabase } from '@hearth/testkit';
import { SignJWT, createLocalJWKSet, jwtVerify } from 'jose';
import { randomBytes } from 'node:crypto';
import { authConfigSpec } from '../src/config.js';
import { migrations } from '../src/migrations/index.js';
import { KeyWrapper } from '../src/service/crypto.js';
import { KeyRing, type KeyRingOptions } from '../src/service/key-ring.js';
import type { AuthTables } from '../src/store/schema.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const ACCESS_TTL = 15 * 60_000;
const SKEW = 60_000;

describe('KeyRing: encrypted signing keys rotating without downtime', () => {
  let testDb: TestDatabase;
  let db: Database<AuthTables>;
  const kek = randomBytes(32).toString('base64');
  let clock: number;
  const now = () => new Date(clock);
  const ring = (over: Partial<KeyRingOptions> = {}) =>
    new KeyRing({ db, wrapper: new KeyWrapper(kek), alg: 'EdDSA', rotationMs: 30 * DAY, accessTtlMs: ACCESS_TTL, now, ...over });

  beforeAll(async () => {
    testDb = await createTestDatabase({ prefix: 'authkeys' });
    db = createDatabase<AuthTables>({
      url: testDb.url,
      schema: 'auth',
      poolMax: 10,
      connectionTimeoutMs: 5_000,
      idleTimeoutMs: 10_000,
      statementTimeoutMs: 10_000,
      applicationName: 'auth-keys-test',
    });
    await migrateToLatest(db, { schema: 'auth', migrations });
  });
  afterAll(async () => {
    await db?.destroy();
    await testDb?.drop();
  });
  beforeEach(async () => {
    clock = Date.parse('2027-01-01T00:00:00Z');
    await db.db.deleteFrom('signing_keys').execute();
  });

  const kids = async (r: KeyRing) => (await r.jwks()).keys.map((k) => k.kid).sort();

  it('publishes a successor before it signs, and keeps the old key until its tokens expire', async () => {
    const r = ring();
    await r.rotate();
    const first = await r.signingKey();
    assert.deepEqual(await kids(r), [first.kid], 'first boot: one key that signs at once');

    // Not yet time for a successor.
    clock += 28 * DAY;
    await r.rotate();
    assert.deepEqual(await kids(r), [first.kid]);

    // Within publish lead + check interval of retirement: the successor is published, not signing.
    clock += 2 * DAY - 2 * HOUR + 1;
    await r.rotate();
    const published = await kids(r);
    assert.equal(published.length, 2);
    const successor = published.find((k) => k !== first.kid)!;
    assert.equal((await r.signingKey()).kid, first.kid, 'the successor does not sign yet');
    const row = await db.db.selectFrom('signing_keys').selectAll().where('kid', '=', successor).executeTakeFirstOrThrow();
    assert.ok(row.sign_from.getTime() - row.publish_at.getTime() >= HOUR, 'published at least an hour before signing');

    // A second check changes nothing: one successor only.
    await r.rotate();
    assert.equal((await kids(r)).length, 2);

    // The successor signs from its sign_from; the old key stays published while its tokens live.
    clock = row.sign_from.getTime();
    assert.equal((await r.signingKey()).kid, successor);
    assert.deepEqual(await kids(r), [first.kid, successor].sort());
    const old = await db.db.selectFrom('signing_keys').selectAll().where('kid', '=', first.kid).executeTakeFirstOrThrow();
    assert.equal(old.expire_at.getTime(), old.retire_at.getTime() + ACCESS_TTL + SKEW);
    clock = old.expire_at.getTime() - 1;
    assert.ok((await kids(r)).includes(first.kid), 'still published until every token it signed expired');
    clock = old.expire_at.getTime() + 1;
    assert.deepEqual(await kids(r), [successor], 'gone once its last token expired');
  });

  it('a late check extends the current key so signing never has a gap', async () => {
    const r = ring();
    await r.rotate();
    const first = await r.signingKey();
    const before = await db.db.selectFrom('signing_keys').selectAll().executeTakeFirstOrThrow();
    clock = before.retire_at.getTime() - 10 * 60_000;
    await r.rotate();
    const rows = await db.db.selectFrom('signing_keys').selectAll().orderBy('sign_from').execute();
    assert.equal(rows.length, 2);
    assert.equal(rows[1]!.sign_from.getTime(), clock + HOUR);
    assert.equal(rows[0]!.retire_at.getTime(), rows[1]!.sign_from.getTime(), 'old key signs until the successor may');
    clock = before.retire_at.getTime() + 1;
    assert.equal((await r.signingKey()).kid, first.kid);
  });

  it('signs lazily when no key signs now: first use without migrate, or after a long outage', async () => {
    // A clock that moves on every read, as a real one does between two statements.
    const r = ring({ now: () => new Date(clock++) });
    const first = await r.signingKey();
    assert.deepEqual(await kids(r), [first.kid]);
    // Nothing ran for 60 days: every key has expired, the next signature creates a new one.
    clock += 60 * DAY;
    const next = await r.signingKey();
    assert.notEqual(next.kid, first.kid);
    assert.deepEqual(await kids(r), [next.kid]);
  });

  it('two replicas rotating at once create one key, then one successor', async () => {
    const [a, b] = [ring(), ring()];
    await Promise.all([a.rotate(), b.rotate(), a.rotate(), b.rotate()]);
    assert.equal((await db.db.selectFrom('signing_keys').select('kid').execute()).length, 1);
    clock += 30 * DAY - HOUR;
    await Promise.all([a.rotate(), b.rotate(), a.rotate(), b.rotate()]);
    assert.equal((await db.db.selectFrom('signing_keys').select('kid').execute()).length, 2);
  });

  it('stores private keys encrypted: no plaintext, and a wrong KEK cannot decrypt', async () => {
    const r = ring();
    await r.rotate();
    const row = await db.db.selectFrom('signing_keys').selectAll().executeTakeFirstOrThrow();
    const text = row.private_key_enc.toString('latin1');
    assert.ok(!text.includes('"d"') && !text.includes('OKP') && !text.includes(String(row.public_jwk.x)));
    assert.throws(() => new KeyWrapper(randomBytes(32).toString('base64')).unwrap(row.private_key_enc, row.kid));
    // Bound to its kid: the right KEK with another kid fails too.
    assert.throws(() => new KeyWrapper(kek).unwrap(row.private_key_enc, 'another-kid'));
    const jwk = JSON.parse(new KeyWrapper(kek).unwrap(row.private_key_enc, row.kid).toString('utf8')) as Record<string, string>;
    assert.equal(jwk.x, row.public_jwk.x);
    assert.equal(typeof jwk.d, 'string');
  });

  it('ES256 keys sign tokens that verify against the published EC key', async () => {
    const r = ring({ alg: 'ES256' });
    await r.rotate();
    const { kid, alg, key } = await r.signingKey();
    assert.equal(alg, 'ES256');
    const jwks = await r.jwks();
    assert.equal(jwks.keys[0]?.kty, 'EC');
    const token = await new SignJWT({ sub: 'x' }).setProtectedHeader({ alg, kid }).sign(key);
    await jwtVerify(token, createLocalJWKSet(jwks));
  });
});

describe('auth config', () => {
  const base = { DATABASE_URL: 'postgres://127.0.0.1/x' };
  it('requires a 32-byte key-encryption key and never echoes it', () => {
    assert.throws(() => loadServiceConfig('auth', authConfigSpec, base), ConfigError);
    const short = randomBytes(16).toString('base64');
    assert.throws(
      () => loadServiceConfig('auth', authConfigSpec, { ...base, HEARTH_AUTH_KEY_ENCRYPTION_KEY: short }),
      (err: Error) => err instanceof ConfigError && err.message.includes('HEARTH_AUTH_KEY_ENCRYPTION_KEY') && !err.message.includes(short),
    );
    const cfg = loadServiceConfig('auth', authConfigSpec, { ...base, HEARTH_AUTH_KEY_ENCRYPTION_KEY: randomBytes(32).toString('base64') });
    assert.equal(cfg.service.signingAlg, 'EdDSA');
    assert.equal(cfg.service.accessTtlSec, 900);
    assert.equal(String(cfg.service.keyEncryptionKey), '[secret]');
  });
});
