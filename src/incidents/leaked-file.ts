/**
 * A leaked file as an incident's input (docs/INCIDENTS.md, "From a leaked file"): a CSV found
 * outside (a forum, a ransom note) whose rows name persons by NIR, by agency id, or by name + first
 * name + birth date. Each row becomes a lookup through the blind indexes (registry/persons.ts), and
 * the identity fields present in the row's columns are what the leak exposed of that person.
 *
 * The whole file is checked before anything is matched or written: a bad row is reported by its line
 * number and field, never by its text (no personal data in errors, docs/DESIGN.md section 12).
 */
import { parse } from 'csv-parse/sync';
import { type FieldIssue, ValidationError } from '../errors.ts';
import { birthDateQuery } from '../registry/birth-date.ts';
import { parseNir } from '../registry/nir.ts';
import { IDENTITY_FIELDS, type IdentityField } from '../registry/person.ts';
import type { PersonQuery } from '../registry/persons.ts';

/** At most this many rows in one file (the API's body limit allows about 1 MiB anyway). */
export const MAX_LEAK_ROWS = 100_000;
/** At most this many bad rows are listed; the rest are counted. */
const MAX_ISSUES = 100;

/** The column names a file may use for each identity field (compared lower-case, without spaces, _ or -). */
const ALIASES: Record<string, IdentityField> = {
  nir: 'nir',
  numerosecu: 'nir',
  agencyid: 'agencyId',
  identifiant: 'agencyId',
  lastname: 'lastName',
  nom: 'lastName',
  birthname: 'birthName',
  nomdenaissance: 'birthName',
  firstname: 'firstNames',
  firstnames: 'firstNames',
  prenom: 'firstNames',
  prenoms: 'firstNames',
  sex: 'sex',
  sexe: 'sex',
  birthdate: 'birthDate',
  datenaissance: 'birthDate',
  datedenaissance: 'birthDate',
  birthplace: 'birthPlace',
  lieudenaissance: 'birthPlace',
  email: 'email',
  courriel: 'email',
  phone: 'phone',
  telephone: 'phone',
  address: 'address',
  adresse: 'address',
};
for (const field of IDENTITY_FIELDS) ALIASES[field.toLowerCase()] = field;

/** How the file's rows are matched: the first key whose columns are all present. */
export type LeakKey = 'nir' | 'agencyId' | 'nameBirth';

/** One row of the file, checked: its lookup and the identity fields it holds (non-empty cells). */
export interface LeakRow {
  line: number;
  query: PersonQuery;
  fields: IdentityField[];
}

/** The checked file: its key, its identity columns, and its rows. */
export interface LeakFile {
  key: LeakKey;
  /** The identity fields among the file's columns, in IDENTITY_FIELDS order. */
  columns: IdentityField[];
  /** Columns that name no identity field (ignored), by count only. */
  ignoredColumns: number;
  rows: LeakRow[];
}

function columnField(header: string): IdentityField | undefined {
  const key = header
    .normalize('NFD')
    .replace(/\p{M}/gu, '')
    .toLowerCase()
    .replace(/[\s_-]/g, '');
  return ALIASES[key];
}

/**
 * Parses and checks a leaked CSV (a header row, comma or semicolon separated, UTF-8). Throws a
 * ValidationError listing every bad row by line and field (none quotes a value); returns the rows.
 */
export function readLeakFile(text: string): LeakFile {
  const firstLine = text.slice(0, text.indexOf('\n') < 0 ? text.length : text.indexOf('\n'));
  const delimiter = firstLine.split(';').length > firstLine.split(',').length ? ';' : ',';
  let records: { record: string[]; info: { lines: number } }[];
  try {
    records = parse(text.replace(/^\uFEFF/, ''), {
      delimiter,
      info: true,
      relax_column_count: true,
      skip_empty_lines: true,
    }) as unknown as { record: string[]; info: { lines: number } }[];
  } catch (error) {
    const line = (error as { lines?: number }).lines;
    throw new ValidationError([
      { field: 'csv', message: 'is not a readable CSV file', ...(line === undefined ? {} : { line }) },
    ]);
  }
  const header = records.shift();
  if (!header) throw new ValidationError([{ field: 'csv', message: 'has no header row' }]);
  if (records.length === 0)
    throw new ValidationError([{ field: 'csv', message: 'has no row after its header' }]);
  if (records.length > MAX_LEAK_ROWS) {
    throw new ValidationError([{ field: 'csv', message: `has more than ${MAX_LEAK_ROWS} rows` }]);
  }
  const index = new Map<IdentityField, number>();
  let ignoredColumns = 0;
  header.record.forEach((name, i) => {
    const field = columnField(name);
    if (field === undefined || index.has(field)) ignoredColumns++;
    else index.set(field, i);
  });
  const key: LeakKey | undefined = index.has('nir')
    ? 'nir'
    : index.has('agencyId')
      ? 'agencyId'
      : index.has('lastName') && index.has('firstNames') && index.has('birthDate')
        ? 'nameBirth'
        : undefined;
  if (key === undefined) {
    throw new ValidationError([
      {
        field: 'csv',
        line: header.info.lines,
        message: 'needs a nir column, an agencyId column, or lastName + firstNames + birthDate columns',
      },
    ]);
  }
  const columns = IDENTITY_FIELDS.filter((f) => index.has(f));
  const issues: FieldIssue[] = [];
  let bad = 0;
  const issue = (line: number, field: string, message: string): void => {
    bad++;
    if (issues.length < MAX_ISSUES) issues.push({ line, field, message });
  };
  const rows: LeakRow[] = [];
  for (const { record, info } of records) {
    const line = info.lines;
    const cell = (field: IdentityField): string => (record[index.get(field) ?? -1] ?? '').trim();
    const fields = columns.filter((f) => cell(f) !== '');
    let query: PersonQuery | undefined;
    if (key === 'nir') {
      try {
        query = { by: 'nir', nir: parseNir(cell('nir')).value };
      } catch {
        issue(line, 'nir', 'is not a valid NIR (15 characters with a matching key)');
      }
    } else if (key === 'agencyId') {
      if (cell('agencyId') === '') issue(line, 'agencyId', 'is empty');
      else query = { by: 'agencyId', agencyId: cell('agencyId') };
    } else {
      const missing = (['lastName', 'firstNames', 'birthDate'] as const).find((f) => cell(f) === '');
      if (missing) issue(line, missing, 'is empty');
      else if (birthDateQuery(cell('birthDate')) === undefined)
        issue(
          line,
          'birthDate',
          'must be a date written YYYY-MM-DD (YYYY-MM or YYYY when the day or month is unknown)',
        );
      else
        query = {
          by: 'nameBirth',
          lastName: cell('lastName'),
          firstName: cell('firstNames'),
          birthDate: birthDateQuery(cell('birthDate'))!,
        };
    }
    if (query) rows.push({ line, query, fields });
  }
  if (issues.length > 0) {
    if (bad > issues.length) {
      issues.push({ field: 'csv', message: `${bad - issues.length} more bad rows not listed` });
    }
    throw new ValidationError(issues);
  }
  return { key, columns, ignoredColumns, rows };
}
