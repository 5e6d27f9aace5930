/**
 * The persons repository: seals identities (field encryption + blind indexes), writes them in
 * batches, finds persons by NIR, agency id or name + birth date, and opens chosen fields.
 * Reads of personal data by staff will go only through the gate (src/access); this module is its
 * storage layer and the operator's tools' (seed, import, bench).
 */

import { randomBytes } from 'node:crypto';
import { type BlindIndexKind, blindIndex, blindIndexKeys, normaliseEmail } from '../crypto/blind-index.ts';
import { openFields, type PlainField, sealFields } from '../crypto/envelope.ts';
import type { Keyring } from '../crypto/keyring.ts';
import type { Kms } from '../crypto/kms.ts';
import type { Tx } from '../db/types.ts';
import { AppError } from '../errors.ts';
import { birthDateQuery } from './birth-date.ts';
import { asBuffer, byteaArray, plainArray, textArray } from './columns.ts';
import { parseNir } from './nir.ts';
import { firstGivenName, legacyNameBirthKey, nameBirthKey, nameKeyForm } from './normalise.ts';
import { IDENTITY_FIELDS, type Identity, type IdentityField, type PersonEntry } from './person.ts';

/** The keys the registry needs: the KMS for data keys, and the blind-index sub-keys by key id. */
export interface RegistryKeys {
  kms: Kms;
  blindIndexKeyId: string;
  blindIndex: Record<BlindIndexKind, Buffer>;
  /** All blind-index keys (current first), so lookups still work during a rotation. */
  allBlindIndexes: Record<BlindIndexKind, Buffer>[];
  /** The same keys by key id (a row's `bi_key_id`), to recompute a row's index under its own key. */
  blindIndexById: ReadonlyMap<string, Record<BlindIndexKind, Buffer>>;
}

/** Builds the registry keys from a keyring and a KMS. */
export function registryKeys(keyring: Keyring, kms: Kms): RegistryKeys {
  const current = keyring.blindIndex.current;
  const all = [current, ...[...keyring.blindIndex.keys.keys()].filter((id) => id !== current)];
  const derived = all.map((id) => blindIndexKeys(keyring.blindIndex.keys.get(id)!));
  return {
    kms,
    blindIndexKeyId: current,
    blindIndex: derived[0]!,
    allBlindIndexes: derived,
    blindIndexById: new Map(all.map((id, i) => [id, derived[i]!])),
  };
}

/** The stable code of each identity field in a sealed record (its position in IDENTITY_FIELDS, from 1). */
export const FIELD_CODE = Object.fromEntries(IDENTITY_FIELDS.map((f, i) => [f, i + 1])) as Record<
  IdentityField,
  number
>;

/** Every identity field by code, to authenticate a record through any of its fields. */
const FIELD_NAMES: ReadonlyMap<number, string> = new Map(IDENTITY_FIELDS.map((f) => [FIELD_CODE[f], f]));

function serialise(identity: Identity, field: IdentityField): string | null {
  const value = identity[field];
  if (value === null) return null;
  return typeof value === 'string' ? value : JSON.stringify(value);
}

function deserialise<F extends IdentityField>(field: F, text: string): Identity[F] {
  return (field === 'birthPlace' || field === 'address' ? JSON.parse(text) : text) as Identity[F];
}

/** The blind indexes of one identity. */
export function identityIndexes(
  keys: Record<BlindIndexKind, Buffer>,
  identity: Pick<Identity, 'agencyId' | 'nir' | 'lastName' | 'birthName' | 'firstNames' | 'birthDate'> &
    Partial<Pick<Identity, 'email'>>,
): { agencyId: Buffer; nir: Buffer; nameBirth: Buffer; birthNameBirth: Buffer | null; email: Buffer | null } {
  return {
    agencyId: blindIndex(keys.agency_id, identity.agencyId),
    nir: blindIndex(keys.nir, identity.nir),
    ...nameIndexes(keys, identity),
    email: emailIndex(keys, identity.email ?? null),
  };
}

/**
 * The name + birth date indexes of one identity (current key version): by name, and by birth name
 * when its key differs ("Le Gall" married "Le-Gall" is one key, so one index).
 */
