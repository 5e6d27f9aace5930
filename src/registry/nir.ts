/**
 * The French social security number (NIR, "numéro d'inscription au répertoire"), 15 characters:
 * sex (1), birth year (2), birth month (2), birth place (5: department + commune, or 99 + country),
 * order number (3) and control key (2). Layout and key: INSEE, "Le NIR", and Wikipedia fr
 * "Numéro de sécurité sociale en France".
 *
 * The NIR is personal data (GDPR art. 87, French décret 2019-341 on its use): no error message or
 * log line built here ever contains the value or any part of it, only what is wrong with it.
 */
import { type FieldIssue, ValidationError } from '../errors.ts';

/** A parsed, normalised NIR; each part is kept as the string it was in the number. */
export interface Nir {
  /** 15 characters, no spaces, Corsica as upper-case 2A/2B. */
  value: string;
  sex: string;
  year: string;
  month: string;
  /**
   * '75', '2A', '971', or '99' when born abroad; '91'–'96' may also be a birth in French North
   * Africa before independence (NORTH_AFRICA).
   */
  department: string;
  /** 3 digits (metropolitan), 2 digits (overseas), or the country code when born abroad. */
  commune: string;
  /** The 3-digit INSEE country code when born abroad (department 99), otherwise undefined. */
  countryCode: string | undefined;
  order: string;
  key: string;
}

// 1 and 2 are men and women; 3 and 4 are foreign-born persons whose registration is still being
// checked, 7 and 8 are temporary numbers (NIA) given before a definitive NIR (INSEE, "Le NIR").
const SEX_CODES = new Set(['1', '2', '3', '4', '7', '8']);
const MALE_CODES = new Set(['1', '3', '7']);

// Overseas departments and collectivities use a 3-digit code and a 2-digit commune. 975 is
// Saint-Pierre-et-Miquelon, 977/978 Saint-Barthélemy/Saint-Martin, 984 the TAAF, 985 Mayotte before
// 976, 986–988 Wallis-et-Futuna, French Polynesia and New Caledonia, 989 Clipperton.
const OVERSEAS = new Set([
  '971',
  '972',
  '973',
  '974',
  '975',
  '976',
  '977',
  '978',
  '984',
  '985',
  '986',
  '987',
  '988',
  '989',
]);

/**
 * Births in French North Africa before independence: the NIR carries a department code (91–94 for
 * the departments of Algeria, 95 for Morocco, 96 for Tunisia) where a birth abroad carries 99 and
 * the country (service-public.fr, "Que signifie le numéro de sécurité sociale ?"; INSEE, "Le NIR").
 * 91–95 became Île-de-France departments in 1968 and still are for births in France; 96 is used for
 * nothing else. The registry records such a person as born abroad in the country (INSEE code) and
 * accepts the old code while the birth date is strictly before `independence`, the first day of
 * independence as French law counts it (docs/ARCHITECTURE.md, "Birth places and the NIR"). Messages
 * name the country and "its independence", never a date: no run of digits reaches an error.
 * - Algeria: 3 July 1962, the day France recognised the independence (the results of the
 *   self-determination vote were proclaimed; ordonnance 62-825 of 21 July 1962 counts from that
 *   announcement); Algeria celebrates 5 July. A birth on 3 July 1962 or later is a birth abroad (99).
 * - Morocco: 2 March 1956, the French-Moroccan joint declaration ending the protectorate.
 * - Tunisia: 20 March 1956, the French-Tunisian protocol recognising independence.
 * The commune part (positions 8–10) is the commune of the former department or territory; the
 * registry has no table of those communes, so it is only checked not to be 000.
 */
export const NORTH_AFRICA: readonly NorthAfricanCode[] = [
  {
    departments: ['91', '92', '93', '94'],
    countryCode: '99352',
    country: 'Algeria',
    independence: '1962-07-03',
  },
  {
    departments: ['95'],
    countryCode: '99350',
    country: 'Morocco',
    independence: '1956-03-02',
  },
  {
    departments: ['96'],
    countryCode: '99351',
    country: 'Tunisia',
    independence: '1956-03-20',
  },
];

