/**
 * `rempart import FILE.csv`: adds persons to the registry from a CSV file, all or nothing.
 *
 * File format: UTF-8 (a byte-order mark is ignored), comma-separated, RFC 4180 quoting, a header row
 * naming the columns in any order (IMPORT_COLUMNS; unknown or repeated columns refuse the file):
 *  - identity: agency_id (7 digits and a letter), nir, last_name, birth_name, first_names, sex (M|F),
 *    birth_date (YYYY-MM-DD), birth_commune_code (INSEE) or birth_country_code (99xxx) with
 *    birth_place_name, email, phone, address_line, postal_code, city (see validateIdentity);
 *  - status: registered | deregistered | candidate | archived;
 *  - agency_code: the code of an existing organisation of kind 'agency' (required);
 *  - registered_on: required unless candidate; deregistered_on: required for deregistered and
 *    archived, empty for registered; a candidate has neither (never registered);
 *  - caseload_code: optional, an existing partner, training body or subcontractor accompanying a
 *    registered or deregistered person since caseload_since (required with it).
 * Required header columns: REQUIRED_COLUMNS. Dates are not in the future, registered_on follows
 * birth_date and precedes deregistered_on. The agency accompanies registered and deregistered
 * persons from registered_on to deregistered_on. A NIR or agency id may appear once in the file and
 * must not be registered already.
 *
 * Issues carry the physical line (header = 1) and the column, never the value (DESIGN.md section 12).
 * By default one invalid row refuses the whole file; with skipInvalid the valid rows are imported and
 * the others written to a rejects file with `line` and `errors` columns, every cell neutralised
 * against formula injection (DESIGN.md section 13). The rows are written in one transaction.
 */
import { randomUUID } from 'node:crypto';
import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import { parse } from 'csv-parse/sync';
import { stringify } from 'csv-stringify/sync';
import { systemCtx } from '../context.ts';
import { type BlindIndexKind, blindIndex } from '../crypto/blind-index.ts';
import type { Db, Tx } from '../db/types.ts';
import { AppError, type FieldIssue } from '../errors.ts';
import { asBuffer, byteaArray } from './columns.ts';
import { checkHeader, checkRow, type ImportColumn, neutraliseCell } from './import-row.ts';
import { organisationsByCode } from './organisations.ts';
import type { PersonEntry } from './person.ts';
import { findPersonIds, insertPersonBatch, type RegistryKeys, sealPersons } from './persons.ts';

export { IMPORT_COLUMNS, neutraliseCell, REQUIRED_COLUMNS } from './import-row.ts';

export interface ImportOptions {
  /** Import the valid rows and write the others to a rejects file, instead of refusing the file. */
  skipInvalid?: boolean;
  /** Where to write the rejects; default `<file without .csv>.rejects.csv` next to the input. */
  rejectsPath?: string;
  /** Today's date (YYYY-MM-DD) from the clock: no date in the file may be later. */
  today: string;
  onProgress?: (done: number, total: number) => void;
}

export interface ImportSummary {
  rows: number;
  imported: number;
  rejected: number;
  rejectsFile: string | null;
  /** Every issue found, sorted by line, each with its line. */
  issues: FieldIssue[];
  seconds: number;
}

/** Persons sealed and written per statement. */
export const IMPORT_BATCH = 1000;

interface Row {
  line: number;
  cells: string[];
}

