/**
 * The database layer on the engine under test (PGlite, or PostgreSQL in CI's second pass):
 * migrations, transactions, and row-level security as the second wall (docs/DESIGN.md section 3, step 5).
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Actor } from '../src/context.ts';
import { loadMigrations, migrate } from '../src/db/migrate.ts';
import { APP_ROLE, commitWith, type Db, type Tx } from '../src/db/types.ts';
import { engine, freshDb, type TestDb } from './helpers/db.ts';

const system: Actor = { kind: 'system', operation: 'test' };
const staffOf = (organisationId: string, role = 'partner_counselor'): Actor => ({
  kind: 'staff',
  accountId: randomUUID(),
  organisationId,
  role,
});

/** Reads every person id visible in a transaction of `actor`, with the gate's scope set as given. */
const visibleIds = (db: Db, actor: Actor, scope = ''): Promise<string[]> =>
  db.tx(actor, async (tx) => {
    await tx.query(`SELECT set_config('rempart.scope', $1, true)`, [scope]);
    const rows = await tx.query<{ id: string }>('SELECT id FROM persons ORDER BY id');
    return rows.map((r) => r.id);
  });

describe(`database layer on ${engine}`, () => {
  let t: TestDb;
  const agency = randomUUID();
  const partner = randomUUID();
  const other = randomUUID();
  const persons = {
    inAgency: randomUUID(),
    inPartner: randomUUID(),
    ended: randomUUID(),
    nowhere: randomUUID(),
  };

  beforeAll(async () => {
    t = await freshDb();
    // Minimal rows written as the operator (system actor); ciphertext columns hold opaque bytes here.
    await t.db.tx(system, async (tx) => {
      for (const [id, kind, code] of [
        [agency, 'agency', 'A'],
        [partner, 'cap_emploi', 'P'],
        [other, 'mission_locale', 'O'],
      ]) {
        await tx.query('INSERT INTO organisations (id, kind, code, name) VALUES ($1, $2, $3, $3)', [
          id,
          kind,
          code,
        ]);
      }
      let n = 0;
      for (const id of Object.values(persons)) {
        n++;
        await tx.query(
          `INSERT INTO persons (id, status, agency_organisation_id, kek_id, wrapped_key, bi_key_id, agency_id_bi, nir_bi, name_birth_bi, sealed)
           VALUES ($1, 'registered', $2, 'k', '\\x00', 'b', $3, $3, $3, '\\x01')`,
          [id, id === persons.inAgency ? agency : other, Buffer.of(n)],
        );
      }
      await tx.query(
        `INSERT INTO caseloads (person_id, organisation_id, since) VALUES ($1, $2, '2024-01-01')`,
        [persons.inPartner, partner],
      );
      await tx.query(
        `INSERT INTO caseloads (person_id, organisation_id, since, until) VALUES ($1, $2, '2020-01-01', '2021-01-01')`,
        [persons.ended, partner],
      );
    });
  });
  afterAll(async () => {
    await t.close();
  });

  it('applies migrations once: a second run applies nothing', async () => {
    expect(await migrate(t.driver)).toEqual([]);
  });

  it('refuses to start when an applied migration was changed', async () => {
    const migrations = await loadMigrations();
    const changed = migrations.map((m, i) => (i === 0 ? { ...m, checksum: 'f'.repeat(64) } : m));
    await expect(migrate(t.driver, changed)).rejects.toMatchObject({ code: 'bad_configuration' });
  });

  it('runs application transactions as the application role, which is no superuser and cannot bypass RLS', async () => {
    const [row] = await t.db.tx(system, (tx) =>
      tx.query<{ user: string; superuser: boolean; bypass: boolean }>(
        `SELECT current_user AS user, r.rolsuper AS superuser, r.rolbypassrls AS bypass
         FROM pg_roles r WHERE r.rolname = current_user`,
      ),
    );
    expect(row).toEqual({ user: APP_ROLE, superuser: false, bypass: false });
  });

  it('sees no person without an actor context (deny by default)', async () => {
    const rows = await t.driver.transaction(async (tx) => {
      await tx.query(`SELECT set_config('role', $1, true)`, [APP_ROLE]);
      return tx.query<{ n: number }>('SELECT count(*)::int AS n FROM persons');
    });
    expect(rows[0]?.n).toBe(0);
  });

  it('a partner context reaches only its current caseload, even with a raw unfiltered query', async () => {
    const rows = await t.db.tx(staffOf(partner), (tx) => tx.query<{ id: string }>('SELECT id FROM persons'));
    expect(rows.map((r) => r.id)).toEqual([persons.inPartner]);
    const caseloads = await t.db.tx(staffOf(partner), (tx) =>
      tx.query<{ person_id: string }>('SELECT person_id FROM caseloads'),
    );
    expect(caseloads.map((r) => r.person_id).sort()).toEqual([persons.inPartner, persons.ended].sort());
  });

  it('an agency counselor reaches the persons registered with its agency', async () => {
    expect(await visibleIds(t.db, staffOf(agency, 'counselor'))).toEqual([persons.inAgency]);
  });

  it('a partner context stays on its caseload even when the scope says national', async () => {
    expect(await visibleIds(t.db, staffOf(partner), 'national')).toEqual([persons.inPartner]);
  });

  it('a counselor reaches other persons only inside a national read opened by the gate', async () => {
    const all = await t.driver.transaction((tx) =>
      tx.query<{ id: string }>('SELECT id FROM persons ORDER BY id'),
    );
    expect(await visibleIds(t.db, staffOf(agency, 'counselor'), 'national')).toEqual(all.map((r) => r.id));
  });

  it.each(['helpdesk', 'org_manager', 'subcontractor_operator', 'administrator', 'security_officer', 'dpo'])(
    'a %s sees no person outside a national read, even in its own organisation',
    async (role) => {
      expect(await visibleIds(t.db, staffOf(agency, role))).toEqual([]);
      expect(await visibleIds(t.db, staffOf(partner, role))).toEqual([]);
    },
  );

  it('a staff context cannot write persons, even its own caseload', async () => {
    await expect(
      t.db.tx(staffOf(partner), (tx) =>
        tx.query(`UPDATE persons SET status = 'archived' WHERE id = $1 RETURNING id`, [persons.inPartner]),
      ),
    ).resolves.toEqual([]);
    await expect(
      t.db.tx(staffOf(partner), (tx) =>
        tx.query(
          `INSERT INTO persons (id, status, agency_organisation_id, kek_id, wrapped_key, bi_key_id, agency_id_bi, nir_bi, name_birth_bi, sealed)
           VALUES ($1, 'registered', $2, 'k', '\\x00', 'b', '\\x09', '\\x09', '\\x09', '\\x01')`,
          [randomUUID(), partner],
        ),
      ),
    ).rejects.toThrow(/row-level security/);
  });

  it.each([
    ['DELETE FROM persons'],
    ['TRUNCATE persons'],
    ['ALTER TABLE persons DISABLE ROW LEVEL SECURITY'],
    ['SET LOCAL row_security = off; SELECT 1'],
    ['CREATE TABLE escape (id int)'],
  ])('the application role cannot run: %s', async (sql) => {
    const attempt = t.db.tx(system, (tx) => tx.query(sql.includes(';') ? sql.split(';')[0]! : sql));
    if (sql.startsWith('SET LOCAL row_security')) {
      // Allowed to set, but with row_security off a query that RLS would filter fails instead of bypassing.
      await expect(
        t.db.tx(staffOf(partner), async (tx) => {
          await tx.query('SET LOCAL row_security = off');
          return tx.query('SELECT id FROM persons');
        }),
      ).rejects.toThrow(/row-level security/);
      await attempt;
      return;
    }
    await expect(attempt).rejects.toThrow(/permission denied|must be owner/);
  });

  it('rolls back everything when a transaction fails: nothing is half-written', async () => {
    const before = await t.db.tx(system, (tx) =>
      tx.query<{ n: number }>('SELECT count(*)::int AS n FROM organisations'),
    );
    await expect(
      t.db.tx(system, async (tx) => {
        await tx.query(
          `INSERT INTO organisations (id, kind, code, name) VALUES ($1, 'agency', 'NEW', 'new')`,
          [randomUUID()],
        );
        await tx.query(
          `INSERT INTO organisations (id, kind, code, name) VALUES ($1, 'agency', 'NEW', 'duplicate')`,
          [randomUUID()],
        );
      }),
    ).rejects.toThrow();
    const after = await t.db.tx(system, (tx) =>
      tx.query<{ n: number }>('SELECT count(*)::int AS n FROM organisations'),
    );
    expect(after).toEqual(before);
  });

  it('sends the last statements with COMMIT (commitWith): committed together, or, if one fails, nothing of the transaction', async () => {
    const insert = (tx: Tx, code: string) =>
      tx.query(`INSERT INTO organisations (id, kind, code, name) VALUES ($1, 'agency', $2, $2)`, [
        randomUUID(),
        code,
      ]);
    const codes = async (...wanted: string[]) =>
      (
        await t.db.tx(system, (tx) =>
          tx.query<{ code: string }>('SELECT code FROM organisations WHERE code = ANY($1) ORDER BY code', [
            wanted,
          ]),
        )
      ).map((r) => r.code);
    expect(
      await t.db.tx(system, async (tx) => {
        await insert(tx, 'CW1');
        return commitWith(tx, () => insert(tx, 'CW2').then(() => 'done'));
      }),
    ).toBe('done');
    expect(await codes('CW1', 'CW2')).toEqual(['CW1', 'CW2']);
    // The second statement of the last write fails (a duplicate code): the first, and the statement
    // before, are rolled back with it, though COMMIT left in the same write.
    await expect(
      t.db.tx(system, async (tx) => {
        await insert(tx, 'CW3');
        await commitWith(tx, () => Promise.all([insert(tx, 'CW4'), insert(tx, 'CW1')]));
      }),
    ).rejects.toThrow(/duplicate key/);
    expect(await codes('CW3', 'CW4')).toEqual([]);
    // A JavaScript error before anything is sent: nothing committed either.
    await expect(
      t.db.tx(system, async (tx) => {
        await insert(tx, 'CW5');
        await commitWith(tx, () => {
          throw new Error('refused before sending');
        });
      }),
    ).rejects.toThrow('refused before sending');
    expect(await codes('CW5')).toEqual([]);
    // The connections went back clean: no transaction left open, no context.
    for (let i = 0; i < 10; i++) expect(await codes('CW1')).toEqual(['CW1']);
  });

  it('does not leak the actor context from one transaction to the next', async () => {
    await t.db.tx(staffOf(partner), (tx) => tx.query('SELECT 1'));
    const rows = await t.driver.transaction(async (tx) => {
      await tx.query(`SELECT set_config('role', $1, true)`, [APP_ROLE]);
      return tx.query<{ kind: string | null; n: number }>(
        `SELECT current_setting('rempart.actor_kind', true) AS kind, (SELECT count(*)::int FROM persons) AS n`,
      );
    });
    expect(rows[0]?.n).toBe(0);
    expect(rows[0]?.kind ?? '').toBe('');
  });

  it('carries context values verbatim: quotes and semicolons in a value stay data', async () => {
    const odd: Actor = {
      kind: 'staff',
      accountId: randomUUID(),
      organisationId: randomUUID(),
      role: `x'; SET LOCAL rempart.actor_kind = 'system'; --\\`,
    };
    const sql = `SELECT current_setting('rempart.role') AS role, current_setting('rempart.actor_kind') AS kind,
       current_user AS who, (SELECT count(*)::int FROM persons) AS n`;
    const expected = [{ role: odd.role, kind: 'staff', who: APP_ROLE, n: 0 }];
    expect(await t.db.tx(odd, (tx) => tx.query(sql))).toEqual(expected);
    expect(await t.db.read(odd, sql)).toEqual(expected);
  });

  it('reads in a read-only transaction under the actor: a write is refused, and nothing leaks after', async () => {
    expect(
      await t.db.read<{ n: number }>(staffOf(agency, 'counselor'), 'SELECT count(*)::int AS n FROM persons'),
    ).toEqual([{ n: 1 }]);
    await expect(
      t.db.read(
        system,
        `INSERT INTO organisations (id, kind, code, name) VALUES ($1, 'agency', 'RO', 'ro')`,
        [randomUUID()],
      ),
    ).rejects.toThrow(/read-only transaction/);
    await expect(t.db.read(system, 'SELECT * FROM no_such_table')).rejects.toThrow(/no_such_table/);
    // The connections went back clean: a transaction starts without any context left behind.
    const rows = await t.driver.transaction((tx) =>
      tx.query<{ kind: string | null }>(`SELECT current_setting('rempart.actor_kind', true) AS kind`),
    );
    expect(rows[0]?.kind ?? '').toBe('');
    expect(
      await t.db.read<{ code: string }>(system, `SELECT code FROM organisations WHERE code = 'RO'`),
    ).toEqual([]);
  });
});