export function nameIndexes(
  keys: Record<BlindIndexKind, Buffer>,
  identity: Pick<Identity, 'lastName' | 'birthName' | 'firstNames' | 'birthDate'>,
): { nameBirth: Buffer; birthNameBirth: Buffer | null } {
  const birthNameKey =
    identity.birthName === null
      ? null
      : nameBirthKey(identity.birthName, identity.firstNames, identity.birthDate);
  const nameKey = nameBirthKey(identity.lastName, identity.firstNames, identity.birthDate);
  return {
    nameBirth: blindIndex(keys.name_birth, nameKey),
    birthNameBirth:
      birthNameKey === null || birthNameKey === nameKey ? null : blindIndex(keys.name_birth, birthNameKey),
  };
}

/** The email's blind index (the portal's login), or null without an address. */
export function emailIndex(keys: Record<BlindIndexKind, Buffer>, email: string | null): Buffer | null {
  return email === null || email.trim() === '' ? null : blindIndex(keys.email, normaliseEmail(email));
}

/**
 * A batch of persons ready to insert, as one array literal per column. Built where the CPU work is
 * (a seeding worker thread, or the import), then wrapped and written by `insertPersonBatch`.
 */
export interface PersonBatch {
  count: number;
  ids: string[];
  /** The plaintext data keys, 32 bytes each, in `ids` order; wrapped by the KMS before writing. */
  dataKeys: Buffer;
  blindIndexKeyId: string;
  columns: string[];
  periods: string[];
  caseloads: string[];
}

/** Seals persons: a fresh data key each, every identity field encrypted under it, blind indexes. */
export function sealPersons(
  blindIndexKeyId: string,
  keys: Record<BlindIndexKind, Buffer>,
  persons: readonly PersonEntry[],
): PersonBatch {
  const n = persons.length;
  // Keys and IVs drawn in two calls for the whole batch: one system call instead of 12 per person.
  const dataKeys = randomBytes(32 * n);
  const ivs = randomBytes(12 * IDENTITY_FIELDS.length * n);
  const bi: (Buffer | null)[][] = [[], [], [], [], []];
  const sealed: Buffer[] = [];
  const periods: [string[], string[], (string | null)[]] = [[], [], []];
  const caseloads: [string[], string[], (string | null)[], string[], (string | null)[]] = [
    [],
    [],
    [],
    [],
    [],
  ];
  persons.forEach((person, i) => {
    const indexes = identityIndexes(keys, person.identity);
    bi[0]!.push(indexes.agencyId);
    bi[1]!.push(indexes.nir);
    bi[2]!.push(indexes.nameBirth);
    bi[3]!.push(indexes.birthNameBirth);
    bi[4]!.push(indexes.email);
    const fields: PlainField[] = [];
    for (const field of IDENTITY_FIELDS) {
      const value = serialise(person.identity, field);
      if (value !== null) fields.push({ code: FIELD_CODE[field], name: field, value });
    }
    const perPerson = 12 * IDENTITY_FIELDS.length;
    sealed.push(
      sealFields(
        dataKeys.subarray(32 * i, 32 * i + 32),
        person.id,
        fields,
        ivs.subarray(perPerson * i, perPerson * (i + 1)),
      ),
    );
    for (const period of person.registrationPeriods) {
      periods[0].push(person.id);
      periods[1].push(period.startedOn);
      periods[2].push(period.endedOn);
    }
    for (const entry of person.caseloads) {
      caseloads[0].push(person.id);
      caseloads[1].push(entry.organisationId);
      caseloads[2].push(entry.counselorId);
      caseloads[3].push(entry.since);
      caseloads[4].push(entry.until);
    }
  });
  return {
    count: n,
    ids: persons.map((p) => p.id),
    dataKeys,
    blindIndexKeyId,
    columns: [
      plainArray(persons.map((p) => p.id)),
      textArray(persons.map((p) => p.status)),
      plainArray(persons.map((p) => p.agencyOrganisationId)),
      ...bi.map(byteaArray),
      byteaArray(sealed),
    ],
    periods: periods.map(plainArray),
    caseloads: caseloads.map(plainArray),
  };
}