/** Imports the persons of a CSV file (format above) in one transaction; see ImportOptions. */
export async function importPersons(
  db: Db,
  keys: RegistryKeys,
  file: string,
  options: ImportOptions,
): Promise<ImportSummary> {
  const started = performance.now();
  const { header, rows } = await readRows(file);
  const { columns, issues: headerIssues } = checkHeader(header);
  if (headerIssues.length > 0) {
    throw new AppError('import_rejected', 'the header is invalid; nothing was imported', {
      issues: headerIssues,
    });
  }
  const rejectsFile = options.rejectsPath ?? `${file.replace(/\.csv$/i, '')}.rejects.csv`;
  const pending = `${rejectsFile}.${randomUUID()}.tmp`;

  const summary = await db
    .tx(systemCtx('import').actor, async (tx) => {
      const organisations = await organisationsByCode(tx);
      const issuesOf = new Map<number, FieldIssue[]>(rows.map((r) => [r.line, []]));
      const valid: { line: number; person: Omit<PersonEntry, 'id'> }[] = [];
      const firstLine = { nir: new Map<string, number>(), agency_id: new Map<string, number>() };
      for (const { line, cells } of rows) {
        const found = issuesOf.get(line)!;
        if (cells.length !== columns.length) {
          found.push({
            field: 'row',
            message: `has ${cells.length} columns, the header has ${columns.length}`,
          });
          continue;
        }
        const byName = Object.fromEntries(columns.map((c, i) => [c, cells[i]])) as Record<
          ImportColumn,
          string
        >;
        const row = checkRow(byName, options.today, organisations);
        found.push(...row.issues);
        for (const [field, value] of [
          ['nir', row.identity.nir],
          ['agency_id', row.identity.agencyId],
        ] as const) {
          if (row.issues.some((i) => i.field === field)) continue;
          const first = firstLine[field].get(value);
          if (first === undefined) firstLine[field].set(value, line);
          else found.push({ field, message: `is the same as on line ${first}` });
        }
        if (row.person) valid.push({ line, person: row.person });
      }
      for (const field of ['nir', 'agency_id'] as const) {
        for (const value of await alreadyRegistered(tx, keys, field, [...firstLine[field].keys()])) {
          issuesOf.get(firstLine[field].get(value)!)!.push({ field, message: 'is already registered' });
        }
      }

      const issues = [...issuesOf].flatMap(([line, list]) => list.map((i) => ({ line, ...i })));
      const rejected = rows.filter((r) => issuesOf.get(r.line)!.length > 0);
      if (rejected.length > 0 && !options.skipInvalid) {
        const message = `${rejected.length} of ${rows.length} rows are invalid; nothing was imported`;
        throw new AppError('import_rejected', message, { issues });
      }
      const good = valid.filter((v) => issuesOf.get(v.line)!.length === 0).map((v) => v.person);
      if (rejected.length > 0) await writeRejects(pending, columns, rejected, issuesOf);
      for (let done = 0; done < good.length; done += IMPORT_BATCH) {
        const chunk = good
          .slice(done, done + IMPORT_BATCH)
          .map((p): PersonEntry => ({ id: randomUUID(), ...p }));
        const batch = sealPersons(keys.blindIndexKeyId, keys.blindIndex, chunk);
        const inserted = await insertPersonBatch(tx, keys.kms, batch);
        // A person registered by someone else since the check above: roll the whole import back.
        if (inserted.size !== chunk.length) {
          throw new AppError(
            'conflict',
            'a person of the file was registered meanwhile; nothing was imported',
          );
        }
        options.onProgress?.(done + chunk.length, good.length);
      }
      return { rows: rows.length, imported: good.length, rejected: rejected.length, issues };
    })
    .catch(async (error: unknown) => {
      await rm(pending, { force: true });
      throw error;
    });

  // Renamed only once the transaction has committed: a rolled-back import leaves no rejects file.
  if (summary.rejected > 0) await rename(pending, rejectsFile);
  return {
    ...summary,
    rejectsFile: summary.rejected > 0 ? rejectsFile : null,
    seconds: Math.round(performance.now() - started) / 1000,
  };
}

