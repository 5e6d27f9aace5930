/**
 * `rempart db distribute`: turns the migrated schema into Citus tables (docs/SCALING.md, "Citus").
 *
 * - Everything kept per person is distributed by the person's id and colocated with `persons`, so a
 *   person's record, periods, caseloads and audit links sit on one shard and join there.
 * - The tables read with persons (organisations, accounts, incidents) are reference tables: a copy
 *   on every node, joined on the shard.
 * - Every other table stays a plain table on the coordinator (sessions, the guard's state, the
 *   outbox...): one copy, written without a two-phase commit at every request, its statements run
 *   by PostgreSQL as they are. Their foreign keys to the Citus tables are dropped (keysFromOutside).
 * - The audit log's events, Merkle tree and checkpoints stay plain tables on the coordinator: the
 *   sequencer stays the single ordered writer of one tree. Their person links are distributed.
 * - Uniqueness: a unique index must hold the distribution column, so the NIR's and agency id's
 *   blind indexes cannot be unique in `persons` any more; `person_keys`, distributed by the blind
 *   index itself, holds each one once (its primary key is global because the key is its
 *   distribution column), and a lookup by identifier is routed by it to one shard. It is filled
 *   here from what is on file; the registry's batch writes on Citus take their keys in it first
 *   (rempart_insert_persons, below).
 * - A foreign key to `persons` from a table that is not distributed cannot be kept: the gate and the
 *   portal write those rows after reading the person in the same transaction. Accounts,
 *   organisations and incidents are never deleted (an account is disabled, not removed).
 *
 * Row-level security stays the second wall on every worker: Citus copies each policy to every shard,
 * and the transaction's settings reach the workers because they are made with SET LOCAL and
 * `citus.propagate_set_commands = 'local'` is set for the database.
 */
import { AppError } from '../errors.ts';
import type { Driver, OwnerTx } from './types.ts';

/** Distributed by the person, colocated with `persons`: [table, distribution column]. */
export const PERSON_TABLES: readonly (readonly [string, string])[] = [
  ['persons', 'id'],
  ['registration_periods', 'person_id'],
  ['caseloads', 'person_id'],
  ['audit_event_persons', 'person_id'],
  ['incident_persons', 'person_id'],
  ['person_archive', 'person_id'],
  ['person_receipt_settings', 'person_id'],
  ['work_items', 'person_id'],
];

/** A copy on every node: read with persons on the shards. */
export const REFERENCE_TABLES = ['organisations', 'accounts', 'incidents'] as const;

/** SQL functions that read a distributed table with their parameters (migrations 0006, 0026, 0024). */
const AS_PLPGSQL = ['rempart_in_caseload', 'rempart_work_item_person', 'rempart_guard_weeks_read'] as const;

/**
 * The definition of the SQL function `name` (one SELECT returning one value) as a PL/pgSQL function
 * returning that SELECT's value: the same signature, rights and settings, read from the catalogue, so
 * that the query stays the migration's.
 */
async function asPlpgsql(tx: OwnerTx, name: string): Promise<string> {
  const [fn] = await tx.query<{ def: string; src: string }>(
    `SELECT pg_get_functiondef(oid) AS def, prosrc AS src FROM pg_proc
      WHERE proname = $1 AND pronamespace = 'public'::regnamespace AND prolang = (SELECT oid FROM pg_language WHERE lanname = 'sql')`,
    [name],
  );
  if (!fn) throw new AppError('internal', `function ${name} is not an SQL function any more`);
  const body = `\nBEGIN\n  RETURN (${fn.src.trim().replace(/;$/, '')});\nEND\n`;
  return fn.def.replace(' LANGUAGE sql', ' LANGUAGE plpgsql').replace(fn.src, () => body);
}

/** Shards per distributed table: 16 per worker of a two-worker cluster; more workers, move them. */
const SHARD_COUNT = 32;

export interface DistributeResult {
  distributed: string[];
  reference: string[];
  coordinator: string[];
  workers: number;
  shards: number;
}

