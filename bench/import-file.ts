/**
 * Writes a CSV import file of `rows` valid, distinct persons (docs/IMPORT.md's columns) for the
 * import memory benchmark (docs/BENCHMARKS.md, "Import"), streaming, so the writer's own memory
 * does not grow with the file. Born in Paris 1900–2009, 999 orders per month and sex: up to
 * 2.6 million distinct NIRs. Usage: `npx node bench/import-file.ts FILE ROWS AGENCY_CODE [INVALID_EVERY]`.
 */
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { stringify } from 'csv-stringify/sync';
import { IMPORT_COLUMNS } from '../src/registry/import-row.ts';
import { buildNir } from '../src/registry/nir.ts';

/** Row `i` of the file: distinct NIR and agency id; every `invalidEvery`-th row has sex X. */
export function importRow(i: number, agencyCode: string, invalidEvery = 0): string[] {
  const order = (i % 999) + 1;
  const month = (Math.floor(i / 999) % 12) + 1;
  const female = Math.floor(i / (999 * 12)) % 2 === 1;
  const year = 1900 + (Math.floor(i / (999 * 24)) % 110);
  const sex = female ? 'F' : 'M';
  const nir = buildNir({
    sex: female ? '2' : '1',
    birthYear: year,
    birthMonth: month,
    department: '75',
    commune: '056',
    order,
  });
  const values: Record<string, string> = {
    agency_id: `${String(i).padStart(7, '0')}B`,
    nir,
    last_name: 'Martin',
    first_names: female ? 'Jeanne' : 'Jean',
    sex: invalidEvery > 0 && i % invalidEvery === 0 ? 'X' : sex,
    birth_date: `${year}-${String(month).padStart(2, '0')}-14`,
    birth_commune_code: '75056',
    email: `personne${i}@example.fr`,
    address_line: `${(i % 200) + 1} rue de la Paix`,
    postal_code: '75002',
    city: 'Paris',
    status: 'registered',
    agency_code: agencyCode,
    registered_on: '2024-01-15',
  };
  return IMPORT_COLUMNS.map((c) => values[c] ?? '');
}

/** Writes the file. */
export async function writeImportFile(
  file: string,
  rows: number,
  agencyCode: string,
  invalidEvery = 0,
): Promise<void> {
  const out = createWriteStream(file);
  out.write(stringify([[...IMPORT_COLUMNS]]));
  for (let i = 0; i < rows; i++) {
    if (!out.write(stringify([importRow(i, agencyCode, invalidEvery)]))) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
}

if (import.meta.main) {
  const [file, rows, agency, invalid] = process.argv.slice(2);
  if (!file || !rows || !agency)
    throw new Error('usage: bench/import-file.ts FILE ROWS AGENCY_CODE [INVALID_EVERY]');
  await writeImportFile(file, Number(rows), agency, Number(invalid ?? 0));
}
