/**
 * "No plaintext NIR, email, phone or address in any table" (docs/DESIGN.md section 4): seeds persons,
 * dumps every table of the schema as a database administrator would see it, and searches the dump
 * for each person's values, as text and as hex (so plaintext stored in a bytea column is caught too).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemCtx } from '../src/context.ts';
import { IDENTITY_FIELDS, type Identity } from '../src/registry/person.ts';
import { openIdentity } from '../src/registry/persons.ts';
import { seedPopulation } from '../src/registry/seed.ts';
import { engine, freshDb, type TestDb } from './helpers/db.ts';
import { freshKeys, type TestKeys } from './helpers/keys.ts';

describe(`encryption at rest on ${engine}`, () => {
  let t: TestDb;
  let keys: TestKeys;
  let dump: string;
  let identities: Identity[];

  beforeAll(async () => {
    [t, keys] = await Promise.all([freshDb(), freshKeys()]);
    await seedPopulation(t.db, keys.registry, { persons: 300, seed: 5, workers: 0 });
    const actor = systemCtx('test').actor;
    identities = await t.db.tx(actor, async (tx) => {
      const rows = await tx.query<{ id: string }>('SELECT id FROM persons');
      return Promise.all(
        rows.map(async ({ id }) => (await openIdentity(tx, keys.registry, id, IDENTITY_FIELDS))!),
      );
    });
    // The dump, with the owner's rights (no RLS in the way), every table of the public schema.
    dump = await t.driver.transaction(async (tx) => {
      const tables = await tx.query<{ name: string }>(
        `SELECT table_name AS name FROM information_schema.tables
         WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY table_name`,
      );
      const parts: string[] = [];
      for (const { name } of tables) {
        const rows = await tx.query<{ row: string }>(`SELECT t::text AS row FROM "${name}" t`);
        parts.push(`-- ${name}\n${rows.map((r) => r.row).join('\n')}`);
      }
      return parts.join('\n');
    });
  });
  afterAll(async () => {
    await t.close();
    await keys.cleanup();
  });

  it('dumps something: every table, persons included', () => {
    expect(identities.length).toBe(300);
    for (const table of [
      'persons',
      'caseloads',
      'registration_periods',
      'organisations',
      'schema_migrations',
    ]) {
      expect(dump).toContain(`-- ${table}`);
    }
    expect(dump.split('\n').length).toBeGreaterThan(300);
  });

  const forms = (value: string): string[] => [
    value,
    value.toLowerCase(),
    Buffer.from(value, 'utf8').toString('hex'),
  ];

  it.each([
    ['NIR', (p: Identity) => [p.nir]],
    ['agency id', (p: Identity) => [p.agencyId]],
    ['email', (p: Identity) => (p.email ? [p.email] : [])],
    ['phone', (p: Identity) => (p.phone ? [p.phone, `0${p.phone.slice(3)}`] : [])],
    ['address line', (p: Identity) => (p.address ? [p.address.line] : [])],
  ])('finds no %s of any person in the dump', (_label, valuesOf) => {
    const found: string[] = [];
    let checked = 0;
    for (const person of identities) {
      for (const value of valuesOf(person)) {
        checked++;
        for (const form of forms(value)) if (dump.includes(form)) found.push(form.slice(0, 4));
      }
    }
    expect(checked).toBeGreaterThan(250);
    expect(found).toEqual([]);
  });

  it('would catch a plaintext value: the check is not blind', async () => {
    const person = identities[0]!;
    const leaked = await t.driver.transaction(async (tx) => {
      await tx.query(`CREATE TEMP TABLE leak (v bytea)`);
      await tx.query(`INSERT INTO leak VALUES ($1)`, [Buffer.from(person.nir, 'utf8')]);
      const rows = await tx.query<{ row: string }>(`SELECT t::text AS row FROM leak t`);
      return rows[0]!.row;
    });
    expect(forms(person.nir).some((form) => leaked.includes(form))).toBe(true);
  });
});
