import { createHash, randomBytes } from 'node:crypto';
import { readFile, readdir } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import pg from 'pg';
import { ensurePostgres, withAdmin } from '../postgres.js';
import { repoRoot } from '../repo-root.js';

// Any fixed number: the advisory lock every test process takes to build or drop templates.
const TEMPLATE_LOCK = 7_424_511_093;

/**
 * The fingerprint of everything a migrated database holds: every migration's source, the
 * authz schema's, and the job queue library's version. A change to any of them makes a new
 * template; an old one is dropped when the new one is made.
 */
export async function schemaFingerprint(): Promise<string> {
  const root = repoRoot();
  const hash = createHash('sha256');
  const services = (await readdir(join(root, 'services'))).sort();
  for (const s of services) {
    const dir = join(root, 'services', s, 'src', 'migrations');
    const files = (await readdir(dir).catch(() => [] as string[])).filter((f) => f.endsWith('.ts')).sort();
    for (const f of files) hash.update(`${s}/${f}\n`).update(await readFile(join(dir, f)));
  }
  hash.update(await readFile(join(root, 'packages', 'authz', 'src', 'migrations.ts')));
  // graphile-worker's own migrations live in the template too; its package exports no
  // package.json, so its installed version is read from the directory it resolves to.
  const require = createRequire(join(root, 'packages', 'platform', 'package.json'));
  const workerDist = dirname(require.resolve('graphile-worker'));
  hash.update(String((JSON.parse(await readFile(join(workerDist, '..', 'package.json'), 'utf8')) as { version: string }).version));
  return hash.digest('hex').slice(0, 16);
}

/**
 * A database every test file can start from: made once per schema fingerprint by whichever test
 * process gets there first (the others wait on an advisory lock), migrated by `migrate`, then
 * marked as a template that accepts no connections. Test files then clone it (CREATE DATABASE
 * ... TEMPLATE), which takes a fraction of the time the migrations take.
 */
export async function migratedTemplate(migrate: (databaseUrl: string) => Promise<void>): Promise<string> {
  const { url: admin } = await ensurePostgres();
  const name = `hearth_tpl_${await schemaFingerprint()}`;
  return withAdmin(admin, async (c) => {
    await c.query('select pg_advisory_lock($1)', [TEMPLATE_LOCK]);
    try {
      const { rows } = await c.query<{ n: number }>('select count(*)::int as n from pg_database where datname = $1', [name]);
      if ((rows[0]?.n ?? 0) > 0) return name;
      const building = `hearth_tplb_${randomBytes(4).toString('hex')}`;
      await c.query(`create database ${pg.escapeIdentifier(building)}`);
      try {
        const url = new URL(admin);
        url.pathname = `/${building}`;
        await migrate(url.toString());
        await waitForNoConnections(c, building);
        await c.query(`alter database ${pg.escapeIdentifier(building)} rename to ${pg.escapeIdentifier(name)}`);
        await c.query(`alter database ${pg.escapeIdentifier(name)} is_template true allow_connections false`);
      } catch (err) {
        await c.query(`drop database if exists ${pg.escapeIdentifier(building)} with (force)`).catch(() => undefined);
        throw err;
      }
      await dropOtherTemplates(c, name);
      return name;
    } finally {
      await c.query('select pg_advisory_unlock($1)', [TEMPLATE_LOCK]).catch(() => undefined);
    }
  });
}

async function waitForNoConnections(c: pg.Client, db: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const { rows } = await c.query<{ n: number }>('select count(*)::int as n from pg_stat_activity where datname = $1', [db]);
    if ((rows[0]?.n ?? 0) === 0) return;
    if (Date.now() > deadline) {
      await c.query('select pg_terminate_backend(pid) from pg_stat_activity where datname = $1', [db]);
      return;
    }
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Templates of older fingerprints (and half-built ones of crashed runs) are dropped. */
async function dropOtherTemplates(c: pg.Client, keep: string): Promise<void> {
  const { rows } = await c.query<{ datname: string }>(
    "select datname from pg_database where (datname like 'hearth_tpl\\_%' or datname like 'hearth_tplb\\_%') and datname <> $1",
    [keep],
  );
  for (const { datname } of rows) {
    await c.query(`alter database ${pg.escapeIdentifier(datname)} is_template false`).catch(() => undefined);
    await c.query(`drop database if exists ${pg.escapeIdentifier(datname)} with (force)`).catch(() => undefined);
  }
}