const INSERT_BATCH = `
WITH u AS (
  SELECT * FROM unnest($3::uuid[], $4::text[], $5::uuid[], $6::bytea[], $7::bytea[], $8::bytea[], $9::bytea[],
    $10::bytea[], $11::bytea[], $12::bytea[]) AS u(id, status, agency, b1, b2, b3, b4, b5, sealed, wk)
  -- someone already in the archive is already on file, as someone registered is (ON CONFLICT)
  WHERE NOT EXISTS (SELECT 1 FROM person_archive a WHERE a.agency_id_bi = u.b1 OR a.nir_bi = u.b2)
    -- an archived row has no index in persons for ON CONFLICT to meet: looked up here instead
    AND (u.status <> 'archived'
         OR NOT EXISTS (SELECT 1 FROM persons q WHERE q.agency_id_bi = u.b1 OR q.nir_bi = u.b2))
), ins AS (
  -- an archived person's search indexes go to the archive, never to persons (migration 0025)
  INSERT INTO persons (id, status, agency_organisation_id, kek_id, wrapped_key, bi_key_id,
    agency_id_bi, nir_bi, name_birth_bi, birth_name_birth_bi, email_bi, sealed, archived_on)
  SELECT u.id, u.status, u.agency, $1, u.wk, $2,
    CASE WHEN u.status = 'archived' THEN NULL ELSE u.b1 END,
    CASE WHEN u.status = 'archived' THEN NULL ELSE u.b2 END,
    CASE WHEN u.status = 'archived' THEN NULL ELSE u.b3 END,
    CASE WHEN u.status = 'archived' THEN NULL ELSE u.b4 END,
    u.b5, u.sealed,
    CASE WHEN u.status = 'archived' THEN coalesce(
      (SELECT max(p.ended_on) FROM unnest($13::uuid[], $15::date[]) AS p(person_id, ended_on)
       WHERE p.person_id = u.id), current_date) END
  FROM u
  ON CONFLICT DO NOTHING
  RETURNING id, status, archived_on
), archive AS (
  INSERT INTO person_archive (person_id, archived_on, bi_key_id, agency_id_bi, nir_bi, name_birth_bi,
    birth_name_birth_bi)
  SELECT u.id, ins.archived_on, $2, u.b1, u.b2, u.b3, u.b4
  FROM ins JOIN u ON u.id = ins.id WHERE ins.status = 'archived'
  RETURNING 1
), periods AS (
  INSERT INTO registration_periods (person_id, started_on, ended_on)
  SELECT p.person_id, p.started_on, p.ended_on
  FROM unnest($13::uuid[], $14::date[], $15::date[]) AS p(person_id, started_on, ended_on)
  JOIN ins ON ins.id = p.person_id
  RETURNING 1
), cl AS (
  INSERT INTO caseloads (person_id, organisation_id, counselor_id, since, until)
  SELECT c.person_id, c.organisation_id, c.counselor_id, c.since, c.until
  FROM unnest($16::uuid[], $17::uuid[], $18::uuid[], $19::date[], $20::date[])
    AS c(person_id, organisation_id, counselor_id, since, until)
  JOIN ins ON ins.id = c.person_id
  RETURNING 1
)
SELECT array_agg(id::text) AS inserted FROM ins`;

const INSERT_BATCH_CITUS = `SELECT rempart_insert_persons($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13,
  $14, $15, $16, $17, $18, $19, $20) AS inserted`;

/**
 * Wraps the batch's data keys and writes it in one statement. A person whose NIR or agency id is
 * already registered is skipped (with its periods and caseloads); the ids written are returned.
 */
export async function insertPersonBatch(tx: Tx, kms: Kms, batch: PersonBatch): Promise<Set<string>> {
  const items = batch.ids.map((personId, i) => ({
    personId,
    dataKey: batch.dataKeys.subarray(32 * i, 32 * i + 32),
  }));
  const wrapped = await kms.wrapKeys(items);
  const kekId = wrapped[0]?.kekId ?? kms.currentKekId();
  if (wrapped.some((w) => w.kekId !== kekId))
    throw new AppError('internal', 'a batch was wrapped under two keys');
  // On Citus the same parameters go to rempart_insert_persons (src/db/distribute.ts).
  const rows = await tx.query<{ inserted: string[] | null }>(
    tx.distributed ? INSERT_BATCH_CITUS : INSERT_BATCH,
    [
      kekId,
      batch.blindIndexKeyId,
      ...batch.columns,
      byteaArray(wrapped.map((w) => w.wrapped)),
      ...batch.periods,
      ...batch.caseloads,
    ],
  );
  batch.dataKeys.fill(0);
  return new Set(rows[0]?.inserted ?? []);
}

/** How to find a person: by NIR, by agency id, or by name + first name + birth date (exact, normalised). */
export type PersonQuery =
  | { by: 'nir'; nir: string }
  | { by: 'agencyId'; agencyId: string }
  | { by: 'nameBirth'; lastName: string; firstName: string; birthDate: string };

