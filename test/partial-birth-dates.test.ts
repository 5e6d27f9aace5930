/**
 * Persons whose birth date civil status knows only in part (issue 17): imported from CSV in
 * the registry's form (1919-05-00, 1950-00-00), found by a counselor by NIR and by name + the date
 * typed as they know it ("1919-05", "1950"), and shown as stored; refused where the NIR's month code
 * contradicts it. Through `importPersons` and the HTTP API, on PGlite and PostgreSQL.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { stringify } from 'csv-stringify/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppError } from '../src/errors.ts';
import { IMPORT_COLUMNS, importPersons } from '../src/registry/import.ts';
import { buildNir } from '../src/registry/nir.ts';
import { engine } from './helpers/db.ts';
import { LENIENT_GUARD } from './helpers/guard.ts';
import { type RegistryWorld, registryWorld } from './helpers/registry.ts';
import type { StaffClient } from './helpers/staff.ts';

const TODAY = '2026-12-07';

describe(`partial birth dates (${engine})`, () => {
  let w: RegistryWorld;
  let counselor: StaffClient;
  let dir: string;
  let agencyCode: string;
  let seq = 0;

  const row = (over: Record<string, string>): Record<string, string> => {
    const n = ++seq;
    return {
      agency_id: `${String(9_000_000 + n)}P`,
      last_name: 'Lefèvre',
      birth_name: '',
      first_names: 'Marcel',
      sex: 'M',
      birth_commune_code: '75056',
      birth_country_code: '',
      birth_place_name: '',
      email: '',
      phone: '',
      address_line: '',
      postal_code: '',
      city: '',
      status: 'registered',
      agency_code: agencyCode,
      registered_on: '2024-03-01',
      deregistered_on: '',
      caseload_code: '',
      caseload_since: '',
      ...over,
    };
  };
  const nir = (year: number, month: number, department: string, commune: string): string =>
    buildNir({ sex: '1', birthYear: year, birthMonth: month, department, commune, order: 100 + seq });
  const importRows = async (rows: Record<string, string>[]) => {
    const file = path.join(dir, `persons-${++seq}.csv`);
    await writeFile(file, stringify(rows, { header: true, columns: [...IMPORT_COLUMNS] }));
    return importPersons(w.t.db, w.keys.registry, file, { today: TODAY });
  };
  const search = (body: Record<string, unknown>) =>
    counselor.request('POST', '/api/v1/persons/search', { purpose: 'accompaniment', ...body });

  const mayNineteen = { nir: '', birth_date: '1919-05-00', first_names: 'Marcel' };
  // Born in Tunis in 1950, month unknown: the NIR carries Tunisia's 96 (a birth before its
  // independence) and the unknown-month code 20.
  const fifty = { nir: '', birth_date: '1950-00-00', first_names: 'Habib', last_name: "Ben M'Barek" };

  beforeAll(async () => {
    w = await registryWorld(100, { guard: LENIENT_GUARD });
    counselor = (await w.staff('counselor', w.agency)).client;
    dir = await mkdtemp(path.join(tmpdir(), 'rempart-partial-'));
    const [org] = await w.t.driver.transaction((tx) =>
      tx.query<{ code: string }>('SELECT code FROM organisations WHERE id = $1', [w.agency]),
    );
    agencyCode = org!.code;
    mayNineteen.nir = nir(1919, 5, '75', '056');
    fifty.nir = nir(1950, 20, '96', '101');
    const summary = await importRows([
      row(mayNineteen),
      row({ ...fifty, birth_commune_code: '', birth_country_code: '99351', birth_place_name: 'Tunis' }),
    ]);
    expect(summary.imported).toBe(2);
  }, 120_000);
  afterAll(async () => {
    await w?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('a person born in Tunis in 1950, month unknown, is found by NIR and by name + "1950" typed without the apostrophe, shown with Tunisie', async () => {
    const byMonth = await search({
      by: 'nameBirth',
      lastName: 'LEFEVRE',
      firstName: 'marcel',
      birthDate: '1919-05',
    });
    expect(byMonth.statusCode).toBe(200);
    expect(byMonth.json().results).toHaveLength(1);
    const stored = await search({
      by: 'nameBirth',
      lastName: 'Lefèvre',
      firstName: 'Marcel',
      birthDate: '1919-05-00',
    });
    expect(stored.json().results.map((r: { id: string }) => r.id)).toEqual(
      byMonth.json().results.map((r: { id: string }) => r.id),
    );
    // Typed as heard on the phone: no apostrophe, no space.
    const byYear = await search({
      by: 'nameBirth',
      lastName: 'BENMBAREK',
      firstName: 'habib',
      birthDate: '1950',
    });
    expect(byYear.json().results).toHaveLength(1);
    const byNir = await search({ by: 'nir', nir: fifty.nir });
    expect(byNir.json().results.map((r: { id: string }) => r.id)).toEqual(
      byYear.json().results.map((r: { id: string }) => r.id),
    );
    // The record shows the date as civil status has it.
    const id = byYear.json().results[0].id as string;
    const view = await counselor.request('GET', `/api/v1/persons/${id}?purpose=accompaniment`);
    expect(view.statusCode).toBe(200);
    expect(view.json().person.birthDate).toBe('1950-00-00');
    expect(view.json().person.lastName).toBe("Ben M'Barek");
    expect(view.json().person.birthPlace).toEqual({
      countryCode: '99351',
      country: 'Tunisie',
      commune: 'Tunis',
    });
  });

  it('a partial date finds no one born on a given day of that month, nor a whole date a partial one', async () => {
    const day = await search({
      by: 'nameBirth',
      lastName: 'Lefèvre',
      firstName: 'Marcel',
      birthDate: '1919-05-14',
    });
    expect(day.statusCode).toBe(200);
    expect(day.json().results).toEqual([]);
    const otherMonth = await search({
      by: 'nameBirth',
      lastName: 'Lefèvre',
      firstName: 'Marcel',
      birthDate: '1919-06',
    });
    expect(otherMonth.json().results).toEqual([]);
  });

  it('refuses a typed date that is no date, naming the field', async () => {
    for (const birthDate of ['1919-13', '1950-00-12', '05/1919', '1919-02-31']) {
      const response = await search({ by: 'nameBirth', lastName: 'Lefèvre', firstName: 'Marcel', birthDate });
      expect(response.statusCode, birthDate).toBe(400);
      expect(response.json().field ?? response.json().errors?.[0]?.field, birthDate).toMatch(/birthDate/);
      expect(response.body).not.toContain(birthDate);
    }
  });

  it("refuses a month-unknown date whose NIR carries a month, and a NIR's month that the date contradicts", async () => {
    const refused = await importRows([
      row({ nir: nir(1935, 5, '75', '056'), birth_date: '1935-00-00' }),
      row({ nir: nir(1919, 6, '75', '056'), birth_date: '1919-05-00' }),
      row({ nir: nir(1919, 5, '75', '056'), birth_date: '1919-05-00', registered_on: '1919-05-20' }),
    ]).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(AppError);
    const issues = (refused as AppError).issues;
    expect(issues).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          line: 2,
          field: 'nir',
          message: 'birth month does not match the birth date',
        }),
        expect.objectContaining({
          line: 3,
          field: 'nir',
          message: 'birth month does not match the birth date',
        }),
        // registered on a day the person may not have been born yet (May 1919: up to the 31st)
        expect.objectContaining({ line: 4, field: 'registered_on', message: 'must be after birth_date' }),
      ]),
    );
    expect(JSON.stringify(issues)).not.toContain('1935-00-00');
  });
});
