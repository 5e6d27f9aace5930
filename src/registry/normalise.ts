/**
 * Name normalisation for exact lookups through a blind index (docs/DESIGN.md section 4): the index is a
 * keyed HMAC of the normalised value, so two spellings of one identity must normalise to the same
 * string, or the lookup silently finds nothing. Accents, case, ligatures, punctuation and word
 * boundaries vary between civil status, agency files and what a counsellor types ("N'Diaye",
 * "NDIAYE"; "Le Gall", "LEGALL"); none of them carries identity. The rule and its reasons:
 * docs/ARCHITECTURE.md, "Name keys".
 */

import { ValidationError } from '../errors.ts';
import { isBirthDate } from './birth-date.ts';

// Letters that NFKD leaves whole (they are letters of their own, not a base letter and an accent),
// folded to the Latin letters a French keyboard types. ß upper-cases to SS anyway, the capital ẞ does
// not; the dotless ı upper-cases to I, listed for the lower-case form. Ŀ and ŀ need no entry: NFKD
// writes them L + U+00B7 (the middle dot), removed with the marks.
const LETTERS: Record<string, string> = {
  Æ: 'AE',
  æ: 'AE',
  Œ: 'OE',
  œ: 'OE',
  ß: 'SS',
  ẞ: 'SS',
  Ø: 'O',
  ø: 'O',
  Ł: 'L',
  ł: 'L',
  Đ: 'D',
  đ: 'D',
  Ð: 'D',
  ð: 'D',
  Þ: 'TH',
  þ: 'TH',
  ı: 'I',
  Ħ: 'H',
  ħ: 'H',
  Ŧ: 'T',
  ŧ: 'T',
};
const LETTER = new RegExp(`[${Object.keys(LETTERS).join('')}]`, 'gu');

// Every Unicode dash (\p{Pd}: hyphen-minus, U+2010 hyphen, non-breaking hyphen, en and em dashes…)
// and the minus sign; apostrophes straight, curly (’ ‘), modifier letters (ʼ ʻ), grave, acute,
// prime, the Hebrew geresh some keyboards type; dots, commas, and any whitespace. Each run of them
// is one word boundary.
const SEPARATORS = /[\p{Pd}\u2212'’‘‛ʼʻ`´′׳.,\s]+/gu;

/** Normalises a name for exact comparison: no accents, folded letters, upper case, punctuation as single spaces. */
export function normaliseName(input: string): string {
  return input
    .normalize('NFKD') // splits é into e + U+0301, folds fullwidth and compatibility forms
    .replace(/[\p{M}\p{Cf}\u00b7\u0387]/gu, '') // combining marks (accents), format characters, middle dots
    .replace(LETTER, (letter) => LETTERS[letter]!)
    .toUpperCase()
    .replace(SEPARATORS, ' ')
    .trim();
}

/**
 * A name as the search key compares it: normalised, then without word boundaries, so that
 * "N'Diaye", "N DIAYE" and "NDIAYE" are one name. Only the key and its confirmation use this form;
 * the stored and displayed name keep their spelling.
 */
export function nameKeyForm(input: string): string {
  return normaliseName(input).replace(/ /g, '');
}

/** The first given name, normalised: civil status separates given names with commas. */
export function firstGivenName(firstNames: string): string {
  // "Jean-Pierre, Louis": the first given name is "Jean-Pierre", a compound name, not "Jean".
  const comma = firstNames.indexOf(',');
  return normaliseName(comma === -1 ? firstNames : firstNames.slice(0, comma));
}

/** The version of the name key that `nameBirthKey` computes (recorded per row, migration 0029). */
export const NAME_KEY_VERSION = 2;

/** The string a keyed HMAC hashes for the name + first name + birth date blind index. */
export function nameBirthKey(lastName: string, firstName: string, birthDate: string): string {
  return checkedKey(nameKeyForm(lastName), firstGivenName(firstName).replace(/ /g, ''), birthDate);
}

/**
 * The key before migration 0029 (version 1): word boundaries kept as one space, Ø Ł Đ Þ ð ı… left
 * as they are. Rows that `rempart reindex` has not reached yet carry it, and the lookup still tries
 * it on them (docs/ARCHITECTURE.md, "Name keys"); nothing writes it.
 */
export function legacyNameBirthKey(lastName: string, firstName: string, birthDate: string): string {
  const comma = firstName.indexOf(',');
  return checkedKey(
    legacyNormaliseName(lastName),
    legacyNormaliseName(comma === -1 ? firstName : firstName.slice(0, comma)),
    birthDate,
  );
}

const LEGACY_LIGATURES: Record<string, string> = { œ: 'OE', Œ: 'OE', æ: 'AE', Æ: 'AE', ß: 'SS', ẞ: 'SS' };
const LEGACY_SEPARATORS = /[\p{Pd}\u2212'’‘ʼ`´′.,\s]+/gu;

function legacyNormaliseName(input: string): string {
  return input
    .normalize('NFKD')
    .replace(/[\p{M}\p{Cf}]/gu, '')
    .replace(/[œŒæÆßẞ]/g, (ligature) => LEGACY_LIGATURES[ligature]!)
    .toUpperCase()
    .replace(LEGACY_SEPARATORS, ' ')
    .trim();
}

function checkedKey(last: string, first: string, birthDate: string): string {
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
