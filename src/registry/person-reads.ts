/**
 * The gate's storage layer: finds and reads persons inside a scope. Every function takes the
 * transaction first and a scope second, so a read without a scope does not type-check; the scope
 * is written into the SQL (CONVENTIONS.md: the authorisation filter inside the query), and the
 * row-level security policies of migration 0006 apply on top of it.
 */
import type { Tx } from '../db/types.ts';
import { byteaArray } from './columns.ts';
import type { Identity, IdentityField, PersonStatus, RegistrationPeriod } from './person.ts';
import {
  type IndexLookup,
  indexLookup,
  openSealedRow,
  type PersonQuery,
  type RegistryKeys,
  type SealedRow,
  withDataKey,
} from './persons.ts';

/** Which persons a read may reach. */
export type ReadScope =
  /** the persons registered with the agency, and the organisation's current caseload */
  | { kind: 'agency'; organisationId: string }
  /** the organisation's current caseload only */
  | { kind: 'caseload'; organisationId: string }
  /** any person: a justified national read (the policy decided; RLS checks the role again) */
  | { kind: 'national' }
  /** archived persons only, found through the archive's own indexes (pension proofs, archivists) */
  | { kind: 'archive' };

/** The statuses every scope but the archive reaches: archived and destroyed persons are in none. */
const LIVE = `p.status IN ('registered', 'deregistered', 'candidate')`;

/** A person's registration periods as a column of their row, oldest first. */
const PERIODS = `coalesce((SELECT json_agg(json_build_object('startedOn', to_char(r.started_on, 'YYYY-MM-DD'),
    'endedOn', to_char(r.ended_on, 'YYYY-MM-DD')) ORDER BY r.started_on)
  FROM registration_periods r WHERE r.person_id = p.id), '[]'::json) AS periods`;

/** A person's row as the gate reads it: plain facts and the sealed identity. */
export interface StoredPerson extends SealedRow {
  status: PersonStatus;
  /** The registration periods, oldest first, when the read asked for them with the row. */
  periods?: RegistrationPeriod[];
}

const caseload = (param: string): string =>
  `EXISTS (SELECT 1 FROM caseloads c WHERE c.person_id = p.id AND c.organisation_id = ${param}
     AND (c.until IS NULL OR c.until >= current_date))`;

/** The scope as a SQL condition on `persons p`; the organisation, if any, is parameter $2. */
function scopeSql(scope: ReadScope): { sql: string; params: unknown[] } {
  if (scope.kind === 'agency') {
    return {
      sql: `${LIVE} AND (p.agency_organisation_id = $2 OR ${caseload('$2')})`,
      params: [scope.organisationId],
    };
  }
  if (scope.kind === 'caseload')
    return { sql: `${LIVE} AND ${caseload('$2')}`, params: [scope.organisationId] };
  if (scope.kind === 'archive') return { sql: `p.status = 'archived'`, params: [] };
  return { sql: LIVE, params: [] };
}

/** A person found by a search: the row, and the identity fields asked for, already decrypted. */
export interface FoundPerson extends StoredPerson {
  identity: Partial<Identity>;
}

/**
 * Persons matching an exact query inside the scope, at most `cap`, confirmed by decrypting the
 * matched field (a truncated blind index can collide); `more` says whether others matched too.
 * Each person returned carries the `reveal` fields, decrypted under the same unwrapping of its data
 * key as the confirmation; a candidate not returned has only its matched field decrypted.
 * Persons outside the scope are never fetched, so nothing about them (not even a count) leaves.
 */
export async function findInScope(
  tx: Tx,
  keys: RegistryKeys,
  scope: ReadScope,
  query: PersonQuery,
  cap: number,
  reveal: readonly IdentityField[],
): Promise<{ persons: FoundPerson[]; more: boolean }> {
  const lookup = indexLookup(keys, query);
  const where = scopeSql(scope);
  // The archive's indexes are in person_archive, which no other scope reads; everyone else's are
  // on persons, where archived persons have none (migration 0025).
  const match =
    scope.kind === 'archive'
      ? `p.id IN (SELECT a.person_id FROM person_archive a WHERE ${lookup.where('$1', 'a')})`
      : lookup.where('$1', 'p');
  const rows = await tx.query<StoredPerson>(
    `SELECT p.id, p.status, p.kek_id, p.wrapped_key, p.sealed FROM persons p
     WHERE ${match} AND ${where.sql}
     ORDER BY p.id LIMIT ${candidates(cap)}`,
    [byteaArray(lookup.hashes), ...where.params],
  );
  return confirmFound(keys, lookup, rows, cap, reveal);
}