/** A country of French North Africa whose births before independence carry a department code. */
export interface NorthAfricanCode {
  departments: readonly string[];
  /** INSEE country code of the country now: the birth place the registry records. */
  countryCode: string;
  /** English name, for messages. */
  country: string;
  /** First day of independence (YYYY-MM-DD): a birth must be strictly before it. */
  independence: string;
}

/** The North African country whose births before independence carry this NIR department, if any. */
export function northAfricanCode(department: string): NorthAfricanCode | undefined {
  return NORTH_AFRICA.find((entry) => entry.departments.includes(department));
}

const TUNISIA = northAfricanCode('96')!;

const SHAPE = /^[0-9]{5}(?:[0-9]{2}|2A|2B)[0-9]{8}$/;
const SHAPE_13 = /^[0-9]{5}(?:[0-9]{2}|2A|2B)[0-9]{6}$/;
const DATE = /^([0-9]{4})-([0-9]{2})-([0-9]{2})$/;

/** Parses and validates a NIR (spaces and lower-case 2a/2b accepted); throws a ValidationError. */
export function parseNir(input: string, field = 'nir'): Nir {
  // Annotated so that TypeScript narrows after each call (control flow needs an explicit `never`).
  const fail: (message: string) => never = (message) => {
    throw new ValidationError([{ field, message }]);
  };
  const value = input.replace(/\s+/g, '').toUpperCase();
  if (value.length !== 15) fail('must have 15 characters (13 digits and a 2-digit key)');
  if (!SHAPE.test(value)) fail('must contain only digits, except 2A or 2B for a birth in Corsica');

  const sex = value.slice(0, 1);
  const month = value.slice(3, 5);
  if (!SEX_CODES.has(sex)) fail('sex code must be 1 or 2 (or 3, 4, 7, 8 for provisional numbers)');
  if (!isMonthCode(month)) fail('birth month code is not a valid month');

  const place = splitPlace(value.slice(5, 10));
  if (place === undefined) fail('unknown birth department');
  const { department, commune } = place;
  const abroad = department === '99';
  // 96 has no other meaning: a NIR whose year and month cannot be before Tunisia's independence
  // (for a birth in 1900 or later) cannot exist. The day is not in the NIR, so a NIR of March 1956
  // passes here and nirMatchesPerson decides with the birth date.
  if (department === '96' && !mayBeBefore(value.slice(1, 3), month, TUNISIA.independence)) {
    fail('birth department of Tunisia is only used for births before its independence');
  }
  if (Number(commune) === 0) {
    fail(abroad ? 'country code must not be 000' : `commune code must not be ${'0'.repeat(commune.length)}`);
  }

  const order = value.slice(10, 13);
  if (order === '000') fail('order number must be 001 to 999');
  const key = value.slice(13);
  if (key !== nirKey(value.slice(0, 13))) fail('control key does not match the first 13 characters');

  return {
    value,
    sex,
    year: value.slice(1, 3),
    month,
    department,
    commune,
    countryCode: abroad ? commune : undefined,
    order,
    key,
  };
}

/** The 2-digit control key of the first 13 characters: 97 − (N mod 97), 2A read as 19 and 2B as 18. */
export function nirKey(first13: string): string {
  const body = first13.replace(/\s+/g, '').toUpperCase();
  if (!SHAPE_13.test(body)) {
    throw new ValidationError([{ field: 'nir', message: 'must have 13 characters before the key' }]);
  }
  // INSEE rule for Corsica: the letters are replaced so that the number stays numeric.
  const digits = body.slice(0, 5) + body.slice(5, 7).replace('2A', '19').replace('2B', '18') + body.slice(7);
  // 13 digits would still fit in a safe integer; BigInt makes the exactness obvious to a reader.
  const remainder = Number(BigInt(digits) % 97n);
  return String(97 - remainder).padStart(2, '0');
}

