/**
 * Name normalisation for exact lookups through a blind index (docs/DESIGN.md section 4): the index is a
 * keyed HMAC of the normalised value, so two spellings of one identity must normalise to the same
 * string, or the lookup silently finds nothing. Accents, case, ligatures and punctuation vary
 * between civil status, agency files and what a counsellor types; none of them carries identity.
 */

import { ValidationError } from '../errors.ts';
import { isBirthDate } from './birth-date.ts';

// Ligatures that NFKD leaves whole (they are letters, not compatibility forms); ß upper-cases to SS anyway,
// but the capital ẞ does not.
const LIGATURES: Record<string, string> = { œ: 'OE', Œ: 'OE', æ: 'AE', Æ: 'AE', ß: 'SS', ẞ: 'SS' };

// Every Unicode dash (\p{Pd}: hyphen-minus, U+2010 hyphen, non-breaking hyphen, en and em dashes…)
// and the minus sign; apostrophes straight, curly, modifier letter, grave, prime; dots, commas,
// and any whitespace. Each run of them is one word boundary.
const SEPARATORS = /[\p{Pd}\u2212'’‘ʼ`´′.,\s]+/gu;

/** Normalises a name for exact comparison: no accents, upper case, punctuation as single spaces. */
export function normaliseName(input: string): string {
  return input
    .normalize('NFKD') // splits é into e + U+0301, folds fullwidth and compatibility forms
    .replace(/[\p{M}\p{Cf}]/gu, '') // combining marks (accents), and invisible format characters
    .replace(/[œŒæÆßẞ]/g, (ligature) => LIGATURES[ligature]!)
    .toUpperCase()
    .replace(SEPARATORS, ' ')
    .trim();
}

/** The first given name, normalised: civil status separates given names with commas. */
export function firstGivenName(firstNames: string): string {
  // "Jean-Pierre, Louis": the first given name is "Jean-Pierre", a compound name, not "Jean".
  const comma = firstNames.indexOf(',');
  return normaliseName(comma === -1 ? firstNames : firstNames.slice(0, comma));
}

/** The string a keyed HMAC hashes for the name + first name + birth date blind index. */
export function nameBirthKey(lastName: string, firstName: string, birthDate: string): string {
  const last = normaliseName(lastName);
  const first = firstGivenName(firstName);
  // An empty part, a '|' inside a part, or a date in another format would make unrelated identities
  // share a key (or one identity get two), so refuse rather than index something ambiguous.
  if (last === '' || last.includes('|')) throw invalid('lastName', 'must not be empty or contain |');
  if (first === '' || first.includes('|')) throw invalid('firstName', 'must not be empty or contain |');
  if (!isBirthDate(birthDate))
    throw invalid('birthDate', 'must be a date in YYYY-MM-DD form (00 for an unknown day or month)');
  return `${last}|${first}|${birthDate}`;
}

function invalid(field: string, message: string): ValidationError {
  return new ValidationError([{ field, message }]);
}
