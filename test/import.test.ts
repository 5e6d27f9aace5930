/**
 * `rempart import` on a real database (PGlite, and PostgreSQL in CI) with real keys: a valid file is
 * imported and readable; each kind of bad row refuses the whole file, naming line and field but never
 * the value, and leaves the database unchanged (docs/DESIGN.md section 12); --skip-invalid writes the bad
 * rows to a rejects file where no cell can run as a formula (docs/DESIGN.md section 13).
 */
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parse } from 'csv-parse/sync';
import { stringify } from 'csv-stringify/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemCtx } from '../src/context.ts';
import { blindIndex } from '../src/crypto/blind-index.ts';
import { AppError } from '../src/errors.ts';
import { IMPORT_COLUMNS, type ImportOptions, importPersons, neutraliseCell } from '../src/registry/import.ts';
import { buildNir, nirKey, parseNir } from '../src/registry/nir.ts';
import { upsertOrganisations } from '../src/registry/organisations.ts';
import { findPersonIds, openIdentity } from '../src/registry/persons.ts';
import { engine, freshDb, type TestDb } from './helpers/db.ts';
import { freshKeys, type TestKeys } from './helpers/keys.ts';

type Row = Record<(typeof IMPORT_COLUMNS)[number], string>;
const TODAY = '2025-06-01';
const CONTROL = 'must not contain control characters (newline, tab, NUL, ESC…)';
const actor = systemCtx('test').actor;

let t: TestDb;
let keys: TestKeys;
let dir: string;
let seq = 0;
let registered: Row;
/** On file, in the archive (deregistered long ago): a new import of the same NIR is a duplicate too. */
let archivedRow: Row;

/** A valid row with a fresh NIR and agency id; born in Paris unless `place` says otherwise. */
function person(overrides: Partial<Row> = {}, place: 'paris' | 'ajaccio' | 'morocco' = 'paris'): Row {
  const n = ++seq;
  const female = overrides.sex === 'F';
  const year = place === 'ajaccio' ? 1990 : 1960 + Math.floor(n / 900);
  const places: Record<typeof place, [string, string]> = {
    paris: ['75', '056'],
    ajaccio: ['2A', '004'],
    morocco: ['99', '350'],
  };
  const [department, commune] = places[place];
  const nir = buildNir({
    sex: female ? '2' : '1',
    birthYear: year,
    birthMonth: 5,
    department,
    commune,
    order: (n % 900) + 1,
  });
  return {
    agency_id: `${String(n).padStart(7, '0')}A`,
    nir,
    last_name: 'Martin',
    birth_name: '',
    first_names: female ? 'Jeanne Marie' : 'Jean Paul',
    sex: 'M',
    birth_date: `${year}-05-14`,
    birth_commune_code: place === 'morocco' ? '' : `${department}${commune}`,
    birth_country_code: place === 'morocco' ? '99350' : '',
    birth_place_name: place === 'morocco' ? 'Casablanca' : '',
    email: `jean.martin${n}@example.fr`,
    phone: '06 12 34 56 78',
    address_line: '12 rue de la Paix',
    postal_code: '75002',
    city: 'Paris',
    status: 'registered',
    agency_code: 'FT-75056',
    registered_on: '2024-01-15',
    deregistered_on: '',
    caseload_code: '',
    caseload_since: '',
    ...overrides,
  };
}

function csv(rows: Row[]): string {
  return stringify(rows, { header: true, columns: [...IMPORT_COLUMNS] });
}

async function fileOf(text: string): Promise<string> {
  const file = path.join(dir, `import-${++seq}.csv`);
  await writeFile(file, text);
  return file;
}

/** A symbolic link to `file`, under another name. */
async function linkTo(file: string): Promise<string> {
  const link = path.join(dir, `link-${++seq}.csv`);
  await symlink(file, link);
  return link;
}