/** Builds a valid 15-character NIR from its parts; throws a ValidationError on an invalid part. */
export function buildNir(parts: {
  sex: '1' | '2';
  birthYear: number;
  /** 1–12, or a code for an unknown month (20, 30–42, 50–99). */
  birthMonth: number;
  department: string;
  commune: string;
  order: number;
}): string {
  const issues: FieldIssue[] = [];
  if (!Number.isInteger(parts.birthYear) || parts.birthYear < 0) {
    issues.push({ field: 'birthYear', message: 'must be a non-negative integer' });
  }
  if (!Number.isInteger(parts.birthMonth) || !isMonthCode(String(parts.birthMonth).padStart(2, '0'))) {
    issues.push({ field: 'birthMonth', message: 'must be a month from 1 to 12 or an unknown-month code' });
  }
  if (!Number.isInteger(parts.order) || parts.order < 1 || parts.order > 999) {
    issues.push({ field: 'order', message: 'must be an integer from 1 to 999' });
  }
  const department = parts.department.toUpperCase();
  const communeLength = department.length === 3 ? 2 : 3;
  if (!/^[0-9]+$/.test(parts.commune) || parts.commune.length !== communeLength) {
    issues.push({ field: 'commune', message: `must have ${communeLength} digits for this department` });
  }
  if (issues.length > 0) throw new ValidationError(issues);

  const place = splitPlace(department + parts.commune);
  // Comparing back catches a 2-character "97" or "98" that would silently become "971" or "981".
  if (place?.department !== department) {
    throw new ValidationError([{ field: 'department', message: 'unknown department' }]);
  }
  if (Number(place.commune) === 0)
    throw new ValidationError([{ field: 'commune', message: 'must not be zero' }]);
  if (
    department === '96' &&
    !mayBeBefore(pad(parts.birthYear % 100, 2), pad(parts.birthMonth, 2), TUNISIA.independence)
  ) {
    throw new ValidationError([
      { field: 'department', message: 'is Tunisia before its independence, and the birth date is later' },
    ]);
  }

  const birth = parts.sex + pad(parts.birthYear % 100, 2) + pad(parts.birthMonth, 2);
  const body = birth + department + parts.commune + pad(parts.order, 3);
  return body + nirKey(body);
}

/**
 * Issues (field 'nir', no values in messages) where a parsed NIR contradicts a person's identity.
 * `birthDepartment` is undefined for a birth abroad, and `birthCountryCode` then gives the country.
 */
export function nirMatchesPerson(
  nir: Nir,
  person: {
    sex: 'M' | 'F';
    birthDate: string;
    birthDepartment: string | undefined;
    birthCountryCode?: string | undefined;
  },
): FieldIssue[] {
  const date = DATE.exec(person.birthDate);
  if (!date) return [{ field: 'birthDate', message: 'must be a date in YYYY-MM-DD form' }];
  const year = Number(date[1]);
  const issues: FieldIssue[] = [];
  const issue = (message: string): void => {
    issues.push({ field: 'nir', message });
  };

  if (MALE_CODES.has(nir.sex) !== (person.sex === 'M')) issue('sex code does not match the sex');
  if (Number(nir.year) !== year % 100) issue('birth year does not match the birth date');
  // Special month codes (20, 30–42, 50–99) stand for an unknown month: nothing to compare. A birth
  // date whose month is unknown (YYYY-00-00, birth-date.ts) needs one of them.
  if (Number(nir.month) <= 12 && nir.month !== date[2]) issue('birth month does not match the birth date');
  const place = birthPlaceIssue(nir.department, person, year);
  if (place !== undefined) issue(place);
  return issues;
}

