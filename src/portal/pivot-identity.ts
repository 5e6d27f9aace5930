/**
 * The FranceConnect pivot identity (birth name, given names, birth date, birthplace, birth country,
 * sex) read from the signed userinfo, and matched to exactly one person on file, or to none
 * (docs/FRANCECONNECT.md). Candidates come from the name + first given name + birth date
 * blind index (usage name or birth name); each is confirmed by decrypting its record and comparing
 * every pivot field. Zero or several confirmed persons are the same refusal: a login never says
 * whether, or how often, an identity is on file.
 */

import type { Tx } from '../db/types.ts';
import { isBirthDate } from '../registry/birth-date.ts';
import { byteaArray } from '../registry/columns.ts';
import { nameKeyForm, normaliseName } from '../registry/normalise.ts';
import type { Identity } from '../registry/person.ts';
import { indexLookup, type RegistryKeys, type SealedRow, withDataKey } from '../registry/persons.ts';

/** The INSEE code FranceConnect sends as birthcountry for a birth in France. */
export const FRANCE_COUNTRY_CODE = '99100';

/** The pivot identity, as FranceConnect v2 sends it (checked shapes; values untouched). */
export interface PivotIdentity {
  /** family_name: the birth name. */
  birthName: string;
  /** given_name: all given names, separated by spaces. */
  givenNames: string;
  /** birthdate, YYYY-MM-DD. */
  birthDate: string;
  sex: 'M' | 'F';
  /** birthplace: the INSEE code of the commune of birth; null for a birth abroad. */
  birthCommuneCode: string | null;
  /** birthcountry: the INSEE code of the country of birth (99100 for France). */
  birthCountryCode: string;
}

/** Why a userinfo answer holds no usable pivot identity: the claim's name, never its value. */
export class PivotIdentityError extends Error {
  readonly claim: string;
  constructor(claim: string) {
    super(`FranceConnect pivot identity: ${claim} missing or malformed`);
    this.name = 'PivotIdentityError';
    this.claim = claim;
  }
}

const text = (claims: Record<string, unknown>, name: string, max = 200): string => {
  const value = claims[name];
  if (typeof value !== 'string' || value.trim() === '' || value.length > max)
    throw new PivotIdentityError(name);
  return value.trim();
};

/** Reads the pivot identity from the verified userinfo claims; throws PivotIdentityError naming a claim. */
export function parsePivotIdentity(claims: Record<string, unknown>): PivotIdentity {
  const birthName = text(claims, 'family_name');
  const givenNames = text(claims, 'given_name');
  const birthDate = text(claims, 'birthdate', 10);
  // A birth date that civil status knows only in part comes with 00 for the unknown day or month,
  // the registry's own form (birth-date.ts), so the two compare as they are.
  if (!isBirthDate(birthDate)) throw new PivotIdentityError('birthdate');
  const gender = claims.gender;
  if (gender !== 'male' && gender !== 'female') throw new PivotIdentityError('gender');
  const birthCountryCode = text(claims, 'birthcountry', 5);
  if (!/^99\d{3}$/.test(birthCountryCode)) throw new PivotIdentityError('birthcountry');
  const place = typeof claims.birthplace === 'string' ? claims.birthplace.trim().toUpperCase() : '';
  // A birth in France carries its commune's code (Corsica: 2A, 2B); a birth abroad an empty birthplace.
  let birthCommuneCode: string | null = null;
  if (birthCountryCode === FRANCE_COUNTRY_CODE) {
    if (!/^[0-9][0-9AB][0-9]{3}$/.test(place)) throw new PivotIdentityError('birthplace');
    birthCommuneCode = place;
  }
  return {
    birthName,
    givenNames,
    birthDate,
    sex: gender === 'male' ? 'M' : 'F',
    birthCommuneCode,
    birthCountryCode,
  };
}

/** The words of a list of given names, normalised (civil status commas and FranceConnect spaces alike). */
const givenNameWords = (names: string): string[] =>
  normaliseName(names)
    .split(' ')
    .filter((w) => w !== '');

/**
 * Whether a decrypted record is the pivot identity: same birth name (the registry's birth name, or
 * its name when it holds no separate birth name), same birth date, same sex, same birthplace (the
 * commune's INSEE code in France, the country's abroad), and given names that begin with the
 * registry's (an agency file may hold only the first given names; it may not hold others).
 */
export function sameIdentity(pivot: PivotIdentity, record: Partial<Identity>): boolean {
  const birthName = record.birthName ?? record.lastName;
  // Compared as the name key compares it (docs/ARCHITECTURE.md, "Name keys"): the lookup found this
  // record by that key, so "LEGALL" from FranceConnect is the registry's "Le Gall".
  if (!birthName || nameKeyForm(birthName) !== nameKeyForm(pivot.birthName)) return false;
  if (record.birthDate !== pivot.birthDate || record.sex !== pivot.sex) return false;
  const place = record.birthPlace;
  if (!place) return false;
  if (pivot.birthCommuneCode !== null) {
    if (!('communeCode' in place) || place.communeCode.toUpperCase() !== pivot.birthCommuneCode) return false;
  } else if (!('countryCode' in place) || place.countryCode !== pivot.birthCountryCode) {
    return false;
  }
  const mine = givenNameWords(record.firstNames ?? '');
  const theirs = givenNameWords(pivot.givenNames);
  return mine.length > 0 && mine.length <= theirs.length && mine.every((word, i) => word === theirs[i]);
}

/** More candidates than this share one name + first name + birth date: refused as ambiguous anyway. */
const MAX_CANDIDATES = 50;

/**
 * The id of the one person on file with this pivot identity, or null for none or several (the
 * same answer). Runs as the system actor: the person is not known yet. Any status counts
 * (registered, deregistered, candidate, archived): the right of access (GDPR art. 15) and the
 * incident notices (art. 34) concern everyone whose data is still held. A person whose data key
 * was destroyed (retention) has no index left, so cannot be matched.
 */
export async function matchPivotIdentity(
  tx: Tx,
  keys: RegistryKeys,
  pivot: PivotIdentity,
): Promise<string | null> {
  const [firstGiven] = givenNameWords(pivot.givenNames);
  if (!firstGiven) return null;
  // FranceConnect separates given names with spaces; the index keys the first one only.
  const lookup = indexLookup(keys, {
    by: 'nameBirth',
    lastName: pivot.birthName,
    firstName: pivot.givenNames.trim().split(/\s+/)[0]!,
    birthDate: pivot.birthDate,
  });
  // Archived persons' indexes are in the archive (migration 0025): looked up there too.
  const rows = await tx.query<SealedRow>(
    `SELECT id, kek_id, wrapped_key, sealed FROM persons p
     WHERE (${lookup.where('$1', 'p')}
            OR p.id IN (SELECT a.person_id FROM person_archive a WHERE ${lookup.where('$1', 'a')}))
       AND p.status <> 'destroyed'
     ORDER BY id LIMIT ${MAX_CANDIDATES + 1}`,
    [byteaArray(lookup.hashes)],
  );
  if (rows.length > MAX_CANDIDATES) return null;
  const matched: string[] = [];
  for (const row of rows) {
    const record = await withDataKey(keys, row, (open) =>
      open(['lastName', 'birthName', 'firstNames', 'birthDate', 'sex', 'birthPlace']),
    );
    if (sameIdentity(pivot, record)) matched.push(row.id);
  }
  return matched.length === 1 ? matched[0]! : null;
}
