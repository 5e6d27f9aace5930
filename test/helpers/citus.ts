/**
 * Test databases on a Citus cluster (scripts/citus-cluster.sh): REMPART_TEST_CITUS_URLS holds the
 * coordinator's URL then the workers', as the script prints them. A migrated and distributed
 * database is built once per run on the three nodes (global-setup.ts); each test database is a copy
 * of it made on every node with CREATE DATABASE ... TEMPLATE, so that the coordinator's metadata
 * (nodes, shards, placements) and the workers' shards are copied together and agree.
 */
import { distribute } from '../../src/db/distribute.ts';
import { migrate } from '../../src/db/migrate.ts';
import { openPostgres, runOnce as run } from '../../src/db/postgres.ts';

/** The cluster's URLs (coordinator first), or undefined when the run is not on Citus. */
export const citusUrls: string[] | undefined = process.env.REMPART_TEST_CITUS_URLS?.trim()
  ? process.env.REMPART_TEST_CITUS_URLS.trim().split(/\s+/)
  : undefined;

/** `url` with its database replaced by `name`. */
export function onDatabase(url: string, name: string): string {
  const u = new URL(url);
  u.pathname = `/${name}`;
  return u.toString();
}

/** Builds the template on every node: extension, nodes, migrations, distribution. */
export async function buildCitusTemplate(urls: string[], name: string): Promise<void> {
  await Promise.all(urls.map((url) => run(url, `CREATE DATABASE ${name}`)));
  await Promise.all(urls.map((url) => run(onDatabase(url, name), 'CREATE EXTENSION citus')));
  const coordinator = new URL(urls[0]!);
  const setup = [`SELECT citus_set_coordinator_host('${coordinator.hostname}', ${coordinator.port})`];
  for (const worker of urls.slice(1)) {
    const w = new URL(worker);
    setup.push(`SELECT citus_add_node('${w.hostname}', ${w.port})`);
  }
  await run(onDatabase(urls[0]!, name), setup.join('; '));
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

/** Copies the template into `name` on every node (waiting out the daemon's last session). */
export async function createCitusDatabase(urls: string[], template: string, name: string): Promise<void> {
  await Promise.all(
    urls.map(async (url) => {
      for (let attempt = 0; ; attempt++) {
        try {
          await run(url, `CREATE DATABASE ${name} TEMPLATE ${template}`);
          return;
        } catch (error) {
          if (attempt >= 50 || !/being accessed by other users/.test(String(error))) throw error;
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
      }
    }),
  );
}

/**
 * Drops `name` on every node: the coordinator first (whose sessions hold connections to the
 * workers), then the workers, waiting out the sessions that are closing.
 */
export async function dropCitusDatabase(urls: string[], name: string): Promise<void> {
  for (const url of urls) {
    for (let attempt = 0; ; attempt++) {
      try {
        await run(url, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
        break;
      } catch (error) {
        if (attempt >= 50 || !/being accessed by other users/.test(String(error))) throw error;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
  }
}