interface StoredKeyRow {
  id: string;
  kek_id: string;
  wrapped_key: Uint8Array;
}

/** A person's row as the repositories read it: the wrapped data key and the sealed record. */
export interface SealedRow extends StoredKeyRow {
  sealed: Uint8Array;
}

async function dataKeyOf(keys: RegistryKeys, row: StoredKeyRow): Promise<Buffer> {
  return keys.kms.unwrapKey(row.id, { kekId: row.kek_id, wrapped: asBuffer(row.wrapped_key) });
}

/** How a query reaches the blind indexes: the WHERE clause on `persons`, its one parameter, and the confirmation. */
export interface IndexLookup {
  /**
   * A condition on the blind-index columns (of `persons`, or of `person_archive` for the archive),
   * with the hashes as parameter `param`; columns qualified by `alias` when given.
   */
  where(param: string, alias?: string): string;
  hashes: Buffer[];
  /** The fields decrypted to confirm a candidate (a truncated HMAC can collide). */
  fields: IdentityField[];
  confirm(identity: Partial<Identity>): boolean;
}

const col = (alias: string | undefined, name: string): string => (alias ? `${alias}.${name}` : name);

/** The blind-index lookup for a query, under every blind-index key (so lookups work during a rotation). */
export function indexLookup(keys: RegistryKeys, query: PersonQuery): IndexLookup {
  if (query.by === 'nir') {
    const nir = parseNir(query.nir, 'nir').value;
    return {
      where: (p, a) => `${col(a, 'nir_bi')} = ANY(${p}::bytea[])`,
      hashes: keys.allBlindIndexes.map((k) => blindIndex(k.nir, nir)),
      fields: ['nir'],
      confirm: (identity) => identity.nir === nir,
    };
  }
  if (query.by === 'agencyId') {
    const agencyId = query.agencyId.trim().toUpperCase();
    return {
      where: (p, a) => `${col(a, 'agency_id_bi')} = ANY(${p}::bytea[])`,
      hashes: keys.allBlindIndexes.map((k) => blindIndex(k.agency_id, agencyId)),
      fields: ['agencyId'],
      confirm: (identity) => identity.agencyId === agencyId,
    };
  }
  // "1919-05" is the stored 1919-05-00 (birth-date.ts); anything else is refused by nameBirthKey.
  const birthDate = birthDateQuery(query.birthDate) ?? query.birthDate;
  const key = nameBirthKey(query.lastName, query.firstName, birthDate);
  // The key compares names without word boundaries, and so must the confirmation: a candidate the
  // index finds for "NDIAYE" is "N'Diaye", and refusing it here would make the search find nobody.
  const last = nameKeyForm(query.lastName);
  const first = nameKeyForm(firstGivenName(query.firstName));
  const current = keys.allBlindIndexes.map((k) => blindIndex(k.name_birth, key));
  // Until `rempart reindex` has reached a row, it holds the version-1 key (migration 0029): the
  // lookup tries it too, on those rows only (name_key = 1), so that nothing found before the upgrade
  // is lost before the reindex. The two lists travel in the one parameter: current keys first.
  const legacyKey = legacyKeyOf({ ...query, birthDate });
  const legacy =
    legacyKey === null || legacyKey === key
      ? []
      : keys.allBlindIndexes.map((k) => blindIndex(k.name_birth, legacyKey));
  const n = current.length;
  const both = (p: string, a: string | undefined, slice: string): string =>
    `(${col(a, 'name_birth_bi')} = ANY((${p}::bytea[])${slice}) OR ${col(a, 'birth_name_birth_bi')} = ANY((${p}::bytea[])${slice}))`;
  return {
    where: (p, a) =>
      legacy.length === 0
        ? both(p, a, '')
        : `(${both(p, a, `[1:${n}]`)} OR (${col(a, 'name_key')} = 1 AND ${both(p, a, `[${n + 1}:${2 * n}]`)}))`,
    hashes: [...current, ...legacy],
    fields: ['lastName', 'birthName', 'firstNames', 'birthDate'],
    confirm: (identity) =>
      identity.birthDate === birthDate &&
      nameKeyForm(firstGivenName(identity.firstNames ?? '')) === first &&
      (nameKeyForm(identity.lastName ?? '') === last ||
        (identity.birthName != null && nameKeyForm(identity.birthName) === last)),
  };
}

