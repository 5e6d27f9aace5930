/**
 * One row of an import file (src/registry/import.ts): its columns, its header, its validation into
 * a person entry, and the neutralisation of the cells Rempart writes back out. Every message names
 * the column and what is wrong, never the value (docs/DESIGN.md section 12: no personal data in errors).
 */
import { hasControlCharacter } from '../control-characters.ts';
import type { FieldIssue } from '../errors.ts';
import { latestBirthDay, parseBirthDate } from './birth-date.ts';
import type { OrganisationRow } from './organisations.ts';
import type { OrganisationKind } from './organisations-plan.ts';
import {
  type CaseloadEntry,
  checkDate,
  type Identity,
  PERSON_STATUSES,
  type PersonEntry,
  type PersonStatus,
  type RawPerson,
  validateIdentity,
} from './person.ts';

/** The identity columns: the fields of RawPerson, in the order of an import file. */
export const IDENTITY_COLUMNS = [
  'agency_id',
  'nir',
  'last_name',
  'birth_name',
  'first_names',
  'sex',
  'birth_date',
  'birth_commune_code',
  'birth_country_code',
  'birth_place_name',
  'email',
  'phone',
  'address_line',
  'postal_code',
  'city',
] as const satisfies readonly (keyof RawPerson)[];

/** Every column an import file may have: identity, then status, agency and caseload. */
export const IMPORT_COLUMNS = [
  ...IDENTITY_COLUMNS,
  'status',
  'agency_code',
  'registered_on',
  'deregistered_on',
  'caseload_code',
  'caseload_since',
] as const;
export type ImportColumn = (typeof IMPORT_COLUMNS)[number];

/** The columns the header must have; the others may be left out (read as empty). */
export const REQUIRED_COLUMNS: readonly ImportColumn[] = [
  'agency_id',
  'nir',
  'last_name',
  'first_names',
  'sex',
  'birth_date',
  'status',
  'agency_code',
];

const KNOWN = new Set<string>(IMPORT_COLUMNS);
// A header cell is echoed in an issue only if it is a known column name: a file without a header has
// a person as its first row, and that person's name (which looks like any column name) must not
// reach the error (docs/IMPORT.md: issues never hold values).

/** Checks a header row; returns the column names (trimmed, lower-cased) and issues on line 1. */
export function checkHeader(cells: readonly string[]): { columns: string[]; issues: FieldIssue[] } {
  const columns = cells.map((c) => c.trim().toLowerCase());
  const issues: FieldIssue[] = [];
  columns.forEach((column, i) => {
    // Only a known column name is echoed: an unknown cell may be a person's name (no header at all).
    const field = KNOWN.has(column) ? column : `column ${i + 1}`;
    if (!KNOWN.has(column)) issues.push({ line: 1, field, message: 'is not a known column' });
    else if (columns.indexOf(column) !== i) issues.push({ line: 1, field, message: 'appears twice' });
  });
  for (const column of REQUIRED_COLUMNS) {
    if (!columns.includes(column)) issues.push({ line: 1, field: column, message: 'is a required column' });
  }
  return { columns, issues };
}

const AGENCY: readonly OrganisationKind[] = ['agency'];
const ACCOMPANYING: readonly OrganisationKind[] = [
  'cap_emploi',
  'mission_locale',
  'training_body',
  'subcontractor',
];

/** The result of one row: the identity (for duplicate checks) and, when valid, the person. */
export interface CheckedRow {
  identity: Identity;
  person: Omit<PersonEntry, 'id'> | undefined;
  issues: FieldIssue[];
}

/**
 * Validates one row (cells by column name) into a person entry. The agency is in the caseload of a
 * registered or deregistered person for their registration period; `caseload_code` adds a partner,
 * training body or subcontractor since `caseload_since`, for the same persons only: a caseload row
 * opens the person to that organisation's staff (row-level security), so never for an archived one.
 */
