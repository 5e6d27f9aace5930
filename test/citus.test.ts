/**
 * Rempart on a real three-node Citus cluster (issue 18, docs/SCALING.md): runs only when
 * REMPART_TEST_CITUS_URLS names one (scripts/citus-cluster.sh; `.ci/run` starts it). The database
 * under test is a copy of the run's template, migrated then distributed by `distribute`
 * (src/db/distribute.ts). What it holds: the layout; persons spread over both workers; row-level
 * security as the second wall on every worker, for a direct connection as the application's role
 * and for another organisation's settings; and `rempart db distribute`'s refusals.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemCtx } from '../src/context.ts';
import { withConnection } from '../src/db/postgres.ts';
import { citusUrls, onDatabase } from './helpers/citus.ts';
import { cliEnv, rempart } from './helpers/cli.ts';
import { freshDb, type TestDb } from './helpers/db.ts';

const PERSONS_A = 1200;
const PERSONS_B = 800;

/** `url` as another user. */
function asUser(url: string, user: string): string {
  const u = new URL(url);
  u.username = user;
  return u.toString();
}

describe.runIf(citusUrls)('Rempart on a three-node Citus cluster', () => {
  const urls = citusUrls ?? [];
  let t: TestDb;
  let dbName: string;
  const orgA = randomUUID();
  const orgB = randomUUID();

  beforeAll(async () => {
    t = await freshDb();
    dbName = new URL(t.url!).pathname.slice(1);
    // The operator's load, as the owner: two agencies, their persons (opaque sealed rows), and a
    // partner caseload of organisation B over 100 of A's persons.
    await t.driver.transaction(async (tx) => {
      await tx.query(
        `INSERT INTO organisations (id, kind, code, name) VALUES ($1, 'agency', 'CITUS-A', 'Agence A'),
           ($2, 'agency', 'CITUS-B', 'Agence B')`,
        [orgA, orgB],
      );
      for (const [org, n] of [
        [orgA, PERSONS_A],
        [orgB, PERSONS_B],
      ] as const) {
        await tx.query(
          `INSERT INTO persons (id, status, agency_organisation_id, kek_id, wrapped_key, bi_key_id, agency_id_bi,
             nir_bi, name_birth_bi, sealed)
           SELECT gen_random_uuid(), 'registered', $1, 'kek', '\\x00', 'bi', gen_random_uuid()::text::bytea,
             gen_random_uuid()::text::bytea, gen_random_uuid()::text::bytea, '\\x00'
           FROM generate_series(1, $2)`,
          [org, n],
        );
      }
    });
    await t.driver.transaction((tx) =>
      tx.query(
        `INSERT INTO caseloads (person_id, organisation_id, since)
         SELECT id, $2, current_date - 1 FROM persons WHERE agency_organisation_id = $1 ORDER BY id LIMIT 100`,
        [orgA, orgB],
      ),
    );
  });

  afterAll(async () => {
    await t?.close();
  });

  it('persons and everything per person are distributed by person and colocated; organisations and accounts are reference tables; the audit log stays on the coordinator', async () => {
    const rows = await t.driver.transaction((tx) =>
      tx.query<{ table: string; method: string; column: string | null; colocation: number }>(
        `SELECT logicalrelid::regclass::text AS table, partmethod AS method,
                column_to_column_name(logicalrelid, partkey) AS column, colocationid AS colocation
           FROM pg_dist_partition`,
      ),
    );
    const of = (name: string) => rows.find((r) => r.table === name);
    expect(of('persons')).toMatchObject({ method: 'h', column: 'id' });
    for (const table of [
      'registration_periods',
      'caseloads',
      'audit_event_persons',
      'work_items',
      'person_archive',
    ]) {
      expect(of(table), table).toMatchObject({
        method: 'h',
        column: 'person_id',
        colocation: of('persons')!.colocation,
      });
    }
    for (const table of ['organisations', 'accounts', 'incidents'])
      expect(of(table)?.method, table).toBe('n');
    // The sequencer's tables are plain tables on the coordinator: one ordered writer, one tree.
    for (const table of [
      'audit_events',
      'audit_leaves',
      'audit_nodes',
      'audit_checkpoints',
      'audit_pending',
    ]) {
      expect(of(table), table).toBeUndefined();
    }
    // The identifiers are unique through person_keys, distributed by the blind index itself.
    expect(of('person_keys')).toMatchObject({ method: 'h', column: 'bi' });
  });

  it('persons are spread over both workers, each holding between 40 % and 60 %', async () => {
    const placements = await t.driver.transaction((tx) =>
      tx.query<{ shard: string; port: number }>(
        `SELECT shardid::text AS shard, nodeport AS port FROM citus_shards WHERE table_name = 'persons'::regclass`,
      ),
    );
    const counts = await t.driver.transaction((tx) =>
      tx.query<{ shard: string; n: number }>(
        `SELECT get_shard_id_for_distribution_column('persons', id)::text AS shard, count(*)::int AS n
           FROM persons GROUP BY 1`,
      ),
    );
    const perPort = new Map<number, number>();
    for (const c of counts) {
      const port = placements.find((p) => p.shard === c.shard)!.port;
      perPort.set(port, (perPort.get(port) ?? 0) + c.n);
    }
    const workerPorts = urls.slice(1).map((u) => Number(new URL(u).port));
    expect([...perPort.keys()].sort()).toEqual(workerPorts.sort());
    for (const port of workerPorts) {
      const share = (perPort.get(port) ?? 0) / (PERSONS_A + PERSONS_B);
      expect(share, `worker ${port}`).toBeGreaterThanOrEqual(0.4);
      expect(share, `worker ${port}`).toBeLessThanOrEqual(0.6);
    }
  });

  it('connected straight to each worker as the application role, with no settings: not one person row, from the table or from any shard', async () => {
    for (const worker of urls.slice(1)) {
      const port = Number(new URL(worker).port);
      const shards = await t.driver.transaction((tx) =>
        tx.query<{ name: string }>(
          `SELECT shard_name AS name FROM citus_shards WHERE table_name = 'persons'::regclass AND nodeport = $1`,
          [port],
        ),
      );
      expect(shards.length).toBeGreaterThan(0);
      // The owner on that worker sees the rows (so that "none" below is the policy, not an empty node).
      const held = await withConnection(onDatabase(worker, dbName), async (c) => {
        let n = 0;
        for (const s of shards) n += Number((await c.query(`SELECT count(*) AS n FROM ${s.name}`)).rows[0].n);
        return n;
      });
      expect(held).toBeGreaterThan(0);
      await withConnection(asUser(onDatabase(worker, dbName), 'rempart_app'), async (c) => {
        expect((await c.query(`SELECT count(*)::int AS n FROM persons`)).rows[0].n).toBe(0);
        for (const s of shards) {
          const read = await c.query(`SELECT count(*)::int AS n FROM ${s.name}`).then(
            (r) => r.rows[0].n as number,
            (error: Error) => error.message,
          );
          // Either the shard's policy hides every row, or the role may not even read the shard.
          expect(read === 0 || /permission denied/.test(String(read)), `${s.name}: ${read}`).toBe(true);
        }
      });
    }
  });

  it('through the coordinator, another organisation’s settings (SET LOCAL, propagated) reach the workers and read none of this one’s persons; its own caseload it reads', async () => {
    const coordinator = asUser(onDatabase(urls[0]!, dbName), 'rempart_app');
    const asPartner = (setter: 'set_local' | 'set_config') =>
      withConnection(coordinator, async (c) => {
        await c.query('BEGIN');
        const settings = {
          'rempart.actor_kind': 'staff',
          'rempart.role': 'partner_counselor',
          'rempart.org_id': orgB,
        };
        for (const [name, value] of Object.entries(settings)) {
          if (setter === 'set_local') await c.query(`SET LOCAL ${name} = ${pg.escapeLiteral(value)}`);
          else await c.query('SELECT set_config($1, $2, true)', [name, value]);
        }
        const rows = await c.query<{ agency: string; n: number }>(
          `SELECT agency_organisation_id::text AS agency, count(*)::int AS n FROM persons GROUP BY 1`,
        );
        await c.query('ROLLBACK');
        return Object.fromEntries(rows.rows.map((r) => [r.agency, r.n]));
      });
    // Organisation B's partner reads the 100 persons of A in its caseload, and not one other of A's.
    expect(await asPartner('set_local')).toEqual({ [orgA]: 100 });
    // set_config's values never reach the shards: the workers' policies then see nobody at all.
    expect(await asPartner('set_config')).toEqual({});
  });

  it('the registry’s batch write on Citus: a person whose NIR or agency id is already held (person_keys) is skipped, with its periods and caseloads', async () => {
    const system = systemCtx('test').actor;
    const bi = () => randomBytes(16);
    const [nir, agencyId] = [bi(), bi()];
    const write = (id: string, nirBi: Buffer, agencyBi: Buffer) =>
      t.db.tx(system, (tx) =>
        tx.query<{ inserted: string[] }>(
          `SELECT rempart_insert_persons('kek', 'bi', $1::uuid[], '{registered}', $2::uuid[], $3::bytea[], $4::bytea[],
             $5::bytea[], '{NULL}', '{NULL}', '{"\\\\x00"}', '{"\\\\x00"}', $1::uuid[], '{2026-01-05}', '{NULL}',
             $1::uuid[], $2::uuid[], '{NULL}', '{2026-01-05}', '{NULL}') AS inserted`,
          [[id], [orgA], [agencyBi], [nirBi], [bi()]],
        ),
      );
    const first = randomUUID();
    expect((await write(first, nir, agencyId))[0]!.inserted).toEqual([first]);
    // The same NIR under a new agency id, and the same agency id under a new NIR: both skipped.
    const second = randomUUID();
    expect((await write(second, nir, bi()))[0]!.inserted).toEqual([]);
    expect((await write(second, bi(), agencyId))[0]!.inserted).toEqual([]);
    const held = await t.driver.transaction((tx) =>
      tx.query<{ persons: number; periods: number; keys: number }>(
        `SELECT (SELECT count(*)::int FROM persons WHERE id = ANY($1::uuid[])) AS persons,
                (SELECT count(*)::int FROM registration_periods WHERE person_id = ANY($1::uuid[])) AS periods,
                (SELECT count(*)::int FROM person_keys WHERE person_id = ANY($1::uuid[])) AS keys`,
        [[first, second]],
      ),
    );
    // The first person, its period and its two keys; nothing of the second, not even a key.
    expect(held[0]).toEqual({ persons: 1, periods: 1, keys: 2 });
  });

  it('rempart db distribute: already distributed, not a Citus database, a worker not active: one line each, nothing changed', async () => {
    const again = await rempart(['db', 'distribute'], cliEnv({ DATABASE_URL: t.url! }));
    expect(again.code).not.toBe(0);
    expect(again.stderr.trim()).toBe('rempart: this database is already distributed');

    const name = `rempart_plain_${randomBytes(4).toString('hex')}`;
    await withConnection(urls[0]!, (c) => c.query(`CREATE DATABASE ${name}`));
    try {
      const plain = await rempart(['db', 'distribute'], cliEnv({ DATABASE_URL: onDatabase(urls[0]!, name) }));
      expect(plain.code).not.toBe(0);
      expect(plain.stderr.trim()).toBe(
        'rempart: this database is not a Citus coordinator: the citus extension is not installed in it',
      );
      // Nothing changed: not even the migrations ran.
      const tables = await withConnection(onDatabase(urls[0]!, name), (c) =>
        c.query(`SELECT count(*)::int AS n FROM pg_tables WHERE schemaname = 'public'`),
      );
      expect(tables.rows[0].n).toBe(0);

      // A Citus database whose second worker is registered but not active.
      await withConnection(onDatabase(urls[0]!, name), async (c) => {
        await c.query('CREATE EXTENSION citus');
        await c.query(`SELECT citus_set_coordinator_host($1, $2)`, [
          '127.0.0.1',
          Number(new URL(urls[0]!).port),
        ]);
      });
      await withConnection(onDatabase(urls[1]!, 'postgres'), (c) => c.query(`CREATE DATABASE ${name}`));
      await withConnection(onDatabase(urls[1]!, name), (c) => c.query('CREATE EXTENSION citus'));
      await withConnection(onDatabase(urls[0]!, name), async (c) => {
        await c.query(`SELECT citus_add_node('127.0.0.1', $1)`, [Number(new URL(urls[1]!).port)]);
        await c.query(`SELECT citus_add_inactive_node('127.0.0.1', $1)`, [Number(new URL(urls[2]!).port)]);
      });
      const down = await rempart(['db', 'distribute'], cliEnv({ DATABASE_URL: onDatabase(urls[0]!, name) }));
      expect(down.code).not.toBe(0);
      expect(down.stderr.trim()).toBe('rempart: a Citus worker is not active (citus_activate_node)');
      const placed = await withConnection(onDatabase(urls[0]!, name), (c) =>
        c.query(`SELECT count(*)::int AS n FROM pg_dist_partition`),
      );
      expect(placed.rows[0].n).toBe(0);
    } finally {
      await withConnection(urls[0]!, (c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
      await withConnection(urls[1]!, (c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
    }
  });
});