// Why the NIR's birth department contradicts the person's birth place, or undefined if it agrees.
function birthPlaceIssue(
  nirDepartment: string,
  person: { birthDate: string; birthDepartment: string | undefined; birthCountryCode?: string | undefined },
  year: number,
): string | undefined {
  const northAfrica = northAfricanCode(nirDepartment);
  const department = person.birthDepartment?.toUpperCase();
  if (department === undefined) {
    if (nirDepartment === '99') return undefined;
    if (northAfrica === undefined || person.birthCountryCode !== northAfrica.countryCode) {
      return northAfrica === undefined
        ? 'birth place is not coded as abroad'
        : `birth place is coded in France, or ${northAfrica.country} before independence, but the birth is elsewhere abroad`;
    }
    // The birth date is compared as written: a date whose day or month is unknown (00) counts
    // from its first possible day, so a birth "March 1956" may be before 20 March 1956.
    return person.birthDate < northAfrica.independence
      ? undefined
      : `birth department of ${northAfrica.country} is only used for births before its independence`;
  }
  if (nirDepartment === '96') {
    return 'birth department of Tunisia is only used for births in Tunisia before its independence';
  }
  return sameBirthPlace(nirDepartment, department, year) ? undefined : 'birth department does not match';
}

/** Groups a NIR for display: "1 85 05 78 006 048 22", overseas "2 90 11 971 12 345 67". */
export function formatNir(nir: string): string {
  const { value, department } = parseNir(nir);
  const placeEnd = 5 + department.length;
  return [
    value.slice(0, 1),
    value.slice(1, 3),
    value.slice(3, 5),
    value.slice(5, placeEnd),
    value.slice(placeEnd, 10),
    value.slice(10, 13),
    value.slice(13),
  ].join(' ');
}

// INSEE: 01–12 are months; 20, 30–42 and 50–99 are used when the month is unknown (civil status
// without a month) or for fictitious/provisional numbers, so they are valid codes too.
function isMonthCode(month: string): boolean {
  const m = Number(month);
  return (m >= 1 && m <= 12) || m === 20 || (m >= 30 && m <= 42) || m >= 50;
}

// Splits the 5 place characters into department and commune (or country code), undefined if the
// department does not exist. "20" is kept: it is the Corsica code for births before 1976; "96" is
// Tunisia before its independence (NORTH_AFRICA).
function splitPlace(place: string): { department: string; commune: string } | undefined {
  const two = place.slice(0, 2);
  if (two === '97' || two === '98') {
    const department = place.slice(0, 3);
    return OVERSEAS.has(department) ? { department, commune: place.slice(3) } : undefined;
  }
  if (two === '2A' || two === '2B' || two === '99') return { department: two, commune: place.slice(2) };
  const n = Number(two);
  return n >= 1 && n <= 96 ? { department: two, commune: place.slice(2) } : undefined;
}

// Corsica was split into 2A and 2B on 1 January 1976 (loi 75-356); earlier births carry "20".
// Seine (75) and Seine-et-Oise (78) were divided into 75, 78 and 91–95 on 1 January 1968 (loi
// 64-707): a birth before then in a commune now in 91–95 carries 75 or 78. Which one depends on
// the commune, which the registry has no table of, so both are accepted, and so is the current
// department (a birth commune's code is the current one).
const ILE_DE_FRANCE_1968 = new Set(['91', '92', '93', '94', '95']);

function sameBirthPlace(nirDepartment: string, personDepartment: string, year: number): boolean {
  if (nirDepartment === personDepartment) return true;
  if (
    year < 1968 &&
    ILE_DE_FRANCE_1968.has(personDepartment) &&
    (nirDepartment === '75' || nirDepartment === '78')
  )
    return true;
  const split = (department: string): boolean => department === '2A' || department === '2B';
  return (
    year < 1976 &&
    ((nirDepartment === '20' && split(personDepartment)) ||
      (personDepartment === '20' && split(nirDepartment)))
  );
}

// Whether a NIR's 2-digit year and month code may be a birth before `date` (YYYY-MM-DD), for a
// birth in 1900 or later (the registry's first year): 19yy, since 20yy is after any such date. A
// month code for an unknown month (20, 30–42, 50–99) may be any month of the year.
function mayBeBefore(yy: string, month: string, date: string): boolean {
  const year = 1900 + Number(yy);
  const limitYear = Number(date.slice(0, 4));
  if (year !== limitYear) return year < limitYear;
  const m = Number(month);
  return m > 12 || m <= Number(date.slice(5, 7));
}

function pad(n: number, width: number): string {
  return String(n).padStart(width, '0');
}