export function checkRow(
  cells: Readonly<Partial<Record<ImportColumn, string>>>,
  today: string,
  organisations: ReadonlyMap<string, OrganisationRow>,
): CheckedRow {
  const text = (column: ImportColumn): string => cells[column]?.trim() ?? '';
  const raw: RawPerson = {};
  for (const column of IDENTITY_COLUMNS) raw[column] = cells[column];
  const { identity, issues } = validateIdentity(raw, today);
  // No control character in any cell (src/control-characters.ts): a newline or an ESC in an address
  // would be stored, then printed by every report that shows it.
  for (const column of IMPORT_COLUMNS) {
    const value = cells[column];
    if (value !== undefined && hasControlCharacter(value))
      issues.unshift({
        field: column,
        message: 'must not contain control characters (newline, tab, NUL, ESC…)',
      });
  }
  const issue = (field: ImportColumn, message: string): void => {
    issues.push({ field, message });
  };
  // null: empty; undefined: invalid (the issue is already recorded).
  const date = (column: ImportColumn): string | null | undefined => {
    const value = text(column);
    if (value === '') return null;
    return checkDate(column, value, today, issues) ? value : undefined;
  };
  const organisation = (
    column: ImportColumn,
    kinds: readonly OrganisationKind[],
    what: string,
  ): OrganisationRow | undefined => {
    const org = organisations.get(text(column));
    if (!org) issue(column, 'is not the code of a known organisation');
    else if (!kinds.includes(org.kind)) issue(column, `must be the code of ${what}`);
    return org;
  };

  const statusText = text('status').toLowerCase();
  const status = PERSON_STATUSES.find((s) => s === statusText);
  if (!status) issue('status', `must be one of ${PERSON_STATUSES.join(', ')}`);
  const agency =
    text('agency_code') === ''
      ? issue('agency_code', 'is required')
      : organisation('agency_code', AGENCY, 'an agency');

  const registeredOn = date('registered_on');
  const deregisteredOn = date('deregistered_on');
  const caseloadSince = date('caseload_since');
  const caseloadCode = text('caseload_code');
  const forbidden = (column: ImportColumn, who: string): void => {
    if (text(column) !== '') issue(column, `must be empty for ${who}`);
  };
  if (status === 'candidate') {
    for (const column of ['registered_on', 'deregistered_on', 'caseload_code', 'caseload_since'] as const) {
      forbidden(column, 'a candidate');
    }
  } else if (status) {
    if (registeredOn === null) issue('registered_on', `is required for status ${status}`);
    if (status === 'registered') forbidden('deregistered_on', 'a registered person');
    else if (deregisteredOn === null) issue('deregistered_on', `is required for status ${status}`);
    if (status === 'archived') {
      forbidden('caseload_code', 'an archived person');
      forbidden('caseload_since', 'an archived person');
    }
  }
  const birthOk = !issues.some((i) => i.field === 'birth_date');
  // After the last day the birth date may stand for (a partial date: birth-date.ts).
  const born = birthOk ? parseBirthDate(identity.birthDate) : undefined;
  if (registeredOn && born && registeredOn <= latestBirthDay(born))
    issue('registered_on', 'must be after birth_date');
  if (registeredOn && deregisteredOn && deregisteredOn < registeredOn) {
    issue('deregistered_on', 'must not be before registered_on');
  }
  const mayHaveCaseload = status !== 'candidate' && status !== 'archived';
  let accompanying: OrganisationRow | undefined;
  if (mayHaveCaseload && caseloadCode !== '') {
    accompanying = organisation('caseload_code', ACCOMPANYING, 'a partner, training body or subcontractor');
    if (caseloadSince === null) issue('caseload_since', 'is required with caseload_code');
  } else if (mayHaveCaseload && caseloadSince !== null) {
    issue('caseload_since', 'must be empty without caseload_code');
  }
  if (caseloadSince && registeredOn && caseloadSince < registeredOn) {
    issue('caseload_since', 'must not be before registered_on');
  }
  if (caseloadSince && deregisteredOn && caseloadSince > deregisteredOn) {
    issue('caseload_since', 'must not be after deregistered_on');
  }

  if (issues.length > 0 || !status || !agency) return { identity, person: undefined, issues };
  const periods = { registeredOn: registeredOn ?? null, deregisteredOn: deregisteredOn ?? null };
  const caseload =
    accompanying && caseloadSince ? { organisationId: accompanying.id, since: caseloadSince } : null;
  return { identity, person: entryOf(identity, status, agency.id, periods, caseload), issues };
}

function entryOf(
  identity: Identity,
  status: PersonStatus,
  agencyId: string,
  { registeredOn, deregisteredOn }: { registeredOn: string | null; deregisteredOn: string | null },
  caseload: { organisationId: string; since: string } | null,
): Omit<PersonEntry, 'id'> {
  const caseloads: CaseloadEntry[] = [];
  if ((status === 'registered' || status === 'deregistered') && registeredOn) {
    caseloads.push({
      organisationId: agencyId,
      counselorId: null,
      since: registeredOn,
      until: deregisteredOn,
    });
    if (caseload) caseloads.push({ ...caseload, counselorId: null, until: deregisteredOn });
  }
  return {
    identity,
    status,
    agencyOrganisationId: agencyId,
    registrationPeriods: registeredOn ? [{ startedOn: registeredOn, endedOn: deregisteredOn }] : [],
    caseloads,
  };
}

// OWASP, "CSV Injection": a cell starting with one of these is run as a formula by spreadsheets.
const FORMULA_START = /^[=+\-@\t\r]/;

/** Makes a cell inert in a spreadsheet: a leading = + - @ tab or CR gets a single quote before it. */
export function neutraliseCell(value: string): string {
  return FORMULA_START.test(value) ? `'${value}` : value;
}
