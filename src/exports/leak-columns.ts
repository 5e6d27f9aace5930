/**
 * Reading a leaked CSV without trusting its header (docs/EXPORTS.md, "Tracing a leak"): the file's
 * records, its identifying columns recognised by their values (NIR, agency id, names + birth date),
 * their blind indexes under every registry key, and what those reach in `persons` and
 * `export_canaries`. trace.ts decides what the evidence names.
 */
import { parse } from 'csv-parse/sync';
import { blindIndex } from '../crypto/blind-index.ts';
import type { Tx } from '../db/types.ts';
import { ValidationError } from '../errors.ts';
import { isBirthDate } from '../registry/birth-date.ts';
import { byteaArray } from '../registry/columns.ts';
import { parseNir } from '../registry/nir.ts';
import { legacyNameBirthKey, nameBirthKey } from '../registry/normalise.ts';
import type { RegistryKeys } from '../registry/persons.ts';

const AGENCY_ID = /^\d{7}[A-Z]$/;

/** The identifying columns of a file, by index (null: none). */
export interface LeakColumns {
  nir: number | null;
  agencyId: number | null;
  nameBirth: [number, number, number] | null;
}

/** True for an agency id (7 digits and a letter). */
export const isAgencyId = (value: string): boolean => AGENCY_ID.test(value);

/** Reads the file's records (comma or semicolon, header row kept as a row: it is not trusted). */
export function records(text: string): string[][] {
  const firstLine = text.slice(0, text.indexOf('\n') < 0 ? text.length : text.indexOf('\n'));
  const delimiter = firstLine.split(';').length > firstLine.split(',').length ? ';' : ',';
  try {
    return parse(text.replace(/^\uFEFF/, ''), {
      delimiter,
      relax_column_count: true,
      skip_empty_lines: true,
    });
  } catch {
    throw new ValidationError([{ field: 'csv', message: 'is not a readable CSV file' }]);
  }
}

/** A cell as written by the export (a spreadsheet-neutralising quote removed), trimmed. */
export const clean = (cell: string | undefined): string => (cell ?? '').trim().replace(/^'/, '');

/** The cell as a valid NIR (spaces removed), or null. */
export function nirOf(cell: string): string | null {
  try {
    return parseNir(cell.replace(/\s/g, '')).value;
  } catch {
    return null;
  }
}

/** The column (index) whose values mostly pass `test`, or null. */
export function columnWhere(
  rows: string[][],
  width: number,
  test: (v: string) => boolean,
  skip: Set<number>,
): number | null {
  let best: number | null = null;
  let bestHits = 0;
  for (let c = 0; c < width; c++) {
    if (skip.has(c)) continue;
    const values = rows.map((r) => clean(r[c])).filter((v) => v !== '');
    const hits = values.filter(test).length;
    if (values.length > 0 && hits / values.length >= 0.8 && hits > bestHits) {
      best = c;
      bestHits = hits;
    }
  }
  return best;
}

/** A file's blind indexes, by kind. */
export interface Indexes {
  nir: Buffer[];
  agencyId: Buffer[];
  nameBirth: Buffer[];
}

/** The blind indexes of every identifying value in the rows, under every registry key. */
export function indexesOf(keys: RegistryKeys, rows: string[][], columns: LeakColumns): Indexes {
  const out: Indexes = { nir: [], agencyId: [], nameBirth: [] };
  for (const k of keys.allBlindIndexes) {
    for (const row of rows) {
      if (columns.nir !== null) {
        const nir = nirOf(clean(row[columns.nir]));
        if (nir) out.nir.push(blindIndex(k.nir, nir));
      }
      if (columns.agencyId !== null) {
        const id = clean(row[columns.agencyId]);
        if (AGENCY_ID.test(id)) out.agencyId.push(blindIndex(k.agency_id, id));
      }
      if (columns.nameBirth !== null) {
        const [last, first, date] = columns.nameBirth.map((c) => clean(row[c]));
        if (last && first && date && isBirthDate(date)) {
          const key = nameBirthKey(last, first, date);
          out.nameBirth.push(blindIndex(k.name_birth, key));
          // Canaries recorded before migration 0029, and persons not yet reindexed, hold the
          // version-1 key: a leaked file is traced through either (docs/ARCHITECTURE.md, "Name keys").
          const legacy = legacyNameBirthKey(last, first, date);
          if (legacy !== key) out.nameBirth.push(blindIndex(k.name_birth, legacy));
        }
      }
    }
  }
  return out;
}

/** Persons and canaries (by export) that these indexes reach. */
export async function lookup(
  tx: Tx,
  ix: Indexes,
): Promise<{ persons: string[]; canaries: Map<string, number> }> {
  const params = [byteaArray(ix.nir), byteaArray(ix.agencyId), byteaArray(ix.nameBirth)];
  const persons = await tx.query<{ id: string }>(
    `SELECT id FROM persons WHERE nir_bi = ANY($1::bytea[]) OR agency_id_bi = ANY($2::bytea[])
       OR name_birth_bi = ANY($3::bytea[]) OR birth_name_birth_bi = ANY($3::bytea[])`,
    params,
  );
  const canaries = await tx.query<{ export_id: string; n: number }>(
    `SELECT export_id, count(*)::int AS n FROM export_canaries
     WHERE nir_bi = ANY($1::bytea[]) OR agency_id_bi = ANY($2::bytea[]) OR name_birth_bi = ANY($3::bytea[])
     GROUP BY export_id`,
    params,
  );
  return { persons: persons.map((p) => p.id), canaries: new Map(canaries.map((c) => [c.export_id, c.n])) };
}

/**
 * Recognises the name + birth date columns: the date column and the ordered pair of text columns
 * whose keys reach the most persons or canaries, on the first rows.
 */
export async function nameBirthColumns(
  tx: Tx,
  keys: RegistryKeys,
  rows: string[][],
  width: number,
  skip: Set<number>,
): Promise<[number, number, number] | null> {
  const date = columnWhere(rows, width, isBirthDate, skip);
  if (date === null) return null;
  const text = [...Array(width).keys()].filter(
    (c) => c !== date && !skip.has(c) && rows.some((r) => /\p{L}/u.test(clean(r[c]))),
  );
  const sample = rows.slice(0, 40);
  let best: [number, number, number] | null = null;
  let bestHits = 0;
  for (const a of text) {
    for (const b of text) {
      if (a === b) continue;
      const columns = { nir: null, agencyId: null, nameBirth: [a, b, date] as [number, number, number] };
      const found = await lookup(tx, indexesOf(keys, sample, columns));
      const hits = found.persons.length + [...found.canaries.values()].reduce((s, n) => s + n, 0);
      if (hits > bestHits) {
        best = columns.nameBirth;
        bestHits = hits;
      }
    }
  }
  return best;
}