/** Candidates read for a search of at most `cap` results (a truncated blind index can collide). */
const candidates = (cap: number): number => Math.trunc(cap) + 8;

/**
 * findInScope's second half, on candidates already read in the scope (in id order): each confirmed
 * by decrypting the matched field, at most `cap` returned with their `reveal` fields.
 */
export async function confirmFound(
  keys: RegistryKeys,
  lookup: IndexLookup,
  rows: readonly StoredPerson[],
  cap: number,
  reveal: readonly IdentityField[],
): Promise<{ persons: FoundPerson[]; more: boolean }> {
  const persons: FoundPerson[] = [];
  let more = false;
  for (const row of rows) {
    const found = await withDataKey(keys, row, (open) => {
      if (!lookup.confirm(open(lookup.fields))) return 'no';
      if (persons.length === cap) return 'more';
      return reveal.length > 0 ? open(reveal) : {};
    });
    if (found === 'no') continue;
    if (found === 'more') {
      more = true;
      break;
    }
    persons.push({ ...row, identity: found });
  }
  return { persons, more };
}

/**
 * The persons of the transaction's own organisation (`rempart_org_id()`, set with the session in
 * the same write: src/access/gate-session.ts), registered with it or in its current caseload, each
 * with which of the two holds. Read before the policy has decided between the agency and the
 * caseload scopes; `withinScope` then keeps those of the scope decided. Row-level security applies,
 * and nothing is read unless the transaction is a staff member's (not the operator's, whose context
 * the transaction has until the session switches it).
 */
const OWN = `rempart_actor_kind() = 'staff' AND ${LIVE}
  AND (p.agency_organisation_id = rempart_org_id() OR ${caseload('rempart_org_id()')})`;
const OWN_FLAGS = `p.agency_organisation_id = rempart_org_id() AS in_agency,
  ${caseload('rempart_org_id()')} AS in_caseload`;

/** A person read in the transaction's own organisation, with what puts them in it. */
export interface OwnRow extends StoredPerson {
  in_agency: boolean;
  in_caseload: boolean;
}

/** findInScope's candidates in the transaction's own organisation (OWN). */
export function ownCandidates(tx: Tx, lookup: IndexLookup, cap: number): Promise<OwnRow[]> {
  return tx.query<OwnRow>(
    `SELECT p.id, p.status, p.kek_id, p.wrapped_key, p.sealed, ${OWN_FLAGS} FROM persons p
     WHERE ${lookup.where('$1', 'p')} AND ${OWN}
     ORDER BY p.id LIMIT ${candidates(cap)}`,
    [byteaArray(lookup.hashes)],
  );
}

/** personInScope in the transaction's own organisation (OWN), with the registration periods. */
export function ownPerson(tx: Tx, id: string): Promise<OwnRow[]> {
  return tx.query<OwnRow>(
    `SELECT p.id, p.status, p.kek_id, p.wrapped_key, p.sealed, ${OWN_FLAGS}, ${PERIODS} FROM persons p
     WHERE p.id = $1 AND ${OWN}`,
    [id],
  );
}

/**
 * The rows of OWN that `scope` holds, or null if it leaves one out, or is no scope of an
 * organisation (the caller then reads in the scope itself: a search's candidates were capped).
 */
export function withinScope(rows: readonly OwnRow[], scope: ReadScope): OwnRow[] | null {
  if (scope.kind === 'agency') return [...rows];
  if (scope.kind === 'caseload') return rows.every((r) => r.in_caseload) ? [...rows] : null;
  return null;
}

/** Which persons of a scope an export takes: statuses, and the start of a registration period. */
export interface ScopeFilter {
  statuses?: readonly PersonStatus[];
  registeredFrom?: string;
  registeredTo?: string;
}

