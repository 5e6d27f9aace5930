/**
 * A new database on a Citus cluster, as an operator makes one (docs/SCALING.md, "Citus"): Citus
 * keeps its metadata (nodes, shards, placements) per database, so a database is created on every
 * node, the extension installed in each, and the coordinator told its own address and its workers'.
 * The drill's sandbox (drill/world.ts) and the tests' template (test/helpers/citus.ts) make theirs
 * here; migrations and `rempart db distribute` come after.
 */
import { withConnection } from './postgres.ts';

/** `url` with its database replaced by `name`. */
export function onDatabase(url: string, name: string): string {
  const u = new URL(url);
  u.pathname = `/${name}`;
  return u.toString();
}

/**
 * The cluster's nodes seen from the coordinator's `adminUrl` (coordinator first, then the active
 * primary workers, with `adminUrl`'s user, password and database), or undefined when the database
 * at `adminUrl` has no citus extension (a single PostgreSQL server).
 */
export async function citusNodes(adminUrl: string): Promise<string[] | undefined> {
  return withConnection(adminUrl, async (client) => {
    const ext = await client.query(`SELECT 1 FROM pg_extension WHERE extname = 'citus'`);
    if (ext.rowCount === 0) return undefined;
    const workers = await client.query<{ nodename: string; nodeport: number }>(
      `SELECT nodename, nodeport FROM pg_dist_node
        WHERE groupid <> 0 AND noderole = 'primary' AND isactive ORDER BY nodeid`,
    );
    return [
      adminUrl,
      ...workers.rows.map((w) => {
        const u = new URL(adminUrl);
        u.hostname = w.nodename;
        u.port = String(w.nodeport);
        return u.toString();
      }),
    ];
  });
}

/** Runs `sql` on `url`, retrying while the database is still held by sessions that are closing. */
async function whenFree(url: string, sql: string): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      await withConnection(url, async (client) => {
        await client.query(sql);
      });
      return;
    } catch (error) {
      if (attempt >= 50 || !/being accessed by other users/.test(String(error))) throw error;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

/**
 * Creates `name` on every node of `urls` (coordinator first), with the citus extension, the
 * coordinator's own address and its workers registered: an empty Citus database, to migrate and
 * distribute. With `template`, each node copies its own `template` instead (already set up).
 */
export async function createCitusDatabase(urls: string[], name: string, template?: string): Promise<void> {
  const create = `CREATE DATABASE ${name}${template ? ` TEMPLATE ${template}` : ''}`;
  // A template is held for a moment by Citus's maintenance daemon: wait it out.
  await Promise.all(urls.map((url) => whenFree(url, create)));
  if (template) return;
  await Promise.all(
    urls.map((url) =>
      withConnection(onDatabase(url, name), async (client) => {
        await client.query('CREATE EXTENSION citus');
      }),
    ),
  );
  const coordinator = new URL(urls[0]!);
  await withConnection(onDatabase(urls[0]!, name), async (client) => {
    await client.query('SELECT citus_set_coordinator_host($1, $2)', [
      coordinator.hostname,
      Number(coordinator.port || 5432),
    ]);
    for (const worker of urls.slice(1)) {
      const w = new URL(worker);
      await client.query('SELECT citus_add_node($1, $2)', [w.hostname, Number(w.port || 5432)]);
    }
  });
}

/**
 * Drops `name` on every node: the coordinator first (whose sessions hold connections to the
 * workers), then the workers, waiting out the sessions that are closing.
 */
export async function dropCitusDatabase(urls: string[], name: string): Promise<void> {
  for (const url of urls) await whenFree(url, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
}