async function counts(): Promise<Record<string, number>> {
  const [row] = await t.db.tx(actor, (tx) =>
    tx.query<Record<string, number>>(
      `SELECT (SELECT count(*) FROM persons)::int AS persons, (SELECT count(*) FROM caseloads)::int AS caseloads,
        (SELECT count(*) FROM registration_periods)::int AS periods`,
    ),
  );
  return row!;
}

async function rejection(file: string, options: Partial<ImportOptions> = {}): Promise<AppError> {
  const error = await importPersons(t.db, keys.registry, file, { today: TODAY, ...options }).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(AppError);
  return error as AppError;
}

/** The persons registered under a NIR; none for a NIR that is not even valid. */
async function idOf(nir: string): Promise<string[]> {
  try {
    parseNir(nir);
  } catch {
    return [];
  }
  return t.db.tx(actor, (tx) => findPersonIds(tx, keys.registry, { by: 'nir', nir }));
}

beforeAll(async () => {
  t = await freshDb();
  keys = await freshKeys();
  dir = await mkdtemp(path.join(tmpdir(), 'rempart-import-'));
  await t.db.tx(actor, (tx) =>
    upsertOrganisations(tx, [
      { code: 'FT-DG', kind: 'national', name: 'France Travail', parentCode: null, department: null },
      {
        code: 'FT-75056',
        kind: 'agency',
        name: 'France Travail Paris',
        parentCode: 'FT-DG',
        department: '75',
      },
      { code: 'CE-75', kind: 'cap_emploi', name: 'Cap emploi Paris', parentCode: null, department: '75' },
    ]),
  );
  registered = person();
  archivedRow = person({
    status: 'archived',
    registered_on: '2001-02-01',
    deregistered_on: '2003-03-01',
    email: '',
  });
  await importPersons(t.db, keys.registry, await fileOf(csv([registered, archivedRow])), { today: TODAY });
});

