/**
 * The registry on the engine under test: a seeded synthetic population is valid, deterministic,
 * and found exactly by NIR, agency id, and name + first name + birth date (normalised).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemCtx } from '../src/context.ts';
import { parseNir } from '../src/registry/nir.ts';
import { IDENTITY_FIELDS, type Identity, validateIdentity } from '../src/registry/person.ts';
import { findPersonIds, openIdentity } from '../src/registry/persons.ts';
import { seedPopulation } from '../src/registry/seed.ts';
import { engine, freshDb, type TestDb } from './helpers/db.ts';
import { freshKeys, type TestKeys } from './helpers/keys.ts';

const actor = systemCtx('test').actor;

async function allIdentities(t: TestDb, keys: TestKeys): Promise<{ id: string; identity: Identity }[]> {
  return t.db.tx(actor, async (tx) => {
    const rows = await tx.query<{ id: string }>('SELECT id FROM persons');
    const out = [];
    for (const { id } of rows)
      out.push({ id, identity: (await openIdentity(tx, keys.registry, id, IDENTITY_FIELDS))! });
    return out;
  });
}

/** An identity as raw import fields, to run the edge validation on generated persons. */
function asRaw(identity: Identity): Record<string, string> {
  const place = identity.birthPlace;
  return {
    agency_id: identity.agencyId,
    nir: identity.nir,
    last_name: identity.lastName,
    birth_name: identity.birthName ?? '',
    first_names: identity.firstNames,
    sex: identity.sex,
    birth_date: identity.birthDate,
    birth_commune_code: 'communeCode' in place ? place.communeCode : '',
    birth_country_code: 'countryCode' in place ? place.countryCode : '',
    email: identity.email ?? '',
    phone: identity.phone ?? '',
    address_line: identity.address?.line ?? '',
    postal_code: identity.address?.postalCode ?? '',
    city: identity.address?.city ?? '',
  };
}

