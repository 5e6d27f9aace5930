/**
 * Test databases on a Citus cluster (scripts/citus-cluster.sh): REMPART_TEST_CITUS_URLS holds the
 * coordinator's URL then the workers', as the script prints them. A migrated and distributed
 * database is built once per run on the three nodes (global-setup.ts); each test database is a copy
 * of it made on every node with CREATE DATABASE ... TEMPLATE, so that the coordinator's metadata
 * (nodes, shards, placements) and the workers' shards are copied together and agree.
 */
import { createCitusDatabase, dropCitusDatabase, onDatabase } from '../../src/db/citus-database.ts';
import { distribute } from '../../src/db/distribute.ts';
import { migrate } from '../../src/db/migrate.ts';
import { openPostgres, runOnce as run } from '../../src/db/postgres.ts';

export { dropCitusDatabase, onDatabase };

/** The cluster's URLs (coordinator first), or undefined when the run is not on Citus. */
export const citusUrls: string[] | undefined = process.env.REMPART_TEST_CITUS_URLS?.trim()
  ? process.env.REMPART_TEST_CITUS_URLS.trim().split(/\s+/)
  : undefined;

/** Builds the template on every node: extension, nodes, migrations, distribution. */
export async function buildCitusTemplate(urls: string[], name: string): Promise<void> {
  await createCitusDatabase(urls, name);
  const driver = await openPostgres(onDatabase(urls[0]!, name), { max: 1 });
  try {
    await migrate(driver);
    await distribute(driver);
  } finally {
    await driver.close();
  }
  // A template must have no session: Citus's maintenance daemon keeps one on each node.
  await Promise.all(
    urls.map((url) =>
      run(
        url,
        `ALTER DATABASE ${name} ALLOW_CONNECTIONS false;
         SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '${name}' AND pid <> pg_backend_pid()`,
      ),
    ),
  );
}

/** Copies the template into `name` on every node. */
export function copyCitusTemplate(urls: string[], template: string, name: string): Promise<void> {
  return createCitusDatabase(urls, name, template);
}