afterAll(async () => {
  await t?.close();
  await keys?.cleanup();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe(`import on ${engine}`, () => {
  it('imports a valid file: every live person found by NIR and agency id, the archived one in the archive only, opened with the same values', async () => {
    const rows = [
      person({ caseload_code: 'CE-75', caseload_since: '2024-03-01', birth_name: 'Durand' }),
      person(
        { sex: 'F', status: 'deregistered', registered_on: '2020-01-01', deregistered_on: '2021-06-30' },
        'ajaccio',
      ),
      person(
        { status: 'candidate', registered_on: '', address_line: '', postal_code: '', city: '' },
        'morocco',
      ),
      person({ status: 'archived', registered_on: '2010-02-01', deregistered_on: '2012-03-01', email: '' }),
    ];
    const before = await counts();
    const progress: [number, number][] = [];
    const file = await fileOf(`\uFEFF${csv(rows)}`);
    const summary = await importPersons(t.db, keys.registry, file, {
      today: TODAY,
      onProgress: (done, total) => progress.push([done, total]),
    });
    expect(summary).toMatchObject({ rows: 4, imported: 4, rejected: 0, rejectsFile: null, issues: [] });
    // Progress counts the bytes read (the file is streamed; its rows are not counted beforehand).
    const size = (await stat(file)).size;
    expect(progress).toEqual([[size, size]]);
    expect(await counts()).toEqual({
      persons: before.persons! + 4,
      periods: before.periods! + 3,
      caseloads: before.caseloads! + 3,
    });

    const [paris, ajaccio, morocco, archived] = rows as [Row, Row, Row, Row];
    await t.db.tx(actor, async (tx) => {
      // the three live persons; the archived one is checked below (its indexes are in the archive)
      for (const row of [paris, ajaccio, morocco]) {
        const ids = await findPersonIds(tx, keys.registry, { by: 'nir', nir: row.nir });
        expect(ids).toHaveLength(1);
        expect(await findPersonIds(tx, keys.registry, { by: 'agencyId', agencyId: row.agency_id })).toEqual(
          ids,
        );
      }
      const [id] = await findPersonIds(tx, keys.registry, { by: 'nir', nir: paris.nir });
      expect(
        await openIdentity(tx, keys.registry, id!, ['nir', 'lastName', 'birthName', 'phone', 'address']),
      ).toEqual({
        nir: paris.nir,
        lastName: 'Martin',
        birthName: 'Durand',
        phone: '+33612345678',
        address: { line: '12 rue de la Paix', postalCode: '75002', city: 'Paris' },
      });
      const caseloads = await tx.query(
        `SELECT o.code, c.since::text, c.until::text FROM caseloads c JOIN organisations o ON o.id = c.organisation_id
         WHERE c.person_id = $1 ORDER BY o.code`,
        [id],
      );
      expect(caseloads).toEqual([
        { code: 'CE-75', since: '2024-03-01', until: null },
        { code: 'FT-75056', since: '2024-01-15', until: null },
      ]);
      const [ajaccioId] = await findPersonIds(tx, keys.registry, { by: 'nir', nir: ajaccio.nir });
      expect(
        await openIdentity(tx, keys.registry, ajaccioId!, ['sex', 'firstNames', 'birthDate', 'birthPlace']),
      ).toEqual({
        sex: 'F',
        firstNames: 'Jeanne Marie',
        birthDate: '1990-05-14',
        birthPlace: { communeCode: '2A004', commune: 'Ajaccio', department: '2A' },
      });
      const [moroccoId] = await findPersonIds(tx, keys.registry, { by: 'nir', nir: morocco.nir });
      expect(await openIdentity(tx, keys.registry, moroccoId!, ['birthPlace', 'email', 'address'])).toEqual({
        birthPlace: { countryCode: '99350', country: expect.any(String), commune: 'Casablanca' },
        email: morocco.email,
        address: null,
      });
      // an archived person is not in search's indexes: theirs are in the archive (migration 0025)
      expect(await findPersonIds(tx, keys.registry, { by: 'nir', nir: archived.nir })).toEqual([]);
      const [archivedId] = (
        await tx.query<{ person_id: string }>(
          'SELECT person_id FROM person_archive WHERE nir_bi = ANY($1::bytea[])',
          [keys.registry.allBlindIndexes.map((k) => blindIndex(k.nir, archived.nir))],
        )
      ).map((r) => r.person_id);
      const [facts] = await tx.query(
        `SELECT status, archived_on::text AS archived_on, nir_bi,
           (SELECT count(*)::int FROM caseloads WHERE person_id = $1) AS caseloads FROM persons WHERE id = $1`,
        [archivedId],
      );
      expect(facts).toEqual({ status: 'archived', archived_on: '2012-03-01', nir_bi: null, caseloads: 0 });
    });
  });

  it('imports persons born in Tunis, Algiers and Casablanca before independence with 96, 91 and 95 in their NIR, shown with their country', async () => {
    const bornIn = (department: string, country: string, place: string, birthDate: string): Row => {
      const n = ++seq;
      return person({
        agency_id: `${String(n).padStart(7, '0')}A`,
        nir: buildNir({
          sex: '1',
          birthYear: Number(birthDate.slice(0, 4)),
          birthMonth: Number(birthDate.slice(5, 7)),
          department,
          commune: '101',
          order: (n % 900) + 1,
        }),
        last_name: 'Ben Ammar',
        first_names: 'Youssef',
        birth_date: birthDate,
        birth_commune_code: '',
        birth_country_code: country,
        birth_place_name: place,
        // deregistered three months ago: still searchable (archived after 12 months, docs/RETENTION.md)
        status: 'deregistered',
        deregistered_on: '2025-03-01',
      });
    };
    const tunis = bornIn('96', '99351', 'Tunis', '1950-04-12');
    const algiers = bornIn('91', '99352', 'Alger', '1955-06-10');
    const casablanca = bornIn('95', '99350', 'Casablanca', '1952-11-03');
    const summary = await importPersons(
      t.db,
      keys.registry,
      await fileOf(csv([tunis, algiers, casablanca])),
      {
        today: TODAY,
      },
    );
    expect(summary).toMatchObject({ imported: 3 });
    await t.db.tx(actor, async (tx) => {
      for (const [row, country] of [
        [tunis, 'Tunisie'],
        [algiers, 'Algérie'],
        [casablanca, 'Maroc'],
      ] as const) {
        const [id] = await findPersonIds(tx, keys.registry, { by: 'nir', nir: row.nir });
        expect(await openIdentity(tx, keys.registry, id!, ['nir', 'birthDate', 'birthPlace'])).toEqual({
          nir: row.nir,
          birthDate: row.birth_date,
          birthPlace: { countryCode: row.birth_country_code, country, commune: row.birth_place_name },
        });
      }
    });
  });

  it("imports names with the version-2 key: N'Diaye found as NDIAYE, born Ødegaard as ODEGAARD; the spelling kept", async () => {
    const row = person({
      last_name: "N'Diaye",
      birth_name: 'Ødegaard',
      first_names: 'Aminata, Awa',
      sex: 'F',
    });
    await importPersons(t.db, keys.registry, await fileOf(csv([row])), { today: TODAY });
    await t.db.tx(actor, async (tx) => {
      const [id] = await findPersonIds(tx, keys.registry, { by: 'nir', nir: row.nir });
      const byName = (lastName: string, firstName = 'AMINATA') =>
        findPersonIds(tx, keys.registry, { by: 'nameBirth', lastName, firstName, birthDate: row.birth_date });
      expect(await byName('NDIAYE')).toEqual([id]);
      expect(await byName('n diaye')).toEqual([id]);
      expect(await byName('ODEGAARD')).toEqual([id]);
      expect(await byName('NDIAYE', 'Awa')).toEqual([]);
      const [stored] = await tx.query<{ name_key: number }>('SELECT name_key FROM persons WHERE id = $1', [
        id,
      ]);
      expect(stored!.name_key).toBe(2);
      const identity = await openIdentity(tx, keys.registry, id!, ['lastName', 'birthName']);
      expect(identity).toEqual({ lastName: "N'Diaye", birthName: 'Ødegaard' });
    });
  });

  it('streams 1,500 rows in batches of 1,000, in one transaction', async () => {
    const rows = Array.from({ length: 1500 }, () => person());
    const before = await counts();
    const progress: [number, number][] = [];
    const file = await fileOf(csv(rows));
    const summary = await importPersons(t.db, keys.registry, file, {
      today: TODAY,
      onProgress: (done, total) => progress.push([done, total]),
    });
    expect(summary).toMatchObject({ rows: 1500, imported: 1500, rejected: 0 });
    // Read in several chunks, in order, up to the whole file.
    const size = (await stat(file)).size;
    expect(progress.length).toBeGreaterThan(1);
    expect(progress.map(([done]) => done)).toEqual([...progress.map(([done]) => done)].sort((a, b) => a - b));
    expect(progress.at(-1)).toEqual([size, size]);
    expect((await counts()).persons).toBe(before.persons! + 1500);
    expect(await idOf(rows[1499]!.nir)).toHaveLength(1);
  });

  // The batches are written in a pipeline (sealing in a worker thread, writes sent while the next
  // rows are read): a failure after several batches were sent must still leave nothing behind.
  it.each([
    { name: 'an invalid row', edit: (l: string) => l.replace(/,(M|F),/, ',X,') },
    { name: 'a quoted cell never closed', edit: (l: string) => `${l},"unclosed` },
  ])('rolls back 3,500 rows whole when $name comes after three batches were sent', async ({ edit }) => {
    const rows = Array.from({ length: 3500 }, () => person());
    const before = await counts();
    const lines = csv(rows).split('\n');
    lines[3400] = edit(lines[3400]!);
    const error = await importPersons(t.db, keys.registry, await fileOf(lines.join('\n')), {
      today: TODAY,
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AppError);
    expect((error as AppError).message).toMatch(/nothing was imported/);
    expect(await counts()).toEqual(before);
    expect(await idOf(rows[0]!.nir)).toHaveLength(0);
  });

  const wrongNir = (department: string): string => {
    const body = `18505${department}056001`;
    return body + nirKey(body);
  };
  const cases: {
    name: string;
    line: number;
    field: string;
    rows: () => Row[];
    edit?: (text: string) => string;
  }[] = [
    {
      name: 'a row with a missing column',
      line: 3,
      field: 'row',
      rows: () => [person(), person(), person()],
      edit: (text) =>
        text
          .split('\n')
          .map((l, i) => (i === 2 ? l.replace(/,[^,]*$/, '') : l))
          .join('\n'),
    },
    {
      name: 'a NIR whose control key does not match',
      line: 3,
      field: 'nir',
      rows: () => {
        const bad = person();
        const key = (Number(bad.nir.slice(13)) % 97) + 1;
        return [person(), { ...bad, nir: bad.nir.slice(0, 13) + String(key).padStart(2, '0') }];
      },
    },
    {
      name: 'a NIR with department 96',
      line: 2,
      field: 'nir',
      rows: () => [person({ nir: wrongNir('96') }), person()],
    },
    {
      name: 'a NIR with department 96 for a birth in Paris in 1950',
      line: 2,
      field: 'nir',
      rows: () => [
        person({
          nir: buildNir({
            sex: '1',
            birthYear: 1950,
            birthMonth: 5,
            department: '96',
            commune: '101',
            order: 7,
          }),
          birth_date: '1950-05-14',
        }),
      ],
    },
    {
      name: 'a NIR with department 96 for a birth in Tunisia after its independence',
      line: 2,
      field: 'nir',
      rows: () => [
        person({
          nir: buildNir({
            sex: '1',
            birthYear: 1956,
            birthMonth: 3,
            department: '96',
            commune: '101',
            order: 7,
          }),
          birth_date: '1956-03-25',
          birth_commune_code: '',
          birth_country_code: '99351',
          birth_place_name: 'Tunis',
        }),
      ],
    },
    {
      name: 'a birth country code INSEE does not know',
      line: 3,
      field: 'birth_country_code',
      rows: () => [person(), person({ birth_commune_code: '', birth_country_code: '99999' })],
    },
    {
      name: 'a NIR with department 00',
      line: 3,
      field: 'nir',
      rows: () => [person(), person({ nir: wrongNir('00') })],
    },
    {
      name: 'a birth date in the future',
      line: 2,
      field: 'birth_date',
      rows: () => [person({ birth_date: '2031-05-14' })],
    },
    {
      name: 'a bad email',
      line: 3,
      field: 'email',
      rows: () => [person(), person({ email: 'jean.martin@@example.fr' })],
    },
    {
      name: 'an unknown agency_code',
      line: 2,
      field: 'agency_code',
      rows: () => [person({ agency_code: 'FT-99999' })],
    },
    {
      name: 'an agency that is a partner',
      line: 2,
      field: 'agency_code',
      rows: () => [person({ agency_code: 'CE-75' })],
    },
    {
      name: 'a NIR inconsistent with the sex',
      line: 2,
      field: 'nir',
      rows: () => [{ ...person(), sex: 'F' }, person()],
    },
    {
      name: 'a NIR twice in the file',
      line: 4,
      field: 'nir',
      rows: () => {
        const first = person();
        return [person(), first, { ...person(), nir: first.nir }];
      },
    },
    {
      name: 'an agency id twice in the file',
      line: 3,
      field: 'agency_id',
      rows: () => {
        const first = person();
        return [first, { ...person(), agency_id: first.agency_id }];
      },
    },
    {
      name: 'a NIR already registered',
      line: 3,
      field: 'nir',
      rows: () => [person(), { ...person(), nir: registered.nir }],
    },
    {
      name: 'an agency id already registered',
      line: 2,
      field: 'agency_id',
      rows: () => [{ ...person(), agency_id: registered.agency_id }],
    },
    {
      name: 'the NIR of an archived person',
      line: 2,
      field: 'nir',
      rows: () => [{ ...person(), nir: archivedRow.nir }],
    },
    {
      name: 'the agency id of an archived person',
      line: 3,
      field: 'agency_id',
      rows: () => [person(), { ...person(), agency_id: archivedRow.agency_id }],
    },
    {
      name: 'a deregistration date for a registered person',
      line: 2,
      field: 'deregistered_on',
      rows: () => [person({ deregistered_on: '2024-02-01' })],
    },
    {
      name: 'a deregistration before the registration',
      line: 2,
      field: 'deregistered_on',
      rows: () => [person({ status: 'deregistered', deregistered_on: '2023-02-01' })],
    },
    {
      name: 'a caseload organisation that is an agency',
      line: 2,
      field: 'caseload_code',
      rows: () => [person({ caseload_code: 'FT-75056', caseload_since: '2024-02-01' })],
    },
  ];

  it.each(cases)('refuses $name: line $line, field $field, database unchanged', async (c) => {
    const rows = c.rows();
    const text = csv(rows);
    const before = await counts();
    const error = await rejection(await fileOf(c.edit ? c.edit(text) : text));
    expect(error.code).toBe('import_rejected');
    expect(error.message).toBe(`1 of ${rows.length} rows are invalid; nothing was imported`);
    expect(error.issues).toContainEqual(expect.objectContaining({ line: c.line, field: c.field }));
    expect(error.issues.every((i) => i.line === c.line)).toBe(true);
    if (c.name.endsWith('twice in the file'))
      expect(error.issues[0]!.message).toContain(`line ${c.line - 1}`);
    // No value of the file reaches the error: only line numbers, column names and what is wrong.
    const said = error.message + JSON.stringify(error.issues);
    for (const row of rows) {
      for (const column of ['nir', 'agency_id', 'email', 'birth_date'] as const)
        expect(said).not.toContain(row[column]);
    }
    expect(await counts()).toEqual(before);
    for (const row of rows) if (row.nir !== registered.nir) expect(await idOf(row.nir)).toEqual([]);
  });

  it('reports physical line numbers: BOM, CRLF, a quoted cell over two lines, a blank line', async () => {
    const rows = [
      person({ address_line: '12 rue de la Paix\nBâtiment B' }),
      person({ email: 'not-an-email' }),
    ];
    // Line 1 header, lines 2-3 the first row, line 4 blank, line 5 the second row.
    const text = `${csv(rows.slice(0, 1))}\n${stringify(rows.slice(1))}`.replace(/\n/g, '\r\n');
    const error = await rejection(await fileOf(`\uFEFF${text}`));
    expect(error.issues).toEqual([
      // A newline inside a cell is a control character: refused (src/control-characters.ts).
      { line: 2, field: 'address_line', message: CONTROL },
      { line: 5, field: 'email', message: 'is not an email address' },
    ]);
  });

  it('refuses a file whose header has an unknown column, even with skipInvalid', async () => {
    const row = person();
    const text = stringify([{ ...row, salary: '2000' }], {
      header: true,
      columns: [...IMPORT_COLUMNS, 'salary'],
    });
    const before = await counts();
    const error = await rejection(await fileOf(text), { skipInvalid: true });
    expect(error.code).toBe('import_rejected');
    // An unknown header cell is named by its position: it may be a value (a file without a header).
    expect(error.issues).toEqual([
      { line: 1, field: `column ${IMPORT_COLUMNS.length + 1}`, message: 'is not a known column' },
    ]);
    expect(await counts()).toEqual(before);
    expect(await idOf(row.nir)).toEqual([]);
  });

  it('refuses a file without a header, without echoing the first row as column names', async () => {
    const row = person();
    const error = await rejection(await fileOf(stringify([row, person()])));
    expect(error.issues).toContainEqual({ line: 1, field: 'nir', message: 'is a required column' });
    const said = (error.message + JSON.stringify(error.issues)).toLowerCase();
    for (const value of Object.values(row).filter((v) => v.length > 1))
      expect(said).not.toContain(value.toLowerCase());
  });

  it('with skipInvalid, imports the good rows and writes the bad ones, neutralised, to a rejects file', async () => {
    const formula = `=cmd|' /C calc'!A0`;
    const good = [person(), person()];
    const badKey = person();
    const bad = [
      person({ email: formula, phone: '+33 6 12 34 56 78' }),
      { ...badKey, nir: badKey.nir.slice(0, 13) + (badKey.nir.endsWith('01') ? '02' : '01') },
    ];
    const file = await fileOf(csv([good[0]!, bad[0]!, good[1]!, bad[1]!]));
    const before = await counts();
    const summary = await importPersons(t.db, keys.registry, file, { today: TODAY, skipInvalid: true });
    const rejectsFile = file.replace(/\.csv$/, '.rejects.csv');
    expect(summary).toMatchObject({ rows: 4, imported: 2, rejected: 2, rejectsFile });
    expect(summary.issues.map((i) => [i.line, i.field])).toEqual([
      [3, 'email'],
      [5, 'nir'],
    ]);
    expect((await counts()).persons).toBe(before.persons! + 2);
    for (const row of good) expect(await idOf(row.nir)).toHaveLength(1);
    expect(await idOf(bad[0]!.nir)).toEqual([]);

    const text = await readFile(rejectsFile, 'utf8');
    expect((await stat(rejectsFile)).mode & 0o077).toBe(0);
    const records = parse(text, { columns: true }) as Record<string, string>[];
    expect(records).toHaveLength(2);
    expect(records[0]).toMatchObject({ line: '3', email: `'${formula}`, phone: "'+33 6 12 34 56 78" });
    expect(records[0]!.errors).toBe('email: is not an email address');
    expect(records[1]).toMatchObject({ line: '5', nir: bad[1]!.nir });
    expect(records[1]!.errors).toMatch(/^nir: control key does not match/);
    for (const cell of (parse(text) as string[][]).flat()) expect(cell).not.toMatch(/^[=+\-@\t\r]/);
  });

  it.each([
    ['address_line', '12 rue de la Paix\u001b[2J'],
    ['address_line', '12 rue\nde la Paix'],
    ['city', 'Paris\u0000'],
    ['last_name', 'Martin\u0085'],
    ['email', 'a@b.fr\t'],
  ])('refuses a control character in %s, and with skipInvalid does not store it', async (column, value) => {
    const row = person({ [column]: value } as Partial<Row>);
    const before = await counts();
    const error = await rejection(await fileOf(csv([row])));
    expect(error.issues).toContainEqual({ line: 2, field: column, message: CONTROL });
    const skipped = await importPersons(t.db, keys.registry, await fileOf(csv([row, person()])), {
      today: TODAY,
      skipInvalid: true,
    });
    expect(skipped).toMatchObject({ imported: 1, rejected: 1 });
    expect(await idOf(row.nir)).toEqual([]);
    expect((await counts()).persons).toBe(before.persons! + 1);
  });

  it('refuses a missing file, a folder, a rejects folder that does not exist, and rejects = the input', async () => {
    const file = await fileOf(csv([person({ sex: 'X' }), person()]));
    const before = await counts();
    const cases: [string, Partial<ImportOptions>, string, string][] = [
      [path.join(dir, 'absent.csv'), {}, 'file', 'does not exist'],
      [dir, {}, 'file', 'is a folder'],
      [
        file,
        { skipInvalid: true, rejectsPath: path.join(dir, 'no-such-folder', 'r.csv') },
        'rejects',
        'folder',
      ],
      [file, { skipInvalid: true, rejectsPath: file }, 'rejects', 'is the input file'],
      // The same file by another name: ./, and a symbolic link.
      [
        file,
        { skipInvalid: true, rejectsPath: path.join(dir, '.', path.basename(file)) },
        'rejects',
        'input file',
      ],
      [file, { skipInvalid: true, rejectsPath: await linkTo(file) }, 'rejects', 'is the input file'],
    ];
    for (const [input, options, field, message] of cases) {
      const error = await rejection(input, options);
      expect(error).toMatchObject({ code: 'validation_failed', field });
      expect(error.message).toContain(message);
    }
    expect(await counts()).toEqual(before);
    expect(await readFile(file, 'utf8')).toContain('registered');
  });

  it('keeps the rejects in an owner-only temporary folder until commit, and clears files of killed imports', async () => {
    const tempDir = path.join(dir, 'import-tmp');
    await mkdir(tempDir, { recursive: true });
    // What an import killed midway leaves: its process is gone.
    const dead = spawnSync(process.execPath, ['-e', 'process.exit(0)']).pid!;
    const leftover = path.join(tempDir, `${dead}-${randomUUID()}.csv`);
    await writeFile(leftover, 'nir,last_name\n185057800604822,Martin\n', { mode: 0o600 });
    const stranger = path.join(tempDir, 'notes.txt');
    await writeFile(stranger, 'not ours');
    const rejectsPath = path.join(dir, 'kept.csv');
    const summary = await importPersons(
      t.db,
      keys.registry,
      await fileOf(csv([person({ sex: 'X' }), person()])),
      {
        today: TODAY,
        skipInvalid: true,
        rejectsPath,
        tempDir,
      },
    );
    expect(summary).toMatchObject({ imported: 1, rejected: 1, rejectsFile: rejectsPath });
    expect(await readdir(tempDir)).toEqual(['notes.txt']);
    expect((await stat(tempDir)).mode & 0o777).toBe(0o700);
    expect((await stat(rejectsPath)).mode & 0o077).toBe(0);
    // An import refused after rejects were written (bytes that are not UTF-8 at the end of the
    // file) rolls back and leaves neither a rejects file nor a temporary file.
    const refused = path.join(dir, 'refused-rejects.csv');
    const rows = Array.from({ length: 1200 }, (_, k) => person(k % 2 === 0 ? { sex: 'X' } : {}));
    const broken = await fileOf(csv(rows));
    await writeFile(broken, Buffer.from([0xff, 0xfe, 0x0a]), { flag: 'a' });
    const error = await rejection(broken, { skipInvalid: true, rejectsPath: refused, tempDir });
    expect(error.issues).toEqual([
      { line: 1202, field: 'file', message: 'is not UTF-8 text (save it as CSV UTF-8)' },
    ]);
    await expect(stat(refused)).rejects.toThrow();
    expect(await idOf(rows[1]!.nir)).toEqual([]);
    expect(await readdir(tempDir)).toEqual(['notes.txt']);
  });

  it('writes the rejects where rejectsPath says', async () => {
    const rejectsPath = path.join(dir, 'elsewhere.csv');
    const summary = await importPersons(
      t.db,
      keys.registry,
      await fileOf(csv([person({ sex: 'X' }), person()])),
      {
        today: TODAY,
        skipInvalid: true,
        rejectsPath,
      },
    );
    expect(summary).toMatchObject({ imported: 1, rejected: 1, rejectsFile: rejectsPath });
    expect(await readFile(rejectsPath, 'utf8')).toContain('sex: must be M or F');
  });
});

describe('neutraliseCell', () => {
  it.each([
    ['=1+1', "'=1+1"],
    ['+33', "'+33"],
    ['-2', "'-2"],
    ['@SUM(A1)', "'@SUM(A1)"],
    ['\tcmd', "'\tcmd"],
    ['\rcmd', "'\rcmd"],
    ['12 rue de la Paix', '12 rue de la Paix'],
    ['Saint-Denis', 'Saint-Denis'],
    ['', ''],
  ])('%j becomes %j', (value, expected) => {
    expect(neutraliseCell(value)).toBe(expected);
  });
});