/**
 * The persons of a scope matching an export's filter, in id order, at most `limit` (the caller asks
 * for one more than it allows, to know that the filter reaches too many). Archived and destroyed
 * persons are in no such scope (LIVE).
 */
export async function listInScope(
  tx: Tx,
  scope: ReadScope,
  filter: ScopeFilter,
  limit: number,
): Promise<StoredPerson[]> {
  if (scope.kind === 'archive' || scope.kind === 'national') return [];
  const where = scopeSql(scope);
  const params: unknown[] = [null, ...where.params];
  const conditions = [where.sql];
  if (filter.statuses) {
    params.push(filter.statuses);
    conditions.push(`p.status = ANY($${params.length}::text[])`);
  }
  if (filter.registeredFrom || filter.registeredTo) {
    params.push(filter.registeredFrom ?? null, filter.registeredTo ?? null);
    const from = `$${params.length - 1}::date`;
    const to = `$${params.length}::date`;
    conditions.push(`EXISTS (SELECT 1 FROM registration_periods r WHERE r.person_id = p.id
      AND (${from} IS NULL OR r.started_on >= ${from}) AND (${to} IS NULL OR r.started_on <= ${to}))`);
  }
  return tx.query<StoredPerson>(
    `SELECT p.id, p.status, p.kek_id, p.wrapped_key, p.sealed FROM persons p
     WHERE $1::text IS NULL AND ${conditions.join(' AND ')}
     ORDER BY p.id LIMIT ${Math.trunc(limit)}`,
    params,
  );
}

/** One person by id inside the scope, or undefined (absent and out of scope look the same). */
export async function personInScope(
  tx: Tx,
  scope: ReadScope,
  id: string,
  options: { periods?: boolean } = {},
): Promise<StoredPerson | undefined> {
  const where = scopeSql(scope);
  // The periods in the same statement when they are to be shown: no second round trip.
  const periods = options.periods ? `, ${PERIODS}` : '';
  const rows = await tx.query<StoredPerson>(
    `SELECT p.id, p.status, p.kek_id, p.wrapped_key, p.sealed${periods} FROM persons p
     WHERE p.id = $1 AND ${where.sql}`,
    [id, ...where.params],
  );
  return rows[0];
}

/** The registration periods of persons already read in scope, by person id, oldest first. */
export async function registrationPeriodsOf(
  tx: Tx,
  personIds: readonly string[],
): Promise<Map<string, RegistrationPeriod[]>> {
  const out = new Map<string, RegistrationPeriod[]>(personIds.map((id) => [id, []]));
  if (personIds.length === 0) return out;
  const rows = await tx.query<{ person_id: string; started_on: string; ended_on: string | null }>(
    `SELECT person_id, started_on, ended_on FROM registration_periods
     WHERE person_id = ANY($1::uuid[]) ORDER BY person_id, started_on`,
    [personIds],
  );
  for (const row of rows) out.get(row.person_id)?.push({ startedOn: row.started_on, endedOn: row.ended_on });
  return out;
}

/** Decrypts only the given identity fields of a person read in scope. */
export function openPerson(
  keys: RegistryKeys,
  person: StoredPerson,
  fields: readonly IdentityField[],
): Promise<Partial<Identity>> {
  return openSealedRow(keys, person, fields);
}

/**
 * Writes a person's re-sealed record (contact details changed); false if the row is not writable in
 * scope. `emailIndex`, when given, is the new email's blind index (null: no email), so the portal's
 * login follows the address (undefined: the email did not change).
 */
export async function writeSealed(
  tx: Tx,
  scope: ReadScope,
  id: string,
  sealed: Buffer,
  at: Date,
  emailIndex?: Buffer | null,
): Promise<boolean> {
  const where = scopeSql(scope);
  const n = where.params.length;
  const rows = await tx.query<{ id: string }>(
    `UPDATE persons p SET sealed = $${n + 2}, updated_at = $${n + 3},
       email_bi = CASE WHEN $${n + 4}::boolean THEN $${n + 5}::bytea ELSE p.email_bi END
     WHERE p.id = $1 AND ${where.sql} RETURNING p.id`,
    [id, ...where.params, sealed, at, emailIndex !== undefined, emailIndex ?? null],
  );
  return rows.length === 1;
}
