/**
 * Canary rows (T3): synthetic persons seeded into one export's file and no other, so that a leaked
 * copy names its export even when nothing else survives. They look like any row — a NIR with a
 * valid key agreeing with sex, birth month and a real birth commune, a well-formed agency id, French
 * names — but they are not persons: they are recorded with their export (export_canaries, as
 * blind indexes under the registry's keys) and never in `persons`, so no workflow reaches them.
 */
import { randomBytes, randomInt } from 'node:crypto';
import { base, Faker, fr } from '@faker-js/faker';
import type { Tx } from '../db/types.ts';
import { byteaArray } from '../registry/columns.ts';
import { buildNir } from '../registry/nir.ts';
import type { Identity } from '../registry/person.ts';
import { identityIndexes, type RegistryKeys } from '../registry/persons.ts';
import { communeAt } from '../registry/places.ts';
import { agencyIdOf, nirPlace } from '../registry/population.ts';

/** Makes `count` canary identities, from fresh randomness (nothing about them is derivable from the export id). */
export function makeCanaries(count: number): Identity[] {
  const faker = new Faker({ locale: [fr, base] });
  faker.seed([...randomBytes(16)]);
  const out: Identity[] = [];
  for (let i = 0; i < count; i++) {
    const sex: 'M' | 'F' = faker.number.int(1) === 0 ? 'M' : 'F';
    const birthYear = 2026 - 18 - faker.number.int(45);
    const birthMonth = 1 + faker.number.int(11);
    const birthDate = `${birthYear}-${String(birthMonth).padStart(2, '0')}-${String(1 + faker.number.int(27)).padStart(2, '0')}`;
    const commune = communeAt(faker.number.float({ min: 0, max: 0.999999 }));
    const { nirDepartment, nirCommune } = nirPlace(commune, birthYear);
    const firstName = faker.person.firstName(sex === 'M' ? 'male' : 'female');
    const lastName = faker.person.lastName();
    out.push({
      // Upper half of the agency-id space: the seeded population numbers its persons from 0.
      agencyId: agencyIdOf(5_000_000 + randomInt(5_000_000)),
      nir: buildNir({
        sex: sex === 'M' ? '1' : '2',
        birthYear,
        birthMonth,
        department: nirDepartment,
        commune: nirCommune,
        order: 1 + faker.number.int(998),
      }),
      lastName,
      birthName: null,
      firstNames: firstName,
      sex,
      birthDate,
      birthPlace: { communeCode: commune.code, commune: commune.name, department: commune.department },
      email:
        `${firstName}.${lastName}${faker.number.int(99)}@${faker.helpers.arrayElement(['gmail.com', 'orange.fr', 'free.fr'])}`
          .normalize('NFKD')
          .replace(/\p{M}/gu, '')
          .replace(/[^A-Za-z0-9.@-]/g, '')
          .toLowerCase(),
      phone: `+336${String(faker.number.int(99_999_999)).padStart(8, '0')}`,
      address: {
        line: `${1 + faker.number.int(150)} ${faker.location.street()}`,
        postalCode: commune.postalCodes[0] ?? '75001',
        city: commune.name,
      },
    });
  }
  return out;
}

/** Records an export's canaries by their blind indexes (current registry key). */
export async function recordCanaries(
  tx: Tx,
  keys: RegistryKeys,
  exportId: string,
  canaries: readonly Identity[],
): Promise<void> {
  if (canaries.length === 0) return;
  const indexes = canaries.map((c) => identityIndexes(keys.blindIndex, c));
  await tx.query(
    `INSERT INTO export_canaries (export_id, position, nir_bi, agency_id_bi, name_birth_bi)
     SELECT $1, i, n, a, b FROM unnest($2::int[], $3::bytea[], $4::bytea[], $5::bytea[]) AS t (i, n, a, b)`,
    [
      exportId,
      canaries.map((_, i) => i),
      byteaArray(indexes.map((x) => x.nir)),
      byteaArray(indexes.map((x) => x.agencyId)),
      byteaArray(indexes.map((x) => x.nameBirth)),
    ],
  );
}
