/**
 * Test databases: a fresh, migrated database per call, on the engine the run targets.
 * Without REMPART_TEST_DATABASE_URL: an in-memory PGlite. With it (CI's second pass): a new
 * database created on that PostgreSQL server, dropped again by `close()`.
 */
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { PGlite } from '@electric-sql/pglite';
import { migrate } from '../../src/db/migrate.ts';
import { createDb } from '../../src/db/open.ts';
import { openPglite, PGLITE_PARSERS, pgliteDriver } from '../../src/db/pglite.ts';
import { openPostgres, runOnce } from '../../src/db/postgres.ts';
import type { Db, Driver } from '../../src/db/types.ts';
import { citusUrls, copyCitusTemplate, dropCitusDatabase } from './citus.ts';

/** The server under test: REMPART_TEST_DATABASE_URL, or the coordinator of REMPART_TEST_CITUS_URLS. */
export const serverUrl = citusUrls?.[0] ?? (process.env.REMPART_TEST_DATABASE_URL?.trim() || undefined);

/** The engine under test, for test names. */
export const engine = citusUrls ? 'citus' : serverUrl ? 'postgres' : 'pglite';

/** A new database on the server under test (on every node of a Citus cluster), copied from `template`. */
async function createDatabase(name: string, template: string | undefined): Promise<void> {
  if (citusUrls) {
    // A Citus database is only ever a copy of the run's distributed template (global-setup.ts).
    if (!template) throw new Error('no Citus template: run the tests through vitest (test/global-setup.ts)');
    return copyCitusTemplate(citusUrls, template, name);
  }
  await runOnce(serverUrl!, `CREATE DATABASE ${name}${template ? ` TEMPLATE ${template}` : ''}`);
}

async function dropDatabase(name: string): Promise<void> {
  if (citusUrls) return dropCitusDatabase(citusUrls, name);
  await runOnce(serverUrl!, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
}

export interface TestDb {
  db: Db;
  /** Owner-rights access, as a database administrator would have (dump, tampering tests). */
  driver: Driver;
  /** The URL of the test database when on a PostgreSQL server (for a server process under test). */
  url: string | undefined;
  close(): Promise<void>;
}

let pgliteTemplate: Promise<Blob> | undefined;

/**
 * An in-memory PGlite: loaded from the migrated data folder test/global-setup.ts dumped once for
 * the run (no initdb, no migrations), or created empty when a file runs without it.
 */
async function memoryPglite(): Promise<Driver> {
  const file = process.env.REMPART_TEST_PGLITE_TEMPLATE;
  if (!file) return openPglite(undefined);
  pgliteTemplate ??= readFile(file).then((bytes) => new Blob([bytes]));
  const db = new PGlite({ parsers: PGLITE_PARSERS, loadDataDir: await pgliteTemplate });
  await db.waitReady;
  return pgliteDriver(db);
}

/** A fresh migrated database (a copy of the run's migrated template when there is one). */
export async function freshDb(): Promise<TestDb> {
  if (!serverUrl) {
    const driver = await memoryPglite();
    // A no-op on the template; it still checks the template is current.
    await migrate(driver);
    const db = createDb(driver);
    return { db, driver, url: undefined, close: () => db.close() };
  }
  const name = `rempart_test_${randomBytes(6).toString('hex')}`;
  const template = process.env.REMPART_TEST_TEMPLATE_DB;
  await createDatabase(name, template);
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  const driver = await openPostgres(url.toString(), { max: 4 });
  await migrate(driver);
  const db = createDb(driver);
  return {
    db,
    driver,
    url: url.toString(),
    async close() {
      await db.close();
      await dropDatabase(name);
    },
  };
}

/**
 * For tests that run the `rempart` command: an empty database on the server under test (its URL
 * and a drop function), or undefined on PGlite, where the command uses its data folder. On Citus,
 * a copy of the run's distributed template (the command's migrations then find nothing to do), as
 * an operator runs `rempart db distribute` once before serving.
 */
export async function emptyServerDatabase(): Promise<{ url: string; drop(): Promise<void> } | undefined> {
  if (!serverUrl) return undefined;
  const name = `rempart_cli_${randomBytes(6).toString('hex')}`;
  await createDatabase(name, citusUrls ? process.env.REMPART_TEST_TEMPLATE_DB : undefined);
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: () => dropDatabase(name),
  };
}
