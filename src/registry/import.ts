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
 * Issues carry the physical line (header = 1) and the column, never the value (docs/DESIGN.md section 12).
 * By default one invalid row refuses the whole file; with skipInvalid the valid rows are imported and
 * the others written to a rejects file with `line` and `errors` columns, every cell neutralised
 * against formula injection (docs/DESIGN.md section 13). The rows are written in one transaction.
 *
 * The file is streamed (import-read.ts): rows are validated and written batch by batch inside that
 * one transaction, which rolls back whole if any row is refused, so memory does not grow with the
 * file (docs/BENCHMARKS.md, "Import") and the import stays all or nothing.
 */

import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import type { WriteStream } from 'node:fs';
import { rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { finished } from 'node:stream/promises';
import { stringify } from 'csv-stringify/sync';
import { systemCtx } from '../context.ts';
import { type BlindIndexKind, blindIndex } from '../crypto/blind-index.ts';
import type { Db, Tx } from '../db/types.ts';
import { AppError, type FieldIssue } from '../errors.ts';
import { asBuffer, byteaArray } from './columns.ts';
import {
  checkImportPaths,
  clearTempFolder,
  moveIntoPlace,
  newTempFile,
  openTempFile,
} from './import-files.ts';
import { type Row, readRows, rejectFile } from './import-read.ts';
import { type CheckedRow, checkHeader, checkRow, type ImportColumn, neutraliseCell } from './import-row.ts';
import { agencyIdNumber, LineIndex, nirNumber } from './line-index.ts';
import { organisationsByCode } from './organisations.ts';
import type { PersonEntry } from './person.ts';
import { findPersonIds, insertPersonBatch, type RegistryKeys, sealPersons } from './persons.ts';

export { IMPORT_COLUMNS, neutraliseCell, REQUIRED_COLUMNS } from './import-row.ts';

export interface ImportOptions {
  /** Import the valid rows and write the others to a rejects file, instead of refusing the file. */
  skipInvalid?: boolean;
  /** Where to write the rejects; default `<file without .csv>.rejects.csv` next to the input. */
  rejectsPath?: string;
  /**
   * Rempart's own folder for the rejects until the import commits (owner only; `rempart import`
   * uses `<data folder>/import-tmp`); files left there by a killed import are removed at the start
   * of the next one. Default: `.rempart-import` beside the rejects file.
   */
  tempDir?: string;
  /** Today's date (YYYY-MM-DD) from the clock: no date in the file may be later. */
  today: string;
  /** Bytes of the file read so far, and its size (the rows are not counted before the end). */
  onProgress?: (done: number, total: number) => void;
}

export interface ImportSummary {
  rows: number;
  imported: number;
  rejected: number;
  rejectsFile: string | null;
  /** The issues found, sorted by line, each with its line (the first MAX_ISSUES of them). */
  issues: FieldIssue[];
  seconds: number;
  /** Where the time went, in seconds: each step of the import (ImportSteps). */
  steps: ImportSteps;
}

/**
 * The import's time by step, seconds (docs/BENCHMARKS.md, "Issue 15"): reading and parsing the
 * file (what is left of the total), checking each row, the duplicate checks against the registry,
 * sealing, and writing (the KMS wrap and the database's own time included).
 */
export interface ImportSteps {
  read: number;
  check: number;
  duplicates: number;
  seal: number;
  write: number;
}

/** Persons sealed and written per statement. */
export const IMPORT_BATCH = 1000;

/**
 * Rows read before the duplicate check reserves room for the rows the file's size suggests: bytes
 * read run a little ahead of rows parsed, so the guess errs low, and a low guess only grows later.
 */
const RESERVE_AFTER = 10_000;

/** Issues kept for the summary or the error: the count of rejected rows stays exact beyond them. */
export const MAX_ISSUES = 10_000;

interface Checked extends Row {
  row: CheckedRow | undefined;
  issues: FieldIssue[];
}

/** Imports the persons of a CSV file (format above) in one transaction; see ImportOptions. */
export async function importPersons(
  db: Db,
  keys: RegistryKeys,
  file: string,
  options: ImportOptions,
): Promise<ImportSummary> {
  const started = performance.now();
  const rejectsFile = options.rejectsPath ?? `${file.replace(/\.csv$/i, '')}.rejects.csv`;
  await checkImportPaths(file, options.skipInvalid || options.rejectsPath ? rejectsFile : undefined);
  const size = (await stat(file)).size;
  let read = 0;
  const rows = readRows(file, (n) => {
    read += n;
    options.onProgress?.(read, size);
  });
  const first = await rows.next();
  if (first.done) throw rejectFile(1, 'header', 'is required');
  const { columns, issues: headerIssues } = checkHeader(first.value.cells);
  if (headerIssues.length > 0) {
    await rows.return(undefined);
    throw new AppError('import_rejected', 'the header is invalid; nothing was imported', {
      issues: headerIssues,
    });
  }
  const tempDir = options.tempDir ?? path.join(path.dirname(path.resolve(rejectsFile)), '.rempart-import');
  await clearTempFolder(tempDir);
  const pending = options.skipInvalid ? await newTempFile(tempDir) : undefined;
  let rejects: WriteStream | undefined;
  const time = { check: 0, duplicates: 0, seal: 0, write: 0 };

  const summary = await db
    .tx(systemCtx('import').actor, async (tx) => {
      const organisations = await organisationsByCode(tx);
      const firstLine = { nir: new LineIndex(), agency_id: new LineIndex() };
      const issues: FieldIssue[] = [];
      let total = 0;
      let imported = 0;
      let rejected = 0;
      let batch: Checked[] = [];

      const flush = async (): Promise<void> => {
        let t = performance.now();
        for (const field of ['nir', 'agency_id'] as const) {
          const firsts = batch.filter((c) => c.row && firstLine[field].get(keyOf(c.row, field)) === c.line);
          const known = new Set(
            await alreadyRegistered(
              tx,
              keys,
              field,
              firsts.map((c) => identifierOf(c.row!, field)),
            ),
          );
          for (const c of firsts)
            if (known.has(identifierOf(c.row!, field)))
              c.issues.push({ field, message: 'is already registered' });
        }
        const good: PersonEntry[] = [];
        time.duplicates += performance.now() - t;
        for (const c of batch) {
          if (c.issues.length === 0 && c.row?.person) {
            good.push({ id: randomUUID(), ...c.row.person });
            continue;
          }
          rejected++;
          for (const issue of c.issues)
            if (issues.length < MAX_ISSUES) issues.push({ line: c.line, ...issue });
          if (pending && options.skipInvalid) {
            rejects ??= openTempFile(pending);
            if (rejected === 1) await write(rejects, csvLine([...columns, 'line', 'errors']));
            await write(rejects, csvLine(rejectRecord(columns, c)));
          }
        }
        batch = [];
        // A refused file: keep reading to report every issue, but write nothing more.
        if (rejected > 0 && !options.skipInvalid) return;
        if (good.length === 0) return;
        t = performance.now();
        const sealed = sealPersons(keys.blindIndexKeyId, keys.blindIndex, good);
        time.seal += performance.now() - t;
        t = performance.now();
        const inserted = await insertPersonBatch(tx, keys.kms, sealed);
        time.write += performance.now() - t;
        // A person registered by someone else since the check above: roll the whole import back.
        if (inserted.size !== good.length) {
          throw new AppError(
            'conflict',
            'a person of the file was registered meanwhile; nothing was imported',
          );
        }
        imported += good.length;
      };

      for await (const { line, cells } of rows) {
        total++;
        const t = performance.now();
        const checked: Checked = { line, cells, row: undefined, issues: [] };
        if (cells.length !== columns.length) {
          checked.issues.push({
            field: 'row',
            message: `has ${cells.length} columns, the header has ${columns.length}`,
          });
        } else {
          const byName = Object.fromEntries(columns.map((c, i) => [c, cells[i]])) as Record<
            ImportColumn,
            string
          >;
          const row = checkRow(byName, options.today, organisations);
          checked.row = row;
          checked.issues.push(...row.issues);
          for (const field of ['nir', 'agency_id'] as const) {
            if (row.issues.some((i) => i.field === field)) continue;
            const seen = firstLine[field].get(keyOf(row, field));
            if (seen === undefined) firstLine[field].set(keyOf(row, field), line);
            else checked.issues.push({ field, message: `is the same as on line ${seen}` });
          }
        }
        batch.push(checked);
        time.check += performance.now() - t;
        // Once the rows' length is known, the duplicate check makes room for the whole file.
        if (total === RESERVE_AFTER) {
          const expected = Math.ceil((size / read) * total);
          for (const field of ['nir', 'agency_id'] as const) firstLine[field].reserve(expected);
        }
        if (batch.length >= IMPORT_BATCH) await flush();
      }
      await flush();
      if (rejected > 0 && !options.skipInvalid) {
        throw new AppError(
          'import_rejected',
          `${rejected} of ${total} rows are invalid; nothing was imported`,
          {
            issues,
          },
        );
      }
      if (rejects) await finished(rejects.end());
      return { rows: total, imported, rejected, issues };
    })
    .catch(async (error: unknown) => {
      // Let pending writes settle (a destroyed stream would fail them with no one listening).
      if (rejects && !rejects.writableFinished) await finished(rejects.end()).catch(() => undefined);
      await rows.return(undefined);
      if (pending) await rm(pending, { force: true });
      throw error;
    });

  // Moved only once the transaction has committed: a rolled-back import leaves no rejects file.
  if (summary.rejected > 0 && pending) await moveIntoPlace(pending, rejectsFile);
  const ms = performance.now() - started;
  const s = (x: number): number => Math.round(x) / 1000;
  return {
    ...summary,
    rejectsFile: summary.rejected > 0 ? rejectsFile : null,
    seconds: s(ms),
    steps: {
      read: s(ms - time.check - time.duplicates - time.seal - time.write),
      check: s(time.check),
      duplicates: s(time.duplicates),
      seal: s(time.seal),
      write: s(time.write),
    },
  };
}

/** The exact numeric key of a row's valid NIR or agency id, for the duplicate check. */
function keyOf(row: CheckedRow, field: 'nir' | 'agency_id'): number {
  return field === 'nir' ? nirNumber(row.identity.nir) : agencyIdNumber(row.identity.agencyId);
}

function identifierOf(row: CheckedRow, field: 'nir' | 'agency_id'): string {
  return field === 'nir' ? row.identity.nir : row.identity.agencyId;
}

/** Writes with back-pressure, so the rejects never pile up in memory. */
async function write(stream: WriteStream, text: string): Promise<void> {
  if (!stream.write(text)) await once(stream, 'drain');
}

function csvLine(record: string[]): string {
  return stringify([record.map(neutraliseCell)]);
}

/** A rejected row as read, plus `line` and `errors` (neutralised by csvLine, section 13). */
function rejectRecord(columns: readonly string[], c: Checked): string[] {
  return [
    ...columns.map((_, i) => c.cells[i] ?? ''),
    String(c.line),
    c.issues.map((i) => `${i.field}: ${i.message}`).join('; '),
  ];
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
    // archived persons are on file too: their indexes are in the archive (migration 0025)
    const rows = await tx.query<{ bi: Uint8Array }>(
      `SELECT ${column} AS bi FROM persons WHERE ${column} = ANY($1::bytea[])
       UNION ALL SELECT ${column} AS bi FROM person_archive WHERE ${column} = ANY($1::bytea[])`,
      [byteaArray(hashes.flat())],
    );
    const hits = new Set(rows.map((r) => asBuffer(r.bi).toString('hex')));
    for (const [i, value] of chunk.entries()) {
      if (!hashes[i]!.some((h) => hits.has(h.toString('hex')))) continue;
      const query =
        field === 'nir' ? { by: 'nir' as const, nir: value } : { by: 'agencyId' as const, agencyId: value };
      if ((await findPersonIds(tx, keys, query, 1, { archive: true })).length > 0) found.push(value);
    }
  }
  return found;
}
