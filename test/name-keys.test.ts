/**
 * Name keys (migration 0029; docs/ARCHITECTURE.md, "Name keys") through the API: a person registered
 * as "N'Diaye" is found by a counselor typing "NDIAYE", and shown as registered; rows written under
 * the version-1 key are still found by the spelling that found them before, until `reindex` gives
 * them the new key; the reindex is resumable and never does a row twice.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemCtx } from '../src/context.ts';
import { blindIndex } from '../src/crypto/blind-index.ts';
import { indexesOf } from '../src/exports/leak-columns.ts';
import { asBuffer } from '../src/registry/columns.ts';
import { nameBirthKey } from '../src/registry/normalise.ts';
import { reindexNameKeys } from '../src/registry/reindex.ts';
import { archivePersons } from '../src/retention/run.ts';
import { engine } from './helpers/db.ts';
import { LENIENT_GUARD } from './helpers/guard.ts';
import { legacyIndex, registerNamed, writeLegacyNameKeys } from './helpers/name-keys.ts';
import { type KnownPerson, type RegistryWorld, registryWorld } from './helpers/registry.ts';
import type { StaffClient } from './helpers/staff.ts';

const system = systemCtx('test').actor;

describe(`name keys through the API (${engine})`, () => {
  let w: RegistryWorld;
  let counselor: StaffClient;
  let template: KnownPerson;
  const ids: Record<string, string> = {};
  // Registered as civil status writes them; the birth date and first names are the template's.
  const registered = ["N'Diaye", 'Ødegaard', 'Le Gall', 'D’Artagnan', 'Łukasiewicz', 'Þórsson', 'Đoković'];

  const search = async (lastName: string, firstName = template.identity.firstNames): Promise<string[]> => {
    const response = await counselor.request('POST', '/api/v1/persons/search', {
      purpose: 'accompaniment',
      by: 'nameBirth',
      lastName,
      firstName,
      birthDate: template.identity.birthDate,
    });
    expect(response.statusCode).toBe(200);
    return response.json().results.map((r: { id: string }) => r.id);
  };

  beforeAll(async () => {
    w = await registryWorld(120, { guard: LENIENT_GUARD });
    counselor = (await w.staff('counselor', w.agency)).client;
    template = w.persons.find((p) => p.agencyOrganisationId === w.agency && p.identity.birthName === null)!;
    for (const lastName of registered)
      ids[lastName] = await registerNamed(w.t.db, w.keys.registry, template, { lastName });
    // Someone archived keeps their indexes in person_archive: the reindex reaches them there too.
    ids.archived = await registerNamed(
      w.t.db,
      w.keys.registry,
      template,
      { lastName: "N'Guessan" },
      'archived',
    );
    // Someone deregistered, archived by retention after the upgrade but before the reindex.
    ids.deregistered = await registerNamed(
      w.t.db,
      w.keys.registry,
      template,
      { lastName: 'Le Goff' },
      'deregistered',
    );
  }, 120_000);
  afterAll(async () => {
    await w.close();
  });

  it.each([
    ["N'Diaye", 'NDIAYE'],
    ["N'Diaye", 'n diaye'],
    ['Ødegaard', 'ODEGAARD'],
    ['Le Gall', 'LEGALL'],
    ['D’Artagnan', "d'artagnan"],
    ['D’Artagnan', 'DARTAGNAN'],
    ['Łukasiewicz', 'LUKASIEWICZ'],
    ['Þórsson', 'THORSSON'],
    ['Đoković', 'DOKOVIC'],
  ])('a person registered as %j is found by a search typed %j', async (name, typed) => {
    expect(await search(typed)).toEqual([ids[name]]);
  });

  it('other names stay other persons: no match for LEGALLO, DIAYE, ODEGARD, or another first name', async () => {
    expect(await search('LEGALLO')).toEqual([]);
    expect(await search('DIAYE')).toEqual([]);
    expect(await search('ODEGARD')).toEqual([]);
    expect(await search('NDIAYE', `X${template.identity.firstNames}`)).toEqual([]);
  });

  it('the stored and shown name keeps its spelling: only the search key changed', async () => {
    const response = await counselor.request(
      'GET',
      `/api/v1/persons/${ids["N'Diaye"]}?purpose=accompaniment`,
    );
    expect(response.statusCode).toBe(200);
    expect(response.json().person.lastName).toBe("N'Diaye");
    const viewed = await counselor.request('GET', `/api/v1/persons/${ids['Ødegaard']}?purpose=accompaniment`);
    expect(viewed.json().person.lastName).toBe('Ødegaard');
  });

  it('rows under the version-1 key: found by their old spelling meanwhile; reindexed, found by both', async () => {
    const rewritten = await writeLegacyNameKeys(w.t.db, w.keys.registry);
    expect(rewritten).toBe(w.persons.length + registered.length + 2);
    // Retention moves a version-1 key to the archive with its version, so the reindex finds it there.
    await w.t.db.tx(system, (tx) => archivePersons(tx, [ids.deregistered!], '2026-01-01', new Date()));
    const moved = await w.t.driver.transaction((tx) =>
      tx.query<{ archive: number; person: number }>(
        `SELECT a.name_key AS archive, p.name_key AS person
         FROM person_archive a JOIN persons p ON p.id = a.person_id WHERE a.person_id = $1`,
        [ids.deregistered],
      ),
    );
    expect(moved).toEqual([{ archive: 1, person: 2 }]);

    // Before the reindex: what the old key found is still found (the lookup tries it on version-1
    // rows), what only the new key finds is not yet.
    expect(await search("N'Diaye")).toEqual([ids["N'Diaye"]]);
    expect(await search('Ødegaard')).toEqual([ids['Ødegaard']]);
    expect(await search('NDIAYE')).toEqual([]);
    expect(await search('ODEGAARD')).toEqual([]);
    const seeded = w.persons.find((p) => p.agencyOrganisationId === w.agency && p !== template)!;
    const before = await counselor.request('POST', '/api/v1/persons/search', {
      purpose: 'accompaniment',
      by: 'nameBirth',
      lastName: seeded.identity.lastName,
      firstName: seeded.identity.firstNames,
      birthDate: seeded.identity.birthDate,
    });
    expect(before.json().results.map((r: { id: string }) => r.id)).toContain(seeded.id);

    // Resumable: a run that stops after two batches of 25 (as a kill would: the batches committed
    // stay; with two loops, the other's batch in progress may commit too), then a run that does the
    // rest, then a run with nothing to do.
    const total = rewritten;
    let committed = 0;
    const stopped = await reindexNameKeys(w.t.db, w.keys.registry, {
      batchSize: 25,
      onProgress: (done) => {
        committed = Math.max(committed, done);
        if (done >= 50) throw new Error('stopped');
      },
    }).catch((error: Error) => error);
    expect(stopped).toBeInstanceOf(Error);
    expect([50, 75]).toContain(committed);
    const left = await legacyRows();
    expect(left).toBe(total - committed);
    const rest = await reindexNameKeys(w.t.db, w.keys.registry, { batchSize: 25 });
    expect(rest).toMatchObject({ pending: left, persons: left - 2, archived: 2 });
    // Changed: the rows whose name has a boundary or a folded letter (ours, and seeded compound names),
    // whichever of the two runs reached them; a plain name's key is the same under both versions.
    expect(rest.updated).toBeGreaterThan(0);
    expect(rest.updated).toBeLessThan(rest.persons + rest.archived);
    expect(await legacyRows()).toBe(0);
    expect(await reindexNameKeys(w.t.db, w.keys.registry)).toEqual({
      persons: 0,
      archived: 0,
      updated: 0,
      pending: 0,
    });

    // After: both spellings find the person; the row holds the new key, not the old one.
    expect(await search('NDIAYE')).toEqual([ids["N'Diaye"]]);
    expect(await search("N'Diaye")).toEqual([ids["N'Diaye"]]);
    expect(await search('ODEGAARD')).toEqual([ids['Ødegaard']]);
    const { birthDate, firstNames } = template.identity;
    const [row] = await w.t.driver.transaction((tx) =>
      tx.query<{ name_birth_bi: Uint8Array; name_key: number }>(
        'SELECT name_birth_bi, name_key FROM persons WHERE id = $1',
        [ids["N'Diaye"]],
      ),
    );
    expect(row!.name_key).toBe(2);
    const held = asBuffer(row!.name_birth_bi);
    expect(
      held.equals(
        blindIndex(w.keys.registry.blindIndex.name_birth, nameBirthKey('NDIAYE', firstNames, birthDate)),
      ),
    ).toBe(true);
    expect(held.equals(legacyIndex(w.keys.registry, "N'Diaye", firstNames, birthDate))).toBe(false);
    const [archived] = await w.t.driver.transaction((tx) =>
      tx.query<{ name_birth_bi: Uint8Array; name_key: number }>(
        'SELECT name_birth_bi, name_key FROM person_archive WHERE person_id = $1',
        [ids.archived],
      ),
    );
    expect(archived!.name_key).toBe(2);
    expect(
      asBuffer(archived!.name_birth_bi).equals(
        blindIndex(w.keys.registry.blindIndex.name_birth, nameBirthKey('NGUESSAN', firstNames, birthDate)),
      ),
    ).toBe(true);
    const [goff] = await w.t.driver.transaction((tx) =>
      tx.query<{ name_birth_bi: Uint8Array; name_key: number }>(
        'SELECT name_birth_bi, name_key FROM person_archive WHERE person_id = $1',
        [ids.deregistered],
      ),
    );
    expect(goff!.name_key).toBe(2);
    expect(
      asBuffer(goff!.name_birth_bi).equals(
        blindIndex(w.keys.registry.blindIndex.name_birth, nameBirthKey('LEGOFF', firstNames, birthDate)),
      ),
    ).toBe(true);
  });

  it('two runs at once share the rows: each row reindexed once, none left', async () => {
    const total = await writeLegacyNameKeys(w.t.db, w.keys.registry);
    const runs = await Promise.all([
      reindexNameKeys(w.t.db, w.keys.registry, { batchSize: 10 }),
      reindexNameKeys(w.t.db, w.keys.registry, { batchSize: 10, concurrency: 3 }),
    ]);
    expect(runs.reduce((n, r) => n + r.persons + r.archived, 0)).toBe(total);
    expect(await legacyRows()).toBe(0);
    expect(await search('NDIAYE')).toEqual([ids["N'Diaye"]]);
  });

  it('a leaked file is traced through both keys of a name: canaries recorded before 0029 keep the old one', () => {
    const rows = [
      ["N'Diaye", 'Aminata', '1961-03-04'],
      ['Dupont', 'Jean', '1961-03-04'],
    ];
    const { nameBirth } = indexesOf(w.keys.registry, rows, {
      nir: null,
      agencyId: null,
      nameBirth: [0, 1, 2],
    });
    const hex = nameBirth.map((h) => h.toString('hex'));
    const k = w.keys.registry.blindIndex.name_birth;
    expect(hex).toContain(blindIndex(k, nameBirthKey("N'Diaye", 'Aminata', '1961-03-04')).toString('hex'));
    expect(hex).toContain(legacyIndex(w.keys.registry, "N'Diaye", 'Aminata', '1961-03-04').toString('hex'));
    // "Dupont" has one key under both versions: one hash per blind-index key, not two.
    expect(hex).toHaveLength(3 * w.keys.registry.allBlindIndexes.length);
  });

  async function legacyRows(): Promise<number> {
    const [row] = await w.t.db.tx(system, (tx) =>
      tx.query<{ n: number }>(
        `SELECT (SELECT count(*) FROM persons WHERE name_key = 1)
              + (SELECT count(*) FROM person_archive WHERE name_key = 1) AS n`,
      ),
    );
    return Number(row!.n);
  }
});
