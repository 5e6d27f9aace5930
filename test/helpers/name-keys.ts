/**
 * Name keys for the tests of migration 0029: persons registered under a chosen name (as an import
 * writes them), and a database put back to the version-1 keys that rows written before the
 * migration hold, to test `rempart reindex` and the lookup meanwhile.
 */
import { randomUUID } from 'node:crypto';
import { systemCtx } from '../../src/context.ts';
import { blindIndex } from '../../src/crypto/blind-index.ts';
import type { Db } from '../../src/db/types.ts';
import { byteaArray, plainArray } from '../../src/registry/columns.ts';
import { nirKey } from '../../src/registry/nir.ts';
import { legacyNameBirthKey } from '../../src/registry/normalise.ts';
import type { Identity, PersonEntry, PersonStatus } from '../../src/registry/person.ts';
import {
  insertPersonBatch,
  type RegistryKeys,
  type SealedRow,
  sealPersons,
  withDataKey,
} from '../../src/registry/persons.ts';
import { agencyIdOf } from '../../src/registry/population.ts';

const system = systemCtx('test').actor;
let serial = 0;

/**
 * Registers a copy of `template` under another last name (and a fresh NIR and agency id), in the
 * template's agency; returns its id.
 */
export async function registerNamed(
  db: Db,
  keys: RegistryKeys,
  template: { identity: Identity; agencyOrganisationId: string },
  changes: Partial<Identity>,
  status: PersonStatus = 'registered',
): Promise<string> {
  for (let attempt = 0; attempt < 20; attempt++) {
    serial++;
    const first13 = `${template.identity.nir.slice(0, 10)}${String(900 - serial).padStart(3, '0')}`;
    const entry: PersonEntry = {
      id: randomUUID(),
      identity: {
        ...template.identity,
        ...changes,
        nir: `${first13}${nirKey(first13)}`,
        agencyId: agencyIdOf(9_000_000 + serial),
        email: null,
      },
      status,
      agencyOrganisationId: template.agencyOrganisationId,
      registrationPeriods: [
        { startedOn: '2024-01-01', endedOn: status === 'registered' ? null : '2024-06-01' },
      ],
      caseloads: [],
    };
    const batch = sealPersons(keys.blindIndexKeyId, keys.blindIndex, [entry]);
    const written = await db.tx(system, (tx) => insertPersonBatch(tx, keys.kms, batch));
    if (written.has(entry.id)) return entry.id;
  }
  throw new Error('no free NIR for a named person');
}

interface Row extends SealedRow {
  bi_key_id: string;
}

/** The version-1 name index of a name, under the current blind-index key (what an old row holds). */
export function legacyIndex(
  keys: RegistryKeys,
  lastName: string,
  firstName: string,
  birthDate: string,
): Buffer {
  return blindIndex(keys.blindIndex.name_birth, legacyNameBirthKey(lastName, firstName, birthDate));
}

/**
 * Rewrites every name index, in `persons` and in `person_archive`, as it was before migration 0029:
 * the version-1 key, and name_key = 1. Returns how many rows it rewrote.
 */
export async function writeLegacyNameKeys(db: Db, keys: RegistryKeys): Promise<number> {
  return db.tx(system, async (tx) => {
    let n = 0;
    for (const table of ['persons', 'person_archive'] as const) {
      const rows = await tx.query<Row>(
        table === 'persons'
          ? 'SELECT id, kek_id, wrapped_key, sealed, bi_key_id FROM persons WHERE name_birth_bi IS NOT NULL'
          : `SELECT p.id, p.kek_id, p.wrapped_key, p.sealed, a.bi_key_id
             FROM person_archive a JOIN persons p ON p.id = a.person_id`,
      );
      const ids: string[] = [];
      const names: Buffer[] = [];
      const births: (Buffer | null)[] = [];
      for (const row of rows) {
        const identity = await withDataKey(keys, row, (open) =>
          open(['lastName', 'birthName', 'firstNames', 'birthDate']),
        );
        const k = keys.blindIndexById.get(row.bi_key_id)!.name_birth;
        const name = legacyNameBirthKey(identity.lastName!, identity.firstNames!, identity.birthDate!);
        const birth =
          identity.birthName == null
            ? null
            : legacyNameBirthKey(identity.birthName, identity.firstNames!, identity.birthDate!);
        ids.push(row.id);
        names.push(blindIndex(k, name));
        births.push(birth === null || birth === name ? null : blindIndex(k, birth));
      }
      const idColumn = table === 'persons' ? 'id' : 'person_id';
      await tx.query(
        `UPDATE ${table} t SET name_key = 1, name_birth_bi = u.nb, birth_name_birth_bi = u.bnb
         FROM unnest($1::uuid[], $2::bytea[], $3::bytea[]) AS u(id, nb, bnb) WHERE t.${idColumn} = u.id`,
        [plainArray(ids), byteaArray(names), byteaArray(births)],
      );
      n += rows.length;
    }
    return n;
  });
}