/** Reads and parses the file into its header and its rows, each with the physical line it starts on. */
async function readRows(file: string): Promise<{ header: string[]; rows: Row[] }> {
  const bytes = await readFile(file);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes); // drops a byte-order mark
  } catch {
    const lossy = new TextDecoder('utf-8').decode(bytes);
    const line = 1 + (lossy.slice(0, lossy.indexOf('\uFFFD')).match(/\n/g)?.length ?? 0);
    throw rejectFile(line, 'file', 'is not UTF-8 text (save it as CSV UTF-8)');
  }
  let records: { record: string[]; raw: string }[];
  try {
    // With `raw`, csv-parse returns { record, raw } objects; its types do not model the option.
    const options = { raw: true, relax_column_count: true, skip_empty_lines: true };
    records = parse(text.replace(/\r\n/g, '\n'), options) as unknown as typeof records;
  } catch (error) {
    // csv-parse's own message quotes the text around the fault, which may be personal data.
    const line = (error as { lines?: number }).lines ?? 1;
    throw rejectFile(
      line,
      'row',
      'is not valid CSV: a quoted cell is not closed or has text after its closing quote',
    );
  }
  // Lines counted from the raw text of each record, since a quoted cell may span several lines.
  let newlines = 0;
  const rows = records.map(({ record, raw }): Row => {
    const line = 1 + newlines + (/^\n*/.exec(raw)?.[0].length ?? 0);
    newlines += raw.match(/\n/g)?.length ?? 0;
    return { line, cells: record };
  });
  const [first, ...rest] = rows;
  if (!first) throw rejectFile(1, 'header', 'is required');
  return { header: first.cells, rows: rest };
}

function rejectFile(line: number, field: string, message: string): AppError {
  return new AppError('import_rejected', `line ${line}, ${field}: ${message}; nothing was imported`, {
    issues: [{ line, field, message }],
  });
}

/**
 * The values already registered, among `values` (normalised NIRs or agency ids). One blind-index
 * query per batch finds the candidates; findPersonIds confirms each by decryption, as a truncated
 * HMAC may collide.
 */
async function alreadyRegistered(
  tx: Tx,
  keys: RegistryKeys,
  field: 'nir' | 'agency_id',
  values: readonly string[],
): Promise<string[]> {
  const kind: BlindIndexKind = field;
  const column = field === 'nir' ? 'nir_bi' : 'agency_id_bi';
  const found: string[] = [];
  for (let start = 0; start < values.length; start += IMPORT_BATCH) {
    const chunk = values.slice(start, start + IMPORT_BATCH);
    const hashes = chunk.map((value) => keys.allBlindIndexes.map((k) => blindIndex(k[kind], value)));
    const rows = await tx.query<{ bi: Uint8Array }>(
      `SELECT ${column} AS bi FROM persons WHERE ${column} = ANY($1::bytea[])`,
      [byteaArray(hashes.flat())],
    );
    const hits = new Set(rows.map((r) => asBuffer(r.bi).toString('hex')));
    for (const [i, value] of chunk.entries()) {
      if (!hashes[i]!.some((h) => hits.has(h.toString('hex')))) continue;
      const query =
        field === 'nir' ? { by: 'nir' as const, nir: value } : { by: 'agencyId' as const, agencyId: value };
      if ((await findPersonIds(tx, keys, query, 1)).length > 0) found.push(value);
    }
  }
  return found;
}

/** Writes the rejected rows, as read plus `line` and `errors`, every cell neutralised (section 13). */
async function writeRejects(
  path: string,
  columns: readonly string[],
  rejected: readonly Row[],
  issuesOf: ReadonlyMap<number, FieldIssue[]>,
): Promise<void> {
  const records = rejected.map(({ line, cells }) => [
    ...columns.map((_, i) => cells[i] ?? ''),
    String(line),
    issuesOf
      .get(line)!
      .map((i) => `${i.field}: ${i.message}`)
      .join('; '),
  ]);
  const text = stringify([[...columns, 'line', 'errors'], ...records].map((r) => r.map(neutraliseCell)));
  // The rejects hold personal data, as the input does: readable by the operator only.
  await writeFile(path, text, { mode: 0o600, flag: 'wx' });
}
