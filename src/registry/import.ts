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
import { findPersonIds, insertPersonBatch, type RegistryKeys } from './persons.ts';
import { inlineSealer, type Sealer, workerSealer } from './sealer.ts';

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
  /** CPU time of this process, every thread (the sealing worker's too), seconds. */
  cpuSeconds: number;
  /** Where the time went, in seconds: each step of the import (ImportSteps). */
  steps: ImportSteps;
}

/**
 * The import's time by step, seconds (docs/BENCHMARKS.md, "Issue 15"). The steps run in a pipeline:
 * read, check and wait are this thread's and add up to its time; the others overlap them.
 */
export interface ImportSteps {
  /** This thread reading and parsing the file. */
  read: number;
  /** This thread checking the rows (validation, duplicates within the file). */
  check: number;
  /** This thread waiting for the pipeline (the batches in flight, and the last ones at the end). */
  wait: number;
  /** The duplicate checks against the registry, from sent to answered (overlaps the others). */
  duplicates: number;
  /** Sealing, CPU time (in a worker thread from the second batch: overlaps). */
  seal: number;
  /** The writes, KMS wrap and database included (overlaps the reading and the sealing). */
  write: number;
}

/** Persons sealed and written per statement. */
export const IMPORT_BATCH = 1000;

/** Batches read ahead of the last one written: the pipeline's bound on memory. */
const IN_FLIGHT = 2;

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
  const cpuStarted = process.cpuUsage();
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
  // PGlite in this process runs its writes on this thread, so a worker thread gains little there
  // (about 13 % at 200,000 rows) and costs 30–45 MB, which the 1,000,000-row import cannot spare
  // under its 300 MB bound (docs/BENCHMARKS.md, "Issue 15: the bulk path"). On PostgreSQL,
  // or PGlite through a `rempart serve`, the database works in another process and sealing in a
  // worker thread runs beside it.
  const sealInWorker = db.kind === 'postgres' || db.servedBy !== undefined;
  const time = { loop: 0, check: 0, duplicates: 0, seal: 0, write: 0, wait: 0 };

  const summary = await db
    .tx(systemCtx('import').actor, async (tx) => {
      const organisations = await organisationsByCode(tx);
      const firstLine = { nir: new LineIndex(), agency_id: new LineIndex() };
      const issues: FieldIssue[] = [];
      let total = 0;
      let imported = 0;
      let rejected = 0;
      let batch: Checked[] = [];

      // The pipeline (docs/BENCHMARKS.md, "Issue 15"): a full batch's duplicate check is sent at
      // once (it queues on the connection behind the writes before it), its sealing runs in a
      // worker thread, and its write follows the previous batch's, while this thread reads and
      // checks the next rows. At most IN_FLIGHT batches wait, so memory stays bounded. Every step
      // is awaited before the transaction ends, and none sends a statement once the import has
      // failed: no write can outlive the transaction (all or nothing).
      let sealer: Sealer | undefined;
      let stopped = false;
      let ordered: Promise<unknown> = Promise.resolve();
      let writes: Promise<void> = Promise.resolve();
      const inFlight: Promise<void>[] = [];
      const guard = <T>(promise: Promise<T>): Promise<T> => {
        promise.catch(() => undefined); // awaited later, in order; no unhandled rejection meanwhile
        return promise;
      };

      const flush = async (): Promise<void> => {
        const mine = batch;
        batch = [];
        if (mine.length === 0) return;
        const t = performance.now();
        const known = guard(registeredAmong(tx, keys, firstLine, mine));
        // Issues, rejects and sealing in the order of the file (the rejects file keeps it).
        const prepared = guard(
          ordered.then(async () => {
            const registered = await known;
            time.duplicates += performance.now() - t;
            for (const field of ['nir', 'agency_id'] as const)
              for (const c of registered[field]) c.issues.push({ field, message: 'is already registered' });
            const good: PersonEntry[] = [];
            for (const c of mine) {
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
            // A refused file: keep reading to report every issue, but write nothing more.
            if ((rejected > 0 && !options.skipInvalid) || good.length === 0 || stopped) return undefined;
            // Small files seal here; from the second batch on, a worker thread seals, unless PGlite
            // runs in this process (see sealInWorker).
            sealer ??=
              sealInWorker && total > IMPORT_BATCH
                ? workerSealer(keys.blindIndexKeyId, keys.blindIndex)
                : inlineSealer(keys.blindIndexKeyId, keys.blindIndex);
            const sealed = guard(
              sealer.seal(good).then((done) => {
                time.seal += done.cpuMicros / 1000;
                return done.batch;
              }),
            );
            return { sealed, count: good.length }; // an object: the next batch need not wait for the sealing
          }),
        );
        ordered = prepared;
        writes = guard(
          writes.then(async () => {
            const ready = await prepared;
            if (!ready || stopped) return;
            const sealed = await ready.sealed;
            if (stopped || (rejected > 0 && !options.skipInvalid)) return;
            const w = performance.now();
            const inserted = await insertPersonBatch(tx, keys.kms, sealed);
            time.write += performance.now() - w;
            // A person registered by someone else since the check above: roll the whole import back.
            if (inserted.size !== ready.count) {
              throw new AppError(
                'conflict',
                'a person of the file was registered meanwhile; nothing was imported',
              );
            }
            imported += ready.count;
          }),
        );
        inFlight.push(writes);
        if (inFlight.length > IN_FLIGHT) {
          const w = performance.now();
          await inFlight.shift();
          time.wait += performance.now() - w;
        }
      };

      const loopStarted = performance.now();
      try {
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
        const w = performance.now();
        await writes;
        time.wait += performance.now() - w;
        time.loop = w - loopStarted;
      } catch (error) {
        // Nothing more is sent, and every step has settled, before the transaction rolls back.
        stopped = true;
        await Promise.allSettled([ordered, writes]);
        throw error;
      } finally {
        await sealer?.close();
      }
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
  const cpu = process.cpuUsage(cpuStarted);
  const s = (x: number): number => Math.round(x) / 1000;
  return {
    ...summary,
    rejectsFile: summary.rejected > 0 ? rejectsFile : null,
    seconds: s(ms),
    cpuSeconds: s((cpu.user + cpu.system) / 1000),
    steps: {
      read: s(time.loop - time.check - time.wait),
      check: s(time.check),
      wait: s(time.wait),
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
 * The rows of `batch` whose NIR or agency id (the first row of the file with it) is registered
 * already, by field.
 */
async function registeredAmong(
  tx: Tx,
  keys: RegistryKeys,
  firstLine: Record<'nir' | 'agency_id', LineIndex>,
  batch: readonly Checked[],
): Promise<Record<'nir' | 'agency_id', Checked[]>> {
  const found: Record<'nir' | 'agency_id', Checked[]> = { nir: [], agency_id: [] };
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
    found[field] = firsts.filter((c) => known.has(identifierOf(c.row!, field)));
  }
  return found;
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
