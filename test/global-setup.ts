/**
 * Built once per `vitest run`, before any test file: a migrated database every test database is
 * copied from, so that no test pays for initdb and the migrations again (CONVENTIONS.md, Tests).
 * On PGlite, the migrated data folder dumped to a file (REMPART_TEST_PGLITE_TEMPLATE), which
 * freshDb loads in about 0.3 s instead of 1.7 s for an empty instance plus migrations. On the
 * PostgreSQL server under test, a migrated template database (REMPART_TEST_TEMPLATE_DB) that
 * freshDb copies with CREATE DATABASE ... TEMPLATE. On PGlite also a data folder made by the real
 * `rempart init` (REMPART_TEST_DATA_TEMPLATE: keyring and migrated PGlite folder), which
 * initDataDir (test/helpers/cli.ts) copies for a command under test instead of paying initdb and
 * the migrations (about 5 s) in each. All are removed when the run ends.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { migrate } from '../src/db/migrate.ts';
import { PGLITE_PARSERS, pgliteDriver } from '../src/db/pglite.ts';
import { openPostgres, runOnce } from '../src/db/postgres.ts';
import { buildConsole, consoleBuildState } from '../src/http/console-build.ts';
import { buildCitusTemplate, citusUrls, dropCitusDatabase } from './helpers/citus.ts';
import { cliEnv, rempart } from './helpers/cli.ts';

/** The console's build for the browser tests, when missing or older than web/ (as `npm start` does). */
async function consoleBuild(): Promise<void> {
  if (!(await consoleBuildState()).fresh) await buildConsole();
}

/** Builds the template for the engine under test, and the console; returns the teardown. */
export default async function setup(): Promise<() => Promise<void>> {
  const [teardown] = await Promise.all([databaseTemplate(), consoleBuild()]);
  return teardown;
}

async function databaseTemplate(): Promise<() => Promise<void>> {
  const urls = citusUrls;
  if (urls) {
    const name = `rempart_template_${randomBytes(6).toString('hex')}`;
    await buildCitusTemplate(urls, name);
    process.env.REMPART_TEST_TEMPLATE_DB = name;
    return () => dropCitusDatabase(urls, name);
  }
  const serverUrl = process.env.REMPART_TEST_DATABASE_URL?.trim() || undefined;
  if (!serverUrl) {
    const dir = await mkdtemp(path.join(tmpdir(), 'rempart-test-template-'));
    const dataDir = path.join(dir, 'data');
    // The command in a child process while this one migrates the in-memory template: two cores.
    const init = rempart(['init'], cliEnv({ REMPART_DATA: dataDir }));
    const db = new PGlite({ parsers: PGLITE_PARSERS });
    await db.waitReady;
    await migrate(pgliteDriver(db));
    const dump = await db.dumpDataDir('none');
    await db.close();
    const file = path.join(dir, 'pglite.tar');
    await writeFile(file, Buffer.from(await dump.arrayBuffer()));
    const initialised = await init;
    if (initialised.code !== 0) throw new Error(`rempart init failed: ${initialised.stderr}`);
    process.env.REMPART_TEST_PGLITE_TEMPLATE = file;
    process.env.REMPART_TEST_DATA_TEMPLATE = dataDir;
    return () => rm(dir, { recursive: true, force: true });
  }
  const name = `rempart_template_${randomBytes(6).toString('hex')}`;
  await runOnce(serverUrl, `CREATE DATABASE ${name}`);
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  const driver = await openPostgres(url.toString(), { max: 1 });
  try {
    await migrate(driver);
  } finally {
    await driver.close();
  }
  process.env.REMPART_TEST_TEMPLATE_DB = name;
  return () => runOnce(serverUrl, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
}