/** The version-1 key of a name query, or null where the old rule refuses it (nothing then holds it). */
function legacyKeyOf(query: { lastName: string; firstName: string; birthDate: string }): string | null {
  try {
    return legacyNameBirthKey(query.lastName, query.firstName, query.birthDate);
  } catch {
    return null;
  }
}

/**
 * The ids of the persons matching a query, at most `limit`. Candidates come from the blind index;
 * each is confirmed by decrypting the field it matched, so a truncated-HMAC collision never
 * returns the wrong person. Rows are those the transaction's actor may see (RLS).
 */
export async function findPersonIds(
  tx: Tx,
  keys: RegistryKeys,
  query: PersonQuery,
  limit = 10,
  options: { archive?: boolean } = {},
): Promise<string[]> {
  const lookup = indexLookup(keys, query);
  // `archive`: the archive's indexes too (migration 0025), for the operator's tools (an import must
  // not register again someone archived); the staff's reads go through the gate, never here.
  const where = options.archive
    ? `(${lookup.where('$1', 'p')}
        OR p.id IN (SELECT a.person_id FROM person_archive a WHERE ${lookup.where('$1', 'a')}))`
    : lookup.where('$1', 'p');
  const rows = await tx.query<SealedRow>(
    `SELECT id, kek_id, wrapped_key, sealed FROM persons p WHERE ${where} ORDER BY id LIMIT ${Number(limit) + 8}`,
    [byteaArray(lookup.hashes)],
  );
  const ids: string[] = [];
  for (const row of rows) {
    const identity = await openSealedRow(keys, row, lookup.fields);
    if (lookup.confirm(identity)) ids.push(row.id);
    if (ids.length >= limit) break;
  }
  return ids;
}

/** Decrypts only the given fields of a person's sealed row (the record's field list is authenticated). */
export async function openSealedRow(
  keys: RegistryKeys,
  row: SealedRow,
  fields: readonly IdentityField[],
): Promise<Partial<Identity>> {
  const dataKey = await dataKeyOf(keys, row);
  try {
    return openWithKey(dataKey, row, fields);
  } finally {
    dataKey.fill(0);
  }
}

/**
 * Unwraps a person's data key once for several decryptions (a search confirms the matched field,
 * then reveals the allowed ones): `open` decrypts the given fields; the key is wiped afterwards.
 */
export async function withDataKey<T>(
  keys: RegistryKeys,
  row: SealedRow,
  use: (open: (fields: readonly IdentityField[]) => Partial<Identity>) => T | Promise<T>,
): Promise<T> {
  const dataKey = await dataKeyOf(keys, row);
  try {
    return await use((fields) => openWithKey(dataKey, row, fields));
  } finally {
    dataKey.fill(0);
  }
}

function openWithKey(dataKey: Buffer, row: SealedRow, fields: readonly IdentityField[]): Partial<Identity> {
  const opened = openFields(
    dataKey,
    row.id,
    row.sealed,
    new Map(fields.map((f) => [FIELD_CODE[f], f])),
    FIELD_NAMES,
  );
  const identity: Partial<Record<IdentityField, unknown>> = {};
  for (const field of fields) {
    const text = opened.get(FIELD_CODE[field]) ?? null;
    identity[field] = text === null ? null : deserialise(field, text);
  }
  return identity as Partial<Identity>;
}

/** Re-seals a person's record with the same data key after some fields changed (contact details). */
export async function resealRow(keys: RegistryKeys, row: SealedRow, identity: Identity): Promise<Buffer> {
  const dataKey = await dataKeyOf(keys, row);
  try {
    const fields: PlainField[] = [];
    for (const field of IDENTITY_FIELDS) {
      const value = serialise(identity, field);
      if (value !== null) fields.push({ code: FIELD_CODE[field], name: field, value });
    }
    return sealFields(dataKey, row.id, fields);
  } finally {
    dataKey.fill(0);
  }
}

/** Decrypts only the requested fields of one person (undefined if the actor cannot see the person). */
export async function openIdentity<F extends IdentityField>(
  tx: Tx,
  keys: RegistryKeys,
  personId: string,
  fields: readonly F[],
): Promise<Pick<Identity, F> | undefined> {
  if (fields.length === 0) throw new AppError('internal', 'openIdentity needs at least one field');
  const rows = await tx.query<SealedRow>(
    `SELECT id, kek_id, wrapped_key, sealed FROM persons WHERE id = $1`,
    [personId],
  );
  const row = rows[0];
  if (!row) return undefined;
  return (await openSealedRow(keys, row, fields)) as Pick<Identity, F>;
}
