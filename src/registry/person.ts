/**
 * The person of docs/DESIGN.md section 4, and the validation of one person's fields at the edge
 * (import, API). Every message names the field and never repeats its value.
 */
import type { FieldIssue } from '../errors.ts';
import { isIsoDate } from '../iso-dates.ts';
import { earliestBirthDay, parseBirthDate } from './birth-date.ts';
import { nirMatchesPerson, parseNir } from './nir.ts';
import { communeByCode, countryByCode, FRANCE_COUNTRY_CODE } from './places.ts';

export const PERSON_STATUSES = ['registered', 'deregistered', 'candidate', 'archived'] as const;
export type PersonStatus = (typeof PERSON_STATUSES)[number];

/** Where a person was born: a French commune (INSEE code) or a country abroad (INSEE 99xxx code). */
export type BirthPlace =
  | { communeCode: string; commune: string; department: string }
  | { countryCode: string; country: string; commune?: string };

export interface Address {
  line: string;
  postalCode: string;
  city: string;
}

/** The encrypted identity fields, by name: the unit of field-level access in later issues. */
export interface Identity {
  agencyId: string;
  nir: string;
  lastName: string;
  birthName: string | null;
  firstNames: string;
  sex: 'M' | 'F';
  birthDate: string;
  birthPlace: BirthPlace;
  email: string | null;
  phone: string | null;
  address: Address | null;
}

export type IdentityField = keyof Identity;

/** Every identity field, in storage order. Each is encrypted separately under the person's key. */
export const IDENTITY_FIELDS: readonly IdentityField[] = [
  'agencyId',
  'nir',
  'lastName',
  'birthName',
  'firstNames',
  'sex',
  'birthDate',
  'birthPlace',
  'email',
  'phone',
  'address',
];

export interface RegistrationPeriod {
  startedOn: string;
  endedOn: string | null;
}

export interface CaseloadEntry {
  organisationId: string;
  counselorId: string | null;
  since: string;
  until: string | null;
}

/** A person as stored: identity (encrypted), and the plain administrative facts. */
export interface PersonEntry {
  id: string;
  identity: Identity;
  status: PersonStatus;
  agencyOrganisationId: string;
  registrationPeriods: RegistrationPeriod[];
  caseloads: CaseloadEntry[];
}

export { isIsoDate };

/** Checks a date field: format, not in the future, not before 1900. */
export function checkDate(field: string, value: string, today: string, issues: FieldIssue[]): boolean {
  if (!isIsoDate(value)) {
    issues.push({ field, message: 'must be a date written YYYY-MM-DD' });
    return false;
  }
  if (value > today) {
    issues.push({ field, message: 'is in the future' });
    return false;
  }
  if (value < '1900-01-01') {
    issues.push({ field, message: 'is before 1900' });
    return false;
  }
  return true;
}

/**
 * Checks a birth date: whole or partial (birth-date.ts: YYYY-MM-00 with the day unknown, YYYY-00-00
 * with the month too), not in the future and not before 1900 (its first possible day is compared).
 */
export function checkBirthDate(field: string, value: string, today: string, issues: FieldIssue[]): boolean {
  const parts = parseBirthDate(value);
  if (!parts) {
    issues.push({ field, message: 'must be a date written YYYY-MM-DD (00 for an unknown day or month)' });
    return false;
  }
  const earliest = earliestBirthDay(parts);
  if (earliest > today) {
    issues.push({ field, message: 'is in the future' });
    return false;
  }
  if (earliest < '1900-01-01') {
    issues.push({ field, message: 'is before 1900' });
    return false;
  }
  return true;
}