describe(`registry on ${engine}`, () => {
  let t: TestDb;
  let keys: TestKeys;
  let people: { id: string; identity: Identity }[];

  beforeAll(async () => {
    [t, keys] = await Promise.all([freshDb(), freshKeys()]);
    const summary = await seedPopulation(t.db, keys.registry, { persons: 1500, seed: 11, workers: 0 });
    expect(summary.persons).toBe(1500);
    people = await allIdentities(t, keys);
  });
  afterAll(async () => {
    await t.close();
    await keys.cleanup();
  });

  it('generates persons that pass the import validation: NIR consistent with sex, birth date and place', () => {
    const failures = people
      .map((p) => ({ id: p.id, issues: validateIdentity(asRaw(p.identity), '2026-01-01').issues }))
      .filter((f) => f.issues.length > 0);
    expect(failures).toEqual([]);
  });

  it('gives every person a unique NIR and agency id', () => {
    expect(new Set(people.map((p) => p.identity.nir)).size).toBe(people.length);
    expect(new Set(people.map((p) => p.identity.agencyId)).size).toBe(people.length);
  });

  it('covers births abroad, overseas and in Corsica, married names, and every status', async () => {
    const departments = people.map((p) => parseNir(p.identity.nir).department);
    expect(departments).toContain('99');
    expect(departments.some((d) => d.length === 3)).toBe(true);
    expect(people.some((p) => p.identity.birthName !== null)).toBe(true);
    const statuses = await t.db.tx(actor, (tx) =>
      tx.query<{ status: string; n: number }>(
        'SELECT status, count(*)::int AS n FROM persons GROUP BY status ORDER BY status',
      ),
    );
    expect(statuses.map((s) => s.status)).toEqual(['candidate', 'deregistered', 'registered']);
    const old = await t.db.tx(actor, (tx) =>
      tx.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM persons p WHERE p.status = 'deregistered'
         AND NOT EXISTS (SELECT 1 FROM registration_periods r WHERE r.person_id = p.id AND r.ended_on > date '2006-01-01')`,
      ),
    );
    expect(old[0]!.n).toBeGreaterThan(0); // deregistered 20+ years ago
  });

  it('spreads caseloads over agencies, partners, training bodies and subcontractors', async () => {
    const kinds = await t.db.tx(actor, (tx) =>
      tx.query<{ kind: string }>(
        'SELECT DISTINCT o.kind FROM caseloads c JOIN organisations o ON o.id = c.organisation_id ORDER BY o.kind',
      ),
    );
    expect(kinds.map((k) => k.kind)).toEqual([
      'agency',
      'cap_emploi',
      'mission_locale',
      'subcontractor',
      'training_body',
    ]);
    const candidates = await t.db.tx(actor, (tx) =>
      tx.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM persons p JOIN caseloads c ON c.person_id = p.id WHERE p.status = 'candidate'`,
      ),
    );
    expect(candidates[0]!.n).toBe(0);
  });

  it('finds each sampled person by NIR, agency id, and name + first name + birth date', async () => {
    for (const { id, identity } of people.slice(0, 60)) {
      const [byNir, byAgency, byName] = await t.db.tx(actor, async (tx) => [
        await findPersonIds(tx, keys.registry, { by: 'nir', nir: identity.nir }),
        await findPersonIds(tx, keys.registry, { by: 'agencyId', agencyId: identity.agencyId.toLowerCase() }),
        await findPersonIds(tx, keys.registry, {
          by: 'nameBirth',
          lastName: identity.lastName,
          firstName: identity.firstNames.split(',')[0]!,
          birthDate: identity.birthDate,
        }),
      ]);
      expect(byNir).toEqual([id]);
      expect(byAgency).toEqual([id]);
      expect(byName).toContain(id);
    }
  });

  it('normalises accents, case, hyphens and apostrophes, and matches the birth name too', async () => {
    const married = people.find((p) => p.identity.birthName !== null)!;
    const { identity } = married;
    const mangle = (s: string): string =>
      s.normalize('NFD').replace(/\p{M}/gu, '').toLowerCase().replace(/-/g, ' ').replace(/'/g, '’');
    const found = await t.db.tx(actor, async (tx) => [
      await findPersonIds(tx, keys.registry, {
        by: 'nameBirth',
        lastName: mangle(identity.lastName),
        firstName: mangle(identity.firstNames.split(',')[0]!),
        birthDate: identity.birthDate,
      }),
      await findPersonIds(tx, keys.registry, {
        by: 'nameBirth',
        lastName: identity.birthName!.toUpperCase(),
        firstName: identity.firstNames,
        birthDate: identity.birthDate,
      }),
    ]);
    expect(found[0]).toContain(married.id);
    expect(found[1]).toContain(married.id);
  });

  it('finds nobody for a valid NIR that is not registered, or for another birth date', async () => {
    const { identity } = people[0]!;
    const nir = parseNir(identity.nir);
    const other = `${nir.value.slice(0, 10)}${nir.order === '999' ? '998' : '999'}`;
    const key = String(97 - Number(BigInt(other.replace('2A', '19').replace('2B', '18')) % 97n)).padStart(
      2,
      '0',
    );
    const taken = new Set(people.map((p) => p.identity.nir));
    const missing = await t.db.tx(actor, async (tx) => [
      taken.has(`${other}${key}`)
        ? []
        : await findPersonIds(tx, keys.registry, { by: 'nir', nir: `${other}${key}` }),
      await findPersonIds(tx, keys.registry, {
        by: 'nameBirth',
        lastName: identity.lastName,
        firstName: identity.firstNames,
        birthDate: identity.birthDate === '1990-01-01' ? '1990-01-02' : '1990-01-01',
      }),
    ]);
    expect(missing).toEqual([[], []]);
  });

  it('rejects a malformed NIR in a lookup with an error naming the field, not the value', async () => {
    const attempt = t.db.tx(actor, (tx) =>
      findPersonIds(tx, keys.registry, { by: 'nir', nir: '185057800604899' }),
    );
    await expect(attempt).rejects.toMatchObject({ code: 'validation_failed', field: 'nir' });
    await attempt.catch((error: Error) => expect(error.message).not.toContain('1850578'));
  });

  it('is deterministic: the same seed gives the same persons in another registry with other keys', async () => {
    const [t2, keys2] = await Promise.all([freshDb(), freshKeys()]);
    try {
      await seedPopulation(t2.db, keys2.registry, { persons: 1500, seed: 11, workers: 0 });
      const again = await allIdentities(t2, keys2);
      const byAgencyId = (list: { identity: Identity }[]) =>
        list.map((p) => p.identity).sort((a, b) => a.agencyId.localeCompare(b.agencyId));
      expect(byAgencyId(again)).toEqual(byAgencyId(people));
      await seedPopulation(t2.db, keys2.registry, { persons: 50, seed: 12, workers: 0 });
      const more = await allIdentities(t2, keys2);
      expect(more.length).toBe(1550);
    } finally {
      await t2.close();
      await keys2.cleanup();
    }
  });
});