/** One line for each refusal; nothing is changed when one is given. */
async function preconditions(tx: OwnerTx): Promise<number> {
  const citus = await tx.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM pg_extension WHERE extname = 'citus'`,
  );
  if (citus[0]?.n !== 1) {
    throw new AppError(
      'bad_configuration',
      'this database is not a Citus coordinator: the citus extension is not installed in it',
    );
  }
  const done = await tx.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM pg_dist_partition WHERE logicalrelid = 'persons'::regclass AND partmethod = 'h'`,
  );
  if (done[0]?.n === 1) throw new AppError('conflict', 'this database is already distributed');
  const nodes = await tx.query<{ workers: number; down: number }>(
    `SELECT count(*) FILTER (WHERE groupid <> 0 AND noderole = 'primary')::int AS workers,
            count(*) FILTER (WHERE groupid <> 0 AND NOT isactive)::int AS down
       FROM pg_dist_node`,
  );
  const workers = nodes[0]?.workers ?? 0;
  if (workers === 0)
    throw new AppError('bad_configuration', 'the Citus coordinator has no worker (citus_add_node)');
  if ((nodes[0]?.down ?? 0) > 0)
    throw new AppError('database_unavailable', 'a Citus worker is not active (citus_activate_node)');
  // A worker registered but not answering: each one must answer before anything moves.
  // The check fails outright (-1) when the coordinator cannot reach a worker at all.
  const unhealthy = await tx
    .query<{ n: number }>(
      `SELECT count(*)::int AS n FROM citus_check_cluster_node_health() WHERE result IS NOT TRUE`,
    )
    .then(
      (rows) => rows[0]?.n ?? 0,
      () => -1,
    );
  if (unhealthy !== 0) {
    throw new AppError('database_unavailable', 'a Citus worker does not answer: start it, then distribute');
  }
  const migrated = await tx.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM information_schema.tables WHERE table_schema = 'public' AND table_name = 'persons'`,
  );
  if (migrated[0]?.n !== 1)
    throw new AppError(
      'bad_configuration',
      'the schema is not migrated: start Rempart once (or `rempart init`) first',
    );
  return workers;
}

/**
 * Foreign keys from the tables that stay on the coordinator to the tables Citus holds (persons,
 * organisations, accounts, incidents): [table, constraint]. Citus cannot keep a key to a
 * distributed table, and a key to a reference table would make the table a Citus local table,
 * whose statements Citus plans (and refuses some of the guard's); without them the coordinator's
 * tables stay plain PostgreSQL tables, their statements untouched.
 */
async function keysFromOutside(tx: OwnerTx): Promise<[string, string][]> {
  const inCitus = [...PERSON_TABLES.map(([t]) => t), ...REFERENCE_TABLES];
  const rows = await tx.query<{ table: string; name: string }>(
    `SELECT conrelid::regclass::text AS table, conname AS name FROM pg_constraint
      WHERE contype = 'f' AND confrelid::regclass::text = ANY($1::text[])
        AND NOT conrelid::regclass::text = ANY($1::text[])
      ORDER BY 1, 2`,
    [inCitus],
  );
  return rows.map((r) => [r.table, r.name]);
}

/**
 * Foreign keys from the person tables to the reference tables written while the service runs
 * (accounts: sign-in state, suspensions; incidents): [table, constraint]. With such a key, Citus
 * refuses to write the reference table in a transaction that has read the person tables over
 * several connections (a search over every shard, then the guard suspending the account), so the
 * keys go and the application keeps them: accounts and incidents are never deleted, and the rows
 * that name them are written with ids it has just read. Keys to organisations stay.
 */
async function keysToWrittenReferences(tx: OwnerTx): Promise<[string, string][]> {
  const rows = await tx.query<{ table: string; name: string }>(
    `SELECT conrelid::regclass::text AS table, conname AS name FROM pg_constraint
      WHERE contype = 'f' AND confrelid::regclass::text IN ('accounts', 'incidents')
        AND conrelid::regclass::text = ANY($1::text[])
      ORDER BY 1, 2`,
    [PERSON_TABLES.map(([t]) => t)],
  );
  return rows.map((r) => [r.table, r.name]);
}

/** Foreign keys between person tables, dropped while they move and made again after. */
async function keysBetweenPersonTables(tx: OwnerTx): Promise<{ table: string; name: string; def: string }[]> {
  const person = PERSON_TABLES.map(([t]) => t);
  return tx.query<{ table: string; name: string; def: string }>(
    `SELECT conrelid::regclass::text AS table, conname AS name, pg_get_constraintdef(oid) AS def
       FROM pg_constraint
      WHERE contype = 'f' AND conrelid::regclass::text = ANY($1::text[])
        AND confrelid::regclass::text = ANY($1::text[])
      ORDER BY 1, 2`,
    [person],
  );
}

/**
 * Distributes the schema in one transaction: on any failure, nothing is changed. The caller has the
 * owner's rights on the coordinator.
 */
export async function distribute(driver: Driver): Promise<DistributeResult> {
  return driver.transaction(async (tx) => {
    const workers = await preconditions(tx);
    // The schema's triggers refuse changes to the audit log or fix a field of the row itself: they
    // touch no other table, so they are safe on shards.
    await tx.exec(`SET LOCAL citus.enable_unsafe_triggers = on;
      SET LOCAL citus.shard_count = ${SHARD_COUNT};
      SET LOCAL citus.multi_shard_modify_mode = 'sequential'`);
    for (const [table, name] of [...(await keysFromOutside(tx)), ...(await keysToWrittenReferences(tx))]) {
      await tx.exec(`ALTER TABLE ${table} DROP CONSTRAINT ${name}`);
    }
    const inner = await keysBetweenPersonTables(tx);
    for (const key of inner) await tx.exec(`ALTER TABLE ${key.table} DROP CONSTRAINT ${key.name}`);
    // The identifiers' uniqueness moves to person_keys, filled from what is on file. Blind indexes
    // only, read and written by the system actor (the registry's writes), by nobody else.
    await tx.exec(`
      CREATE TABLE person_keys (bi bytea PRIMARY KEY, person_id uuid NOT NULL);
      ALTER TABLE person_keys ENABLE ROW LEVEL SECURITY;
      ALTER TABLE person_keys FORCE ROW LEVEL SECURITY;
      CREATE POLICY person_keys_system ON person_keys TO rempart_app
        USING (rempart_actor_kind() = 'system') WITH CHECK (rempart_actor_kind() = 'system');
      GRANT SELECT, INSERT, DELETE ON person_keys TO rempart_app;
      DROP INDEX persons_nir_bi; DROP INDEX persons_agency_id_bi;
      CREATE INDEX persons_nir_bi ON persons (nir_bi); CREATE INDEX persons_agency_id_bi ON persons (agency_id_bi);
      DROP INDEX person_archive_nir_bi; DROP INDEX person_archive_agency_id_bi;
      CREATE INDEX person_archive_nir_bi ON person_archive (nir_bi);
      CREATE INDEX person_archive_agency_id_bi ON person_archive (agency_id_bi);
      INSERT INTO person_keys (bi, person_id)
        SELECT bi, id FROM persons, LATERAL (VALUES (nir_bi), (agency_id_bi)) k(bi) WHERE bi IS NOT NULL
        UNION ALL
        SELECT bi, person_id FROM person_archive, LATERAL (VALUES (nir_bi), (agency_id_bi)) k(bi) WHERE bi IS NOT NULL`);
    for (const table of REFERENCE_TABLES) await tx.query(`SELECT create_reference_table($1)`, [table]);
    await tx.query(`SELECT create_distributed_table('persons', 'id')`);
    for (const [table, column] of PERSON_TABLES.slice(1)) {
      await tx.query(`SELECT create_distributed_table($1, $2, colocate_with => 'persons')`, [table, column]);
    }
    await tx.query(`SELECT create_distributed_table('person_keys', 'bi')`);
    for (const key of inner) await tx.exec(`ALTER TABLE ${key.table} ADD CONSTRAINT ${key.name} ${key.def}`);
    // The persons' policies ask whether a person is in the reader's caseload or work items (and the
    // guard how many persons an account read these weeks): on a worker that is a query of the
    // colocated shard, from inside a shard's query. Citus runs a SQL function's parametrised query
    // only written in PL/pgSQL, and only with nested execution allowed for the role (its caveat is a
    // shard moved during the query; colocated shards move together). Single servers keep the SQL.
    for (const name of AS_PLPGSQL) await tx.exec(await asPlpgsql(tx, name));
    await tx.exec(`ALTER ROLE rempart_app SET citus.allow_nested_distributed_execution = on`);
    // The registry's batch write on Citus (registry/persons.ts): INSERT_BATCH's meaning in multi-row
    // INSERT ... VALUES statements. An INSERT ... SELECT into a distributed table goes through COPY,
    // which row-level security refuses; a multi-row VALUES is split by Citus into one INSERT per
    // shard, run in parallel and checked there by the shard's policies. The identifiers are taken in
    // person_keys first: a person whose NIR or agency id is held already (registered or archived, or
    // earlier in the same batch) is skipped, with its periods and caseloads.
    await tx.exec(`
      CREATE FUNCTION rempart_insert_persons(kek text, bi_key text, ids uuid[], statuses text[], agencies uuid[],
        b1 bytea[], b2 bytea[], b3 bytea[], b4 bytea[], b5 bytea[], sealed bytea[], wk bytea[],
        p_person uuid[], p_start date[], p_end date[],
        c_person uuid[], c_org uuid[], c_counselor uuid[], c_since date[], c_until date[])
      RETURNS text[] LANGUAGE plpgsql AS $fn$
      DECLARE
        first_keys uuid[] := '{}';
        inserted uuid[] := '{}';
        r record;
        sql text;
        archive_sql text;
        given_back bytea[];
      BEGIN
        -- the agency ids' keys, then the NIRs' keys of those that took theirs
        SELECT string_agg(format('(%L::bytea, %L::uuid)', u.b, u.id), ', ') INTO sql
          FROM unnest(b1, ids) AS u(b, id);
        IF sql IS NULL THEN RETURN '{}'; END IF;
        FOR r IN EXECUTE 'INSERT INTO person_keys (bi, person_id) VALUES ' || sql
            || ' ON CONFLICT DO NOTHING RETURNING person_id' LOOP
          first_keys := first_keys || r.person_id;
        END LOOP;
        SELECT string_agg(format('(%L::bytea, %L::uuid)', u.b, u.id), ', ') INTO sql
          FROM unnest(b2, ids) AS u(b, id) WHERE u.id = ANY (first_keys);
        IF sql IS NOT NULL THEN
          FOR r IN EXECUTE 'INSERT INTO person_keys (bi, person_id) VALUES ' || sql
              || ' ON CONFLICT DO NOTHING RETURNING person_id' LOOP
            inserted := inserted || r.person_id;
          END LOOP;
        END IF;
        -- an agency id taken by a person whose NIR was held is given back
        SELECT array_agg(u.b) INTO given_back FROM unnest(b1, ids) AS u(b, id)
          WHERE u.id = ANY (first_keys) AND NOT u.id = ANY (inserted);
        IF given_back IS NOT NULL THEN
          DELETE FROM person_keys WHERE bi = ANY (given_back);
        END IF;
        IF cardinality(inserted) = 0 THEN RETURN '{}'; END IF;
        -- an archived person's search indexes go to the archive, never to persons (migration 0025)
        SELECT string_agg(format('(%L::uuid, %L, %L::uuid, %L, %L::bytea, %L, %L::bytea, %L::bytea, %L::bytea,'
            || ' %L::bytea, %L::bytea, %L::bytea, %L::date)', b.id, b.status, b.agency, kek, b.wk, bi_key,
            CASE WHEN b.archived_on IS NULL THEN b.b1 END, CASE WHEN b.archived_on IS NULL THEN b.b2 END,
            CASE WHEN b.archived_on IS NULL THEN b.b3 END, CASE WHEN b.archived_on IS NULL THEN b.b4 END,
            b.b5, b.sealed, b.archived_on), ', '),
          string_agg(format('(%L::uuid, %L::date, %L, %L::bytea, %L::bytea, %L::bytea, %L::bytea)',
            b.id, b.archived_on, bi_key, b.b1, b.b2, b.b3, b.b4), ', ') FILTER (WHERE b.archived_on IS NOT NULL)
          INTO sql, archive_sql
          FROM (
            SELECT u.*, CASE WHEN u.status = 'archived' THEN coalesce(
                (SELECT max(p.e) FROM unnest(p_person, p_end) AS p(person_id, e) WHERE p.person_id = u.id),
                current_date) END AS archived_on
            FROM unnest(ids, statuses, agencies, b1, b2, b3, b4, b5, sealed, wk)
              AS u(id, status, agency, b1, b2, b3, b4, b5, sealed, wk)
            WHERE u.id = ANY (inserted)
          ) b;
        EXECUTE 'INSERT INTO persons (id, status, agency_organisation_id, kek_id, wrapped_key, bi_key_id,'
          || ' agency_id_bi, nir_bi, name_birth_bi, birth_name_birth_bi, email_bi, sealed, archived_on) VALUES '
          || sql;
        IF archive_sql IS NOT NULL THEN
          EXECUTE 'INSERT INTO person_archive (person_id, archived_on, bi_key_id, agency_id_bi, nir_bi, name_birth_bi,'
            || ' birth_name_birth_bi) VALUES ' || archive_sql;
        END IF;
        SELECT string_agg(format('(%L::uuid, %L::date, %L::date)', p.person_id, p.s, p.e), ', ') INTO sql
          FROM unnest(p_person, p_start, p_end) AS p(person_id, s, e) WHERE p.person_id = ANY (inserted);
        IF sql IS NOT NULL THEN
          EXECUTE 'INSERT INTO registration_periods (person_id, started_on, ended_on) VALUES ' || sql;
        END IF;
        SELECT string_agg(format('(%L::uuid, %L::uuid, %L::uuid, %L::date, %L::date)', c.person_id, c.o, c.k, c.s, c.u), ', ')
          INTO sql
          FROM unnest(c_person, c_org, c_counselor, c_since, c_until) AS c(person_id, o, k, s, u)
          WHERE c.person_id = ANY (inserted);
        IF sql IS NOT NULL THEN
          EXECUTE 'INSERT INTO caseloads (person_id, organisation_id, counselor_id, since, until) VALUES ' || sql;
        END IF;
        RETURN inserted::text[];
      END $fn$;
      GRANT EXECUTE ON FUNCTION rempart_insert_persons(text, text, uuid[], text[], uuid[], bytea[], bytea[], bytea[],
        bytea[], bytea[], bytea[], bytea[], uuid[], date[], date[], uuid[], uuid[], uuid[], date[], date[]) TO rempart_app`);
    // The coordinator reaches the workers' shards as the role of the transaction (SET LOCAL role):
    // the application's and the sequencer's roles log in there. Who may connect to a worker is the
    // workers' pg_hba.conf: the coordinator's address only, with a password or a certificate
    // (citus.node_conninfo) in production (docs/SCALING.md).
    await tx.exec(`ALTER ROLE rempart_app LOGIN; ALTER ROLE rempart_sequencer LOGIN`);
    // The settings the policies read reach the shards only as SET LOCAL commands propagated.
    const db = await tx.query<{ name: string }>(`SELECT current_database() AS name`);
    await tx.exec(`ALTER DATABASE "${db[0]!.name}" SET citus.propagate_set_commands = 'local'`);
    const placed = await tx.query<{ table: string; kind: string }>(
      `SELECT logicalrelid::regclass::text AS table,
              CASE WHEN partmethod = 'h' THEN 'distributed' ELSE 'reference' END AS kind
         FROM pg_dist_partition ORDER BY 1`,
    );
    const plain = await tx.query<{ table: string }>(
      `SELECT c.relname AS table FROM pg_class c
        WHERE c.relnamespace = 'public'::regnamespace AND c.relkind = 'r' AND NOT relation_is_a_known_shard(c.oid)
          AND NOT EXISTS (SELECT 1 FROM pg_dist_partition d WHERE d.logicalrelid = c.oid)
        ORDER BY 1`,
    );
    const shards = await tx.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM pg_dist_shard WHERE logicalrelid = 'persons'::regclass`,
    );
    return {
      distributed: placed.filter((p) => p.kind === 'distributed').map((p) => p.table),
      reference: placed.filter((p) => p.kind === 'reference').map((p) => p.table),
      coordinator: plain.map((p) => p.table),
      workers,
      shards: shards[0]?.n ?? 0,
    };
  });
}