// Letters of any script, with the separators of French civil-status names. No digits, no leading
// '=', '+', '-' or '@' (which spreadsheets would run as formulas), no control characters.
const NAME = /^\p{L}[\p{L}\p{M}' ’.-]*$/u;

/** Checks a name field; returns the trimmed value with single spaces. */
export function checkName(field: string, value: string, issues: FieldIssue[]): string {
  const clean = value.normalize('NFC').trim().replace(/\s+/g, ' ');
  if (clean.length === 0) issues.push({ field, message: 'is required' });
  else if (clean.length > 100) issues.push({ field, message: 'must have at most 100 characters' });
  else if (!NAME.test(clean.replace(/, /g, ' '))) {
    issues.push({ field, message: 'may contain only letters, spaces, hyphens and apostrophes' });
  }
  return clean;
}

// Place names may hold digits ("Paris 1er Arrondissement"), never a leading formula character.
const PLACE = /^\p{L}[\p{L}\p{M}\p{N}' ’.-]*$/u;

/** Checks a commune or city name; returns the trimmed value with single spaces. */
export function checkPlaceName(field: string, value: string, issues: FieldIssue[]): string {
  const clean = value.normalize('NFC').trim().replace(/\s+/g, ' ');
  if (clean.length === 0) issues.push({ field, message: 'is required' });
  else if (clean.length > 100) issues.push({ field, message: 'must have at most 100 characters' });
  else if (!PLACE.test(clean))
    issues.push({ field, message: 'may contain only letters, digits, spaces, hyphens and apostrophes' });
  return clean;
}

const EMAIL =
  /^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$/;

/** Checks an email address (lowercased); undefined or empty means none. */
export function checkEmail(field: string, value: string | undefined, issues: FieldIssue[]): string | null {
  const clean = value?.trim().toLowerCase() ?? '';
  if (clean === '') return null;
  if (clean.length > 254 || !EMAIL.test(clean)) issues.push({ field, message: 'is not an email address' });
  return clean;
}

/** Checks a phone number and returns it in E.164 form (+33…); French national forms are accepted. */
export function checkPhone(field: string, value: string | undefined, issues: FieldIssue[]): string | null {
  const compact = value?.replace(/[\s.()-]/g, '') ?? '';
  if (compact === '') return null;
  if (/^0[1-9]\d{8}$/.test(compact)) return `+33${compact.slice(1)}`;
  if (/^00[1-9]\d{7,14}$/.test(compact)) return `+${compact.slice(2)}`;
  if (/^\+[1-9]\d{7,14}$/.test(compact)) return compact;
  issues.push({ field, message: 'is not a phone number (10 French digits or +country code)' });
  return null;
}

/** The raw text fields of one person, as in an import file (snake_case column names). */
export interface RawPerson {
  agency_id?: string;
  nir?: string;
  last_name?: string;
  birth_name?: string;
  first_names?: string;
  sex?: string;
  birth_date?: string;
  birth_commune_code?: string;
  birth_country_code?: string;
  birth_place_name?: string;
  email?: string;
  phone?: string;
  address_line?: string;
  postal_code?: string;
  city?: string;
}

/**
 * Validates and normalises the identity fields of one person. Returns the identity and the issues
 * (field = column name); the identity is only meaningful when there are no issues.
 */
export function validateIdentity(
  raw: RawPerson,
  today: string,
): { identity: Identity; issues: FieldIssue[] } {
  const issues: FieldIssue[] = [];
  const text = (value: string | undefined): string => value?.trim() ?? '';

  const agencyId = text(raw.agency_id).toUpperCase();
  if (!/^\d{7}[A-Z]$/.test(agencyId))
    issues.push({ field: 'agency_id', message: 'must be 7 digits and a letter' });

  const lastName = checkName('last_name', text(raw.last_name), issues);
  const birthNameText = text(raw.birth_name);
  const birthName = birthNameText === '' ? null : checkName('birth_name', birthNameText, issues);
  const firstNames = checkName('first_names', text(raw.first_names), issues);

  const sexText = text(raw.sex).toUpperCase();
  const sex = sexText === 'M' || sexText === 'F' ? sexText : undefined;
  if (!sex) issues.push({ field: 'sex', message: 'must be M or F' });

  const birthDate = text(raw.birth_date);
  const birthDateOk = checkBirthDate('birth_date', birthDate, today, issues);

  let birthPlace: BirthPlace | undefined;
  const communeCode = text(raw.birth_commune_code).toUpperCase();
  const countryCode = text(raw.birth_country_code);
  if (communeCode !== '' && countryCode !== '') {
    issues.push({ field: 'birth_country_code', message: 'must be empty when birth_commune_code is given' });
  } else if (communeCode !== '') {
    const commune = communeByCode(communeCode);
    if (!commune) issues.push({ field: 'birth_commune_code', message: 'is not a known INSEE commune code' });
    else birthPlace = { communeCode, commune: commune.name, department: commune.department };
  } else if (countryCode !== '') {
    const country = countryByCode(countryCode);
    if (!/^99\d{3}$/.test(countryCode)) {
      issues.push({ field: 'birth_country_code', message: 'must be an INSEE country code 99xxx' });
    } else if (countryCode === FRANCE_COUNTRY_CODE) {
      issues.push({
        field: 'birth_country_code',
        message: 'is France: a birth in France is given by birth_commune_code',
      });
    } else if (!country) {
      // INSEE's table of countries and territories (src/registry/insee/README.md): a code outside
      // it is a typing error or a former country the registry does not know yet.
      issues.push({ field: 'birth_country_code', message: 'is not an INSEE country or territory code' });
    } else {
      const place = text(raw.birth_place_name);
      birthPlace = {
        countryCode,
        country: country.name,
        ...(place ? { commune: checkName('birth_place_name', place, issues) } : {}),
      };
    }
  } else {
    issues.push({
      field: 'birth_commune_code',
      message: 'is required (or birth_country_code for a birth abroad)',
    });
  }

  const nirText = text(raw.nir);
  let nir = '';
  try {
    const parsed = parseNir(nirText, 'nir');
    nir = parsed.value;
    if (sex && birthDateOk && birthPlace) {
      const birthDepartment = 'department' in birthPlace ? birthPlace.department : undefined;
      const birthCountryCode = 'countryCode' in birthPlace ? birthPlace.countryCode : undefined;
      issues.push(...nirMatchesPerson(parsed, { sex, birthDate, birthDepartment, birthCountryCode }));
    }
  } catch (error) {
    const nirIssues = (error as { issues?: FieldIssue[] }).issues;
    if (!nirIssues) throw error;
    issues.push(...nirIssues);
  }

  const email = checkEmail('email', raw.email, issues);
  const phone = checkPhone('phone', raw.phone, issues);

  let address: Address | null = null;
  const line = text(raw.address_line);
  const postalCode = text(raw.postal_code);
  const city = text(raw.city);
  if (line !== '' || postalCode !== '' || city !== '') {
    if (line === '')
      issues.push({ field: 'address_line', message: 'is required with a postal code or city' });
    else if (line.length > 200 || /^[=+\-@]/.test(line)) {
      issues.push({
        field: 'address_line',
        message: 'must have at most 200 characters and not start with = + - @',
      });
    }
    if (!/^\d{5}$/.test(postalCode)) issues.push({ field: 'postal_code', message: 'must be 5 digits' });
    const cleanCity = city === '' ? '' : checkPlaceName('city', city, issues);
    if (city === '') issues.push({ field: 'city', message: 'is required with an address' });
    address = { line: line.replace(/\s+/g, ' '), postalCode, city: cleanCity };
  }

  const identity: Identity = {
    agencyId,
    nir,
    lastName,
    birthName: birthName === lastName ? null : birthName,
    firstNames,
    sex: sex ?? 'M',
    birthDate,
    birthPlace: birthPlace ?? { countryCode: '99000', country: '' },
    email,
    phone,
    address,
  };
  return { identity, issues };
}
